"""Dedup quality on the labelled corpus of dedup_corpus.py.

    python benchmarks/dedup_quality.py --size 10000 [--json results/dedup-quality-10k.json]

Runs ``neardup dedup`` (the Python API, settings from the command line) and scores the
clusters against the gold stories: pairwise precision / recall / F1, adjusted Rand
index, recall per edit kind, hard negatives merged, stories lost, duplicates left.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter, defaultdict
from math import comb
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import dedup_corpus  # noqa: E402
from articles import BENCH_DATA  # noqa: E402


def gold(corpus: Path) -> list[dict]:
    """The labels of a corpus: ``id``, ``story`` and ``kind`` of every document, and
    ``hard`` (built to share text with another story) where the corpus says so (the
    texts are not kept, so a 1M-document corpus fits in memory)."""
    keep = ("id", "story", "kind")
    with corpus.open(encoding="utf-8") as f:
        return [{k: d[k] for k in keep} | {"hard": bool(d.get("hard"))} for d in map(json.loads, f)]


def predicted_clusters(ids: list[str], removed_path: Path) -> dict[str, str]:
    """doc id -> id of the kept document of its cluster (itself when kept). A removed
    document without ``duplicate_of`` (a tool that dropped it without naming a cluster,
    e.g. as too short) is a cluster of its own that keeps nothing."""
    root = {i: i for i in ids}
    with removed_path.open(encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            root[r["id"]] = r["duplicate_of"] or f"dropped:{r['id']}"
    return root


def score(docs: list[dict], root: dict[str, str]) -> dict:
    story = {d["id"]: d["story"] for d in docs}
    kind = {d["id"]: d["kind"] for d in docs}
    hard = {d["id"] for d in docs if d.get("hard") or d["kind"] == "footer-site"}
    cont: Counter = Counter((root[i], story[i]) for i in story)
    pred_sizes = Counter(root[i] for i in story)
    gold_sizes = Counter(story.values())
    tp = sum(comb(n, 2) for n in cont.values())
    pred_pairs = sum(comb(n, 2) for n in pred_sizes.values())
    gold_pairs = sum(comb(n, 2) for n in gold_sizes.values())
    precision = tp / pred_pairs if pred_pairs else 1.0
    recall = tp / gold_pairs if gold_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    total = comb(len(story), 2)
    expected = pred_pairs * gold_pairs / total if total else 0.0
    max_index = (pred_pairs + gold_pairs) / 2
    ari = (tp - expected) / (max_index - expected) if max_index != expected else 1.0
    # recall per edit kind: a copy found when it shares a predicted cluster with another
    # document of its story
    members = defaultdict(list)
    for i in story:
        members[root[i]].append(i)
    per_kind = defaultdict(lambda: [0, 0])
    for i in story:
        if kind[i] in ("original", "footer-site") or gold_sizes[story[i]] < 2:
            continue
        found = any(story[j] == story[i] for j in members[root[i]] if j != i)
        per_kind[kind[i]][0] += found
        per_kind[kind[i]][1] += 1
    # hard negatives merged: documents built to share text with another story (the
    # footer-site ones, or marked ``hard``) in a cluster with another story
    merged = sum(1 for i in hard if any(story[j] != story[i] for j in members[root[i]]))
    kept_stories = {story[i] for i in story if root[i] == i}
    lost = len(set(story.values()) - kept_stories)
    kept_per_story = Counter(story[i] for i in story if root[i] == i)
    left = sum(n - 1 for n in kept_per_story.values())
    return {
        "docs": len(story),
        "stories": len(gold_sizes),
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "ari": round(ari, 4),
        "recall_per_edit": {k: round(v[0] / v[1], 4) for k, v in sorted(per_kind.items())},
        "hard_negatives_merged": merged,
        "stories_lost": lost,
        "duplicates_left": left,
        "removed": sum(1 for i in story if root[i] != i),
    }


def main() -> None:
    from neardup import DedupConfig
    from neardup.dedup import run_dedup

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threshold", type=float, default=DedupConfig.threshold)
    ap.add_argument("--containment", type=float, default=DedupConfig.containment)
    ap.add_argument("--verify", default=DedupConfig.verify)
    ap.add_argument("--ngram", type=int, default=DedupConfig.ngram)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--json", type=Path)
    ap.add_argument(
        "--score-only",
        type=Path,
        metavar="REMOVED_JSONL",
        help="score another tool's removed.jsonl (id, duplicate_of) instead of running neardup",
    )
    args = ap.parse_args()
    data = BENCH_DATA
    corpus = dedup_corpus.write(
        args.size, data / f"dedup-{args.size}-s{args.seed}.jsonl", args.seed
    )
    docs = gold(corpus)
    if args.score_only:
        root = predicted_clusters([d["id"] for d in docs], args.score_only)
        print(json.dumps(score(docs, root), indent=1))
        return
    config = DedupConfig(
        threshold=args.threshold, containment=args.containment, verify=args.verify, ngram=args.ngram
    )
    out = data / f"dedup-out-{args.size}"
    out.mkdir(exist_ok=True)
    t = time.perf_counter()
    stats = run_dedup(
        [str(corpus)],
        kept=str(out / "kept.jsonl"),
        removed=str(out / "removed.jsonl"),
        clusters_out=str(out / "clusters.jsonl"),
        config=config,
        workers=args.workers,
    )
    seconds = time.perf_counter() - t
    root = predicted_clusters([d["id"] for d in docs], out / "removed.jsonl")
    result = {
        "settings": vars(args) | {"json": None},
        "seconds": round(seconds, 2),
        "stats": stats.to_dict(),
        "quality": score(docs, root),
    }
    print(json.dumps(result["quality"], indent=1))
    print(f"seconds: {seconds:.2f}  stages: {stats.seconds}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
