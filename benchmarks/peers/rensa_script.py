"""Dedup with rensa (Rust MinHash), the way its README shows it, in two variants:

* ``--mode lsh`` (default): R-MinHash of word 5-grams (128 perms), ``RMinHashLSH``
  insert + query (16 bands of 8 rows, threshold 0.7), union-find over every candidate,
  keep the first document of each component;
* ``--mode dedup``: ``RMinHashDeduplicator`` (LSH plus rensa's own check of the
  estimated Jaccard): a document whose duplicates are already kept is removed as a
  duplicate of the first of them.

Writes OUT/removed.jsonl (``id``, ``duplicate_of``) for benchmarks/dedup_quality.py.
Runs in the peers' virtual environment (benchmarks/compare.py creates it).

    python benchmarks/peers/rensa_script.py CORPUS.jsonl OUT_DIR [--mode dedup]
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from rensa import RMinHash, RMinHashDeduplicator, RMinHashLSH

TOKEN = re.compile(r"\w+")


def shingles(text: str, n: int) -> list[str]:
    toks = TOKEN.findall(text.lower())
    return list({" ".join(toks[i : i + n]) for i in range(max(1, len(toks) - n + 1))})


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--mode", choices=["lsh", "dedup"], default="lsh")
    ap.add_argument("--threshold", type=float, default=0.7)
    ap.add_argument("--ngram", type=int, default=5)
    ap.add_argument("--num-perm", type=int, default=128)
    ap.add_argument("--bands", type=int, default=16)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    removed = args.out / "removed.jsonl"
    ids: list[str] = []
    if args.mode == "dedup":
        dd = RMinHashDeduplicator(
            threshold=args.threshold, num_perm=args.num_perm, use_lsh=True, num_bands=args.bands
        )
        with args.corpus.open(encoding="utf-8") as f, removed.open("w", encoding="utf-8") as w:
            for line in f:
                doc = json.loads(line)
                m = RMinHash(num_perm=args.num_perm, seed=42)
                m.update(shingles(doc["text"], args.ngram))
                dups = dd.get_duplicates(m)
                if dups:
                    w.write(json.dumps({"id": doc["id"], "duplicate_of": min(dups)}) + "\n")
                else:
                    dd.add(doc["id"], m)
        return
    lsh = RMinHashLSH(threshold=args.threshold, num_perm=args.num_perm, num_bands=args.bands)
    sigs = []
    with args.corpus.open(encoding="utf-8") as f:
        for line in f:
            doc = json.loads(line)
            m = RMinHash(num_perm=args.num_perm, seed=42)
            m.update(shingles(doc["text"], args.ngram))
            lsh.insert(len(ids), m)
            ids.append(doc["id"])
            sigs.append(m)
    parent = list(range(len(ids)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i, m in enumerate(sigs):
        for j in lsh.query(m):
            a, b = find(i), find(j)
            if a != b:
                parent[max(a, b)] = min(a, b)
    with removed.open("w", encoding="utf-8") as w:
        for i, doc_id in enumerate(ids):
            root = find(i)
            if root != i:
                w.write(json.dumps({"id": doc_id, "duplicate_of": ids[root]}) + "\n")


if __name__ == "__main__":
    main()
