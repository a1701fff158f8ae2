"""JSONL corpora shaped like real crawls, of any size, for the cost benchmark
(bench_shapes.py). Deterministic from a seed; written streaming (a few MB of state,
whatever the size). Each line is ``{"id", "url", "text", "story", "kind"}``.

    python benchmarks/shape_corpus.py liveblog 100000            # -> ../neardup-bench-data/...
    python benchmarks/shape_corpus.py soft404 10000 --seed 1 --out /tmp/soft404.jsonl

Shapes:

* ``liveblog``: live-blog pages only. Four blogs are open at a time; each runs for 200 to
  4,000 versions (log-uniform) and every version is the blog's title line plus a window
  of its 12 newest entries (newest first); the next version adds one entry and drops the
  oldest, so versions next to each other share 11 of 12 entries (word 3- or 5-gram
  Jaccard ~0.75-0.9), four apart ~0.5, twelve apart nothing: one long chain per blog.
  ``story`` = the blog (``liveblog-N``), though only nearby versions are
  near-duplicates; ``kind`` = ``liveblog-version``. No entry is in two blogs.
* ``soft404``: 30% of the pages are soft-404 pages of ``max(10, N // 5000)`` sites
  (pages per site Zipf-like: site k gets a share ~ 1/k; at 10k the largest site has
  ~1,000 pages, at 1M ~50,000). A site's template (80-150 words: heading, "the page
  PATH you requested ...", a reference line, a "Popular on SITE" paragraph of its own and
  a help line) changes only the requested path, the date and a reference number from
  page to page (same site: word 3-gram Jaccard ~0.83, 5-gram ~0.77, never below 0.7;
  two sites: at most ~0.2). ``story`` = ``soft404-SITE`` (one per site template),
  ``kind`` = ``soft404``. The other 70% are distinct articles (``original``) and
  republished copies (10% of the articles get 1-2 copies, one dedup_corpus.edit each;
  ``kind`` = the edit, ``story`` = the article's).
* ``shared``: news where paragraphs are shared by distinct stories: 60% of the stories
  carry 1-3 shared paragraphs, each shared paragraph goes into 2-30 (uniform) distinct
  stories (200 are in circulation at a time; the last ones of a corpus may reach
  fewer), and 20% of the stories get 1-3 republished copies (dedup_corpus.edit). When
  benchmarks/heldout_corpus.py has a ``write(size, path, seed)``, ``shared`` is that
  corpus instead (its write() decides when its cached file is stale).
* ``project``: dedup_corpus.write (the labelled corpus of compare.py; not streamed).

Text: the ~2,500 real articles of articles.load_articles() (live-blog entries: its
~9,700 distinct non-headline paragraphs of 15-100 words) are used once each as they are.
Past them the pool is reused with each paragraph's words shuffled, a new shuffle each
time, so new stories keep the real vocabulary and lengths but share no run of more than
a few words with another story (checked on 40,000 such stories of the 100k soft404
corpus: the only word 8-grams two stories share are in a few dozen short lines of scores,
times, code or Arabic, whose words split into many word-character runs). Left out of the shuffled
rounds: texts written without spaces (Chinese, Japanese, Thai), and words of more than
3 word-character runs (URLs, code), which are runs by themselves. Copies are emitted 1
to 5,000 documents after their original.

Writing 100k documents takes (2 cores) ~7 s for liveblog, ~16 s for soft404 and ~20 s
for this module's shared; ten times that for 1M; memory stays under 100 MB.
"""

from __future__ import annotations

import argparse
import heapq
import importlib
import json
import math
import random
import re
import sys
import time
from bisect import bisect
from collections import deque
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from itertools import accumulate, count, islice
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import dedup_corpus  # noqa: E402
from articles import BENCH_DATA, load_articles  # noqa: E402

DATA = BENCH_DATA
TOKEN = re.compile(r"\w+")
SHAPES = ("liveblog", "soft404", "shared", "project")
VERSION = 1  # in the cached file names: raise it when a generator changes
WINDOW = 12  # entries per live-blog version
BLOG_VERSIONS = (200, 4000)
OPEN_BLOGS = 4
SOFT404_SHARE = 0.3
SHARED_ACTIVE = 200  # shared paragraphs in circulation at a time
ENTRY_WORDS = (15, 100)  # words in a live-blog entry (a real paragraph)


def scramble(text: str, rng: random.Random) -> str:
    """``text`` with its words shuffled (a new story's paragraph from a real one); words
    of more than 3 word-character runs (URLs, code) are left out: they are runs already."""
    words = [w for w in text.split() if len(TOKEN.findall(w)) <= 3]
    rng.shuffle(words)
    out = " ".join(words)
    return out[:1].upper() + out[1:]


def _real_articles(seed: int) -> list[tuple[str, tuple[str, ...]]]:
    seen: set[str] = set()
    pool = []
    for a in load_articles():
        if len(a.paragraphs) >= 3 and a.text not in seen:
            seen.add(a.text)
            pool.append((a.source_id, a.paragraphs))
    random.Random(seed).shuffle(pool)
    return pool


def spaced(text: str) -> bool:
    """Written with spaces between words (a shuffle of its words breaks every run):
    not Chinese, Japanese or Thai, whose space-separated pieces are whole phrases."""
    words = text.split()
    return bool(words) and sum(map(len, words)) <= 12 * len(words)


def articles(seed: int) -> Iterator[tuple[str, list[str]]]:
    """(label, paragraphs) forever: the real articles, then rounds of scrambled ones."""
    pool = _real_articles(seed)
    rng = random.Random(f"articles-{seed}")
    yield from ((label, list(paras)) for label, paras in pool)
    pool = [(label, paras) for label, paras in pool if spaced(" ".join(paras))]
    for r in count(1):
        for label, paras in pool:
            scrambled = (scramble(p, rng) for p in paras)
            yield f"{label}~{r}", [p for p in scrambled if p]


def entries(seed: int) -> Iterator[str]:
    """Distinct paragraphs of 15-100 words forever: the real ones, then scrambled rounds."""
    lo, hi = ENTRY_WORDS
    pool = {p for _, ps in _real_articles(seed) for p in ps[1:] if lo <= len(p.split()) <= hi}
    pool = sorted(pool)
    rng = random.Random(f"entries-{seed}")
    rng.shuffle(pool)
    yield from pool
    pool = [p for p in pool if spaced(p)]
    while True:
        for p in pool:
            yield scramble(p, rng)


def with_copies(
    originals: Iterator[dict], rng: random.Random, share: float, most: int
) -> Iterator[dict]:
    """``originals`` with republished copies (1 to ``most`` for a ``share`` of them, one
    dedup_corpus edit each) mixed in 1 to 5,000 documents after their original."""
    pending: list[tuple[int, int, dict]] = []
    seq = count()
    for i, doc in enumerate(originals):
        while pending and pending[0][0] <= i:
            yield heapq.heappop(pending)[2]
        yield doc
        if rng.random() < share:
            for _ in range(rng.randint(1, most)):
                kind = rng.choice(dedup_corpus.EDITS)
                site = rng.choice(dedup_corpus.SITES).lower().replace(" ", "")
                copy = doc | {
                    "kind": kind,
                    "url": f"https://{site}.example/story/{rng.randrange(10**7)}",
                    "paras": dedup_corpus.edit(doc["paras"], kind, rng),
                }
                heapq.heappush(pending, (i + rng.randint(1, 5000), next(seq), copy))


def _news(seed: int) -> Iterator[dict]:
    for n, (label, paras) in enumerate(articles(seed)):
        url = f"https://news{n % 50}.example/{label.replace('/', '-')}"
        yield {"story": label, "kind": "original", "url": url, "paras": paras}


def liveblog(size: int, seed: int) -> Iterator[dict]:
    rng = random.Random(f"liveblog-{seed}")
    stream = entries(seed)
    blogs: list[dict] = []
    numbers = count()
    lo, hi = BLOG_VERSIONS
    while True:
        while len(blogs) < OPEN_BLOGS:
            window = deque(islice(stream, WINDOW))
            blogs.append(
                {
                    "n": next(numbers),
                    "title": "Live: " + " ".join(window[0].split()[:8]),
                    "window": window,
                    "left": int(math.exp(rng.uniform(math.log(lo), math.log(hi)))),
                    "version": 0,
                }
            )
        blog = rng.choice(blogs)
        yield {
            "story": f"liveblog-{blog['n']}",
            "kind": "liveblog-version",
            "url": f"https://live{blog['n'] % 20}.example/live/{blog['n']}?v={blog['version']}",
            "paras": [blog["title"], *blog["window"]],
        }
        blog["window"].appendleft(next(stream))
        blog["window"].pop()
        blog["version"] += 1
        blog["left"] -= 1
        if blog["left"] == 0:
            blogs.remove(blog)


HEADINGS = (
    "Page not found",
    "404 - Page Not Found",
    "Oops! That page can't be found.",
    "Sorry, we couldn't find that page",
    "Error 404: the page is missing",
)
SORRY = (
    "Sorry, the page {path} you requested could not be found on {site}.",
    "We looked everywhere, but the page {path} you asked for does not exist on {site}.",
    "The page {path} you requested is not available. It may have been moved or deleted.",
    "Unfortunately the address {path} you requested on {site} does not lead to a page.",
)
REFERENCE = (
    "Reference {ref}, {date}.",
    "Error reference: {ref} ({date}).",
    "Request ID {ref} logged on {date}.",
)
HELP = (
    "Check the address for typing errors, or use the search box at the top of the page "
    "to find what you were looking for. You can also return to the homepage.",
    "If you followed a link from another website, it may be out of date. Try our search, "
    "browse the sections in the menu, or go back to the front page.",
    "The link you followed may be broken, or the page may have been removed. Please "
    "contact our support team if you think this is a mistake on our part.",
)
SECTIONS = ("news", "sport", "business", "culture", "travel", "opinion", "tech", "health")


def _site_templates(n: int, rng: random.Random, fillers: Iterator[str]) -> list[dict]:
    sites = []
    for k in range(n):
        name = f"Site{k:04d} Media"
        parts = [rng.choice(HEADINGS), rng.choice(SORRY), rng.choice(REFERENCE), rng.choice(HELP)]
        fixed = sum(len(p.split()) for p in parts) + 3
        words = scramble(next(fillers), rng).split()
        while len(words) < 150:
            words += scramble(next(fillers), rng).split()
        target = rng.randint(80, 150)
        popular = f"Popular on {name}: " + " ".join(words[: max(20, target - fixed)])
        parts.insert(3, popular)
        sites.append({"name": name, "host": f"site{k:04d}.example", "parts": parts})
    return sites


def soft404(size: int, seed: int) -> Iterator[dict]:
    rng = random.Random(f"soft404-{seed}")
    news = with_copies(_news(seed), rng, share=0.1, most=2)
    sites = _site_templates(max(10, size // 5000), rng, entries(seed + 1))
    cum = list(accumulate(1 / (k + 1) for k in range(len(sites))))
    day0 = date(2024, 1, 1)
    while True:
        if rng.random() >= SOFT404_SHARE:
            yield next(news)
            continue
        site = sites[bisect(cum, rng.random() * cum[-1])]
        path = f"/{rng.choice(SECTIONS)}/{rng.randrange(10**6)}"
        day = (day0 + timedelta(days=rng.randrange(730))).strftime("%d %B %Y")
        ref = f"{rng.randrange(16**8):08X}"
        heading, sorry, reference, popular, help_ = site["parts"]
        yield {
            "story": f"soft404-{site['host']}",
            "kind": "soft404",
            "url": f"https://{site['host']}{path}",
            "paras": [
                heading,
                sorry.format(path=path, site=site["name"]),
                reference.format(ref=ref, date=day),
                popular,
                help_,
            ],
        }


def shared(size: int, seed: int) -> Iterator[dict]:
    rng = random.Random(f"shared-{seed}")
    wire = entries(seed + 1)
    active: list[list] = []  # [paragraph, stories still to carry it]

    def stories() -> Iterator[dict]:
        for doc in _news(seed):
            paras = doc["paras"]
            carried: set[int] = set()
            for _ in range(0 if rng.random() < 0.4 else rng.randint(1, 3)):
                while len(active) < SHARED_ACTIVE:
                    active.append([scramble(next(wire), rng), rng.randint(2, 30)])
                j = rng.randrange(len(active))
                if id(active[j]) in carried:
                    continue
                carried.add(id(active[j]))
                paras.insert(rng.randint(1, len(paras)), active[j][0])
                active[j][1] -= 1
                if active[j][1] == 0:
                    active[j] = active[-1]
                    active.pop()
            yield doc

    return with_copies(stories(), rng, share=0.2, most=3)


GENERATORS: dict[str, Callable[[int, int], Iterator[dict]]] = {
    "liveblog": liveblog,
    "soft404": soft404,
    "shared": shared,
}


def _heldout() -> object | None:
    """The heldout_corpus module when it exists and has ``write(size, path, seed)``."""
    if not (HERE / "heldout_corpus.py").exists():
        return None
    module = importlib.import_module("heldout_corpus")
    return module if callable(getattr(module, "write", None)) else None


def generator(shape: str) -> str:
    """What writes ``shape``'s corpus (recorded with the results)."""
    if shape == "project":
        return "dedup_corpus.write"
    if shape == "shared" and (module := _heldout()):
        return f"heldout_corpus.write {getattr(module, 'VERSION', '')}".strip()
    return f"shape_corpus.{shape} v{VERSION}"


def corpus_path(shape: str, size: int, seed: int = 0) -> Path:
    if shape == "project":  # the file compare.py writes and caches
        return DATA / f"dedup-{size}-s{seed}.jsonl"
    if generator(shape).startswith("heldout"):  # its write() knows when to write it anew
        return DATA / f"shape-shared-heldout-{size}-s{seed}.jsonl"
    return DATA / f"shape-{shape}-v{VERSION}-{size}-s{seed}.jsonl"


def _write(shape: str, size: int, path: Path, seed: int) -> None:
    if shape == "project":
        dedup_corpus.write(size, path, seed)
    elif generator(shape).startswith("heldout"):
        _heldout().write(size, path, seed)
    else:
        write_shape(shape, size, path, seed)


def write_shape(shape: str, size: int, path: Path, seed: int = 0) -> Path:
    """Write ``size`` documents of ``shape`` to ``path`` (streaming, via a .part file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    with tmp.open("w", encoding="utf-8") as f:
        for i, doc in enumerate(islice(GENERATORS[shape](size, seed), size)):
            row = {
                "id": f"{shape[0]}{i:07d}",
                "url": doc["url"],
                "text": "\n\n".join(doc["paras"]),
                "story": doc["story"],
                "kind": doc["kind"],
            }
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    tmp.rename(path)
    return path


def make(shape: str, size: int, seed: int = 0) -> tuple[Path, dict]:
    """The corpus (written unless cached) and its facts: generator, MB, and the seconds
    its writing took (kept beside it in PATH.meta.json; null when it came from
    elsewhere, e.g. compare.py's cache)."""
    path = corpus_path(shape, size, seed)
    meta_path = path.with_name(path.name + ".meta.json")
    before = path.stat().st_mtime_ns if path.exists() else None
    seconds = None
    if before is None or generator(shape).startswith("heldout"):
        t0 = time.perf_counter()
        _write(shape, size, path, seed)
        if path.stat().st_mtime_ns != before:
            seconds = round(time.perf_counter() - t0, 1)
            meta_path.write_text(json.dumps({"write_seconds": seconds}) + "\n")
    if seconds is None and meta_path.exists():
        seconds = json.loads(meta_path.read_text())["write_seconds"]
    facts = {
        "generator": generator(shape),
        "corpus_mb": round(path.stat().st_size / 2**20, 1),
        "write_seconds": seconds,
    }
    return path, facts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("shape", choices=SHAPES)
    ap.add_argument("size", type=int)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, help="write here (always) instead of the cache")
    args = ap.parse_args()
    t0 = time.perf_counter()
    if args.out:
        _write(args.shape, args.size, args.out, args.seed)
        path, facts = args.out, {"generator": generator(args.shape)}
    else:
        path, facts = make(args.shape, args.size, args.seed)
    print(json.dumps({"path": str(path), "seconds": round(time.perf_counter() - t0, 1)} | facts))


if __name__ == "__main__":
    main()
