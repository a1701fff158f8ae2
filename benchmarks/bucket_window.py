"""How the bucket window (``neardup.candidates.MAX_BUCKET_PAIRS``: a member of a big LSH
bucket is paired with the next N members and the first) changes cost and quality: one
``run_dedup`` per corpus and window, in this process, ``-j 2``, one at a time, scored
against the corpus's labels with ``dedup_quality.score``.

    python benchmarks/bucket_window.py ../neardup-bench-data/shape-soft404-v1-100000-s0.jsonl --windows 32 8

Prints one JSON line per run: seconds, candidate pairs per document, microseconds per
document by stage, F1, precision, recall, hard negatives merged, stories lost.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import neardup.candidates as candidates  # noqa: E402
from dedup_quality import gold, predicted_clusters, score  # noqa: E402
from neardup.dedup import run_dedup  # noqa: E402


def measure(corpus: Path, window: int, workers: int) -> dict:
    candidates.MAX_BUCKET_PAIRS = window
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        stats = run_dedup(
            [str(corpus)], kept=f"{tmp}/kept.jsonl", removed=f"{tmp}/removed.jsonl",
            workers=workers,
        )  # fmt: skip
        seconds = time.perf_counter() - t0
        docs = gold(corpus)
        quality = score(
            docs, predicted_clusters([d["id"] for d in docs], Path(f"{tmp}/removed.jsonl"))
        )
    n = max(stats.read, 1)
    return {
        "corpus": corpus.name, "window": window, "seconds": round(seconds, 1),
        "pairs_per_doc": round(stats.candidate_pairs / n, 1),
        "us_per_doc": {k: round(v / n * 1e6) for k, v in stats.seconds.items()},
        **{k: round(quality[k], 4) for k in ("f1", "precision", "recall")},
        **{k: quality[k] for k in ("hard_negatives_merged", "stories_lost") if k in quality},
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpora", nargs="+", type=Path)
    parser.add_argument("--windows", nargs="+", type=int, default=[32, 8])
    parser.add_argument("-j", "--workers", type=int, default=2)
    args = parser.parse_args()
    for window in args.windows:
        for corpus in args.corpora:
            print(json.dumps(measure(corpus, window, args.workers)), flush=True)


if __name__ == "__main__":
    main()
