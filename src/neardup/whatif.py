"""What-if: the removals of a finished run at another threshold, replayed from the
scores it already computed (``pairs.npz`` in a ``neardup run`` folder), without reading
the corpus again."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .candidates import lsh_params
from .clusters import DocInfo
from .config import DedupConfig
from .dedup import PAIR_DTYPE, EdgeTable, cluster
from .errors import InputError
from .verify import PairScore, decide


@dataclass(frozen=True)
class WhatIf:
    threshold: float
    containment: float
    removed: int  # documents removed at these settings
    clusters: int
    exact: bool  # False when the answer is a lower bound (see ``note``)
    note: str = ""


def load_pairs(out_dir: str | Path) -> dict:
    path = Path(out_dir) / "pairs.npz"
    if not path.exists():
        raise InputError(f"{path}: not found (written by `neardup run`; rerun to get it)")
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


def run_settings(out_dir: str | Path) -> DedupConfig:
    """The settings a run used (its ``stats.json``)."""
    path = Path(out_dir) / "stats.json"
    try:
        settings = json.loads(path.read_text(encoding="utf-8"))["settings"]
    except (OSError, ValueError, KeyError) as exc:
        raise InputError(f"{path}: cannot read the run's settings ({exc})") from None
    fields = DedupConfig.__dataclass_fields__
    return DedupConfig(**{k: v for k, v in settings.items() if k in fields})


def what_if(out_dir: str | Path, threshold: float, containment: float | None = None) -> WhatIf:
    """How many documents the run in ``out_dir`` would remove at ``threshold`` (and
    ``containment``), deciding every pair it scored again and clustering again with the
    same guard against chaining.

    Exact when the run's candidate pairs are those a run at ``threshold`` would make:
    candidates come from the LSH layout of the candidate threshold (``min(threshold,
    0.5)`` with containment or fuzzy verification), so that holds for any threshold of 0.5
    or more with the default verification. A pair a new run would score that this run
    never did counts as not linked, so otherwise the answer is a lower bound.
    """
    base = run_settings(out_dir)
    config = DedupConfig(
        threshold=threshold,
        containment=base.containment if containment is None else containment,
        verify=base.verify,
        ngram=base.ngram,
        num_perm=base.num_perm,
        seed=base.seed,
        keep=base.keep,
    )
    data = load_pairs(out_dir)
    pairs = data["pairs"].astype(PAIR_DTYPE, copy=False)
    n = len(data["ids"])
    same_layout = lsh_params(config.candidate_threshold, config.num_perm) == lsh_params(
        base.candidate_threshold, base.num_perm
    )
    # the first score of each pair (a pair is scored once as a candidate; a direct check
    # of a member against its kept document is scored once too)
    codes = pairs["a"] * max(n, 1) + pairs["b"]
    codes, first = np.unique(codes, return_index=True)
    pairs = pairs[first]
    scores = {}
    edges = EdgeTable(n)
    for row, code in zip(pairs.tolist(), codes.tolist(), strict=True):
        a, b, jac, cont, est, fuzzy, sa, sb = row
        s = PairScore(jac, cont, est, (sa, sb), None if fuzzy != fuzzy else fuzzy)
        scores[code] = s
        reason = decide(s, config.threshold, config.containment, config.verify)
        if reason is not None:
            edges.add(a, b, reason, s)
    edges.finish()
    missing = 0

    def score(a: int, b: int) -> PairScore | None:
        nonlocal missing
        s = scores.get(a * n + b)
        if s is None:
            missing += 1
        return s

    rank = data["rank"]
    infos = [DocInfo(int(rank[i]), 0, {}) for i in range(n)]
    clusters, decisions = cluster(
        n, data["key"].tolist(), edges, score, infos, lambda info: 0, config
    )
    notes = []
    if not same_layout:
        notes.append(
            f"a run at {threshold} makes candidates with another LSH layout, so pairs this "
            "run never scored may link more documents"
        )
    if missing:
        notes.append(f"{missing} member-to-kept pairs were never scored (counted as not linked)")
    return WhatIf(
        threshold,
        config.containment,
        len(decisions),
        len(clusters),
        exact=not notes,
        note="; ".join(notes),
    )
