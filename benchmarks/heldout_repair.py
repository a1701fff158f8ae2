"""Held-out evaluation of neardup's document repair on scrape faults built apart from it.

    python benchmarks/heldout_repair.py --seed 1      # development (seeds 1 and 2)

**Seed 9001 is the held-out seed: never used for tuning.** Run it only to report a final
number, once every change to repair is done.

The fault generator was written from a description of real scraper failures, not from
neardup's code, and apart from benchmarks/repair_devset.py. Its clean articles come from
data the development set does not use: the gold output (``expected.html.gz``) of Mozilla
readability's test pages, and the trafilatura evaluation pages. The latter has no full
gold text, only snippets that must (``with``) or must not (``without``) be in the main
text: the article is the run of text blocks from the first to the last block holding a
``with`` snippet, widened over neighbouring prose blocks, without any block holding a
``without`` snippet, and the page is used only if every ``with`` snippet is in it. BBC
articles are added only when fewer than ``--min-articles`` come out of both.

Every article becomes a CONTROL (as it came), one faulted copy per fault kind and one
control per kind of legitimate repeat; the variant of each kind is dealt by a seeded
shuffle and every random choice inside a document is seeded too. Scored with
``neardup.repair_text``: a faulted document is *repaired* iff its repaired text equals
the repaired text of its clean original; a control is *untouched* iff its text with
repair on equals its text with repair off. Results go to
``benchmarks/results/heldout-repair-s{seed}.json``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from articles import SHARED_DATA  # noqa: E402

RESULTS = HERE / "results"
WEB = SHARED_DATA / "web-pages"

VARIANTS = {
    "body-twice": ("plain", "headline-between", "tight-join"),
    "amp-canonical": ("amp-second", "amp-second-headline"),
    "lazy-load-truncated": ("partial-copy", "para-newline", "para-inline", "para-teaser"),
    "repeated-block": ("right-after", "further-down", "at-end"),
    "ad-lines": ("ads-in-second", "ads-in-first", "ads-in-both"),
    "no-breaks": ("flat-first", "flat-second", "single-newline-first"),
    "mojibake": ("part-first-copy", "whole-second-copy", "whole-first-copy", "latin1-part"),
    "three-times": ("plain", "headline-between"),
    "legit-interview": ("vox-pop", "questionnaire"),
    "legit-sports-score": ("score-line", "bracket", "running-score"),
    "legit-photo-caption": ("credit-lines", "caption-twice", "gallery"),
    "legit-list-lines": ("read-more", "share-bar"),
    "legit-headline-lead": ("headline-only", "headline-byline"),
    "legit-refrain": ("block-twice", "inline-twice"),
}  # fmt: skip
FAULT_KINDS = tuple(k for k in VARIANTS if not k.startswith("legit-"))
LEGIT_KINDS = tuple(k for k in VARIANTS if k.startswith("legit-"))

# ---------------------------------------------------------------------------- sources

BLOCK_TAGS = {
    "p", "div", "li", "ul", "ol", "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6",
    "blockquote", "pre", "section", "article", "header", "footer", "nav", "aside", "main",
    "table", "tr", "td", "th", "figure", "figcaption", "form", "body", "center", "address",
}  # fmt: skip
SKIP_ALWAYS = {"script", "style", "noscript", "template", "svg", "select", "button", "iframe"}
SKIP_CHROME = {"nav", "footer", "aside", "form"}


class _Blocks(HTMLParser):
    """Text blocks of an HTML page, one per block element, ``<br>`` kept as a newline."""

    def __init__(self, skip_chrome: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.skip = SKIP_ALWAYS | (SKIP_CHROME if skip_chrome else set())
        self.depth = 0
        self.buf: list[str] = []
        self.blocks: list[tuple[str, str]] = []
        self.tag = ""  # the block element the text in buf belongs to

    def _flush(self) -> None:
        lines = [" ".join(x.split()) for x in "".join(self.buf).split("\n")]
        if text := "\n".join(x for x in lines if x):
            self.blocks.append((self.tag, text))
        self.buf = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in self.skip:
            self.depth += 1
        elif tag == "br":
            self.buf.append("\n")
        elif tag in BLOCK_TAGS:
            self._flush()
            self.tag = tag

    def handle_endtag(self, tag: str) -> None:
        if tag in self.skip:
            self.depth = max(0, self.depth - 1)
        elif tag in BLOCK_TAGS and not self.depth:
            self._flush()

    def handle_data(self, data: str) -> None:
        if not self.depth:
            self.buf.append(data)


def html_blocks(html: str, skip_chrome: bool = False) -> list[tuple[str, str]]:
    """(tag, text) of each block of text on the page."""
    parser = _Blocks(skip_chrome)
    parser.feed(html)
    parser.close()
    parser._flush()
    return parser.blocks


def decode_page(raw: bytes) -> str | None:
    m = re.search(rb"charset=[\"']?([A-Za-z0-9_-]+)", raw[:4096])
    for enc in ("utf-8", m.group(1).decode() if m else "utf-8", "cp1252"):
        try:
            return raw.decode(enc)
        except (LookupError, UnicodeDecodeError):
            continue
    return None


@dataclass
class Article:
    id: str
    source: str
    title: str
    paras: list[str]

    @property
    def body(self) -> str:
        return "\n\n".join(self.paras)

    @property
    def text(self) -> str:
        return self.title + "\n\n" + self.body if self.title else self.body


# text that a clean source must not hold: replacement characters, mojibake, controls
LOREM = re.compile(r"(?i)lorem ipsum|tempor incididunt|sadipscing elitr")
DIRTY = re.compile("\ufffd|Ã[\u0080-\u00bf]|â€|Â[\u00a0-\u00bf]|[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def make_article(aid: str, source: str, title: str, paras: list[str]) -> Article | None:
    paras = [p for p in (x.strip() for x in paras) if p]
    if len(paras) < 3 or sum(len(p.split()) for p in paras) < 80:
        return None
    title = " ".join(title.split())
    if not title or len(title.split()) > 25 or title == paras[0]:
        title = ""
    if DIRTY.search(title + "\n".join(paras)) or LOREM.search(paras[0] + paras[-1]):
        return None
    lines = [x.split() for p in paras for x in p.split("\n")]
    if sum(len(x) for x in lines if len(x) >= 8) < 0.6 * sum(len(x) for x in lines):
        return None  # mostly menus, forum chrome or tables: not an article
    if self_repeat(paras):
        return None  # the page already repeats itself: not a clean original
    return Article(aid, source, title, paras)


def self_repeat(paras: list[str], n: int = 15) -> bool:
    words = _norm(" ".join(paras)).split()
    seen: set[tuple[str, ...]] = set()
    for i in range(len(words) - n + 1):
        key = tuple(words[i : i + n])
        if key in seen:
            return True
        seen.add(key)
    return False


def readability_articles() -> list[Article]:
    out = []
    for page in sorted((WEB / "readability" / "test-pages").glob("*/expected.html.gz")):
        html = gzip.decompress(page.read_bytes()).decode("utf-8", "replace")
        texts = [t for _, t in html_blocks(html)]
        meta = page.parent / "expected-metadata.json"
        title = (json.loads(meta.read_text()).get("title") or "") if meta.exists() else ""
        if art := make_article(f"rd-{page.parent.name}", "readability", title, texts):
            out.append(art)
    return out


def _norm(s: str) -> str:
    return " ".join(s.split()).lower()


def _prose(text: str) -> bool:
    return len(text.split()) >= 10 and text.rstrip()[-1:] in ".!?\"'”»:)…"


def snippet_span(blocks: list[str], with_: list[str], without: list[str]) -> list[str]:
    """The run of blocks holding the ``with`` snippets, widened over prose neighbours."""
    normed = [_norm(b) for b in blocks]
    wanted = [_norm(s) for s in with_ if s.strip()]
    banned = [_norm(s) for s in without if s.strip()]
    hits = [i for i, b in enumerate(normed) if any(w in b for w in wanted)]
    if not hits:
        return []

    def ok(i: int) -> bool:
        return not any(w in normed[i] for w in banned)

    lo, hi = hits[0], hits[-1]
    while lo > 0 and ok(lo - 1) and _prose(blocks[lo - 1]):
        lo -= 1
    while hi + 1 < len(blocks) and ok(hi + 1) and _prose(blocks[hi + 1]):
        hi += 1
    span = [blocks[i] for i in range(lo, hi + 1) if ok(i)]
    joined = _norm(" ".join(span))
    return span if all(w in joined for w in wanted) else []


def trafilatura_articles() -> list[Article]:
    root = WEB / "trafilatura-eval"
    meta = json.loads((root / "evaldata.json").read_text(encoding="utf-8"))
    out = []
    for _url, entry in sorted(meta.items(), key=lambda kv: kv[1]["file"]):
        paths = [root / d / (entry["file"] + ".gz") for d in ("eval", "cache")]
        path = next((p for p in paths if p.exists()), None)
        html = decode_page(gzip.decompress(path.read_bytes())) if path else None
        if html is None:
            continue
        blocks = html_blocks(html, skip_chrome=True)
        h1 = next((t for tag, t in blocks if tag == "h1"), "")
        span = snippet_span([t for _, t in blocks], entry["with"], entry.get("without", []))
        if len(span) > 400:
            continue
        aid = "tf-" + re.sub(r"[^A-Za-z0-9]+", "-", entry["file"].removesuffix(".html"))[:60]
        if art := make_article(aid, "trafilatura-eval", entry.get("title") or h1, span):
            out.append(art)
    return out


def bbc_articles() -> list[Article]:
    out = []
    for path in sorted((SHARED_DATA / "bbc-news" / "bbc").glob("*/*.txt")):
        lines = path.read_text(encoding="latin-1").split("\n")
        title, rest = lines[0], "\n".join(lines[1:])
        paras = [" ".join(p.split()) for p in re.split(r"\n\s*\n", rest)]
        if art := make_article(f"bbc-{path.parent.name}-{path.stem}", "bbc", title, paras):
            out.append(art)
    return out


def load_articles(min_articles: int) -> tuple[list[Article], dict]:
    arts = readability_articles()
    counts = {"readability": len(arts)}
    tf = trafilatura_articles()
    counts["trafilatura-eval"] = len(tf)
    arts += tf
    if len(arts) < min_articles:
        bbc = bbc_articles()
        random.Random("bbc-pick").shuffle(bbc)
        bbc = bbc[: min_articles - len(arts)]
        counts["bbc"] = len(bbc)
        print(f"only {len(arts)} articles from web-pages: adding {len(bbc)} BBC articles")
        arts += bbc
    seen, unique = set(), []
    for a in arts:  # two pages with one text would make a repeat across sources
        key = _norm(a.body)[:500]
        if key not in seen:
            seen.add(key)
            unique.append(a)
    return unique, counts


# ----------------------------------------------------------------------------- faults

AD_LINES = (
    "Advertisement", "ADVERTISEMENT", "Advertisement\nContinue reading below",
    "Continue reading below", "Story continues below advertisement",
    "Continue reading the main story", "Sign up for our newsletter",
    "Sign up to our free daily newsletter for the latest headlines",
    "Subscribe to our newsletter", "Anzeige", "Werbung", "Publicité", "Skip Advertisement",
)  # fmt: skip
WORD_SWAPS = {
    "said": "says", "says": "said", "percent": "per cent", "will": "would", "which": "that",
    "also": "", "very": "", "Mr.": "Mr", "U.S.": "US", "und": "sowie", "sagte": "sagt",
    "the": "", "that": "",
}  # fmt: skip


def join(*parts: str) -> str:
    return "\n\n".join(p for p in parts if p)


def with_title(a: Article, *parts: str) -> str:
    return join(a.title, *parts)


def cut_point(text: str, rng: random.Random, lo: float, hi: float) -> int:
    """A position between lo and hi of text: inside a word, or after a word mid-sentence."""
    pos = int(len(text) * rng.uniform(lo, hi))
    spaces = [m.start() for m in re.finditer(r"(?<=[^\s.!?:;])\s", text)]
    words = [m.start() + 1 for m in re.finditer(r"\w\w\w", text)]
    pool = words if rng.random() < 0.5 else spaces
    pool = [p for p in pool if 0 < p < len(text) - 1] or [max(1, len(text) // 2)]
    return min(pool, key=lambda p: abs(p - pos))


def curly_straight(text: str) -> str:
    if any(c in text for c in "“”‘’„"):
        return text.translate(str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "„": '"'}))
    out, open_ = [], True
    for i, ch in enumerate(text):
        if ch == '"':
            out.append("“" if open_ else "”")
            open_ = not open_
        elif ch == "'" and 0 < i < len(text) - 1 and text[i - 1].isalpha():
            out.append("’")
        else:
            out.append(ch)
    return "".join(out)


def respace(text: str, rng: random.Random) -> str:
    text = re.sub(
        r"([.!?]) (?=[A-Z])", lambda m: m.group(1) + ("  " if rng.random() < 0.4 else " "), text
    )
    lines = text.split("\n")
    return "\n".join(x + (" " if rng.random() < 0.3 else "") for x in lines)


def edit_words(text: str, rng: random.Random, n: int) -> str:
    tokens = re.split(r"(\s+)", text)
    idx = [i for i, t in enumerate(tokens) if len(t) >= 3 and not t.isspace()]
    for i in rng.sample(idx, min(n, len(idx))):
        tok = tokens[i]
        if tok in WORD_SWAPS:
            tokens[i] = WORD_SWAPS[tok]
        elif rng.random() < 0.5 and len(tok) >= 4 and tok[1:3].isalpha():
            j = rng.randrange(1, len(tok) - 2)
            tokens[i] = tok[:j] + tok[j + 1] + tok[j] + tok[j + 2 :]  # a typo
        else:
            tokens[i] = ""
    return re.sub(r"  +(?=\S)", " ", "".join(tokens)) if n else "".join(tokens)


def insert_lines(paras: list[str], lines: list[str], rng: random.Random) -> list[str]:
    """paras with each of lines put into a different gap between two paragraphs."""
    gaps = sorted(rng.sample(range(1, len(paras)), min(len(lines), len(paras) - 1)), reverse=True)
    out = list(paras)
    for gap, line in zip(gaps, lines, strict=False):
        out.insert(gap, line)
    return out


def ads(rng: random.Random, n: int) -> list[str]:
    return [rng.choice(AD_LINES) for _ in range(n)]


def mangle(text: str, enc: str) -> str:
    """UTF-8 bytes read as cp1252 (bytes it lacks kept as latin-1, as browsers do) or latin-1."""
    raw = text.encode("utf-8")
    if enc == "latin-1":
        return raw.decode("latin-1")
    return "".join(
        bytes([b]).decode("cp1252", errors="ignore") or chr(b) if b >= 0x80 else chr(b) for b in raw
    )


def mangle_some(paras: list[str], rng: random.Random, enc: str) -> list[str]:
    """A run of 1-3 paragraphs mangled, one with non-ASCII text when there is one."""
    k = rng.randint(1, min(3, len(paras)))
    wide = [i for i, p in enumerate(paras) if not p.isascii()]
    start = rng.choice(wide) if wide else rng.randrange(len(paras))
    start = max(0, min(start - rng.randrange(k), len(paras) - k))
    return [mangle(p, enc) if start <= i < start + k else p for i, p in enumerate(paras)]


def fault_twice(a: Article, rng: random.Random, variant: str) -> str:
    if variant == "tight-join":
        return with_title(a, a.body + "\n" + a.body)
    return with_title(a, a.body, a.title if variant == "headline-between" else "", a.body)


def fault_amp(a: Article, rng: random.Random, variant: str) -> str:
    copy = a.body
    steps = rng.sample(["quotes", "space", "words", "ad"], rng.randint(2, 4))
    if "quotes" in steps:
        copy = curly_straight(copy)
    if "words" in steps:
        copy = edit_words(copy, rng, rng.randint(1, 2))
    if "ad" in steps:
        copy = join(*insert_lines(copy.split("\n\n"), ads(rng, 1), rng))
    if "space" in steps:
        copy = respace(copy, rng)
    title = a.title if variant == "amp-second-headline" else ""
    return with_title(a, a.body, title, copy)


def fault_lazy(a: Article, rng: random.Random, variant: str) -> str:
    if variant == "partial-copy":
        body = a.body
        return with_title(a, body[: cut_point(body, rng, 0.2, 0.95)].rstrip(), body)
    long_ = [i for i, p in enumerate(a.paras) if len(p.split()) >= 12] or [0]
    k = 0 if 0 in long_ and rng.random() < 0.4 else rng.choice(long_)
    para = a.paras[k]
    head = para[: cut_point(para, rng, 0.25, 0.85)].rstrip()
    if variant == "para-newline":
        new = [head, para]
    elif variant == "para-inline":
        new = [head + " " + para]
    else:
        new = [head + rng.choice(("…", "...", " …", " [...]")), para]
    return with_title(a, join(*a.paras[:k], *new, *a.paras[k + 1 :]))


def fault_block(a: Article, rng: random.Random, variant: str) -> str:
    n = len(a.paras)
    k = min(rng.randint(2, 4), n - 1)
    s = rng.randint(0, n - k)
    block = a.paras[s : s + k]
    if variant == "right-after":
        at = s + k
    elif variant == "further-down":
        at = rng.randint(s + k + 1, n) if s + k + 1 <= n else n
    else:
        at = n
    return with_title(a, join(*a.paras[:at], *block, *a.paras[at:]))


def fault_ads(a: Article, rng: random.Random, variant: str) -> str:
    def with_ads() -> str:
        return join(*insert_lines(a.paras, ads(rng, rng.randint(2, 5)), rng))

    first = with_ads() if variant in ("ads-in-first", "ads-in-both") else a.body
    second = with_ads() if variant in ("ads-in-second", "ads-in-both") else a.body
    title = a.title if rng.random() < 0.5 else ""
    return with_title(a, first, title, second)


def fault_flat(a: Article, rng: random.Random, variant: str) -> str:
    flat = " ".join(p.replace("\n", " ") for p in a.paras)
    if variant == "flat-first":
        return with_title(a, flat, a.body)
    if variant == "flat-second":
        return with_title(a, a.body, flat)
    return with_title(a, "\n".join(a.paras), a.body)


def fault_mojibake(a: Article, rng: random.Random, variant: str) -> str:
    if variant == "whole-second-copy":
        return with_title(a, a.body, mangle(a.body, "cp1252"))
    if variant == "whole-first-copy":
        return mangle(with_title(a, a.body), "cp1252") + "\n\n" + a.body
    enc = "latin-1" if variant == "latin1-part" else "cp1252"
    return with_title(a, join(*mangle_some(a.paras, rng, enc)), a.body)


def fault_three(a: Article, rng: random.Random, variant: str) -> str:
    title = a.title if variant == "headline-between" else ""
    return with_title(a, a.body, title, a.body, title, a.body)


# ------------------------------------------------------------------ legitimate repeats

FIRST = ("Maria", "James", "Aisha", "Tomasz", "Lena", "David", "Priya", "Jonas", "Grace", "Omar")
LAST = ("Okafor", "Schmidt", "Lopez", "Nowak", "Brennan", "Tanaka", "Haddad", "Olsen", "Ruiz")
JOBS = ("teacher", "nurse", "bus driver", "student", "shop owner", "retired engineer", "chef")
QUESTIONS = (
    "What would you change first?", "What do you think the council should do about it?",
    "How has this affected you and your family over the past year?",
    "If you could ask the minister one thing about this, what would it be, and why?",
    "Do you think the plan will work, and what would make you change your mind about it?",
)  # fmt: skip
LONG_QUESTIONS = (
    "The city expects a shortfall of about $40 million next year, and the council has already "
    "cut library hours twice. If elected, which services would you protect, which would you cut, "
    "and would you support raising property taxes to close the gap? Please be specific about "
    "the amounts involved and about how you would explain the choice to residents.",
    "Housing costs have risen faster than wages for a decade, and waiting lists for social "
    "housing are longer than ever. What, concretely, would you do in your first two years in "
    "office to make homes more affordable for families on ordinary incomes, and how would "
    "voters be able to tell whether your plan had worked?",
    "Many residents say they no longer trust the district to spend money well after the audit "
    "of the transport project. What would you change about how contracts are awarded and "
    "checked, who would be responsible, and what would you publish so that the public can "
    "follow the spending from one month to the next?",
)
ANSWERS = (
    "Honestly, I think people have been patient for long enough.",
    "We need to start with the basics, like safe streets and buses that run on time.",
    "I would sit down with the people who actually do the work before deciding anything.",
    "My neighbours talk about little else these days.",
    "It has been hard, especially since my hours were cut in the spring.",
    "Nobody asked us what we wanted, and that is the real problem.",
    "I would put the money into schools before anything else.",
    "There is no single answer, but transparency would be a good start.",
    "We already pay enough; the question is where the money goes.",
    "I am cautiously optimistic, though I have heard promises like this before.",
    "My priority would be the people who have waited longest.",
    "Every month we publish the figures online, and I would keep doing that.",
    "I would freeze the budget for consultants and review every contract above a threshold.",
    "Frankly, I would start by listening rather than talking.",
    "It depends on whether the funding from the state comes through this year.",
    "Families cannot plan when the rules change every six months.",
)  # fmt: skip
TEAMS = ("Rovers", "United", "Harriers", "Athletic", "Wanderers", "City", "Rangers", "Albion")
ROUNDS = ("Quarter-final", "Quarter-final", "Quarter-final", "Quarter-final", "Semi-final")
CREDITS = ("Photo: Reuters", "Photo: AP", "(Photo: Getty Images)", "Foto: dpa", "Photo: AFP")
CAPTIONS = (
    "Residents gather outside the town hall on {day} evening to hear the result of the vote.",
    "Firefighters inspect the damaged roof of the warehouse on {day} morning after the blaze "
    "had been brought under control.",
    "A volunteer hands out water to people queuing in the heat outside the stadium on {day}.",
    "Supporters wave flags as the team bus arrives at the ground on {day} afternoon.",
    "The new bridge, seen from the north bank on {day}, is due to open to traffic next spring "
    "after two years of delays.",
)  # fmt: skip
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
LYRICS = (
    "Hold on, hold on, the night is young", "We were running with the lights off",
    "Tell me where the river goes", "I will carry you home", "And the city sings our names",
    "Don't let the morning find us here", "Every road leads back to you",
    "Oh, oh, the summer never ends", "Burn it down and start again",
    "We're only paper in the wind", "Call me when the sirens stop",
    "All the way, all the way home",
)  # fmt: skip


def answer(rng: random.Random, used: set[str]) -> str:
    pool = [s for s in ANSWERS if s not in used] or list(ANSWERS)
    picked = rng.sample(pool, min(len(pool), rng.randint(2, 3)))
    used.update(picked)
    return " ".join(picked)


def place(paras: list[str], block: list[str], rng: random.Random, lo: int = 1) -> list[str]:
    at = rng.randint(min(lo, len(paras)), len(paras))
    return paras[:at] + block + paras[at:]


def legit_interview(a: Article, rng: random.Random, variant: str) -> str:
    used: set[str] = set()
    names = rng.sample([f"{f} {la}" for f in FIRST for la in LAST], 3)
    if variant == "vox-pop":
        q = rng.choice(QUESTIONS)
        block = ["We asked three people the same question."]
        for name in names:
            who = f"{name}, {rng.randint(19, 78)}, {rng.choice(JOBS)}"
            block += [who, f"Q: {q}", f"A: {answer(rng, used)}"]
    else:
        qs = rng.sample(LONG_QUESTIONS, 2)
        block = ["We sent the same questions to each candidate. Their answers are as received."]
        for name in names:
            block.append(f"{name} ({rng.choice(('Independent', 'Green', 'Labour', 'Liberal'))})")
            for q in qs:
                block += [f"Question: {q}", answer(rng, used)]
    return with_title(a, join(*place(a.paras, block, rng)))


def legit_sports(a: Article, rng: random.Random, variant: str) -> str:
    t1, t2 = rng.sample(TEAMS, 2)
    score = f"FINAL: {t1} {rng.randint(1, 4)}, {t2} {rng.randint(0, 3)}"
    if variant == "score-line":
        return with_title(a, score, a.body, score)
    if variant == "running-score":
        line = f"Full time | {t1} {rng.randint(0, 3)}-{rng.randint(0, 3)} {t2}"
        return with_title(a, join(*insert_lines(a.paras, [line] * rng.randint(2, 3), rng)))
    teams = rng.sample(TEAMS, 8)
    games = [
        (ROUNDS[i], teams[2 * i % 8], teams[(2 * i + 1) % 8]) for i in range(rng.randint(4, 5))
    ]
    bracket = "Bracket" + "".join(
        f"\n{r}: {x} {rng.randint(0, 4)}-{rng.randint(0, 4)} {y}" for r, x, y in games
    )
    return with_title(a, join(a.paras[0], bracket, *a.paras[1:], bracket))


def legit_caption(a: Article, rng: random.Random, variant: str) -> str:
    credit = rng.choice(CREDITS)
    if variant == "credit-lines":
        paras = insert_lines(a.paras, [credit] * rng.randint(3, 5), rng)
    elif variant == "caption-twice":
        cap = rng.choice(CAPTIONS).format(day=rng.choice(DAYS)) + " " + credit
        paras = insert_lines(a.paras, [cap, cap], rng)
    else:
        caps = [c.format(day=rng.choice(DAYS)) for c in rng.sample(CAPTIONS, 3)]
        block = [f"{i + 1} of 3\n{c}\n{credit}" for i, c in enumerate(caps)]
        paras = place(a.paras, block, rng)
    return with_title(a, join(*paras))


def legit_lists(a: Article, rng: random.Random, variant: str) -> str:
    if variant == "read-more":
        line = rng.choice(("- Read more", "» Read more", "• Read more", "- Read more »"))
        return with_title(a, join(*insert_lines(a.paras, [line] * rng.randint(3, 5), rng)))
    bar = "\n".join(
        rng.choice(("- ", "• ", "")) + x
        for x in ("Share on Facebook", "Share on Twitter", "Share via Email", "Print")
    )
    return with_title(a, join(bar, a.body, bar))


def legit_headline(a: Article, rng: random.Random, variant: str) -> str:
    lead = next((p for p in a.paras if len(p.split()) >= 14), a.paras[0])
    words = lead.split()
    k = min(rng.randint(6, 12), max(1, len(words) - 1))
    headline = " ".join(words[:k]).rstrip(",;:-–—")
    if variant == "headline-byline":
        byline = f"By {rng.choice(FIRST)} {rng.choice(LAST)}\n{rng.randint(1, 28)} June 2021"
        return join(headline, byline, a.body)
    return join(headline, a.body)


def legit_refrain(a: Article, rng: random.Random, variant: str) -> str:
    lines = rng.sample(LYRICS, rng.randint(2, 4))
    if rng.random() < 0.4:
        lines.insert(1, lines[0])  # refrains repeat their own first line
    if variant == "block-twice":
        block1 = ["The chorus arrives early and sticks:", "\n".join(lines)]
        block2 = ["By the last song the whole room was singing it back:", "\n".join(lines)]
    else:
        quoted = " / ".join(lines)
        block1 = [f"The hook — “{quoted}” — is the album's best idea."]
        block2 = [f"When “{quoted}” comes round for the final time, the band finally lets go."]
    paras = place(a.paras, block1, rng, lo=1)
    at = rng.randint(paras.index(block1[-1]) + 1, len(paras))
    return with_title(a, join(*paras[:at], *block2, *paras[at:]))


BUILDERS = {
    "body-twice": fault_twice, "amp-canonical": fault_amp, "lazy-load-truncated": fault_lazy,
    "repeated-block": fault_block, "ad-lines": fault_ads, "no-breaks": fault_flat,
    "mojibake": fault_mojibake, "three-times": fault_three, "legit-interview": legit_interview,
    "legit-sports-score": legit_sports, "legit-photo-caption": legit_caption,
    "legit-list-lines": legit_lists, "legit-headline-lead": legit_headline,
    "legit-refrain": legit_refrain,
}  # fmt: skip
assert set(BUILDERS) == set(VARIANTS)


# ---------------------------------------------------------------------------- corpus


@dataclass
class Doc:
    id: str
    article: Article
    kind: str
    variant: str
    text: str


def build_docs(arts: list[Article], seed: int) -> list[Doc]:
    """A CONTROL per article, then one document per kind; variants dealt by a seeded shuffle."""
    docs = [Doc(f"{a.id}:control", a, "control", "as-is", a.text) for a in arts]
    for kind, build in BUILDERS.items():
        order = list(range(len(arts)))
        random.Random(f"{seed}:{kind}:deal").shuffle(order)
        variants = VARIANTS[kind]
        for slot, i in enumerate(order):
            a, variant = arts[i], variants[slot % len(variants)]
            rng = random.Random(f"{seed}:{kind}:{a.id}")
            text = build(a, rng, variant)
            if kind == "mojibake" and a.text.isascii():
                variant += "-ascii"  # nothing to mangle: only the doubled body
            docs.append(Doc(f"{a.id}:{kind}:{variant}", a, kind, variant, text))
    return docs


def pick_articles(arts: list[Article], seed: int, max_articles: int) -> list[Article]:
    """All readability articles, then the others in a seeded order, up to max_articles."""
    if not max_articles or len(arts) <= max_articles:
        return arts
    first = [a for a in arts if a.source == "readability"]
    rest = [a for a in arts if a.source != "readability"]
    random.Random(f"{seed}:articles").shuffle(rest)
    chosen = {a.id for a in (first + rest)[:max_articles]}
    return [a for a in arts if a.id in chosen]


# --------------------------------------------------------------------------- scoring


def excerpt(expected: str, got: str, width: int = 200) -> dict:
    pairs = enumerate(zip(expected, got, strict=False))
    i = next((k for k, (x, y) in pairs if x != y), min(len(expected), len(got)))
    extra = len(got.split()) - len(expected.split())
    return {"at": i, "expected_len": len(expected), "got_len": len(got), "extra_words": extra,
            "before": expected[max(0, i - 60) : i], "expected": expected[i : i + width],
            "got": got[i : i + width]}  # fmt: skip


def spread(failures: list[dict], n: int) -> list[dict]:
    """Up to n failures, taken from each variant in turn."""
    rank: Counter[str] = Counter()
    keyed = []
    for i, f in enumerate(failures):
        rank[f["variant"]] += 1
        keyed.append((rank[f["variant"]], i, f))
    return [f for _, _, f in sorted(keyed, key=lambda t: t[:2])][:n]


def score(docs: list[Doc], max_failures: int) -> dict:
    """Per kind: documents, how many came out right, per variant, and the failures."""
    import neardup

    on = neardup.CleanConfig()
    off = neardup.CleanConfig(repair=neardup.RepairConfig(enabled=False))
    cache: dict[str, str] = {}

    def repaired(text: str) -> str:
        if text not in cache:
            cache[text] = neardup.repair_text(text, on).text
        return cache[text]

    kinds: dict[str, dict] = {}
    failures: dict[str, list[dict]] = defaultdict(list)
    for d in docs:
        metric = "repaired" if d.kind in FAULT_KINDS else "untouched"
        k = kinds.setdefault(d.kind, {"metric": metric, "docs": 0, "ok": 0, "variants": {}})
        got = repaired(d.text)
        if metric == "repaired":
            expected = repaired(d.article.text)
        else:
            expected = neardup.repair_text(d.text, off).text
        ok = got == expected
        v = k["variants"].setdefault(d.variant, {"docs": 0, "ok": 0})
        for c in (k, v):
            c["docs"] += 1
            c["ok"] += ok
        if not ok:
            fail = {"id": d.id, "variant": d.variant, "source": d.article.source}
            failures[d.kind].append({**fail, **excerpt(expected, got)})
    for name, k in kinds.items():
        k["rate"] = round(100 * k["ok"] / k["docs"], 2)
        k["variants"] = dict(sorted(k["variants"].items()))
        k["failures"] = spread(failures[name], max_failures)
    return kinds


def table(kinds: dict) -> str:
    rows = ["| kind | docs | repaired % / untouched % |", "|---|---:|---:|"]
    for name in ("control", *FAULT_KINDS, *LEGIT_KINDS):
        if not (k := kinds.get(name)):
            continue
        what = "repaired" if k["metric"] == "repaired" else "untouched"
        rows.append(f"| {name} | {k['docs']} | {k['rate']:.1f} ({what}) |")
        for v, c in k["variants"].items():
            rows.append(f"|   {v} | {c['docs']} | {100 * c['ok'] / c['docs']:.1f} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=1, help="1 and 2: development; 9001: held out")
    ap.add_argument("--max-articles", type=int, default=300, help="0: every article found")
    ap.add_argument("--min-articles", type=int, default=150, help="add BBC articles below this")
    ap.add_argument("--max-failures", type=int, default=20, help="failures kept per kind")
    args = ap.parse_args(argv)
    if args.seed == 9001:
        print("seed 9001 is the held-out seed: report it, never tune on it")
    import neardup

    t0 = time.perf_counter()
    found, counts = load_articles(args.min_articles)
    arts = pick_articles(found, args.seed, args.max_articles)
    used = Counter(a.source for a in arts)
    print(f"articles found: {dict(counts)}; usable after filters: {len(found)}; used: {dict(used)}")
    docs = build_docs(arts, args.seed)
    kinds = score(docs, args.max_failures)
    print(table(kinds))
    faults = [kinds[k] for k in FAULT_KINDS if k in kinds]
    controls = [kinds[k] for k in ("control", *LEGIT_KINDS) if k in kinds]
    summary = {"faulted_docs": sum(k["docs"] for k in faults),
               "repaired": sum(k["ok"] for k in faults),
               "control_docs": sum(k["docs"] for k in controls),
               "untouched": sum(k["ok"] for k in controls)}  # fmt: skip
    print(f"faults repaired {summary['repaired']}/{summary['faulted_docs']}, controls untouched "
          f"{summary['untouched']}/{summary['control_docs']} ({time.perf_counter() - t0:.1f} s)")  # fmt: skip
    out = {"seed": args.seed, "held_out": args.seed == 9001, "date": time.strftime("%Y-%m-%d"),
           "neardup_version": getattr(neardup, "__version__", None),
           "articles": {"found": counts, "usable": len(found), "used": dict(used)},
           "summary": summary, "kinds": kinds}  # fmt: skip
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"heldout-repair-s{args.seed}.json"
    path.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
