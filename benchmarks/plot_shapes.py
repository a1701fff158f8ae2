"""Plot the cost per document against corpus size from shapes.json (bench_shapes.py):
a panel per shape, a line per tool (its whole process), neardup's stages as thin
dashed lines; a tool that did not finish is an open marker at the time it ran (a lower
bound). Runs in the peers' environment, which has matplotlib.

    python benchmarks/plot_shapes.py benchmarks/results/shapes.json OUT.png
"""

from __future__ import annotations

import json
import math
import sys
from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from shape_corpus import SHAPES  # noqa: E402

COLORS = {"neardup": "black", "rensa deduplicator": "tab:blue", "datasketch script": "tab:red"}


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as f:
        data = json.load(f)
    rows = data["rows"]
    shapes = [s for s in SHAPES if any(r["shape"] == s for r in rows)]
    shapes += sorted({r["shape"] for r in rows} - set(shapes))
    cols = min(2, len(shapes))
    nrows = math.ceil(len(shapes) / cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(6.2 * cols, 4.4 * nrows), squeeze=False)
    others = iter(["tab:green", "tab:purple", "tab:brown", "tab:olive", "tab:cyan"])
    colors = dict(COLORS)
    stage_colors = plt.get_cmap("Dark2")  # not the tools' colours
    for ax, shape in zip(axes.flat, shapes, strict=False):
        done: dict[str, list[tuple[int, float]]] = defaultdict(list)
        dnf: dict[str, list[tuple[int, float]]] = defaultdict(list)
        stages: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for r in rows:
            if r["shape"] != shape:
                continue
            (done if r["finished"] else dnf)[r["tool"]].append((r["docs"], r["us_per_doc"]))
            if r["tool"] == "neardup" and r["finished"]:
                for stage, us in r.get("stages_us_per_doc", {}).items():
                    if stage != "total" and us > 0:
                        stages[stage].append((r["docs"], us))
        for tool in sorted(set(done) | set(dnf)):
            color = colors.setdefault(tool, next(others, "gray"))
            points = sorted(done[tool])
            wide = 2.5 if tool == "neardup" else 1.6
            if points:
                xs, ys = zip(*points, strict=True)
                ax.plot(xs, ys, marker="o", color=color, linewidth=wide, label=tool)
            if dnf[tool]:
                xs, ys = zip(*sorted(dnf[tool]), strict=True)
                ax.plot(
                    xs,
                    ys,
                    "o",
                    mfc="none",
                    color=color,
                    markersize=9,
                    label=f"{tool}: did not finish (≥)",
                )
        for i, (stage, points) in enumerate(sorted(stages.items())):
            xs, ys = zip(*sorted(points), strict=True)
            ax.plot(
                xs,
                ys,
                "--",
                marker=".",
                linewidth=0.9,
                color=stage_colors(i % 8),
                label=f"neardup: {stage}",
            )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("documents in the corpus")
        ax.set_ylabel("µs per document")
        ax.set_title(shape)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=6.5, loc="best")
    for ax in list(axes.flat)[len(shapes) :]:
        ax.set_visible(False)
    meta = data["meta"]
    fig.suptitle(f"Dedup cost per document by corpus shape ({meta['date']}, {meta['machine']})")
    fig.tight_layout()
    fig.savefig(sys.argv[2], dpi=110)


if __name__ == "__main__":
    main()
