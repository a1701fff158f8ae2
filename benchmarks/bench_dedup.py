"""Throughput, memory and time per stage of ``neardup run`` on the labelled dedup corpora.

    python benchmarks/bench_dedup.py --sizes 10000 100000 --workers 1 2

Each run is the whole command (``python -m neardup run CORPUS -o OUT -j N``), one at a
time; peak RSS and PSS are summed over the process and its workers (benchmarks/measure.py); the
time per stage comes from ``OUT/stats.json``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import dedup_corpus  # noqa: E402
from articles import BENCH_DATA  # noqa: E402
from measure import run_neardup, write_results  # noqa: E402

DATA = BENCH_DATA


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", type=int, default=[10000, 100000])
    ap.add_argument("--workers", nargs="+", type=int, default=[1, 2])
    ap.add_argument("--json", type=Path, default=HERE / "results" / "dedup-speed.json")
    args = ap.parse_args()
    rows = []
    for size in args.sizes:
        corpus = dedup_corpus.write(size, DATA / f"dedup-{size}-s0.jsonl")
        mb = corpus.stat().st_size / 1e6
        for workers in args.workers:
            out = DATA / f"bench-run-{size}-{workers}"
            shutil.rmtree(out, ignore_errors=True)
            m = run_neardup("run", str(corpus), "-o", str(out), "-j", str(workers))
            stats = json.loads((out / "stats.json").read_text())["stats"]
            row = {
                "docs": size,
                "mb": round(mb, 1),
                "workers": workers,
                "seconds": round(m.seconds, 2),
                "docs_per_s": round(size / m.seconds),
                "peak_rss_mb": round(m.peak_rss_mb),
                "peak_pss_mb": round(m.peak_pss_mb),
                "stages": stats["seconds"],
                "removed": stats["removed"],
                "candidate_pairs": stats["candidate_pairs"],
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
            shutil.rmtree(out)
    write_results(args.json, rows)
    print(
        "\n| docs | workers | seconds | docs/s | peak RSS MB | peak PSS MB | read+repair+features | boilerplate learned | content+signatures (workers) | candidates | verify | cluster | write |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        s = r["stages"]
        print(
            f"| {r['docs']:,} | {r['workers']} | {r['seconds']} | {r['docs_per_s']:,} | {r['peak_rss_mb']} | {r['peak_pss_mb']} | "
            f"{s['read_clean_features']} | {s['boilerplate']} | {s['content_signatures']} | "
            f"{s['candidates']} | "
            f"{s['verify']} | {s['cluster']} | {s['write']} |"
        )


if __name__ == "__main__":
    main()
