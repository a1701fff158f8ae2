"""How the cost of ``neardup dedup`` grows with corpus size on corpora shaped like real
crawls (shape_corpus.py: live blogs, soft-404 pages, paragraphs shared across stories,
and the project's labelled corpus), against rensa and datasketch in the same run.

    python benchmarks/bench_shapes.py --shapes liveblog soft404 shared project \\
        --sizes 10000 100000 1000000 \\
        --tools neardup "rensa deduplicator" "datasketch script" [--timeout 1800]

For each shape and size the corpus is written once (cached under ../neardup-bench-data/), then
each tool runs as compare.py runs it (compare.tools and compare.measure_tool: one tool at
a time, one whole process from reading the corpus to writing its result, wall time and
the peak RSS/PSS of its process tree; the peers in benchmarks/.venvs/peers). neardup also
gets ``--stats STATS.json``, whose ``seconds`` give its time per stage. Cost is
microseconds per document: the whole process (``us_per_doc``: start-up, imports and
output included) and, for neardup, each stage. A tool past ``--timeout`` is killed and
recorded as did not finish, with the seconds it ran.

Rows go to benchmarks/results/shapes.json (earlier rows of other shape/size/tool
combinations are kept; each row has its date, ``nproc``, the git commit and whether
src/ had uncommitted changes), the table to benchmarks/results/shapes.md and the plot
(microseconds per document against size, a panel per shape) to
benchmarks/results/shapes.png, drawn by plot_shapes.py in the peers' environment.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import shape_corpus  # noqa: E402
from compare import DATA, RESULTS, Tool, measure_tool, peer_python, tools  # noqa: E402
from measure import write_results  # noqa: E402

DEFAULT_TOOLS = ("neardup", "rensa deduplicator", "datasketch script")
COUNTERS = (
    "removed",
    "exact_removed",
    "near_removed",
    "contained_removed",
    "clusters",
    "candidate_pairs",
    "verified_pairs",
    "rejected_pairs",
    "boilerplate_paragraphs",
)


def with_stats(tool: Tool) -> Tool:
    """``tool`` (neardup) with ``--stats OUT/stats.json`` added to its command."""
    base = tool.command
    return dataclasses.replace(
        tool, command=lambda corpus, out: [*base(corpus, out), "--stats", str(out / "stats.json")]
    )


def stage_seconds(stats: dict) -> dict[str, float]:
    """The ``seconds`` dict of neardup's stats file, wherever it is nested."""
    if isinstance(stats.get("seconds"), dict):
        return stats["seconds"]
    for value in stats.values():
        if isinstance(value, dict) and (found := stage_seconds(value)):
            return found
    return {}


def provenance() -> dict:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=HERE, capture_output=True, text=True)
        return done.stdout.strip()

    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": len(os.sched_getaffinity(0)),
        "commit": git("rev-parse", "--short", "HEAD"),
        "src_dirty": bool(git("status", "--porcelain", "--", "../src")),
    }


def measure(tool: Tool, shape: str, size: int, corpus: Path, timeout: float) -> dict:
    """compare.measure_tool on ``corpus`` plus costs per document; for neardup its stages
    and counters from ``--stats``."""
    row = measure_tool(tool, size, corpus, timeout)
    out = DATA / f"compare-{size}" / tool.name.replace(" ", "-")
    row = {"shape": shape, **row, "us_per_doc": round(row["seconds"] * 1e6 / size, 1)}
    if row["finished"]:
        removed = out / "removed.jsonl"
        if removed.exists():
            with removed.open("rb") as f:
                row["removed"] = sum(1 for _ in f)
    stats_path = out / "stats.json"
    if row["finished"] and stats_path.exists():
        stats = json.loads(stats_path.read_text())
        seconds = stage_seconds(stats)
        row["stages_s"] = seconds
        row["stages_us_per_doc"] = {k: round(v * 1e6 / size, 2) for k, v in seconds.items()}
        if "total" in seconds:  # start-up, imports, reading the options: outside the stages
            row["outside_stages_us_per_doc"] = round(
                (row["seconds"] - seconds["total"]) * 1e6 / size, 1
            )
        inner = stats.get("stats", stats)
        row["counters"] = {k: inner[k] for k in COUNTERS if k in inner}
    shutil.rmtree(out, ignore_errors=True)
    return row


def stage_names(rows: list[dict]) -> list[str]:
    names: list[str] = []
    for r in rows:
        for k in r.get("stages_us_per_doc", {}):
            if k != "total" and k not in names:
                names.append(k)
    return names


def table(rows: list[dict], tool_order: list[str]) -> str:
    stages = stage_names(rows)
    head = ["shape", "docs", "corpus MB", "tool", "seconds", "µs/doc", "peak RSS MB"]
    head += ["peak PSS MB", "removed", *[f"{s} µs/doc" for s in stages], "outside stages µs/doc"]
    head += ["load before", "date", "commit"]
    intro = (
        "Cost of dedup per document (bench_shapes.py). µs/doc: the wall time of the whole "
        "process over the documents; stage columns: neardup's `--stats` seconds per stage "
        "over the documents; outside stages: the rest of its process (start-up, imports); "
        "load before: the machine's 1-minute load average when the tool started (the tool "
        "before it counts too: ~1-2 is this benchmark alone on 2 cores).\n\n"
    )
    align = ["---", "---:", "---:", "---"] + ["---:"] * (len(head) - 6) + ["---", "---"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(align) + "|"]
    shape_rank = {s: i for i, s in enumerate(shape_corpus.SHAPES)}
    rank = {t: i for i, t in enumerate(tool_order)}

    def order(r: dict) -> tuple:
        return shape_rank.get(r["shape"], 9), r["docs"], rank.get(r["tool"], 99)

    for r in sorted(rows, key=order):
        commit = r["commit"] + ("+src changes" if r.get("src_dirty") else "")
        load = f"{r['load_before']:.1f}" if "load_before" in r else "-"
        cells = [r["shape"], f"{r['docs']:,}", f"{r.get('corpus_mb', 0):,.0f}", r["tool"]]
        if not r["finished"]:
            why = r["why"].strip().splitlines()[-1][:60] if r["why"].strip() else "failed"
            cells += [
                f"did not finish ({why})",
                f"> {r['us_per_doc']:,.0f}",
                f"{r['peak_rss_mb']:,}",
            ]
            cells += ["-"] * (len(head) - 10) + [load, r["date"], commit]
        else:
            per = r.get("stages_us_per_doc", {})
            cells += [f"{r['seconds']:,.1f}", f"{r['us_per_doc']:,.0f}", f"{r['peak_rss_mb']:,}"]
            cells += [f"{r.get('peak_pss_mb', 0):,}", f"{r.get('removed', 0):,}"]
            cells += [f"{per[s]:,.1f}" if s in per else "-" for s in stages]
            outside = r.get("outside_stages_us_per_doc")
            cells += ["-" if outside is None else f"{outside:,.0f}", load, r["date"], commit]
        lines.append("| " + " | ".join(cells) + " |")
    return intro + "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--shapes", nargs="+", choices=shape_corpus.SHAPES, default=list(shape_corpus.SHAPES)
    )
    ap.add_argument("--sizes", nargs="+", type=int, default=[10000])
    ap.add_argument("--tools", nargs="+", default=list(DEFAULT_TOOLS))
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per tool and size")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    py = peer_python()
    every = tools(py)
    unknown = set(args.tools) - {t.name for t in every}
    if unknown:
        raise SystemExit(f"unknown tools: {sorted(unknown)}; known: {[t.name for t in every]}")
    chosen = [with_stats(t) if t.name == "neardup" else t for t in every if t.name in args.tools]
    path = RESULTS / "shapes.json"
    rows = json.loads(path.read_text())["rows"] if path.exists() else []
    # numba compiles neardup's loops once per installation (cached): not in the timings
    subprocess.run([sys.executable, "-c", "from neardup import kernels; kernels.warm()"],
                   check=True)  # fmt: skip
    for shape in args.shapes:
        for size in args.sizes:
            print(f"{shape} {size:,}: writing the corpus (cached) ...", flush=True)
            corpus, facts = shape_corpus.make(shape, size, args.seed)
            print(f"  {corpus.name}: {facts}", flush=True)
            for tool in chosen:
                print(f"{shape} {size:,}: {tool.name} ...", flush=True)
                load = round(os.getloadavg()[0], 2)  # other work on the machine, if any
                row = measure(tool, shape, size, corpus, args.timeout)
                row |= {"corpus": corpus.name, "seed": args.seed, **facts, **provenance()}
                row["load_before"] = load
                stages = row.get("stages_s", {})
                print(
                    f"  {row['seconds']} s, {row['us_per_doc']} µs/doc, {row['peak_rss_mb']} MB"
                    + (f", removed {row['removed']:,}" if "removed" in row else "")
                    + (f", stages {stages}" if stages else ""),
                    flush=True,
                )
                same = (shape, size, tool.name)
                rows = [r for r in rows if (r["shape"], r["docs"], r["tool"]) != same] + [row]
                write_results(path, rows)
    md = table(rows, [t.name for t in every])
    (RESULTS / "shapes.md").write_text(md)
    print(md)
    subprocess.run(
        [py, str(HERE / "plot_shapes.py"), str(path), str(RESULTS / "shapes.png")], check=True
    )


if __name__ == "__main__":
    main()
