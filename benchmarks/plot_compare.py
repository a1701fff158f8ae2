"""Plot docs/s and peak RSS against corpus size for each tool in compare.json (runs in
the peers' environment, which has matplotlib).

    python benchmarks/plot_compare.py benchmarks/results/compare.json OUT.png
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as f:
        data = json.load(f)
    series: dict[str, list[tuple[int, float, float]]] = defaultdict(list)
    for r in data["rows"]:
        if r["finished"]:
            series[r["tool"]].append((r["docs"], r["docs_per_s"], r["peak_rss_mb"]))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    for tool, points in sorted(series.items()):
        points.sort()
        xs = [p[0] for p in points]
        style = {"linewidth": 2.5, "color": "black"} if tool == "neardup" else {}
        ax1.plot(xs, [p[1] for p in points], marker="o", label=tool, **style)
        ax2.plot(xs, [p[2] for p in points], marker="o", label=tool, **style)
    for ax, title in ((ax1, "throughput (docs/s)"), (ax2, "peak RSS (MB)")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("documents in the corpus")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
    ax2.legend(fontsize=8, loc="upper left")
    meta = data["meta"]
    fig.suptitle(f"Dedup on the labelled news corpus ({meta['date']}, {meta['machine']})")
    fig.tight_layout()
    fig.savefig(sys.argv[2], dpi=110)


if __name__ == "__main__":
    main()
