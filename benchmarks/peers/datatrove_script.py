"""datatrove's 4-stage MinHash dedup (signatures, buckets, clusters, filter), set up as
its own example does, on a folder of JSONL shards (one task per shard, two workers).

    python benchmarks/peers/datatrove_script.py SHARDS_DIR OUT_DIR [--buckets 25 --rows 5]
    python benchmarks/peers/datatrove_script.py SHARDS_DIR OUT_DIR --convert

The second form (not timed) turns the kept and removed outputs, which carry
``minhash_cluster_id``, into OUT/removed.jsonl (``id``, ``duplicate_of``) for
benchmarks/dedup_quality.py. Runs in the peers' virtual environment.
"""

from __future__ import annotations

import argparse
import gzip
import json
from pathlib import Path


def run(shards: Path, out: Path, buckets: int, rows: int, ngram: int, workers: int) -> None:
    from datatrove.executor.local import LocalPipelineExecutor
    from datatrove.pipeline.dedup.minhash import (
        MinhashConfig,
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupFilter,
        MinhashDedupSignature,
    )
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter

    config = MinhashConfig(n_grams=ngram, num_buckets=buckets, hashes_per_bucket=rows)
    tasks = len(list(shards.glob("*.jsonl")))
    logs = out / "logs"

    def reader():
        return JsonlReader(str(shards), glob_pattern="*.jsonl", id_key="id")

    LocalPipelineExecutor(
        [reader(), MinhashDedupSignature(str(out / "sigs"), config=config)],
        tasks=tasks,
        workers=workers,
        logging_dir=str(logs / "1"),
    ).run()
    LocalPipelineExecutor(
        [MinhashDedupBuckets(str(out / "sigs"), str(out / "buckets"), config=config)],
        tasks=buckets,
        workers=workers,
        logging_dir=str(logs / "2"),
    ).run()
    LocalPipelineExecutor(
        [
            MinhashDedupCluster(
                str(out / "buckets"), str(out / "remove"), config=config, save_cluster_id=True
            )
        ],
        tasks=1,
        logging_dir=str(logs / "3"),
    ).run()
    LocalPipelineExecutor(
        [
            reader(),
            MinhashDedupFilter(
                str(out / "remove"),
                load_cluster_ids=True,
                exclusion_writer=JsonlWriter(str(out / "removed-docs")),
            ),
            JsonlWriter(str(out / "kept")),
        ],
        tasks=tasks,
        workers=workers,
        logging_dir=str(logs / "4"),
    ).run()


def convert(out: Path) -> None:
    def docs(folder: Path):
        for path in sorted(folder.glob("*.jsonl.gz")):
            with gzip.open(path, "rt", encoding="utf-8") as f:
                for line in f:
                    d = json.loads(line)
                    yield d["id"], d.get("metadata", {}).get("minhash_cluster_id", -1)

    kept_of_cluster = {c: i for i, c in docs(out / "kept") if c != -1}
    with (out / "removed.jsonl").open("w", encoding="utf-8") as w:
        for doc_id, c in docs(out / "removed-docs"):
            w.write(json.dumps({"id": doc_id, "duplicate_of": kept_of_cluster.get(c)}) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("shards", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--buckets", type=int, default=25)
    ap.add_argument("--rows", type=int, default=5)
    ap.add_argument("--ngram", type=int, default=5)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--convert", action="store_true")
    args = ap.parse_args()
    if args.convert:
        convert(args.out)
    else:
        run(args.shards, args.out, args.buckets, args.rows, args.ngram, args.workers)


if __name__ == "__main__":
    main()
