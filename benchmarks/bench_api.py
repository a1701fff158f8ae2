"""The in-memory API against the CLI on the same rows: ``neardup.dedup(df)`` on a pandas
DataFrame (also polars, Arrow, a datasets.Dataset) and ``neardup dedup rows.jsonl`` on
those rows written as JSONL, one timed run at a time, with peak memory.

    python benchmarks/bench_api.py --size 100000

Memory: the CLI's peak resident size; for the API, the process's resident size before
the call (the table in memory) and its peak during the call (sampled every 50 ms), whose
difference is what the call adds. The corpus is the project's labelled one (``dedup_corpus.py``, built from
``../shared/data``). The CLI is timed as a process, start-up included, as a user runs
it; the API as the call, the DataFrame already in memory (building it is not timed).
Results: ``benchmarks/results/api.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from articles import BENCH_DATA  # noqa: E402

HERE = Path(__file__).parent


def corpus(size: int) -> Path:
    path = BENCH_DATA / f"dedup-{size}-s0.jsonl"
    if not path.exists():
        subprocess.run(
            [sys.executable, str(HERE / "dedup_corpus.py"), "--size", str(size), "--seed", "0",
             "-o", str(path)],
            check=True,
        )  # fmt: skip
    return path


def time_cli(path: Path, workers: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        cmd = ["/usr/bin/time", "-f", "%M", sys.executable, "-m", "neardup", "dedup", str(path),
               "-o", f"{tmp}/kept.jsonl", "-q", "-j", str(workers)]  # fmt: skip
        t0 = time.perf_counter()
        done = subprocess.run(cmd, check=True, capture_output=True, text=True)
        seconds = time.perf_counter() - t0
        kept = Path(f"{tmp}/kept.jsonl").read_bytes().count(b"\n")
    return {"seconds": seconds, "peak_rss_mb": int(done.stderr.strip().splitlines()[-1]) / 1024,
            "kept": kept}  # fmt: skip


def time_api(path: Path, kind: str, workers: int) -> dict:
    """In a fresh process, so that peak memory is this call's."""
    code = f"""
import json, sys, time
import pandas as pd
import neardup
df = pd.read_json({str(path)!r}, lines=True, dtype=False)
kind = {kind!r}
if kind == "polars":
    import polars as pl
    data = pl.from_pandas(df)
elif kind == "arrow":
    import pyarrow as pa
    data = pa.Table.from_pandas(df, preserve_index=False)
elif kind == "dataset":
    import datasets
    data = datasets.Dataset.from_pandas(df, preserve_index=False)
else:
    data = df
import gc, threading
del df
gc.collect()
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20
peak, done = [rss()], []
def sample():
    while not done:
        peak.append(rss())
        time.sleep(0.05)
before = peak[0]
threading.Thread(target=sample, daemon=True).start()
t0 = time.perf_counter()
result = neardup.dedup(data, id_field="id", workers={workers})
seconds = time.perf_counter() - t0
done.append(1)
print(json.dumps({{"seconds": seconds, "kept": len(result.kept), "rss_before_mb": before,
                  "peak_rss_mb": max(peak), "added_mb": max(peak) - before}}))
"""
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--kinds", nargs="+", default=["pandas", "polars", "arrow", "dataset"])
    args = parser.parse_args()
    path = corpus(args.size)
    rows = {"cli": time_cli(path, args.workers)}
    for kind in args.kinds:
        rows[kind] = time_api(path, kind, args.workers)
    base = rows["cli"]["seconds"]
    for name, r in rows.items():
        r["vs_cli"] = round(r["seconds"] / base, 3)
        print(
            f"{name:8s} {r['seconds']:7.2f} s  {r['vs_cli']:5.2f}x  peak {r['peak_rss_mb']:7.0f} MB  kept {r['kept']:,}"
        )
    out = HERE / "results" / "api.json"
    out.write_text(json.dumps({"size": args.size, "workers": args.workers, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                               "rows": rows}, indent=1) + "\n")  # fmt: skip


if __name__ == "__main__":
    main()
