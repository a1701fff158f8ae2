"""A labelled dedup corpus built from real articles in ../shared/data, of any size.

Every document carries ``story`` (the gold label: documents of one story are
duplicates of each other) and ``kind`` (how it was made). Deterministic from a seed.

* ``original``: a story as published. The first stories are real articles (BBC, the
  Scrapinghub gold bodies, newspaper's texts); beyond the pool, stories are made of
  sentences drawn from all articles (each one unique).
* republished copies (30% of stories get 1-4), each with one edit:
  ``new-headline`` (site name and reworded headline), ``trimmed-ending`` (last third cut,
  "Read more at ..."), ``sentence-dropped``, ``figures-updated``, ``typos``,
  ``reflowed`` (one line), ``curly-quotes``, ``html-entities``, ``share-buttons``,
  ``ads-and-newsletter`` (lines between paragraphs), ``body-doubled``.
* hard negatives: ``footer-site`` documents, short different stories (the first one or
  two paragraphs of an article) that carry their site's long legal footer; and the
  BBC set's own same-topic articles. None of these may be merged.
* the BBC set's natural duplicates (pairs with word-5-gram Jaccard >= 0.5 in
  ``derived_candidate_pairs_UNVERIFIED.tsv``) share a story label.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from itertools import combinations
from pathlib import Path

from articles import SHARED_DATA, Article, load_articles

EDITS = (
    "new-headline",
    "trimmed-ending",
    "sentence-dropped",
    "figures-updated",
    "typos",
    "reflowed",
    "curly-quotes",
    "html-entities",
    "share-buttons",
    "ads-and-newsletter",
    "body-doubled",
)
SITES = ("The Harbour Times", "Northfield Daily", "Metro Wire", "Valley Courier", "Coastline News")
FOOTERS = [
    (
        f"{site} Legal Notice. All material published by {site} is protected by copyright "
        "and may not be reproduced, distributed, transmitted, cached or otherwise used, "
        "except with the prior written permission of the publisher. The views expressed in "
        "contributed articles are those of the authors and do not necessarily reflect the "
        "views of the publisher or its editorial board. Prices, figures and schedules quoted "
        "in our reports were correct at the time of publication and may have changed since. "
        "Readers should seek independent professional advice before making any financial, "
        "legal or medical decision based on information published here. Comments are "
        "moderated and may be removed without notice if they breach our community "
        "guidelines. By using this site you agree to our terms of use and privacy policy, "
        f"including the use of cookies for analytics and advertising. Contact {site} at the "
        "address listed on our about page for corrections and complaints."
    )
    for site in SITES
]
_SENT = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'\u201c])")


def _sentences(text: str) -> list[str]:
    return [s for s in _SENT.split(text) if s.strip()]


def _bbc_story_groups() -> tuple[dict[str, str], set[str]]:
    """BBC doc -> representative of its natural-duplicate group (Jaccard >= 0.5), and
    the documents whose pairing is ambiguous (0.3 <= Jaccard < 0.5: some are rewrites of
    one story, some are related stories); the corpus leaves the second of those out."""
    path = SHARED_DATA / "bbc-news" / "derived_candidate_pairs_UNVERIFIED.tsv"
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    ambiguous: set[str] = set()
    if path.exists():
        for line in path.read_text().splitlines()[1:]:
            a, b, j, _ = line.split("\t")
            if 0.3 <= float(j) < 0.5:
                ambiguous.add("bbc/" + b[:-4])
            if float(j) >= 0.5:
                ra, rb = find("bbc/" + a[:-4]), find("bbc/" + b[:-4])
                if ra != rb:
                    parent[max(ra, rb)] = min(ra, rb)
    return {x: find(x) for x in parent}, ambiguous


def edit(paras: list[str], kind: str, rng: random.Random) -> list[str]:
    """A republished copy of ``paras`` (headline first) with one edit."""
    p = list(paras)
    if kind == "new-headline":
        words = p[0].split()
        rng.shuffle(words)
        p[0] = f"{rng.choice(SITES)}: " + " ".join(words[: max(3, len(words) - 1)])
    elif kind == "trimmed-ending":
        keep = max(2, int(len(p) * 0.67))
        p = p[:keep] + [f"Read more at {rng.choice(SITES).lower().replace(' ', '')}.example"]
    elif kind == "sentence-dropped":
        i = rng.randrange(1, len(p))
        s = _sentences(p[i])
        if len(s) > 1:
            s.pop(rng.randrange(len(s)))
            p[i] = " ".join(s)
        else:
            p.pop(i)
    elif kind == "figures-updated":
        p = [re.sub(r"\d+", lambda m: str(int(m.group()) + rng.randint(1, 9)), x) for x in p]
    elif kind == "typos":
        out = []
        for x in p:
            ws = x.split(" ")
            for j, w in enumerate(ws):
                if len(w) > 4 and w.isalpha() and rng.random() < 0.03:
                    c = rng.randrange(1, len(w) - 2)
                    ws[j] = w[:c] + w[c + 1] + w[c] + w[c + 2 :]
            out.append(" ".join(ws))
        p = out
    elif kind == "reflowed":
        p = [" ".join(p)]
    elif kind == "curly-quotes":
        p = [re.sub(r"\"([^\"]*)\"", "\u201c\\1\u201d", x).replace("'", "\u2019") for x in p]
    elif kind == "html-entities":
        p = [x.replace("&", "&amp;").replace('"', "&quot;").replace("'", "&#39;") for x in p]
    elif kind == "share-buttons":
        p = ["Share this article", "Facebook", "Twitter", "Email", *p, "Share", "Related stories"]
    elif kind == "ads-and-newsletter":
        out = []
        for x in p:
            out.append(x)
            if rng.random() < 0.4:
                out.append(
                    rng.choice(
                        [
                            "Advertisement",
                            "Sign up for our morning newsletter",
                            "Story continues below advertisement",
                        ]
                    )
                )
        p = out
    elif kind == "body-doubled":
        p = p[:1] + p[1:] + p[1:]
    else:
        raise ValueError(kind)
    return p


def build(size: int, seed: int = 0) -> Iterator[dict]:
    """Yield ``size`` labelled documents: {"id", "story", "kind", "text", "site"}."""
    rng = random.Random(seed)
    bbc_groups, ambiguous = _bbc_story_groups()
    pool = [a for a in load_articles() if len(a.paragraphs) >= 3 and a.source_id not in ambiguous]
    rng.shuffle(pool)
    sentences = [s for a in pool for para in a.paragraphs[2:] for s in _sentences(para)]
    # 8 to 60 words: a text the splitter cannot cut (no Latin sentence ends) would
    # otherwise become one huge "sentence" shared by every story that draws it
    sentences = sorted({s for s in sentences if 8 <= len(s.split()) <= 60})
    rng.shuffle(sentences)
    n_footer = max(10, size // 20)
    # footer stories draw from their own share of the sentences, without replacement, so
    # that no two hard negatives (and no synthetic story) say the same thing
    # (at most a third of all sentences; past that, footer stories combine them anew)
    n_reserved = min(3 * n_footer, len(sentences) // 3)
    reserved, sentences = sentences[:n_reserved], sentences[n_reserved:]
    spare = list(reserved)
    paired: set[tuple[str, str]] = set()  # no two footer stories share two sentences
    # (sentences from the third paragraph on, of 8 words or more: a footer story is never
    # mostly one article's lead)
    docs: list[dict] = []
    # hard negatives: short different stories with their site's long footer
    for i in range(n_footer):
        site = rng.randrange(len(SITES))
        # 2-3 sentences from different articles: a short story found nowhere else
        if len(reserved) >= 3:
            short = [reserved.pop() for _ in range(3)]
        else:  # a new combination of three reserved sentences, sharing at most one
            while True:  # sentence with any other footer story
                short = rng.sample(spare, 3)
                pairs = {tuple(sorted(p)) for p in combinations(short, 2)}
                if not pairs & paired:
                    break
        paired.update(tuple(sorted(p)) for p in combinations(short, 2))
        headline = " ".join(short[0].split()[:6])
        docs.append(
            {
                "story": f"footer-{i}",
                "kind": "footer-site",
                "site": SITES[site],
                "paras": [headline, " ".join(short), FOOTERS[site]],
            }
        )
    story = 0
    used_articles = 0
    while len(docs) < size:
        if used_articles < len(pool):
            a = pool[used_articles]
            used_articles += 1
            label = bbc_groups.get(a.source_id, a.source_id)
            paras = list(a.paragraphs)
        else:
            n_sent = rng.randint(8, 30)
            body = [rng.choice(sentences) for _ in range(n_sent)]
            paras = [" ".join(body[:2][:1]).split(".")[0][:80]]
            paras += [" ".join(body[i : i + 3]) for i in range(0, n_sent, 3)]
            label = f"synthetic-{story}"
        story += 1
        docs.append({"story": label, "kind": "original", "site": "", "paras": paras})
        if rng.random() < 0.3:
            for _ in range(rng.randint(1, 4)):
                kind = rng.choice(EDITS)
                docs.append(
                    {
                        "story": label,
                        "kind": kind,
                        "site": rng.choice(SITES),
                        "paras": edit(paras, kind, rng),
                    }
                )
    docs = docs[:size]
    rng.shuffle(docs)
    for i, d in enumerate(docs):
        yield {
            "id": f"d{i:07d}",
            "story": d["story"],
            "kind": d["kind"],
            "site": d["site"],
            "text": "\n\n".join(d.pop("paras")),
        }


def write(size: int, path: Path, seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        return path
    tmp = path.with_suffix(".part")
    with tmp.open("w", encoding="utf-8") as f:
        for doc in build(size, seed):
            f.write(json.dumps(doc, ensure_ascii=False) + "\n")
    tmp.rename(path)
    return path


__all__ = ["EDITS", "Article", "build", "edit", "write"]
