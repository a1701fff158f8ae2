"""Stage 4 of a dedup run: candidate pairs, the documents that share an LSH band of
their content's signatures (or of their leads', or, for template pages, of their whole
pages'), and with an index the documents of the index that share an exact key or a band
with one of the batch (the pairs the MinHash prefilter rejects dropped unread)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from ..arrays import sorted_unique, union
from ..candidates import band_keys, candidate_codes
from ..config import DedupConfig
from ..index import IndexDocs
from ..signatures import minhash_many
from ..stagerun import Stage
from ..verify import TEMPLATE_SHARE
from ..workdir import _Concat
from .ingest import FeatureStore
from .signatures import Signatures
from .verify import PAIR_LOG_FLOOR, prefilter

#: stage 4's outputs in the work directory (its marker: ``candidates.done.json``)
OUTPUTS = ("candidate_pairs.npy",)


class Candidates(NamedTuple):
    """What stage 4 gives the later stages: the candidate pairs and the documents they
    number, this batch's ``n`` then the index documents compared with it (``n``,
    ``n + 1``, ...)."""

    pairs: np.ndarray  # (a, b) rows
    n: int  # this batch's documents
    n_all: int  # and the index's
    content: Sequence[np.ndarray]  # content shingles of each document
    sigs: Sequence[np.ndarray]  # their signatures
    sizes: np.ndarray  # content sizes
    keys: Sequence[int]  # exact keys
    lengths: np.ndarray
    doc_ids: list[str]
    pinned: np.ndarray | None  # the index documents (never removed); None: none compared
    template: np.ndarray  # the batch's template pages (boilerplate is most of the page)
    empty_content: np.ndarray  # the batch's documents without content shingles
    mixed: np.ndarray | None  # the batch's band keys as the index keeps them
    found: IndexDocs  # the index documents compared
    index_prefiltered: int  # candidate pairs with the index rejected by the prefilter
    # the band keys' pairs where an engine grouped them (Ray objects, by block of the
    # first document: see RayEngine.group_bands); ``pairs`` then holds the other pairs
    # only (template pages, the index), and ``spread.verify`` scores all of them
    spread: Any = None


def candidate_pairs(
    store: FeatureStore,
    active: np.ndarray,
    signatures: Signatures,
    doc_ids: list[str],
    config: DedupConfig,
    bands: int,
    rows: int,
    lead_on: bool,
    index,
    work: Path,
    log_pairs: bool,
    stats,
    group_bands: Callable | None = None,
    *,
    stage: Stage,
) -> Candidates:
    """Stage 4: candidates from the band keys (and from the index); the pairs saved to
    ``work``, and read back from there when ``stage`` resumes (not with an index, nor
    with an engine's grouping: its pairs are never in one file). ``log_pairs``: the
    scored pairs are kept (for what-if reports), so the index's are prefiltered at the
    log's floor. ``stats``: the run's :class:`~neardup.dedup.DedupStats`.
    ``group_bands``: an engine's grouping of the band keys (``group_bands(content keys,
    lead keys or None, skip, work)``, see :attr:`Candidates.spread`); None: here, by
    :func:`~neardup.candidates.candidate_codes`."""
    n = len(store)
    content, sigs, keys, lengths = signatures.content, signatures.sigs, store.keys, store.lengths
    empty_content = content.sizes == 0
    skip = ~active | empty_content
    # template pages (boilerplate is most of the page: a soft-404 page, an empty
    # listing) are also paired by signatures of the whole page
    template = ~skip & (content.sizes < TEMPLATE_SHARE * np.diff(store.shingle_off))
    resumed = stage.resume(
        {"template_share": TEMPLATE_SHARE} if index is None and group_bands is None else None,
        lambda info: _load(work, info, store, signatures, doc_ids, template, config, stats),
    )
    if resumed is not None:
        return resumed
    keys_all, lead_keys = signatures.band_keys.take()
    spread = None
    if group_bands is not None:  # grouped by the engine's workers while this goes on
        spread = group_bands(keys_all, lead_keys if lead_on else None, skip, work)
        codes = np.zeros(0, dtype=np.int64)
    else:
        codes = candidate_codes(keys_all, skip=skip)
        if lead_on:
            # a trimmed copy keeps the lead of its original: candidates from the leads too
            codes = union(codes, candidate_codes(lead_keys, skip=skip))
    codes = union(codes, _template_codes(store, np.flatnonzero(template), config, bands, rows))
    mixed = None
    if index is not None:
        from ..index import mixed_band_keys

        mixed = mixed_band_keys(keys_all)
        if lead_on:
            mixed = np.hstack([mixed, mixed_band_keys(lead_keys, bands)])
    del keys_all, lead_keys
    # documents of the index this batch must be compared with, numbered n, n + 1, ...
    t_lookup = time.perf_counter()
    content_sizes = content.sizes
    floor = PAIR_LOG_FLOOR if log_pairs else 1.0
    from_index = _index_documents(
        index, keys, mixed, skip, n, work, content_sizes, sigs, config, floor
    )
    if index is not None:
        stats.seconds["index_lookup"] = round(time.perf_counter() - t_lookup, 3)
    found = from_index.docs
    n_all = n + len(found.rows)
    codes = (codes // max(n, 1)) * n_all + codes % max(n, 1)
    if len(from_index.pairs):
        codes = union(codes, from_index.pairs[:, 0] * n_all + from_index.pairs[:, 1])
    pairs = np.stack([codes // max(n_all, 1), codes % max(n_all, 1)], axis=1)
    del codes
    stats.candidate_pairs = len(pairs) + from_index.prefiltered
    stats.index_documents = len(found.rows)
    pinned = None
    if len(found.rows):
        content_sizes = np.concatenate([content_sizes, found.sizes])
        content = _Concat(content, from_index.content)  # type: ignore[assignment]
        sigs = _Concat(sigs, found.signatures, config.num_perm)  # type: ignore[assignment]
        keys = list(keys) + found.keys
        lengths = np.concatenate([lengths, found.lengths])
        doc_ids = doc_ids + found.ids
        pinned = np.arange(n_all) >= n
    if spread is None:  # spread: each block's pairs are saved where they are verified
        np.save(work / OUTPUTS[0], pairs)
        stage.done(OUTPUTS, {"candidate_pairs": stats.candidate_pairs})
    return Candidates(
        pairs, n, n_all, content, sigs, content_sizes, keys, lengths, doc_ids, pinned, template,
        empty_content, mixed, found, from_index.prefiltered, spread,
    )  # fmt: skip


def _load(work: Path, info: dict, store: FeatureStore, signatures: Signatures,
          doc_ids: list[str], template: np.ndarray, config: DedupConfig,
          stats) -> Candidates | None:  # fmt: skip
    """Stage 4's results as a run without an index left them in ``work`` (None: not
    pairs of the store's documents)."""
    n = len(store)
    pairs = np.load(work / OUTPUTS[0])
    if pairs.ndim != 2 or pairs.shape[1] != 2 or (len(pairs) and int(pairs.max()) >= n):
        return None
    stats.candidate_pairs, stats.index_documents = info["candidate_pairs"], 0
    content = signatures.content
    return Candidates(
        pairs, n, n, content, signatures.sigs, content.sizes, store.keys, store.lengths, doc_ids,
        None, template, content.sizes == 0, None, _no_index(config.num_perm).docs, 0,
    )  # fmt: skip


def _template_codes(store: FeatureStore, docs: np.ndarray, config: DedupConfig, bands: int,
                    rows: int) -> np.ndarray:  # fmt: skip
    """Candidate codes (``i * n + j``) of the pairs of ``docs`` that share a band of their
    whole pages' signatures."""
    if len(docs) < 2:
        return np.zeros(0, dtype=np.int64)
    whole = [sorted_unique(store.doc_shingles(i)) for i in docs.tolist()]
    local = candidate_codes(band_keys(minhash_many(whole, config.num_perm, config.seed),
                                      bands, rows))  # fmt: skip
    a, b = docs[local // len(docs)], docs[local % len(docs)]
    return np.sort(a * len(store) + b)


@dataclass
class _FromIndex:
    docs: IndexDocs  # the index documents compared with this batch (rows sorted)
    content: Sequence[np.ndarray]  # their content shingles, in the same order
    pairs: np.ndarray  # (batch document, n + position in docs)
    prefiltered: int  # candidate pairs with the index rejected by the prefilter


def _index_documents(
    idx, keys, mixed, skip, n: int, work: Path, sizes: np.ndarray, sigs, config, floor: float
) -> _FromIndex:
    """The index documents sharing an exact key or a band key with a batch document, and
    the candidate pairs they make. Signatures are read first: the pairs
    :func:`prefilter` rejects are dropped (counted in ``prefiltered``), and content
    shingles are read only for the index documents still in a pair."""
    if idx is None:
        return _no_index(config.num_perm)
    probe = np.flatnonzero(~skip)
    batch_doc, row = idx.lookup(np.asarray(keys, dtype=np.uint64), mixed, probe)
    got = idx.fetch(sorted_unique(row))
    pos = np.searchsorted(got.rows, row)
    both_sizes = np.concatenate([sizes, got.sizes])
    both_sigs = _Concat(sigs, got.signatures, config.num_perm)
    keep = prefilter(np.stack([batch_doc, n + pos], axis=1), both_sizes, both_sigs, config, floor)
    prefiltered = int(len(keep) - keep.sum())
    batch_doc, pos = batch_doc[keep], pos[keep]
    needed = sorted_unique(pos)
    got = got.subset(needed)
    pos = np.searchsorted(needed, pos)
    content = idx.fetch_content(got.rows, spool=work)
    pairs = np.stack([batch_doc, n + pos], axis=1)
    return _FromIndex(got, content, pairs, prefiltered)


def _no_index(num_perm: int) -> _FromIndex:
    """What :func:`_index_documents` finds without an index: nothing."""
    empty = np.zeros(0, np.int64)
    docs = IndexDocs(empty, [], [], empty, empty, np.zeros((0, num_perm), np.uint32))
    return _FromIndex(docs, [], np.zeros((0, 2), np.int64), 0)
