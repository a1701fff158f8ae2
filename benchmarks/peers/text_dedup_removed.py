"""Turn a text-dedup MinHash run into OUT/removed.jsonl (``id``, ``duplicate_of``).

text-dedup saves the kept records (a Hugging Face dataset under OUT/kept) and, with
``--debug``, its union-find keyed by the ``id`` column (OUT/kept/uf.pkl). A removed
document is a duplicate of the kept document of its component; a document text-dedup
dropped before hashing (under ``--min_length`` tokens) is written with
``duplicate_of: null`` and counted by the scorer as removed without a cluster.
Not timed: benchmarks/compare.py times the text-dedup command alone.

    python benchmarks/peers/text_dedup_removed.py CORPUS.jsonl OUT_DIR
"""

from __future__ import annotations

import argparse
import json
import pickle
from pathlib import Path

from datasets import load_from_disk


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus", type=Path)
    ap.add_argument("out", type=Path)
    args = ap.parse_args()
    kept = set(load_from_disk(str(args.out / "kept"))["id"])
    with (args.out / "kept" / "uf.pkl").open("rb") as f:
        uf = pickle.load(f)
    kept_of_root: dict = {}
    for doc_id in kept:
        kept_of_root[uf.find(doc_id)] = doc_id
    with (
        args.corpus.open(encoding="utf-8") as f,
        (args.out / "removed.jsonl").open("w", encoding="utf-8") as w,
    ):
        for line in f:
            doc_id = json.loads(line)["id"]
            if doc_id in kept:
                continue
            dup = kept_of_root.get(uf.find(doc_id)) if doc_id in uf.parent else None
            w.write(json.dumps({"id": doc_id, "duplicate_of": dup}) + "\n")


if __name__ == "__main__":
    main()
