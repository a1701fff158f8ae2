"""``neardup dedup`` with ``--engine local`` and ``--engine ray`` on one corpus, one run
at a time: wall seconds, peak memory of the whole process tree (Ray's own processes
included: they are children of the command), seconds per stage (``--stats``), the
work directory's files (bytes per document, for docs/scale-plan.md), and whether the
two engines wrote the same bytes.

    python benchmarks/bench_engines.py ../neardup-bench-data/dedup-100000-s0.jsonl -j 2 \\
        --json benchmarks/results/engines-100k.json
"""

from __future__ import annotations

import argparse
import filecmp
import json
import shutil
import sys
import tempfile
from pathlib import Path

from articles import BENCH_DATA  # noqa: E402
from measure import run, write_results

# neardup's own process (the driver, which holds what stays on one machine): its peak
# RSS, written on the way out; the tree's sum includes workers and Ray's daemons
DRIVER = (
    "import atexit, resource, runpy, sys; path = sys.argv.pop(1); "
    "atexit.register(lambda: open(path, 'w').write("
    "str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))); "
    "sys.argv[0] = 'neardup'; runpy.run_module('neardup', run_name='__main__')"
)

OUTPUTS = ("kept.jsonl", "removed.jsonl", "clusters.jsonl")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus")
    ap.add_argument("-j", "--workers", default="2")
    ap.add_argument("--engines", nargs="+", default=["local", "ray"])
    ap.add_argument("--json", help="write the rows here")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="engines-", dir=BENCH_DATA) as tmp:
        for engine in args.engines:
            out, work = Path(tmp) / engine, Path(tmp) / f"{engine}-work"
            out.mkdir()
            driver_kb = Path(tmp) / f"{engine}-driver-kb"
            m = run([
                sys.executable, "-c", DRIVER, str(driver_kb), "dedup", args.corpus, "-o",
                str(out / OUTPUTS[0]), "--removed", str(out / OUTPUTS[1]), "--clusters", str(out / OUTPUTS[2]), "--stats",
                str(out / "stats.json"), "--workdir", str(work), "-q", "-j", args.workers,
                "--engine", engine,
            ])  # fmt: skip
            if m.returncode != 0:
                raise SystemExit(f"{engine} failed:\n{m.stderr}")
            stats = json.loads((out / "stats.json").read_text())["stats"]
            files = {p.name: p.stat().st_size for p in sorted(work.iterdir()) if p.is_file()}
            row = {
                "engine": engine, "workers": int(args.workers), "docs": stats["read"],
                "seconds": round(m.seconds, 2), "peak_rss_mb": round(m.peak_rss_mb),
                "peak_pss_mb": round(m.peak_pss_mb),
                "driver_peak_rss_mb": round(int(driver_kb.read_text()) / 1024),
                "stages": stats["seconds"],
                "candidate_pairs": stats["candidate_pairs"], "workdir_bytes": files,
                "outputs_bytes": {n: (out / n).stat().st_size for n in OUTPUTS},
            }  # fmt: skip
            rows.append(row)
            print(json.dumps({k: v for k, v in row.items() if k != "workdir_bytes"}), flush=True)
            shutil.rmtree(work)
        first = Path(tmp) / args.engines[0]
        for engine in args.engines[1:]:
            same = all(filecmp.cmp(first / n, Path(tmp) / engine / n, shallow=False)
                       for n in OUTPUTS)  # fmt: skip
            print(f"{engine} outputs byte-identical to {args.engines[0]}: {same}")
            for row in rows:
                if row["engine"] == engine:
                    row["identical_to_" + args.engines[0]] = same
    if args.json:
        write_results(args.json, rows)


if __name__ == "__main__":
    main()
