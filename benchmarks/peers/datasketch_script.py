"""The dedup script a datasketch user would write: word 5-gram MinHash (128 perms,
default SHA-1 hashing), MinHashLSH insert + query at a threshold, union-find, keep the
first document of each component. Writes removed.jsonl with ``id`` and ``duplicate_of``
so benchmarks/dedup_quality.py can score it.

    python benchmarks/peers/datasketch_script.py CORPUS.jsonl OUT_DIR [--threshold 0.7]

datasketch is a dependency of neardup, so this runs in neardup's environment; the other
peers get their own virtual environments.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

from datasketch import MinHash, MinHashLSH

TOKEN = re.compile(r"\w+")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--threshold", type=float, default=0.7)
    ap.add_argument("--ngram", type=int, default=5)
    ap.add_argument("--num-perm", type=int, default=128)
    args = ap.parse_args()
    t0 = time.perf_counter()
    ids, sigs = [], []
    lsh = MinHashLSH(threshold=args.threshold, num_perm=args.num_perm)
    with args.corpus.open(encoding="utf-8") as f:
        for line in f:
            doc = json.loads(line)
            toks = TOKEN.findall(doc["text"].lower())
            n = args.ngram
            shingles = {" ".join(toks[i : i + n]) for i in range(max(1, len(toks) - n + 1))}
            m = MinHash(num_perm=args.num_perm)
            m.update_batch([s.encode("utf-8") for s in shingles])
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
    args.out.mkdir(parents=True, exist_ok=True)
    removed = 0
    with (args.out / "removed.jsonl").open("w", encoding="utf-8") as f:
        for i, doc_id in enumerate(ids):
            root = find(i)
            if root != i:
                f.write(json.dumps({"id": doc_id, "duplicate_of": ids[root]}) + "\n")
                removed += 1
    print(
        json.dumps(
            {"docs": len(ids), "removed": removed, "seconds": round(time.perf_counter() - t0, 2)}
        )
    )


if __name__ == "__main__":
    main()
