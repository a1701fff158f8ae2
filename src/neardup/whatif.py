"""What-if: the removals of a finished run at other settings, replayed from the scores
it already computed (``pairs.npz`` in a ``neardup run`` folder), without reading the
corpus again."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .arrays import unique_groups
from .candidates import lsh_params
from .clusters import DocInfo, cluster
from .config import DedupConfig
from .errors import InputError
from .stages.verify import PAIR_DTYPE, PAIR_LOG_FLOOR
from .verify import EdgeTable, PairScore, decide_many, ratios


@dataclass(frozen=True)
class WhatIf:
    threshold: float
    containment: float
    removed: int  # documents removed at these settings
    clusters: int
    exact: bool  # False when the answer is a lower bound (see ``note``)
    note: str = ""


def run_settings(out_dir: str | Path) -> DedupConfig:
    """The settings a run used (its ``stats.json``)."""
    from .runfolder import read_stats

    settings = read_stats(out_dir)["settings"]
    fields = DedupConfig.__dataclass_fields__
    try:
        return DedupConfig(**{k: v for k, v in settings.items() if k in fields})
    except (TypeError, ValueError) as exc:
        raise InputError(
            f"stats.json holds settings that are not valid ({exc})", str(out_dir)
        ) from None


class _Scores:
    """The scored pairs of a run, vectorised: the same floats ``score_pair`` computed."""

    def __init__(self, out_dir: Path, num_perm: int):
        path = out_dir / "pairs.npz"
        if not path.exists():
            raise InputError(f"{path}: not found (written by `neardup run`; rerun to get it)")
        try:
            with np.load(path) as z:
                pairs, self.ids, self.key, self.rank = z["pairs"], z["ids"], z["key"], z["rank"]
                # documents of a persistent index, never removed (older runs: none)
                self.pinned = z["pinned"] if "pinned" in z.files else None
            pairs = pairs.astype(PAIR_DTYPE, copy=False)
        except (OSError, ValueError, KeyError, TypeError) as exc:  # a damaged file
            raise InputError(f"{path}: damaged ({exc}); run `neardup run` again") from None
        self.n = len(self.ids)
        codes = pairs["a"] * max(self.n, 1) + pairs["b"]
        self.codes, first, _ = unique_groups(codes)  # each pair once, sorted
        p = pairs[first]
        self.a, self.b = p["a"], p["b"]
        inter, sa, sb = (p[k].astype(np.int64) for k in ("inter", "size_a", "size_b"))
        self.sizes = np.stack([sa, sb], axis=1)
        self.jaccard, self.containment = ratios(inter, sa, sb)
        self.estimated = p["matches"] / num_perm
        self.fuzzy = p["fuzzy"]

    def score(self, i: int) -> PairScore:
        fz = float(self.fuzzy[i])
        return PairScore(
            float(self.jaccard[i]),
            float(self.containment[i]),
            float(self.estimated[i]),
            (int(self.sizes[i, 0]), int(self.sizes[i, 1])),
            None if fz != fz else fz,
        )

    def decide(self, config: DedupConfig) -> tuple[np.ndarray, np.ndarray]:
        """``verify.decide`` over every pair: (near, contained) masks."""
        return decide_many(
            self.jaccard, self.containment, self.estimated, self.fuzzy,
            self.sizes.min(axis=1), config.threshold, config.containment, config.verify,
            config.aligned, self.sizes.max(axis=1),
        )  # fmt: skip


def what_if(
    out_dir: str | Path,
    threshold: float,
    containment: float | None = None,
    aligned: float | None = None,
) -> WhatIf:
    """How many documents the run in ``out_dir`` would remove at ``threshold`` (and
    ``containment``, and ``aligned``, the level of the texts' second look; the run's when
    None): every pair it scored is decided again, and the clusters are made again with
    the same guard against chaining.

    Exact when the run's candidate pairs are those a run at these settings would make:
    candidates come from the LSH layout of the candidate threshold (``min(threshold,
    0.5)`` with containment or fuzzy verification), so that holds for any threshold of 0.5
    or more with the default verification. A pair a new run would score that this run
    never did counts as not linked, so otherwise the answer is a lower bound.
    """
    return what_if_many(out_dir, [(threshold, containment, aligned)])[0]


def what_if_many(out_dir: str | Path, levels: Sequence[tuple]) -> list[WhatIf]:
    """:func:`what_if` at each (threshold, containment[, aligned]) of ``levels``, reading
    the run's scores once."""
    if not levels:
        return []
    out = Path(out_dir)
    base = run_settings(out)
    s = _Scores(out, base.num_perm)
    infos = [DocInfo(int(r), 0, {}) for r in s.rank.tolist()]
    keys = s.key.tolist()
    floats = np.stack([s.jaccard, s.containment, s.estimated, s.fuzzy], axis=1)
    return [_replay(s, base, infos, keys, floats, *level) for level in levels]


def _replay(s, base, infos, keys, floats, threshold, containment, aligned=None) -> WhatIf:
    config = DedupConfig(
        threshold=threshold,
        containment=base.containment if containment is None else containment,
        aligned=base.aligned if aligned is None else aligned,
        verify=base.verify,
        ngram=base.ngram,
        num_perm=base.num_perm,
        seed=base.seed,
        keep=base.keep,
    )
    same_layout = lsh_params(config.candidate_threshold, config.num_perm) == lsh_params(
        base.candidate_threshold, base.num_perm
    )
    near, contained = s.decide(config)
    linked = np.flatnonzero(near | contained)
    edges = EdgeTable.from_arrays(
        s.n, s.a[linked], s.b[linked], contained[linked], floats[linked], s.sizes[linked]
    )
    missing = 0

    def score(a: int, b: int) -> PairScore | None:
        nonlocal missing
        code = a * s.n + b
        i = int(s.codes.searchsorted(code))
        if i < len(s.codes) and s.codes[i] == code:
            return s.score(i)
        missing += 1
        return None

    clusters, decisions = cluster(s.n, keys, edges, score, infos, lambda _: 0, config, s.pinned)
    notes = []
    if min(config.threshold, config.containment) < PAIR_LOG_FLOOR:
        notes.append(f"candidate pairs scoring under {PAIR_LOG_FLOOR} were not kept")
    if not same_layout:
        notes.append(
            f"a run at {threshold:g} makes candidates with another LSH layout, so pairs "
            "this run never scored may link more documents"
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
