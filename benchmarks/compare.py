"""neardup against the tools users would otherwise pick, on the labelled corpora of
dedup_corpus.py: quality against the gold stories, wall time and peak memory.

    python benchmarks/compare.py --quick                 # 10k documents, every tool
    python benchmarks/compare.py --sizes 10000 100000    # the tables in the README
    python benchmarks/compare.py --sizes 1000000 --timeout 1800

The peers run from their own virtual environment, benchmarks/.venvs/peers, created here
from benchmarks/peers/requirements.txt on first use (never dependencies of neardup).
Tools run one after another, never two timed runs at once; each is one whole process
(its workers included in the peak RSS) from reading the corpus to writing its result.
A tool that writes its result in its own shape is converted to ``removed.jsonl``
(``id``, ``duplicate_of``) afterwards, untimed, and every tool is scored by
dedup_quality.score. Then the within-document repair dev set (repair_devset.py) runs
neardup, exact paragraph dedup and datatrove's sentence dedup. Raw numbers go to benchmarks/results/compare.json (rows of earlier
runs at other sizes are kept), the table to benchmarks/results/compare.md and the plot to
benchmarks/results/compare.png.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import venv
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import dedup_corpus  # noqa: E402
from articles import BENCH_DATA  # noqa: E402
from dedup_quality import gold, predicted_clusters, score  # noqa: E402
from measure import run, write_results  # noqa: E402

DATA = BENCH_DATA
PEERS = HERE / "peers"
VENV = HERE / ".venvs" / "peers"
RESULTS = HERE / "results"
COMMON = {"shingles": "word 5-grams", "num_perm": 128, "threshold": 0.7}
HF_OFFLINE = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}


def peer_python() -> str:
    """The peers' interpreter; (re)creates the environment when the requirements file
    changed since it was made."""
    req = PEERS / "requirements.txt"
    stamp = VENV / "requirements.sha1"
    digest = hashlib.sha1(req.read_bytes()).hexdigest()
    python = VENV / "bin" / "python"
    if not (stamp.exists() and stamp.read_text() == digest and python.exists()):
        print(f"creating {VENV} from {req} ...", flush=True)
        shutil.rmtree(VENV, ignore_errors=True)
        venv.create(VENV, with_pip=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "-r", str(req)], check=True)
        stamp.write_text(digest)
    return str(python)


@dataclass
class Tool:
    name: str
    settings: dict
    command: Callable[[Path, Path], list[str]]  # (corpus, out) -> the timed command
    convert: Callable[[Path, Path], list[str]] | None = None  # untimed, writes removed.jsonl
    shards: bool = False  # reads a folder of 2 JSONL shards instead of one file
    peer: bool = True
    defaults: bool = False  # a peer at its own defaults (the other rows share one setting)
    env: dict = field(default_factory=dict)


def tools(py: str) -> list[Tool]:
    def script(name: str, *extra: str):
        return lambda corpus, out: [py, str(PEERS / name), str(corpus), str(out), *extra]

    def text_dedup(*extra: str):
        """text-dedup's MinHash CLI on the corpus; ``--debug`` saves its union-find."""
        return lambda corpus, out: [
            py, "-m", "text_dedup.minhash", "--path", "json", "--data_files", str(corpus),
            "--split", "train", "--cache_dir", str(out / "cache"), "--output", str(out / "kept"),
            "--column", "text", "--idx_column", "id", "--num_proc", "2", "--debug", *extra,
        ]  # fmt: skip

    return [
        Tool(
            "neardup",
            {"command": "neardup dedup -j 2", "defaults": "word 3-grams, 128 perms, 0.7"},
            lambda corpus, out: [
                sys.executable,
                "-m",
                "neardup",
                "dedup",
                str(corpus),
                "-o",
                str(out / "kept.jsonl"),
                "--removed",
                str(out / "removed.jsonl"),
                "-j",
                "2",
                "-q",
            ],
            peer=False,
        ),
        Tool(
            "exact hash",
            {"hash": "MD5 of lower-cased, whitespace-collapsed text"},
            script("exact_hash.py"),
        ),
        Tool(
            "datasketch script",
            COMMON | {"bands x rows": "MinHashLSH's choice (25 x 5)", "verification": "none"},
            script("datasketch_script.py"),
        ),
        Tool(
            "datasketch script (defaults)",
            {"shingles": "word 5-grams", "num_perm": 128, "threshold": "0.9 (MinHashLSH default)"},
            script("datasketch_script.py", "--threshold", "0.9"),
            defaults=True,
        ),
        Tool(
            "rensa LSH",
            COMMON | {"bands x rows": "16 x 8", "verification": "none"},
            script("rensa_script.py", "--mode", "lsh"),
        ),
        Tool(
            "rensa deduplicator",
            COMMON | {"bands x rows": "16 x 8", "verification": "estimated Jaccard"},
            script("rensa_script.py", "--mode", "dedup"),
        ),
        Tool(
            "text-dedup",
            COMMON | {"bands x rows": "its optimal_param (25 x 5)", "hash": "sha1", "num_proc": 2},
            text_dedup("--num_perm", "128", "--ngram", "5", "--threshold", "0.7"),
            convert=script("text_dedup_removed.py"),
            env=HF_OFFLINE,
        ),
        Tool(
            "text-dedup (defaults)",
            {"shingles": "word 5-grams", "num_perm": 250, "threshold": 0.7, "hash": "sha1"},
            text_dedup(),
            convert=script("text_dedup_removed.py"),
            env=HF_OFFLINE,
            defaults=True,
        ),
        Tool(
            "datatrove",
            COMMON | {"bands x rows": "25 x 5", "tasks": "2 shards", "workers": 2},
            script("datatrove_script.py"),
            convert=script("datatrove_script.py", "--convert"),
            shards=True,
        ),
        Tool(
            "datatrove (defaults)",
            {"shingles": "word 5-grams", "bands x rows": "14 x 8 (MinhashConfig default)"},
            script("datatrove_script.py", "--buckets", "14", "--rows", "8"),
            convert=script("datatrove_script.py", "--convert"),
            shards=True,
            defaults=True,
        ),
    ]


def shard(corpus: Path, parts: int = 2) -> Path:
    """The corpus cut into ``parts`` JSONL files in order (datatrove runs a task per file)."""
    folder = corpus.with_suffix(".shards")
    made = sorted(folder.glob("*.jsonl"))
    if len(made) == parts and all(m.stat().st_mtime >= corpus.stat().st_mtime for m in made):
        return folder
    folder.mkdir(exist_ok=True)
    with corpus.open("rb") as f:
        total = sum(1 for _ in f)
    with corpus.open("rb") as f:
        for p in range(parts):
            with (folder / f"{p:05d}.jsonl").open("wb") as w:
                for _ in range(total // parts + (p < total % parts)):
                    w.write(f.readline())
    return folder


def measure_tool(tool: Tool, size: int, corpus: Path, timeout: float) -> dict:
    out = DATA / f"compare-{size}" / tool.name.replace(" ", "-")
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    source = shard(corpus) if tool.shards else corpus
    env = os.environ | tool.env
    m = run(tool.command(source, out), env=env, cwd=str(out), timeout=timeout)
    row = {"tool": tool.name, "docs": size, "settings": tool.settings}
    if m.returncode != 0:
        finished = m.returncode == -9
        row |= {
            "finished": False,
            "why": f"killed after {timeout:.0f} s" if finished else m.stderr[-2000:],
            "seconds": round(m.seconds, 1),
            "peak_rss_mb": round(m.peak_rss_mb),
        }
        print(f"{tool.name}: did not finish ({row['why'][:200]})", flush=True)
        return row
    if tool.convert:
        subprocess.run(
            tool.convert(source, out),
            check=True,
            cwd=str(out),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    return row | {
        "finished": True,
        "seconds": round(m.seconds, 2),
        "docs_per_s": round(size / m.seconds),
        "peak_rss_mb": round(m.peak_rss_mb),
        "peak_pss_mb": round(m.peak_pss_mb),
    }


def table(rows: list[dict], names: list[str]) -> str:
    lines = [
        "| tool | docs | seconds | docs/s | peak RSS MB | peak PSS MB | precision | recall | F1 "
        "| ARI | trimmed-ending recall | typos recall | hard negatives merged | stories lost |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    rank = {name: i for i, name in enumerate(names)}
    for r in sorted(rows, key=lambda r: (r["docs"], rank.get(r["tool"], len(rank)))):
        if not r["finished"]:
            lines.append(
                f"| {r['tool']} | {r['docs']:,} | did not finish: "
                f"{r['why'].strip().splitlines()[-1][:80]} |" + " |" * 11
            )
            continue
        q = r["quality"]
        per = q["recall_per_edit"]
        pss = f"{r['peak_pss_mb']:,}" if "peak_pss_mb" in r else "-"  # older rows: RSS only
        lines.append(
            f"| {r['tool']} | {r['docs']:,} | {r['seconds']:.1f} | {r['docs_per_s']:,} "
            f"| {r['peak_rss_mb']:,} | {pss} | {q['precision']:.4f} | {q['recall']:.4f} "
            f"| {q['f1']:.4f} | {q['ari']:.4f} | {per.get('trimmed-ending', 0):.4f} "
            f"| {per.get('typos', 0):.4f} | {q['hard_negatives_merged']:,} "
            f"| {q['stories_lost']:,} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10k documents only")
    ap.add_argument("--sizes", nargs="+", type=int, default=[10000, 100000])
    ap.add_argument("--tools", nargs="+", help="names of the tools to run (default: all)")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per tool and size")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--no-repair", action="store_true", help="skip the within-document repair dev set"
    )
    args = ap.parse_args()
    sizes = [10000] if args.quick else args.sizes
    py = peer_python()
    chosen = [t for t in tools(py) if not args.tools or t.name in args.tools]
    path = RESULTS / "compare.json"
    rows = json.loads(path.read_text())["rows"] if path.exists() else []
    # numba compiles neardup's loops once per installation (cached): not in the timings
    subprocess.run([sys.executable, "-c", "from neardup import kernels; kernels.warm()"],
                   check=True)  # fmt: skip
    for size in sizes:
        corpus = dedup_corpus.write(size, DATA / f"dedup-{size}-s{args.seed}.jsonl", args.seed)
        labels = gold(corpus)
        ids = [d["id"] for d in labels]
        for tool in chosen:
            print(f"{size:,} docs: {tool.name} ...", flush=True)
            row = measure_tool(tool, size, corpus, args.timeout)
            if row["finished"]:
                removed = DATA / f"compare-{size}" / tool.name.replace(" ", "-") / "removed.jsonl"
                row["quality"] = score(labels, predicted_clusters(ids, removed))
                q = row["quality"]
                print(
                    f"  {row['seconds']} s, {row['peak_rss_mb']} MB, F1 {q['f1']}, "
                    f"negatives merged {q['hard_negatives_merged']}, "
                    f"stories lost {q['stories_lost']}",
                    flush=True,
                )
            rows = [r for r in rows if (r["tool"], r["docs"]) != (tool.name, size)] + [row]
            write_results(path, rows)
            shutil.rmtree(DATA / f"compare-{size}" / tool.name.replace(" ", "-"))
    if not args.no_repair:
        print("repair dev set: neardup, exact paragraph dedup, datatrove sentence dedup ...")
        subprocess.run(
            [
                sys.executable,
                str(HERE / "repair_devset.py"),
                "--peers-python",
                py,
                "--json",
                str(RESULTS / "repair-devset.json"),
            ],
            check=True,
        )
    md = table(rows, [t.name for t in tools(py)])
    (RESULTS / "compare.md").write_text(md)
    print(md)
    subprocess.run(
        [py, str(HERE / "plot_compare.py"), str(path), str(RESULTS / "compare.png")], check=True
    )


if __name__ == "__main__":
    main()
