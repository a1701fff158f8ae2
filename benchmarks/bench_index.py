"""Crawl after crawl: batches added one after another to a persistent index.

    python benchmarks/bench_index.py --batches 11 --batch-size 100000 --workers 2

Cuts the labelled dedup corpus of ``batches * batch-size`` documents into batches (copies
of a story fall in different batches, as republished stories arrive on different days),
runs ``neardup run BATCH -o OUT --index seen.ndx --update`` for each one after another,
then a plain ``neardup run`` of the last batch alone (no index) for comparison. Per batch:
wall time and peak RSS of the whole command, the index lookup and add stages (from
``OUT/stats.json``), the documents in the index and its size on disk. At the end the
quality of all batches together against the corpus labels (every removed document points
at a kept one, in its batch or an earlier one), the measure ``dedup_quality.py`` uses.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import dedup_corpus  # noqa: E402
from articles import BENCH_DATA  # noqa: E402
from dedup_quality import gold, predicted_clusters, score  # noqa: E402
from measure import run_neardup, write_results  # noqa: E402

DATA = BENCH_DATA


def _size(path: Path) -> int:
    return sum(os.path.getsize(p) for p in (path, Path(f"{path}-wal")) if os.path.exists(p))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batches", type=int, default=11)
    ap.add_argument("--batch-size", type=int, default=100_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--json", type=Path, default=HERE / "results" / "index.json")
    ap.add_argument("--keep", action="store_true", help="keep the batches, outputs and index")
    ap.add_argument("--corpus", type=Path, help="a larger labelled corpus to cut the batches from")
    ap.add_argument("--no-plain", action="store_true", help="skip the plain run of the last batch")
    args = ap.parse_args()
    total = args.batches * args.batch_size
    corpus = args.corpus or dedup_corpus.write(total, DATA / f"dedup-{total}-s0.jsonl")
    work = DATA / f"index-{total}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    files = []
    with corpus.open(encoding="utf-8") as f:
        for b in range(args.batches):
            path = work / f"batch{b + 1:02d}.jsonl"
            with path.open("w", encoding="utf-8") as out:
                out.writelines(itertools.islice(f, args.batch_size))
            files.append(path)
    index = work / "seen.ndx"
    run_neardup("index", "create", str(index))
    rows = []
    removed_files = []
    for b, path in enumerate(files, start=1):
        out = work / f"out{b:02d}"
        m = run_neardup("run", str(path), "-o", str(out), "-j", str(args.workers),
                        "--index", str(index), "--update", "--no-report")  # fmt: skip
        stats = json.loads((out / "stats.json").read_text())["stats"]
        info = json.loads(
            __import__("subprocess").run(
                [sys.executable, "-m", "neardup", "index", "info", str(index), "--json"],
                capture_output=True, text=True, check=True,
            ).stdout
        )  # fmt: skip
        row = {
            "batch": b,
            "docs_before": (b - 1) * args.batch_size,
            "seconds": round(m.seconds, 2),
            "peak_rss_mb": round(m.peak_rss_mb),
            "index_lookup_s": stats["seconds"].get("index_lookup"),
            "index_add_s": stats["seconds"].get("index_add"),
            "index_documents_compared": stats["index_documents"],
            "removed": stats["removed"],
            "removed_against_index": stats["index_removed"],
            "index_docs_after": info["documents"],
            "index_aliases_after": info["aliases"],
            "index_mb_after": round(_size(index) / 1e6, 1),
            "bytes_per_doc": round(_size(index) / max(info["documents"], 1)),
            "stages": stats["seconds"],
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
        removed_files.append(out / "removed.jsonl")
        for name in ("kept.jsonl", "pairs.npz", "repairs.jsonl"):
            (out / name).unlink(missing_ok=True)
    # the last batch alone, without the index
    plain: dict = {}
    if not args.no_plain:
        plain_out = work / "plain"
        m = run_neardup("run", str(files[-1]), "-o", str(plain_out), "-j", str(args.workers),
                        "--no-report")  # fmt: skip
        plain = {"batch": "last, no index", "seconds": round(m.seconds, 2),
                 "peak_rss_mb": round(m.peak_rss_mb)}  # fmt: skip
        print(json.dumps(plain), flush=True)
    # quality of all batches together
    docs = gold(corpus)[:total]
    root = {d["id"]: d["id"] for d in docs}
    for path in removed_files:
        root.update(predicted_clusters([], path))
    quality = score(docs, root)
    print(json.dumps(quality), flush=True)
    write_results(args.json, [*rows, plain, {"quality": quality}])
    if not args.keep:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
