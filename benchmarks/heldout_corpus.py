"""Held-out corpus for near-duplicate detection: a synthetic news crawl with gold story labels.

    python benchmarks/heldout_corpus.py --size 10000 --seed 1 [-o PATH] [--processes N]

writes ../neardup-bench-data/heldout-10000-s1.jsonl (or PATH) and prints a summary.

Seeds 1 and 2 are for development. Seed 9001 is the HELD-OUT seed: never used for tuning, only
for the final reported numbers. Written without reading how neardup decides. The output is the
same for any number of processes; ``write`` skips a file whose ``.meta.json`` sidecar matches.

Each line: ``id``, ``url`` (its host is the site), ``text``, ``story`` (gold label), ``kind``
(``original``: a story's first publication; else how the document was made), ``hard`` (built to
share text with a DIFFERENT story). Copies add ``edits`` (one or two, the first is the kind),
char-noise copies ``noise`` (share of characters hit), hard documents ``shared``: the blocks they
hold, ``wire:N``, ``quote:story-X`` (X quoted), ``brief:story-X`` (X the brief), ``footer:HOST``.

Labelling rule: two documents have the same ``story`` exactly when a careful editor deduplicating
a news crawl would keep only one of them: a story's first publication and each republished copy,
whatever its edits; every crawl of one live page (same address; the latest crawl holds the rest,
so one is kept even when old entries dropped off and the first and last crawls share little);
every page of one site's error template. Stories sharing a paragraph, quote or footer are not.

New stories: ~42,000 sentence templates from the English articles of articles.py (BBC bodies and
headlines, Scrapinghub). A story replaces every name, number and acronym (names of the same
category and role; its names recur) and 65-85% of the content words (by words seen between the
same function words with the same ending, as often as they occur there), consistently, and at
least two words of each sentence; paragraph shapes come from real articles, leads from leads,
the headline from a BBC headline. It reads like garbled news. Accidental sharing, own text of the
50,043 stories of size 100,000 seed 1: 0.18% of pairs of distinct stories share a word 5-gram
(real BBC articles: 0.74%), 0.040% three or more (BBC 0.098%), none more than 24 (of ~300); 160
of 648,420 sentences of 6+ words occur in two or more stories (a share growing with the size).

Stories (share of stories):
- plain 77% (3-16 paragraphs), short 13% (1-3 sentences). 55% of plain, short, quote, brief and
  feature stories are never republished, the others 1 (45%), 2 (25%), 3 (18%) or 4 (12%) times,
  on other sites: 43% of documents are copies.
- wire: 5% of plain, quote and feature stories (60% on wire-heavy sites, a tenth of the stories,
  half of them twice) carry a background paragraph, statement or context line that 2-30 distinct
  stories share (P(c) ~ c^-1.7). Hard.
- quote 3%: one or two paragraphs (at most 40%) of an earlier plain story. Hard (not the quoted).
- brief 1.4% and feature 1.4%: the feature (8+ paragraphs) embeds the brief's main paragraph;
  the brief adds a sentence of its own. Both hard.
- footer-short 3%: 1-3 sentences on one of six sites whose legal footer, longer than the story,
  follows every story. Hard.
- live 1.3% (4% of documents): 3-10 crawls; the first has 3-6 entries, each crawl adds 1-2 on
  top and 15% drop the oldest. Kinds original, then live-update.
- soft-404 (3% of documents): "page not found" templates on eight sites, "article unavailable" on
  some; only the requested path, a date, a reference and the year vary. One story per template.
Stories holding shared text keep 2.5 times (features 4 times) as many words of their own.

Copy kinds (the first edit; 35% of copies get a second one marked *), share of copies:
retitle* 14% (the copy site's name, a new, recapitalised or prefixed headline), trim 14% (last
25-50% of sentences cut, 60% then "Read more at ..."), drop-sentence 9% (two in long stories),
figures 7% (numbers changed in 1-3 paragraphs, often an update note), typos 7% (1-3% of words),
reflow* 8% (single breaks, no breaks, re-cut paragraphs, hard-wrapped lines), curly-quotes* 6%
(or back), html-entities* 5%, share-lines* 7%, ad-lines* 8% ("Advertisement", newsletter lines),
doubled 4% (scraped twice), headline-lead 5% (the lead's first 6-12 words), char-noise 6%
(0.3-2% of characters, log-uniform: OCR confusions, dropped, or a stray one added).

Median word-3-gram Jaccard to the other story's original (100,000, seed 1): footer-short 0.69,
quote 0.11, brief/feature 0.10 (the brief 65% contained), wire 0.06; copies: trim 0.65,
char-noise 0.78; soft-404 pages 0.62; consecutive live crawls 0.81. Size 1,000,000: 1.96 GB,
4-6 minutes on two cores, about 0.65 GB of memory in all.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import multiprocessing as mp
import random
import re
import string
import sys
import textwrap
import time
from collections import Counter, defaultdict
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from articles import BENCH_DATA, load_articles


def _w(s: str) -> tuple[str, ...]:
    return tuple(s.split())


def _split(s: str) -> tuple[str, ...]:
    """Entries separated by #; ¶ is a line break inside an entry."""
    return tuple(" ".join(e.split()).replace("¶", "\n") for e in s.split("#"))


def _table(s: str) -> dict[str, float]:
    it = iter(s.split())
    return {k: float(v) for k, v in zip(it, it, strict=True)}


VERSION = "heldout-corpus-1"
PLAIN, SHORT, QUOTE, BRIEF, FEATURE, FOOTER, LIVE, SOFT404 = range(8)
TYPE_NAMES = _w("plain short quote brief feature footer-short live soft-404")
GROUPS = _table("plain .72 short .12 quote .03 pair .013 footer .03 live .012")
COPIES = _table("0 .55 1 .2025 2 .1125 3 .081 4 .054")  # republished copies of a story
SOFT404_RATE = 0.03  # share of documents that are soft-404 / unavailable pages
WIRE_RATE, WIRE_RATE_HEAVY = 0.05, 0.6  # stories carrying shared paragraphs
SHARE_SIZES = tuple(range(2, 31))  # stories per shared paragraph, P(c) ~ c^-1.7
SHARE_W = tuple(c**-1.7 for c in SHARE_SIZES)
KINDS = _table("""retitle .14 trim .14 drop-sentence .09 figures .07 typos .07 reflow .08
    curly-quotes .06 html-entities .05 share-lines .07 ad-lines .08 doubled .04
    headline-lead .05 char-noise .06""")
LIGHT = _w("retitle reflow curly-quotes html-entities share-lines ad-lines")
TWO_EDITS = 0.35  # copies with a second, light edit
CATS = _w("business entertainment politics sport tech world")
CAT_W = (0.22, 0.14, 0.22, 0.2, 0.12, 0.1)
P_SUB = (0.65, 0.85)  # share of a story's content words replaced (drawn per story)
POOL_CAP = 20  # a word is drawn as often as it occurs in that context, up to this
STOP = frozenset(
    _w("""a an the and or but if of in on at to for from by with as is are was were be been
    being has have had do does did will would can could should may might must shall not no it
    its he she they them their his her we us our you your i me my this that these those there
    here which who whom whose what when where why how than then so also said says say about
    after before over under into out up down more most less all any some such only just very
    other one two three four five six first last now still while both each many much own
    because since until during between against through per cent well even back mr mrs ms""")
)
KEEP = frozenset(
    _w("""January February March April May June July August September October November December
    Monday Tuesday Wednesday Thursday Friday Saturday Sunday Mr Mrs Ms Dr Sir Lord Lady St Prof
    I Christmas Easter""")
)
TITLES = frozenset(_w("mr mrs ms dr sir lord lady prof"))
_ABBR = _w("Mr. Mrs. Ms. Dr. St. U.S. Gov. Sen. Rep. Jan. Feb. Aug. Sept. Oct. Nov. Dec. No. Inc.")
_SENT = re.compile(r'(?:(?<=[.!?])|(?<=[.!?]["”’)]))\s+(?=["“‘(]?[A-Z0-9])')
_TOK = re.compile(r"^([\"'(\[“‘]*)(.*?)((?:['’]s)?[\"'),.;:!?\]”’]*)$")
_NUM = re.compile(r"\d[\d,.]*\d|\d")
_DIGIT = re.compile(r"\d")
_YEAR = re.compile(r"(?:19|20)\d\d")
_BAD = re.compile(r"http|www\.|@|\||©|\ufffd|\.\.\.|\[|\]")
_OCR = dict(zip("ecliosathnugBSIO", "ce1l05ofbunq85l0", strict=True)) | {"m": "rn"}
_NEAR = dict(zip("qwertyuiopasdfghjklzxcvbnm", "wertyuiopisdfghjklkxcvbnmn", strict=True))

SITE_A = _w("""daily morning evening city metro valley coast north south east west county river
    harbour capital national global local union weekly lake hill bay park summit prairie
    mountain island border central""")
SITE_B = _w("""herald gazette tribune post times chronicle observer journal record star news courier
    dispatch sentinel bulletin ledger examiner express mirror standard telegraph inquirer press
    review monitor echo argus beacon register leader""")
TLDS = _w(".com .com .com .co.uk .net .org .com.au .ie .ca .co.nz .news .co.za")
URLS = _split("""
    /{sec}/{d:%Y/%m/%d}/{slug}/ # /{sec}/{slug}-{n} # /news/{sec}-{n} #
    /{d:%Y/%m/%d}/{slug}.html # /article/{slug}-{n:x}""")
NAV = _w("""Home News Sport Business Politics World Technology Science Health Entertainment
    Culture Opinion Travel Weather Video Podcasts""")
SHARE_TOP = _split("""
    Share this article # Share # Share on Facebook¶Share on Twitter¶Share by email # Facebook
    Twitter LinkedIn Email # Share Tweet Pin Email # Copy link""")
SHARE_END = _split("""
    Share this story # Share this article on social media # Follow us on Facebook, Twitter and
    Instagram # Share your views in the comments""")
ADS = _split("""
    Advertisement # ADVERTISEMENT # Story continues below advertisement # Sign up to our free
    daily newsletter # Subscribe to {name} newsletters # Get the latest headlines delivered to
    your inbox every morning # Advertisement¶Ad""")
READ_MORE = _split("""
    Read more at {name} # Continue reading on {host} # Read the full story at {name} # Read more
    # Continue reading...""")
UPDATED = _split("""
    This article has been updated with the latest figures. # Updated to include the latest
    figures. # This story has been updated.""")
RETITLE = _split(
    """{h} | {n} # {h} - {n} # {n}: {h} # UPDATED: {h} | {n} # WATCH: {h} - {n} # Breaking: {h}"""
)
SAID = _split("""
    a spokesperson said # a spokeswoman said in a statement # the company said in a statement #
    officials said""")
QUOTING = _split(
    """As {name} reported earlier: # Earlier reports said: # According to an earlier report:"""
)
LIVE_TITLE = _split("""Live: {h} # {h} - live updates # {h}: latest updates""")
ERROR_TITLES = (
    _split("""
        Page not found | {name} # 404 - Page Not Found - {name} # Error 404 | {name} # {name}:
        Sorry, this page does not exist # Oops! We can't find that page"""),
    _split("""
        Article unavailable | {name} # This content is no longer available - {name} # {name} -
        Story removed"""),
)
ERRORS = (
    _split("""
        Sorry, the page you requested could not be found. # The address {path} may be incorrect,
        or the page may have moved. # We couldn't find the page you were looking for: {path} #
        If you typed the address, please check the spelling and try again. # The link you
        followed may be broken, or the page may have been removed on {day}. # You could try
        searching for what you need, or return to our homepage. # Requested URL: {path} # Error
        reference: {ref} # Our team has been notified of this problem ({day}). # Why not browse
        today's top stories instead? # It looks like nothing was found at this location. # This
        page may have been archived. Visit our archive to find older articles."""),
    _split("""
        This article is no longer available. # The story you are looking for ({path}) has been
        removed due to licensing restrictions. # Content from {name} published before {day} may
        not be available in your region. # We apologise for any inconvenience. # This content
        expired on {day} and can no longer be viewed. # Subscribers can find the full archive at
        {host}/archive. # Reference: {ref}. Please quote this number if you contact us."""),
)
ERROR_FOOT = _split("""
    © {year} {name}. All rights reserved. # {name} © {year} # Copyright {year} {name} | Terms |
    Privacy""")
LEGAL = _split("""
    © {year} {company}. All rights reserved. # This material may not be published, broadcast,
    rewritten or redistributed in whole or in part without the express written permission of
    {company}. # {name} is published by {company}, a company registered in England and Wales
    with company number {num}. Registered office: {num2} High Street, {city}. # We use cookies
    and similar technologies to personalise content and advertising, to provide social media
    features and to analyse our traffic. By continuing to use this site you agree to our use of
    cookies as described in our Cookie Policy. # {name} is a member of the Independent Press
    Standards Organisation and abides by the Editors' Code of Practice. If you have a complaint
    about editorial content, please contact our readers' editor at editor@{host}. # Use of this
    website constitutes acceptance of our User Agreement, Privacy Policy and Cookie Statement,
    and your privacy choices and rights. # You may opt out of the sale or sharing of your
    personal information at any time by visiting the Do Not Sell or Share My Personal
    Information page of {name}. # Links to third-party websites are provided for convenience
    only; {company} is not responsible for the content of external sites and a link does not
    imply endorsement. # Market data is provided for information purposes only and is delayed by
    at least 15 minutes. Nothing on {name} constitutes investment advice. # Comments are
    moderated in accordance with our community guidelines. We reserve the right to remove any
    comment that is abusive, defamatory or off-topic, and to suspend accounts that repeatedly
    breach these rules. # Reproduction of any part of this website without the written consent
    of {company} is prohibited. Photographs are the property of their respective owners, used
    under licence. # Advertising on {name}: for rates and information contact our commercial
    team at ads@{host} or call {phone}. # {company} may receive a commission when you buy
    products through links on this site. This does not affect our editorial independence. #
    Contact us | About us | Terms and conditions | Privacy notice | Cookie settings |
    Accessibility | Corrections | Careers | Advertise with us""")

_M = None  # the text model (built once per process, inherited by forked workers)
_P = None  # the plan of the corpus being written


def _rng(*xs: int) -> random.Random:
    """Every random choice comes from a generator seeded by what it is for (a string seed is
    hashed with SHA-512: the same on every platform, in every process and Python version)."""
    return random.Random(":".join(map(str, xs)))


def _sentences(par: str) -> list[str]:
    out: list[str] = []
    for piece in _SENT.split(par):
        if out and out[-1].endswith(_ABBR):
            out[-1] += " " + piece
        else:
            out.append(piece)
    return out


def _renum(core: str, r: random.Random) -> str:
    if _YEAR.fullmatch(core):
        return str(r.randint(1995, 2024))
    out, lead = [], True
    for ch in core:
        out.append(str(r.randint(lead, 9)) if ch.isdigit() else ch)
        lead = lead and not ch.isdigit()
    return "".join(out)


class _Model:
    """Sentence templates from the real articles; their names, numbers, acronyms and content
    words are slots that each story fills with its own, consistent substitutions."""

    def __init__(self) -> None:
        raw: dict[str, list[tuple[str, bool, list[str]]]] = {c: [] for c in CATS}
        heads: dict[str, list[str]] = {c: [] for c in CATS}
        self.skel: dict[str, list[tuple[int, ...]]] = {c: [] for c in CATS}
        for art in load_articles(("bbc", "scrapinghub")):
            words = art.text.lower().split()
            if sum(w in ("the", "and", "of", "to") for w in words) < 0.08 * len(words):
                continue  # not English
            cat = art.source_id.split("/")[1] if art.source_id.startswith("bbc") else "world"
            body = art.paragraphs[1:] if cat != "world" else art.paragraphs
            if cat != "world":
                heads[cat].append(art.paragraphs[0])
            sk = []
            for i, par in enumerate(body):
                sents = _sentences(par)
                sk.append(min(len(sents), 4))
                raw[cat] += [(x, i + k == 0, x.split()) for k, x in enumerate(sents)]
            if len(sk) >= 3:
                self.skel[cat].append(tuple(sk[:16]))
        heads["world"] = [h for c in CATS for h in heads[c][::5]]
        lower = Counter(w for c in CATS for _, _, ws in raw[c] for w in ws if w[:1].islower())
        func = {w for w, _ in lower.most_common(150)}
        parsed = {c: [self._parse(ws, lower, func, c) for _, _, ws in raw[c]] for c in CATS}
        hparsed = {c: [self._parse(h.split(), lower, func, c) for h in heads[c]] for c in CATS}
        alltoks = [t for c in CATS for t in parsed[c] + hparsed[c]]
        freq = Counter(tok[1] for toks in alltoks for tok in toks if tok[4] == 0)
        pool_of: dict[str, Counter] = defaultdict(Counter)
        for tok in (tok for toks in alltoks for tok in toks):
            if tok[4] != 0 or (freq[tok[1]] > 1 and tok[1].isascii()):
                for k in tok[3] or ():
                    pool_of[k][tok[1]] += 1
        self.pools: list[tuple[str, ...]] = []
        ids: dict[str, int] = {}

        def pool(keys: tuple[str, ...] | None) -> int | None:
            """The first of keys with 8 words or more: a word as often as it occurs, capped."""
            k = next((k for k in keys or () if len(pool_of.get(k, ())) >= 8), None)
            if k is not None and k not in ids:
                ids[k] = len(self.pools)
                self.pools.append(
                    tuple(w for w, n in pool_of[k].items() for _ in range(min(n, POOL_CAP)))
                )
            return ids.get(k)

        self.lead, self.body, self.heads = ({c: [] for c in CATS} for _ in range(3))
        for c in CATS:
            for (sen, is_lead, ws), toks in zip(raw[c], parsed[c], strict=True):
                ok = 6 <= len(ws) <= 45 and sen.count('"') % 2 == 0 and not _BAD.search(sen)
                if ok and sen[-1] in ".!?\"”'’" and (sen[0].isupper() or sen[0] in '"“'):
                    tpl = self._compile(toks, pool, 3)
                    (self.lead if is_lead else self.body)[c] += [tpl] if tpl else []
            for toks in hparsed[c]:
                tpl = self._compile(toks, pool, 2)
                self.heads[c] += [tpl] if tpl else []
            self.lead[c] = self.lead[c] or self.body[c]

    @staticmethod
    def _parse(ws, lower, func, cat):
        """Tokens as (pre, core, post, pool keys, kind); kinds: 0 content word, 1 name before
        another name, 4 last name of a run, 3 acronym, 2 number, -1 kept as it is."""
        toks, prev = [], "^"
        for i, w in enumerate(ws):
            pre, core, post = _TOK.match(w).groups()
            kind, keys = -1, None
            if _DIGIT.search(core):
                kind = 2
            elif core[:1].isupper() and core.replace("-", "").replace("'", "").isalpha():
                if core.isupper() and len(core) <= 5:
                    kind = 3 if len(core) > 1 else -1
                elif core not in KEEP and not (i == 0 and core.lower() in lower):
                    kind = 4
            elif core[:1].islower() and core.isalpha() and len(core) >= 3 and core not in STOP:
                kind, keys = 0, (prev if prev in func else "*", core[-2:])
            if kind == 4 and toks and toks[-1][4] in (1, 4) and not toks[-1][2] and not pre:
                toks[-1] = (*toks[-1][:3], (f"p|{cat}|1", "p||1"), 1)
            if kind in (3, 4):
                k = "t" if kind == 4 and prev in TITLES else kind
                keys = (f"p|{cat}|{k}", f"p||{k}")
            toks.append((pre, core, post, keys, kind))
            prev = core.lower() if not post else "*"
        for i, (pre, core, post, keys, kind) in enumerate(toks):
            if kind == 0:  # its context: the function words around it, and its ending
                (ctx, suf), nxt = keys, toks[i + 1][1].lower() if i + 1 < len(toks) else "."
                nxt = "." if post else nxt if nxt in func else "*"
                keys = (f"c|{cat}|{ctx}|{suf}|{nxt}", f"c||{ctx}|{suf}|{nxt}", f"c||{ctx}|{suf}")
                toks[i] = (pre, core, post, (*keys, f"c||*|{suf}"), 0)
        return toks

    @staticmethod
    def _compile(toks, pool, min_slots):
        """Literal text and slots; and how many content words must change (a sentence has at
        least two changed slots, so two stories rarely write the same sentence)."""
        parts, buf, slots, fixed = [], "", 0, 0
        for i, (pre, core, post, keys, kind) in enumerate(toks):
            sep = " " if i else ""
            pid = pool(keys)
            if kind < 0 or (kind != 2 and pid is None):
                buf += sep + pre + core + post
                continue
            parts += [buf + sep + pre, (kind, core, pid)]
            buf, slots, fixed = post, slots + 1, fixed + (kind != 0)
        parts.append(buf)
        if slots < min_slots:
            return None
        return max(0, 2 - fixed), tuple(p for p in parts if p != "")


class _Gen:
    """One story's writer: fills templates with the story's own names, numbers and words."""

    __slots__ = ("m", "r", "cat", "p", "mc", "mp", "cast")

    def __init__(self, m: _Model, r: random.Random, cat: str) -> None:
        self.m, self.r, self.cat, self.p = m, r, cat, r.uniform(*P_SUB)
        self.mc: dict[str, str] = {}
        self.mp: dict[str, str] = {}
        self.cast: list[str] = []

    def fill(self, tpl: tuple, reuse: float = 0.25) -> str:
        (need, parts), r, pools, out = tpl, self.r, self.m.pools, []
        for part in parts:
            if part.__class__ is str:
                out.append(part)
                continue
            kind, core, pid = part
            if kind == 0:
                w = self.mc.get(core)
                if w is None:
                    change = need > 0 or r.random() < self.p
                    w = self.mc[core] = r.choice(pools[pid]) if change else core
                    need -= change
            else:
                w = self.mp.get(core)
                if w is None:
                    if kind == 2:
                        w = _renum(core, r)
                    elif kind == 4 and self.cast and r.random() < reuse:
                        w = r.choice(self.cast)
                    else:
                        w = r.choice(pools[pid])
                        self.cast += [w] if kind == 4 else []
                    self.mp[core] = w
            out.append(w)
        return "".join(out)

    def paras(self, skel: tuple[int, ...], lead: bool = True) -> list[str]:
        out = []
        for n in skel:
            sents = []
            for _ in range(n):
                pool = (self.m.lead if lead else self.m.body)[self.cat]
                sents.append(self.fill(self.r.choice(pool)))
                lead = False
            out.append(" ".join(sents))
        return out

    def headline(self) -> str:
        return self.fill(self.r.choice(self.m.heads[self.cat]), reuse=0.8)


def _sites(seed: int) -> list[tuple[str, str, int]]:
    """(host, display name, url style) of 400 news sites, most popular first."""
    r, seen, out = _rng(seed, 50), set(), []
    while len(out) < 400:
        a, b = r.choice(SITE_A), r.choice(SITE_B)
        if (a, b) not in seen:
            seen.add((a, b))
            host = r.choice(("www.", "www.", "", "news.")) + r.choice((a + b, f"{a}-{b}"))
            out.append((host + r.choice(TLDS), f"The {a.title()} {b.title()}", r.randrange(5)))
    return out


def _url(site: tuple[str, str, int], d: date, head: str, sec: str, r: random.Random) -> str:
    slug = "-".join(re.findall(r"[a-z0-9]+", head.lower())[:8]) or "story"
    path = URLS[site[2]].format(sec=sec, d=d, slug=slug, n=r.randrange(10**7, 10**8))
    return f"https://{site[0]}{path}"


class _Plan:
    """Which story each document belongs to, in output order, and how stories are wired."""

    def __init__(self, size: int, seed: int) -> None:
        r = _rng(seed, 100)
        self.seed, self.sites = seed, _sites(seed)
        order = list(range(len(self.sites)))
        w = [1.0 / (i + 5) ** 1.1 for i in order]  # Zipf-like site popularity
        r.shuffle(order)
        self.soft404 = [(s, v) for s in order[:8] for v in ((0, 1) if s % 3 == 0 else (0,))]
        footer = sorted(order[8:14])
        self.normal = [i for i in range(len(self.sites)) if i not in footer]
        wire, mass = set(), 0.0
        for i in order[14:]:  # wire-heavy sites: about a tenth of the stories
            if mass < 0.1 * sum(w[j] for j in self.normal):
                wire.add(i)
                mass += w[i]
        self.cum = list(np.cumsum([w[i] for i in self.normal]))
        typ, nd, site, link, longs = [], [], [], [], []
        ncopy, cw = [1 + int(k) for k in COPIES], list(COPIES.values())
        left = size - round(size * SOFT404_RATE)
        while left > 0:
            g = r.choices(list(GROUPS), list(GROUPS.values()))[0]
            k, st = r.choices(ncopy, cw)[0], self.pick(r)
            if g == "pair" and left >= 2 * k:  # a news brief and a feature embedding it
                typ += [BRIEF, FEATURE]
                nd += [k, min(r.choices(ncopy, cw)[0], left - k)]
                site += [st, self.pick(r)]
                link += [len(typ) - 2] * 2
                left -= nd[-1] + nd[-2]
                continue
            if g == "live" and left >= 10:  # 3-10 crawls of a live page on a big site
                t, st = LIVE, self.normal[r.randrange(30)]
                k = r.choices(range(3, 11), (5, 5, 4, 4, 3, 2, 2, 1))[0]
            elif g == "footer":
                t, k, st = FOOTER, 1, r.choice(footer)
            else:
                t = {"short": SHORT, "quote": QUOTE}.get(g, PLAIN) if longs else PLAIN
            typ.append(t)
            nd.append(min(k, left))
            site.append(st)
            link.append(r.choice(longs) if t == QUOTE else -1)
            longs += [len(typ) - 1] if t == PLAIN else []
            left -= nd[-1]
        counts = Counter(r.choices(range(len(self.soft404)), k=size - sum(nd)))
        for t in sorted(counts):
            typ.append(SOFT404)
            nd.append(counts[t])
            site.append(self.soft404[t][0])
            link.append(t)
        self.typ, self.nd, self.site, self.link = typ, nd, site, link
        self.shared = self._share(r, wire)
        starts = np.repeat(np.cumsum([0] + nd[:-1]), nd)
        perm = np.random.default_rng([seed, 101]).permutation(size)
        self.story = np.repeat(np.arange(len(nd), dtype=np.int32), nd)[perm]
        self.j = (np.arange(size) - starts).astype(np.int32)[perm]

    def pick(self, r: random.Random) -> int:
        return self.normal[r.choices(range(len(self.normal)), cum_weights=self.cum)[0]]

    def _share(self, r: random.Random, wire: set[int]) -> dict[int, list[int]]:
        """Wire paragraphs: story -> ids of the paragraphs it carries (2-30 stories each)."""
        slots: tuple[list[int], list[int]] = ([], [])
        for s, t in enumerate(self.typ):
            heavy = self.site[s] in wire
            p = WIRE_RATE_HEAVY if heavy else WIRE_RATE
            if t in (PLAIN, QUOTE, FEATURE) and r.random() < p:
                slots[heavy].extend([s] * (2 if heavy and r.random() < 0.5 else 1))
        shared: dict[int, list[int]] = {}
        pid = 0
        for lst in slots:
            r.shuffle(lst)
            i = 0
            while i < len(lst):
                c = r.choices(SHARE_SIZES, SHARE_W)[0]
                members, i = list(dict.fromkeys(lst[i : i + c])), i + c
                if len(members) >= 2:
                    for s in members:
                        shared.setdefault(s, []).append(pid)
                    pid += 1
        return shared


def _story(s: int) -> tuple[_Gen, str, list[str], date, str]:
    """A story's own text: its writer, headline, body paragraphs, date and category."""
    P = _P
    r = _rng(P.seed, 1, s)
    cat, t = r.choices(CATS, CAT_W)[0], P.typ[s]
    g = _Gen(_M, r, cat)
    if t in (SHORT, FOOTER):
        skel = r.choice(((1,), (2,), (3,), (1, 1), (2, 1), (1, 2)))
    elif t == BRIEF:
        skel, g.cast = (1,), list(_brief(s)[1])
    else:
        skel = r.choice(_M.skel[cat])
        skel = skel + (2, 1, 2, 2, 1)[: max(0, 8 - len(skel))] if t == FEATURE else skel
    body = g.paras(skel)
    return g, g.headline(), body, date(2016, 1, 1) + timedelta(days=r.randrange(3000)), cat


@lru_cache(maxsize=4096)
def _brief(s: int) -> tuple[str, tuple[str, ...]]:
    """The main paragraph of news brief s (which feature s + 1 embeds) and its names."""
    r = _rng(_P.seed, 4, s)
    g = _Gen(_M, r, r.choices(CATS, CAT_W)[0])
    return g.paras((r.randint(2, 3),))[0], tuple(g.cast)


@lru_cache(maxsize=4096)
def _shared_par(pid: int) -> str:
    """A wire background paragraph, context line or stock statement shared by 2-30 stories."""
    r = _rng(_P.seed, 3, pid)
    g, u = _Gen(_M, r, r.choices(CATS, CAT_W)[0]), r.random()
    if u < 0.6:
        return g.paras((r.randint(2, 4),), lead=False)[0]
    text = g.paras((1,), lead=False)[0]
    return f"“{text.rstrip('.')},” {r.choice(SAID)}." if u < 0.85 else text


@lru_cache(maxsize=64)
def _footer(site: int) -> list[str]:
    """A site's long legal footer (longer than the short stories it follows)."""
    r = _rng(_P.seed, 5, site)
    host, name, _ = _P.sites[site]
    kw = dict(name=name, host=host.removeprefix("www."), company=f"{name[4:]} Media Ltd",
              year=r.randint(2016, 2024), num=r.randrange(10**6, 10**7), num2=r.randint(1, 200),
              city=r.choice(_w("Leeds Bristol Cardiff Norwich Exeter")),
              phone=f"0{r.randint(1000, 9999)} {r.randint(100000, 999999)}")  # fmt: skip
    lines = [x.format(**kw) for x in r.sample(LEGAL[1:], r.randint(8, 11))]
    a, b = sorted(r.sample(range(1, len(lines)), 2))
    return [" ".join(lines[:a]), " ".join(lines[a:b]), " ".join(lines[b:]), LEGAL[0].format(**kw)]


def _base(s: int) -> tuple[_Gen, list[str], dict[str, str], date, str]:
    """Headline and paragraphs of story s as first published; the blocks it shares by id."""
    P = _P
    g, head, body, d, cat = _story(s)
    r = g.r = _rng(P.seed, 2, s)
    t, link, shared, inserts = P.typ[s], P.link[s], {}, []
    if t == QUOTE:  # one or two paragraphs of an earlier story, maybe introduced
        a_body, k = _story(link)[2], r.randint(1, 2)
        i = r.randrange(1, len(a_body) - k + 1)
        n = [len(p.split()) for p in a_body]
        if sum(n[i : i + k]) > 0.4 * sum(n):  # at most 40% of the quoted story
            k, i = 1, min(range(1, len(n)), key=n.__getitem__)
        intro = [r.choice(QUOTING).format(name=P.sites[P.site[link]][1])] * (r.random() < 0.7)
        inserts.append(intro + a_body[i : i + k])
        shared[f"quote:story-{link:07d}"] = " ".join(a_body[i : i + k])
    elif t == BRIEF:  # the brief adds its own sentence to the paragraph the feature embeds
        body = [_brief(s)[0], body[0]] if r.random() < 0.5 else [f"{_brief(s)[0]} {body[0]}"]
        shared[f"brief:story-{s:07d}"] = _brief(s)[0]
    elif t == FEATURE:
        inserts.append([_brief(link)[0]])
        shared[f"brief:story-{link:07d}"] = _brief(link)[0]
    elif t == FOOTER:
        body += _footer(P.site[s])
        shared[f"footer:{P.sites[P.site[s]][0]}"] = " ".join(_footer(P.site[s]))
    for pid in P.shared.get(s, ()):
        inserts.append([_shared_par(pid)])
        shared[f"wire:{pid}"] = _shared_par(pid)
    # the story's own text stays the larger part: 2.5x (a feature: 4x) what it shares
    n_in = sum(len(p.split()) for b in inserts for p in b) * (4 if t == FEATURE else 2.5)
    while inserts and sum(len(p.split()) for p in body) < n_in:
        body += g.paras((r.randint(1, 3),), lead=False)
    for block in inserts:
        i = r.randint(1, len(body))
        body[i:i] = block
    return g, [head] + body, shared, d, cat


def _live(s: int, v: int) -> tuple[list[str], date, str]:
    """Version v of live page s: newest entries first; each re-crawl adds one or two."""
    r = _rng(_P.seed, 1, s)
    cat = r.choices(CATS, CAT_W)[0]
    g = _Gen(_M, r, cat)
    lo, hi = 0, r.randint(3, 6)
    ranges = [(lo, hi)]
    for _ in range(_P.nd[s] - 1):
        hi += r.randint(1, 2)
        lo += r.random() < 0.15 and hi - lo > 5  # sometimes the oldest entry drops off
        ranges.append((lo, hi))
    minute, entries = r.randint(360, 660), []
    for _ in range(hi):
        minute += r.randint(4, 30)
        skel = tuple(r.randint(1, 2) for _ in range(r.randint(1, 2)))
        stamp = f"{minute // 60 % 24:02d}:{minute % 60:02d} GMT"
        entries.append([stamp, g.headline()] + g.paras(skel, lead=False))
    ps, (lo, hi) = [r.choice(LIVE_TITLE).format(h=g.headline())], ranges[v]
    ps += [f"Last updated at {entries[hi - 1][0]}"]
    ps += [p for k in range(hi - 1, lo - 1, -1) for p in entries[k]]
    return ps, date(2016, 1, 1) + timedelta(days=r.randrange(3000)), cat


def _soft404(s: int, j: int) -> tuple[str, str]:
    """Page j of a site's error template: only the requested path, date and reference vary."""
    P = _P
    (site, variant), r = P.soft404[P.link[s]], _rng(P.seed, 6, P.link[s])
    host, name, _ = P.sites[site]
    with_path = [m for m in ERRORS[variant] if "{path}" in m]  # the requested path shows once
    body = r.sample([m for m in ERRORS[variant] if m not in with_path], r.randint(3, 4))
    body.insert(r.randrange(len(body)), r.choice(with_path))
    nav = r.choice((" | ", "\n")).join(r.sample(NAV, r.randint(8, 12)))
    lines = [r.choice(ERROR_TITLES[variant]), *body, nav, r.choice(ERROR_FOOT)]
    rj = _rng(P.seed, 7, s, j)
    d = date(2016, 1, 1) + timedelta(days=rj.randrange(3000))
    words = [rj.choice(_M.pools[rj.randrange(len(_M.pools))]) for _ in range(rj.randint(2, 5))]
    tail = rj.choice(("", ".html", f"-{rj.randrange(10**6, 10**7)}"))
    path = f"/{rj.choice(NAV[1:8]).lower()}/{d:%Y/%m}/{'-'.join(words).lower()}{tail}"
    kw = dict(name=name, host=host, path=path, day=f"{d.day} {d:%B %Y}", year=d.year,
              ref=f"{rj.getrandbits(40):010x}")  # fmt: skip
    return "\n\n".join(x.format(**kw) for x in lines), f"https://{host}{path}"


def _reflow(ps: list[str], r: random.Random) -> str:
    v = r.randrange(4)
    if v == 0:  # single line breaks
        return "\n".join(ps)
    if v == 1:  # no paragraph breaks in the body
        return ps[0] + "\n\n" + " ".join(ps[1:])
    if v == 2:  # paragraphs re-cut at other sentence boundaries
        flat, out, i = [x for p in ps[1:] for x in _sentences(p)], [ps[0]], 0
        while i < len(flat):
            k = r.randint(1, 4)
            out, i = out + [" ".join(flat[i : i + k])], i + k
        return "\n\n".join(out)
    width = r.randint(60, 90)  # hard-wrapped lines
    return "\n\n".join(textwrap.fill(p, width) for p in ps)


def _typos(text: str, r: random.Random) -> str:
    words = text.split(" ")
    for i in r.sample(range(len(words)), max(1, round(len(words) * r.uniform(0.01, 0.03)))):
        w = words[i]
        if len(w) >= 4 and w.isalpha():
            k, op = r.randrange(1, len(w) - 1), r.randrange(4)
            a, b, c = w[:k], w[k], w[k + 1 :]
            words[i] = (a + c[:1] + b + c[1:], a + c, a + b + b + c, a + _NEAR.get(b, "e") + c)[op]
    return " ".join(words)


def _quotes(text: str) -> str:
    if '"' in text or "'" in text:  # straight to curly
        text = re.sub(r'(^|[\s(\[])"', r"\1“", text).replace('"', "”")
        return re.sub(r"(^|[\s(\[])'", r"\1‘", text).replace("'", "’")
    for a, b in (("“", '"'), ("”", '"'), ("‘", "'"), ("’", "'")):  # or curly to straight
        text = text.replace(a, b)
    return text


def _entities(text: str, r: random.Random) -> str:
    text = text.replace("&", "&amp;").replace('"', "&quot;")
    names = _w("rsquo lsquo ldquo rdquo mdash ndash pound euro")
    for a, b in zip("’‘“”—–£€", names, strict=True):
        text = text.replace(a, f"&{b};")
    text = text.replace("'", r.choice(("&#39;", "&#8217;", "&rsquo;")))
    return text.replace(". ", ".&nbsp; ") if r.random() < 0.5 else text


def _noise(text: str, rate: float, r: random.Random) -> tuple[str, float]:
    """OCR-like noise: about rate of the characters substituted, dropped or doubled."""
    k = max(1, round(len(text) * rate))
    out, prev = [], 0
    for p in sorted(r.sample(range(len(text)), k)):
        c, u = text[p], r.random()
        out.append(text[prev:p])
        prev = p + 1
        if c == "\n" or u >= 0.8:  # a stray character after it
            out.append(c + ("" if c == "\n" else r.choice(string.ascii_lowercase + " .,'")))
        elif u < 0.55:  # substituted (else: dropped)
            sub = _OCR.get(c) if r.random() < 0.7 else None
            out.append(sub or r.choice(string.ascii_letters))
    out.append(text[prev:])
    return "".join(out), round(k / len(text), 4)


def _grams(text: str) -> set[tuple[str, ...]]:
    w = text.split()
    return {tuple(w[i : i + 5]) for i in range(len(w) - 4)}


def _copy(s: int, g: _Gen, ps: list[str], blocks: dict[str, str], r: random.Random):
    """A republished copy of story s: (text, site, headline, edits, noise, ids of the shared
    blocks it still holds: a trimmed copy may have lost them)."""
    P = _P
    site, orig = P.sites[P.pick(r)], P.sites[P.site[s]]
    edits = r.choices(list(KINDS), list(KINDS.values()))
    if sum(len(_sentences(p)) for p in ps[1:]) < 3 and edits[0] in ("trim", "drop-sentence"):
        edits[0] = "retitle"
    if edits[0] != "char-noise" and r.random() < TWO_EDITS:
        edits.append(r.choice([e for e in LIGHT if e != edits[0]]))
    original, ps, noise = "\n\n".join(ps), list(ps), None
    if "retitle" in edits:  # the site's name and a reworded or new headline
        g.r, u = r, r.random()
        head = g.headline() if u < 0.5 else string.capwords(ps[0]) if u < 0.75 else ps[0]
        ps[0] = r.choice(RETITLE).format(h=head, n=site[1])
    if "headline-lead" in edits:
        ps[0] = " ".join(ps[1].split()[: r.randint(6, 12)]) + r.choice(("...", "…", ""))
    if "figures" in edits:
        idx = [i for i in range(1, len(ps)) if _NUM.search(ps[i])]
        for i in r.sample(idx, min(len(idx), r.randint(1, 3))):
            ps[i] = _NUM.sub(lambda m: _renum(m.group(), r), ps[i], count=r.randint(1, 2))
        ps += [r.choice(UPDATED)] if not idx or r.random() < 0.5 else []
    if "drop-sentence" in edits:
        for _ in range(1 if len(original) < 2000 else r.randint(1, 2)):
            sents = [_sentences(p) for p in ps]
            cand = [(i, k) for i in range(1, len(ps)) for k in range(len(sents[i])) if i + k > 1]
            if len(cand) >= 2:
                i, k = r.choice(cand)
                ps[i] = " ".join(sents[i][:k] + sents[i][k + 1 :])
                ps = [p for p in ps if p]
    if "trim" in edits:  # the last quarter to half of the sentences cut
        flat = [(i, x) for i, p in enumerate(ps[1:]) for x in _sentences(p)]
        kept: dict[int, list[str]] = {}
        for i, x in flat[: max(1, math.ceil(len(flat) * r.uniform(0.5, 0.75)))]:
            kept.setdefault(i, []).append(x)
        ps = [ps[0]] + [" ".join(v) for v in kept.values()]
        ps += [r.choice(READ_MORE).format(name=orig[1], host=orig[0])] * (r.random() < 0.6)
    if "share-lines" in edits:
        top = r.random() < 0.7
        ps[1:1] = [r.choice(SHARE_TOP)] * top
        ps += [r.choice(SHARE_END)] * (not top or r.random() < 0.5)
    if "ad-lines" in edits:
        gap, start = r.randint(2, 3), r.randint(1, 2)
        for i in range(len(ps) - 1, 0, -1):
            if (i == 1 and len(ps) <= start + 1) or (i >= start and (i - start) % gap == 0):
                ps.insert(i + 1, r.choice(ADS).format(name=site[1]))
    if "doubled" in edits:  # scraped twice
        ps = ps + ps if r.random() < 0.5 else ps + ps[1:]
    have = _grams(" ".join(ps)) if blocks else set()
    kept = [k for k, v in blocks.items() if len(_grams(v) & have) >= 0.3 * len(_grams(v))]
    text = _reflow(ps, r) if "reflow" in edits else "\n\n".join(ps)
    text = _typos(text, r) if "typos" in edits else text
    text = _quotes(text) if "curly-quotes" in edits else text
    text = _entities(text, r) if "html-entities" in edits else text
    if "char-noise" in edits:
        text, noise = _noise(text, math.exp(r.uniform(math.log(0.003), math.log(0.02))), r)
    if text == original:  # an edit that found nothing to change
        text += "\n\n" + r.choice(SHARE_END)
        edits.append("share-lines")
    return text, site, ps[0], edits, noise, kept


def _doc(pos: int) -> dict:
    P = _P
    s, j = int(P.story[pos]), int(P.j[pos])
    t, extra, kind = P.typ[s], {}, "original" if j == 0 else None
    if t == SOFT404:
        (text, url), kind = _soft404(s, j), "soft-404"
    elif t == LIVE:
        ps, d, cat = _live(s, j)
        sec = f"{cat}/live"  # every version of a live page has the same address
        text, url = "\n\n".join(ps), _url(P.sites[P.site[s]], d, ps[0], sec, _rng(P.seed, 8, s))
        kind = kind or "live-update"
    else:
        g, ps, shared, d, cat = _base(s)
        rj = _rng(P.seed, 8, s, j)
        if j == 0:
            text, url = "\n\n".join(ps), _url(P.sites[P.site[s]], d, ps[0], cat, rj)
        else:
            text, site, head, edits, noise, shared = _copy(s, g, ps, shared, rj)
            url = _url(site, d + timedelta(days=rj.randint(0, 3)), head, cat, rj)
            kind, extra["edits"] = edits[0], edits
            extra |= {"noise": noise} if noise is not None else {}
        extra |= {"shared": list(shared)} if shared else {}
    rec = {"id": f"h{P.seed}-{pos:07d}", "url": url, "text": text, "story": f"story-{s:07d}"}
    return rec | {"kind": kind, "hard": "shared" in extra} | extra


def _shard(bounds: tuple[int, int]) -> tuple[str, Counter, int]:
    docs = [_doc(p) for p in range(*bounds)]
    lines = [json.dumps(d, ensure_ascii=False) for d in docs]
    return "\n".join(lines) + "\n", Counter(d["kind"] for d in docs), sum(d["hard"] for d in docs)


def write(size: int, path: Path, seed: int, processes: int | None = None) -> Path:
    """Write the corpus (``size`` documents, JSON lines) unless ``path`` already holds it."""
    global _M, _P
    path, want = Path(path), {"generator": VERSION, "size": size, "seed": seed}
    meta_path = path.with_suffix(".meta.json")
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
    if path.exists() and all(meta.get(k) == v for k, v in want.items()):
        return path
    if _M is None:  # built in a child, so that its scratch memory goes back to the system
        with mp.get_context("fork").Pool(1) as pool:
            _M = pool.apply(_Model)
    _P = _Plan(size, seed)
    for f in (_brief, _shared_par, _footer):
        f.cache_clear()
    gc.collect()
    gc.freeze()  # forked workers share the model's memory pages instead of copying them
    kinds, hard, tmp = Counter(), 0, path.with_suffix(path.suffix + ".tmp")
    path.parent.mkdir(parents=True, exist_ok=True)
    shards = [(a, min(a + 2000, size)) for a in range(0, size, 2000)]
    with open(tmp, "w", encoding="utf-8") as out, mp.get_context("fork").Pool(processes) as pool:
        for text, k, h in pool.imap(_shard, shards):  # in order: one file for any processes
            out.write(text)
            kinds.update(k)
            hard += h
    gc.unfreeze()
    tmp.replace(path)
    types = {TYPE_NAMES[t]: n for t, n in sorted(Counter(_P.typ).items())}
    summary = dict(documents=size, stories=len(_P.typ), hard_negatives=hard,
                   kinds=dict(kinds.most_common()), story_types=types,
                   shared_paragraphs=len({p for v in _P.shared.values() for p in v}))  # fmt: skip
    meta_path.write_text(json.dumps({**want, "summary": summary}, indent=1), encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("-o", "--out", type=Path)
    ap.add_argument("--processes", type=int, default=None, help="default: all CPUs")
    a = ap.parse_args(argv)
    out = a.out or BENCH_DATA / f"heldout-{a.size}-s{a.seed}.jsonl"
    t0 = time.perf_counter()
    write(a.size, out, a.seed, a.processes)
    meta = json.loads(out.with_suffix(".meta.json").read_text(encoding="utf-8"))
    print(f"{out}: {out.stat().st_size / 1e6:.1f} MB, {time.perf_counter() - t0:.1f} s")
    print(json.dumps(meta.get("summary", {}), indent=1))


if __name__ == "__main__":
    main()
