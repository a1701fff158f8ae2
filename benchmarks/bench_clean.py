"""Throughput and memory of ``neardup clean``.

Corpora (JSONL, written under ../neardup-bench-data/, never committed):

* ``bbc``: the 2,225 BBC articles as they are;
* ``N`` (10k, 100k, 1M...): real articles from ../shared/data drawn with replacement
  (seeded), 10% of them with one scrape fault from the repair dev set.

Each corpus is cleaned with 1 and 2 workers, one run at a time; the table gives wall
time, documents per second and the peak RSS and PSS of the whole process tree.

    python benchmarks/bench_clean.py --sizes 10000 100000 --workers 1 2
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from articles import BENCH_DATA, load_articles  # noqa: E402
from measure import run_neardup, write_results  # noqa: E402
from repair_devset import FAULTS, inject  # noqa: E402

DATA = BENCH_DATA


def build_corpus(size: int | str, seed: int = 0) -> Path:
    DATA.mkdir(exist_ok=True)
    path = DATA / f"clean-{size}.jsonl"
    if path.exists():
        return path
    rng = random.Random(seed)
    if size == "bbc":
        articles = list(load_articles(("bbc",)))
        rows = ((a.source_id, a.text) for a in articles)
    else:
        pool = list(load_articles())

        def rows_gen():
            for i in range(int(size)):
                a = pool[rng.randrange(len(pool))]
                text = a.text
                if rng.random() < 0.1:
                    made = inject(a, rng.choice(FAULTS), rng)
                    if made:
                        text = made[0]
                yield f"{a.source_id}#{i}", text

        rows = rows_gen()
    tmp = path.with_suffix(".part")
    with tmp.open("w", encoding="utf-8") as f:
        for doc_id, text in rows:
            f.write(
                json.dumps({"id": doc_id, "source": "bench", "text": text}, ensure_ascii=False)
                + "\n"
            )
    tmp.rename(path)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", default=["bbc", "10000", "100000"])
    ap.add_argument("--workers", nargs="+", type=int, default=[1, 2])
    ap.add_argument("--json", type=Path, default=HERE / "results" / "clean.json")
    args = ap.parse_args()
    rows = []
    for size in args.sizes:
        corpus = build_corpus(size)
        n = sum(1 for _ in corpus.open("rb"))
        mb = corpus.stat().st_size / 1e6
        for workers in args.workers:
            out = DATA / f"out-{size}-{workers}.jsonl"
            m = run_neardup("clean", str(corpus), "-o", str(out), "-j", str(workers))
            row = {
                "corpus": size,
                "docs": n,
                "mb": round(mb, 1),
                "kb_per_doc": round(mb * 1000 / n, 2),
                "workers": workers,
                "seconds": round(m.seconds, 2),
                "docs_per_s": round(n / m.seconds),
                "peak_rss_mb": round(m.peak_rss_mb),
                "peak_pss_mb": round(m.peak_pss_mb),
                "summary": m.stderr.strip().splitlines()[-1],
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
            out.unlink()
    write_results(args.json, rows)
    print("\n| corpus | docs | KB/doc | workers | seconds | docs/s | peak RSS MB | peak PSS MB |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['corpus']} | {r['docs']:,} | {r['kb_per_doc']} | {r['workers']} | {r['seconds']} | {r['docs_per_s']:,} | {r['peak_rss_mb']} | {r['peak_pss_mb']} |"
        )


if __name__ == "__main__":
    main()
