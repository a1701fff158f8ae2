"""What each part of neardup's dedup buys: the labelled corpus of dedup_corpus.py scored
with one setting changed at a time.

    python benchmarks/dedup_ablation.py --size 10000
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import dedup_corpus  # noqa: E402
from articles import BENCH_DATA  # noqa: E402
from dedup_quality import predicted_clusters, score  # noqa: E402

VARIANTS = {
    "defaults": {},
    "no boilerplate detection": {"boilerplate_min_docs": 10**9},
    "--verify jaccard": {"verify": "jaccard"},
    "--verify estimated --ngram 5": {"verify": "estimated", "ngram": 5},
}


def main() -> None:
    from neardup import DedupConfig
    from neardup.dedup import run_dedup

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=10000)
    args = ap.parse_args()
    corpus = dedup_corpus.write(args.size, BENCH_DATA / f"dedup-{args.size}-s0.jsonl")
    docs = [json.loads(line) for line in corpus.open(encoding="utf-8")]
    print("| variant | precision | recall | F1 | negatives merged | stories lost |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, overrides in VARIANTS.items():
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp)
            run_dedup(
                [str(corpus)],
                kept=str(out / "k.jsonl"),
                removed=str(out / "r.jsonl"),
                config=DedupConfig(**overrides),
            )
            q = score(docs, predicted_clusters([d["id"] for d in docs], out / "r.jsonl"))
        print(
            f"| {name} | {q['precision']:.4f} | {q['recall']:.4f} | {q['f1']:.4f} | "
            f"{q['hard_negatives_merged']} | {q['stories_lost']} |"
        )


if __name__ == "__main__":
    main()
