"""Dedup quality on the held-out corpus of heldout_corpus.py, neardup and the peers in
the same run.

    python benchmarks/heldout_quality.py --seed 9001 --sizes 10000 100000
    python benchmarks/heldout_quality.py --seed 9001 --sizes 1000000 \\
        --tools neardup "rensa deduplicator"

heldout_corpus.py was written apart from the algorithm (from a description of real
crawls, by someone who did not read neardup's code). Seeds 1 and 2 are for development;
seed 9001 is held out: it was never looked at while tuning, and is what the README and
benchmarks/README.md report. Each tool runs as compare.py runs it (one at a time, the
whole process timed, peak memory of its tree); every tool is scored by
dedup_quality.score against the gold stories, ``hard`` documents (built to share text
with another story) counting as hard negatives. Rows go to
benchmarks/results/heldout.json (rows of other sizes, seeds and tools are kept) and the
table to benchmarks/results/heldout.md.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import heldout_corpus  # noqa: E402
from bench_shapes import stage_seconds, with_stats  # noqa: E402
from compare import DATA, RESULTS, measure_tool, peer_python, tools  # noqa: E402
from dedup_quality import gold, predicted_clusters, score  # noqa: E402
from measure import write_results  # noqa: E402

DEFAULT_TOOLS = ("neardup", "rensa deduplicator", "datasketch script")


def table(rows: list[dict]) -> str:
    lines = [
        "| seed | docs | tool | seconds | peak PSS MB | precision | recall | F1 | stories lost "
        "| hard negatives merged | typos recall | char-noise recall | trimmed recall |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in sorted(rows, key=lambda r: (r["seed"], r["docs"], r["tool"])):
        if not r["finished"]:
            lines.append(
                f"| {r['seed']} | {r['docs']:,} | {r['tool']} | did not finish |" + " |" * 9
            )
            continue
        q = r["quality"]
        per = q["recall_per_edit"]

        def recall(prefix: str, per=per) -> str:
            found = [v for k, v in per.items() if k.startswith(prefix)]
            return f"{min(found):.3f}" if found else "-"

        lines.append(
            f"| {r['seed']} | {r['docs']:,} | {r['tool']} | {r['seconds']:.1f} "
            f"| {r.get('peak_pss_mb', '-')} | {q['precision']:.4f} | {q['recall']:.4f} "
            f"| {q['f1']:.4f} | {q['stories_lost']:,} | {q['hard_negatives_merged']:,} "
            f"| {recall('typo')} | {recall('char-noise')} | {recall('trim')} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", type=int, default=[10000])
    ap.add_argument("--seed", type=int, default=1, help="9001 is the held-out seed")
    ap.add_argument("--tools", nargs="+", default=list(DEFAULT_TOOLS))
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per tool and size")
    args = ap.parse_args()
    py = peer_python()
    chosen = [with_stats(t) if t.name == "neardup" else t for t in tools(py)
              if t.name in args.tools]  # fmt: skip
    path = RESULTS / "heldout.json"
    rows = json.loads(path.read_text())["rows"] if path.exists() else []
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, cwd=HERE).stdout.strip()  # fmt: skip
    subprocess.run([sys.executable, "-c", "from neardup import kernels; kernels.warm()"],
                   check=True)  # fmt: skip
    for size in args.sizes:
        corpus = heldout_corpus.write(size, DATA / f"heldout-{size}-s{args.seed}.jsonl", args.seed)
        labels = gold(corpus)
        ids = [d["id"] for d in labels]
        for tool in chosen:
            print(f"seed {args.seed}, {size:,} docs: {tool.name} ...", flush=True)
            row = measure_tool(tool, size, corpus, args.timeout)
            row |= {"seed": args.seed, "commit": commit,
                    "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}  # fmt: skip
            out = DATA / f"compare-{size}" / tool.name.replace(" ", "-")
            if row["finished"] and (out / "stats.json").exists():
                row["stage_seconds"] = stage_seconds(json.loads((out / "stats.json").read_text()))
            if row["finished"]:
                row["quality"] = q = score(labels, predicted_clusters(ids, out / "removed.jsonl"))
                print(f"  {row['seconds']} s, F1 {q['f1']}, lost {q['stories_lost']}, "
                      f"hard merged {q['hard_negatives_merged']}", flush=True)  # fmt: skip
            key = (tool.name, size, args.seed)
            rows = [r for r in rows if (r["tool"], r["docs"], r["seed"]) != key] + [row]
            write_results(path, rows)
            shutil.rmtree(out, ignore_errors=True)
    (RESULTS / "heldout.md").write_text(table(rows))
    print(table(rows))


if __name__ == "__main__":
    main()
