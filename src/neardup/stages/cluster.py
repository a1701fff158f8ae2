"""Stage 6 of a dedup run: clusters and decisions (:func:`neardup.clusters.cluster`
over the verified edges, each member checked against the document its cluster keeps),
and the scored pairs saved for what-if reports."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..arrays import union, unique_groups
from ..clusters import Cluster, Decision, DocInfo, KeyFunc, cluster, keep_rank
from ..config import DedupConfig
from ..verify import TEMPLATE_MIN_JACCARD, EdgeTable, PairScore, decide, score_pair
from .candidates import Candidates
from .verify import PairLog, _SecondLook


class Clustered(NamedTuple):
    """What stage 6 gives the write stage."""

    clusters: list[Cluster]
    decisions: dict[int, Decision]  # of every removed document


def decide_clusters(
    cands: Candidates,
    edges: EdgeTable,
    log: PairLog,
    look: _SecondLook,
    policy: KeyFunc,
    policy_records: list[dict | None] | None,
    config: DedupConfig,
    pairs_out: str | None,
    stats,
) -> Clustered:
    """Stage 6: clusters of the documents of ``cands`` over the verified ``edges`` and
    the keep ``policy``; every pair scored (``log``) written to ``pairs_out`` and the
    log closed. ``stats``: the run's :class:`~neardup.dedup.DedupStats`."""
    content, sigs = cands.content, cands.sigs
    infos = _DocInfos(cands.lengths, policy_records)
    rank = keep_rank(infos, policy, cands.pinned)

    def direct_score(a: int, b: int) -> PairScore:
        score = score_pair(content[a], content[b], sigs[a], sigs[b])
        if (
            config.verify == "containment"
            and score.jaccard >= TEMPLATE_MIN_JACCARD
            and (log.path is not None or decide(
                score, config.threshold, config.containment, config.verify) is None)
        ):  # fmt: skip
            got = look(a, b, score.jaccard, score.containment, min(score.sizes))
            if got is not None:
                score = dataclasses.replace(score, fuzzy=got)
        log.add(a, b, score, always=True)
        return score

    clusters, decisions = cluster(
        cands.n_all, cands.keys, edges, direct_score, infos, policy, config, cands.pinned
    )
    stats.index_removed = sum(1 for d in decisions.values() if d.kept >= cands.n)
    if pairs_out:
        _write_pairs(pairs_out, log.read(), cands.keys, cands.doc_ids, rank, cands.pinned)
    log.close()
    stats.clusters = len(clusters)
    return Clustered(clusters, decisions)


class _DocInfos(Sequence[DocInfo]):
    """DocInfo of document i, made on demand (only cluster members need one)."""

    def __init__(self, lengths: np.ndarray, records: list[dict] | None):
        self._lengths = lengths
        self._records = records

    def __len__(self) -> int:
        return len(self._lengths)

    def __getitem__(self, i):  # type: ignore[override]
        records = self._records
        record = records[i] if records is not None and i < len(records) else {}
        return DocInfo(i, int(self._lengths[i]), record)


def _write_pairs(path, scored: np.ndarray, keys, doc_ids, rank, pinned=None) -> None:
    """``pairs.npz``: every scored pair (``pairs``, indices into ``ids``) and, for each
    document in a pair or in a group of exact copies, its id, its exact key and its rank
    in the keep policy's order (0 is kept first), so that
    :func:`neardup.report.what_if` can replay the clustering at another threshold."""
    key_arr = np.asarray(keys, dtype=np.uint64)
    _, _, inverse = unique_groups(key_arr)
    counts = np.bincount(inverse, minlength=len(key_arr))
    involved = union(scored["a"], scored["b"], np.flatnonzero(counts[inverse] > 1)).astype(np.int64)
    order = sorted(involved.tolist(), key=rank)
    ranks = np.empty(len(involved), dtype=np.int64)
    ranks[np.searchsorted(involved, order)] = np.arange(len(order))
    remapped = scored.copy()
    remapped["a"] = np.searchsorted(involved, scored["a"])
    remapped["b"] = np.searchsorted(involved, scored["b"])
    tmp = Path(str(path) + ".part.npz")
    np.savez(
        tmp,
        pairs=remapped,
        ids=np.array([doc_ids[i] for i in involved.tolist()], dtype=str),
        key=key_arr[involved],
        rank=ranks,
        pinned=np.zeros(len(involved), bool) if pinned is None else np.asarray(pinned)[involved],
    )
    os.replace(tmp, path)
