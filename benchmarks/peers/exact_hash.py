"""Exact-hash baseline: read the corpus, hash each text after lower-casing and
collapsing whitespace (MD5, as dolma and text-dedup's exact mode do), keep the first of
each hash. Writes OUT/removed.jsonl (``id``, ``duplicate_of``). Standard library only.

    python benchmarks/peers/exact_hash.py CORPUS.jsonl OUT_DIR
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus", type=Path)
    ap.add_argument("out", type=Path)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    first: dict[bytes, str] = {}
    with (
        args.corpus.open(encoding="utf-8") as f,
        (args.out / "removed.jsonl").open("w", encoding="utf-8") as w,
    ):
        for line in f:
            doc = json.loads(line)
            key = hashlib.md5(" ".join(doc["text"].lower().split()).encode()).digest()
            kept = first.setdefault(key, doc["id"])
            if kept != doc["id"]:
                w.write(json.dumps({"id": doc["id"], "duplicate_of": kept}) + "\n")


if __name__ == "__main__":
    main()
