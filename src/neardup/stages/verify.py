"""Stage 5 of a dedup run: every candidate pair scored (a MinHash prefilter first, then
the true shingle sets, then the second look on the texts for the near misses), and the
log of scored pairs that the what-if replay reads."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .. import dispatch, kernels
from ..arrays import sorted_unique
from ..config import DedupConfig
from ..stagerun import Stage
from ..verify import (
    MIN_CONTAINED_SHINGLES,
    NEAR_MISS_CONTAINMENT,
    NEAR_MISS_JACCARD,
    NEAR_MISS_MAX_GAP,
    TEMPLATE_MAX_EDIT_WORDS,
    TEMPLATE_MIN_JACCARD,
    EdgeTable,
    PairScore,
    aligned_ratio,
    decide_many,
    edit_words,
    fuzzy_ratio,
    ratios,
    shared,
)
from ..workdir import _Concat, _ContentStore, _SignatureFile

if TYPE_CHECKING:
    from .boilerplate import Boilerplate
    from .ingest import FeatureStore

#: one scored pair in ``pairs.npz`` (see :class:`PairLog`): counts, not ratios, so that
#: a replay computes exactly the floats the run compared with its thresholds
PAIR_DTYPE = np.dtype(
    [
        ("a", "<i8"),
        ("b", "<i8"),
        ("inter", "<i4"),  # shingles the two documents share
        ("size_a", "<i4"),
        ("size_b", "<i4"),
        ("matches", "<i4"),  # equal MinHash values (of num_perm)
        ("fuzzy", "<f8"),  # rapidfuzz ratio; nan: not scored
    ]
)


#: candidate pairs whose every score is under this are not logged (they link at no
#: threshold or containment level a replay is exact for; most candidates of a large
#: corpus are such near misses)
PAIR_LOG_FLOOR = 0.5


class PairLog:
    """The pairs a run scored (candidates scoring at least :data:`PAIR_LOG_FLOOR`
    somewhere, and every direct check of a member against its kept document), appended to
    a file in the work directory a block at a time, so a report can replay the decisions
    at another threshold."""

    def __init__(self, path: Path | None, num_perm: int):
        self.path = path
        self.num_perm = num_perm
        self._f = path.open("wb") if path is not None else None
        self._rows: list[tuple] = []

    def add(self, a: int, b: int, s: PairScore, always: bool = False) -> None:
        if self._f is None:
            return
        if not always and max(s.jaccard, s.containment, s.estimated, s.fuzzy or 0) < PAIR_LOG_FLOOR:
            return
        inter = round(s.containment * min(s.sizes)) if min(s.sizes) else 0
        fuzzy = float("nan") if s.fuzzy is None else s.fuzzy
        matches = round(s.estimated * self.num_perm)
        self._rows.append((a, b, inter, s.sizes[0], s.sizes[1], matches, fuzzy))
        if len(self._rows) >= 65536:
            self.flush()

    def add_many(self, rows: np.ndarray, best: np.ndarray) -> None:
        """Log many scored pairs at once (``PAIR_DTYPE`` rows), in order after those
        :meth:`add` logged before; ``best``: each pair's highest of Jaccard, containment
        and estimate. Pairs scoring under :data:`PAIR_LOG_FLOOR` everywhere (the fuzzy
        ratio included) are left out, as :meth:`add` leaves them out."""
        if self._f is None or not len(rows):
            return
        best = np.maximum(best, np.nan_to_num(rows["fuzzy"]))
        self.flush()
        self._f.write(rows[best >= PAIR_LOG_FLOOR].tobytes())

    def flush(self) -> None:
        if self._f is not None and self._rows:
            self._f.write(np.array(self._rows, dtype=PAIR_DTYPE).tobytes())
            self._rows = []

    def read(self) -> np.ndarray:
        if self._f is None:
            return np.zeros(0, dtype=PAIR_DTYPE)
        self.flush()
        self._f.flush()
        return np.fromfile(self.path, dtype=PAIR_DTYPE)

    def written(self) -> int:
        """Bytes of the log written so far."""
        if self._f is None:
            return 0
        self.flush()
        self._f.flush()
        return self._f.tell()

    @classmethod
    def reopen(cls, path: Path, num_perm: int, size: int) -> PairLog | None:
        """The log a finished verification left at ``path``, its first ``size`` bytes
        (what a cluster stage added after them is cut off), to be added to; None when
        the file is shorter."""
        if path.stat().st_size < size:
            return None
        log = cls(None, num_perm)
        log.path, log._f = path, path.open("r+b")
        log._f.truncate(size)
        log._f.seek(size)
        return log

    def close(self) -> None:
        if self._f is not None:
            self.flush()
            self._f.close()
            self._f = None


#: a candidate pair whose MinHash estimate lies this many standard deviations below the
#: lowest Jaccard a duplicate of its sizes can have is rejected without reading its
#: shingles (see :func:`prefilter`)
PREFILTER_Z = 5.0


def prefilter(
    pairs: np.ndarray,
    sizes: np.ndarray,
    sigs: Sequence[np.ndarray],
    config: DedupConfig,
    floor: float = 1.0,
    containment_floor: float | None = None,
) -> np.ndarray:
    """Which candidate pairs need their true shingle sets compared (a boolean mask).

    A duplicate has Jaccard >= threshold, or (containment verification) its smaller
    document, of s shingles, at least ``containment`` inside the larger, of l shingles,
    which means Jaccard >= c*s / (l + s - c*s). The MinHash estimate of Jaccard, from
    ``num_perm`` values, has standard deviation sqrt(J(1-J)/num_perm); a pair whose
    estimate is more than :data:`PREFILTER_Z` of those below that lowest Jaccard is
    rejected unread (the chance that such a pair is a duplicate is under 1e-6). Most
    candidates of a large corpus are such pairs (stories that share one sentence).
    ``floor`` lowers both levels (``PAIR_LOG_FLOOR``, so that every pair the what-if
    replay needs is still scored; the near-miss levels, so that a near miss gets its
    second look), ``containment_floor`` the containment level alone when given. Fuzzy
    verification compares texts: nothing is filtered.
    """
    keep = np.ones(len(pairs), dtype=bool)
    if config.verify == "fuzzy" or not len(pairs):
        return keep
    k = config.num_perm
    for start in range(0, len(pairs), 1 << 16):
        a, b = pairs[start : start + (1 << 16), 0], pairs[start : start + (1 << 16), 1]
        est = _matches(sigs, a, b) / k
        sa, sb = sizes[a].astype(np.float64), sizes[b].astype(np.float64)
        s, big = np.minimum(sa, sb), np.maximum(sa, sb)
        low = np.full(len(a), min(config.threshold, floor))
        if config.verify == "containment":
            c = min(config.containment, floor if containment_floor is None else containment_floor)
            with np.errstate(divide="ignore", invalid="ignore"):
                jc = np.where(s > 0, c * s / (big + s - c * s), 0.0)
            low = np.where(s >= MIN_CONTAINED_SHINGLES, np.minimum(low, jc), low)
        margin = PREFILTER_Z * np.sqrt(low * (1 - low) / k)
        keep[start : start + len(a)] = est >= low - margin
    return keep


def _matches(sigs: Sequence[np.ndarray], a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """For each pair (``a[i]``, ``b[i]``): how many values of the two signatures are
    equal (compiled, without copying the rows out, for a signatures file)."""
    return dispatch.call("signature_matches", sigs, a, b)


def _matches_compiled(sigs: Sequence[np.ndarray], a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """:func:`_matches` of a signatures file read in place by a compiled loop (the
    compiled path; signatures held in memory are compared by numpy on both paths)."""
    if isinstance(sigs, _SignatureFile):
        return kernels.equal_values(sigs.matrix(), a, b)
    return _matches_numpy(sigs, a, b)


def _matches_numpy(sigs: Sequence[np.ndarray], a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """:func:`_matches` with the rows copied out (the Python path)."""
    return (_signature_rows(sigs, a) == _signature_rows(sigs, b)).sum(axis=1)


def _signature_rows(sigs: Sequence[np.ndarray], idx: np.ndarray) -> np.ndarray:
    """Signatures of documents ``idx`` as one array (vectorised reads)."""
    if isinstance(sigs, _Concat):
        n = sigs.split
        out = np.empty((len(idx), sigs.width), dtype=np.uint32)
        first = idx < n
        out[first] = _signature_rows(sigs.first, idx[first])
        out[~first] = _signature_rows(sigs.second, idx[~first] - n)
        return out
    if isinstance(sigs, _SignatureFile):
        return sigs.matrix()[idx]
    return np.asarray(sigs)[idx]


def verify_pairs(
    pairs: np.ndarray,
    content: Sequence[np.ndarray],
    sigs: Sequence[np.ndarray],
    config: DedupConfig,
    key_text: Callable[[int], str] | None = None,
    log: PairLog | None = None,
    sizes: np.ndarray | None = None,
    look: Callable[[int, int, float, float, int], float | None] | None = None,
    template: np.ndarray | None = None,
) -> tuple[EdgeTable, int, int]:
    """Score every candidate pair (sorted, as :func:`candidate_pairs` gives them); returns
    the verified edges, the number rejected and how many of those :func:`prefilter`
    rejected unread (with ``sizes``, each document's number of content shingles). With
    ``key_text`` (``verify="fuzzy"``) the rapidfuzz ratio of the two comparison keys is
    scored too; with ``look`` (``verify="containment"``: ``look(a, b, jaccard,
    containment, smaller)``, the aligned ratio of the pair's second look or None) the
    pairs not linked by their shingles get their second look (and pairs of two
    ``template`` pages are prefiltered at the template level only); ``log`` receives
    every score."""
    prefiltered = 0
    second_look = look is not None and config.verify == "containment"
    if sizes is not None:
        floor = PAIR_LOG_FLOOR if log is not None and log.path is not None else 1.0
        c_floor = floor
        if second_look:  # near misses are scored, for their second look
            floor, c_floor = min(floor, NEAR_MISS_JACCARD), min(floor, NEAR_MISS_CONTAINMENT)
        keep = prefilter(pairs, sizes, sigs, config, floor, c_floor)
        if second_look and template is not None:  # template pairs: at the template level
            both = np.flatnonzero(~keep & template[pairs[:, 0]] & template[pairs[:, 1]])
            at_level = dataclasses.replace(config, verify="jaccard", threshold=TEMPLATE_MIN_JACCARD)
            keep[both] = prefilter(pairs[both], sizes, sigs, at_level)
        prefiltered = int(len(pairs) - keep.sum())
        pairs = pairs[keep]
    rejected = prefiltered
    n = len(content)
    width = len(sigs[0]) if n else config.num_perm
    # the verified edges' columns, filled block by block: at most every pair (blocks
    # joined at the end would hold the edges twice at the peak)
    out = _EdgeColumns(len(pairs))
    for start in range(0, len(pairs), 1 << 16):
        block = pairs[start : start + (1 << 16)]
        a, b = block[:, 0], block[:, 1]
        rows = np.zeros(len(block), dtype=PAIR_DTYPE)
        rows["a"], rows["b"] = a, b
        rows["matches"] = _matches(sigs, a, b)
        rows["fuzzy"] = np.nan
        inter, size_a, size_b = rows["inter"], rows["size_a"], rows["size_b"]
        dispatch.call("pair_overlaps", block, content, rows, key_text)
        sa, sb = size_a.astype(np.int64), size_b.astype(np.int64)
        jaccard, containment = ratios(inter.astype(np.int64), sa, sb)
        estimated = rows["matches"] / width
        small, large = np.minimum(sa, sb), np.maximum(sa, sb)

        args = (jaccard, containment, estimated, rows["fuzzy"], small, config.threshold,
                config.containment, config.verify, config.aligned, large)  # fmt: skip
        near, contained = decide_many(*args)
        if second_look:
            # the pairs not linked yet; every pair when the scores are logged for the
            # what-if replay (a pair linked here may be a near miss at its settings)
            todo = np.ones(len(block), dtype=bool)
            if log is None or log.path is None:
                todo = ~(near | contained)
            todo &= (jaccard >= TEMPLATE_MIN_JACCARD) & (small > 0)
            looked = False
            for i in np.flatnonzero(todo).tolist():
                got = look(int(a[i]), int(b[i]), float(jaccard[i]), float(containment[i]),  # type: ignore[misc]
                           int(small[i]))  # fmt: skip
                if got is not None:
                    rows["fuzzy"][i], looked = got, True
            if looked:
                near, contained = decide_many(*args)
        if log is not None:
            log.add_many(rows, np.maximum.reduce([jaccard, containment, estimated]))
        linked = near | contained
        rejected += int(len(block) - np.count_nonzero(linked))
        out.add(linked, a, b, contained, (jaccard, containment, estimated, rows["fuzzy"]), (sa, sb))
    return EdgeTable.from_arrays(n, *out.finish()), rejected, prefiltered


class _EdgeColumns:
    """The columns of :func:`verify_pairs`' verified edges, allocated once for at most
    ``capacity`` edges and filled in order."""

    def __init__(self, capacity: int):
        self.n = 0
        self.a = np.empty(capacity, dtype=np.int64)
        self.b = np.empty(capacity, dtype=np.int64)
        self.contained = np.empty(capacity, dtype=bool)
        self.floats = np.empty((capacity, 4), dtype=np.float64)
        self.sizes = np.empty((capacity, 2), dtype=np.int64)

    def add(self, linked, a, b, contained, floats, sizes) -> None:
        lo, hi = self.n, self.n + int(np.count_nonzero(linked))
        self.a[lo:hi], self.b[lo:hi], self.contained[lo:hi] = (
            a[linked],
            b[linked],
            contained[linked],
        )
        for j, column in enumerate(floats):
            self.floats[lo:hi, j] = column[linked]
        for j, column in enumerate(sizes):
            self.sizes[lo:hi, j] = column[linked]
        self.n = hi

    def finish(self) -> tuple[np.ndarray, ...]:
        columns = (self.a, self.b, self.contained, self.floats, self.sizes)
        if self.n * 2 < len(self.a):  # most pairs were rejected: keep only the edges
            return tuple(c[: self.n].copy() for c in columns)
        return tuple(c[: self.n] for c in columns)


class _SecondLook:
    """The second look of a pair the shingles leave short (see
    :class:`~neardup.config.DedupConfig`), called as ``look(a, b, jaccard, containment,
    smaller)``: the aligned ratio, or None when the pair gets none. Two template pages
    whose contents overlap and whose words differ in a few places compare their whole
    keys; a near miss compares its contents' keys. Each document's words are read and
    hashed once for the pairs it is in (a template page is in many)."""

    def __init__(self, store, boiler, site_lines, doc_sites, template, enabled: bool):
        self.store, self.site_lines, self.doc_sites = store, site_lines, doc_sites
        self.boiler = np.sort(np.fromiter(boiler, dtype=np.uint64, count=len(boiler)))
        self.template, self.enabled, self.n = template, enabled, len(store)
        self.words = functools.lru_cache(maxsize=4096)(self._words)
        self.content_key = functools.lru_cache(maxsize=4096)(self._content_key)
        self.all_shingles = functools.lru_cache(maxsize=4096)(self._all_shingles)

    def __call__(self, a: int, b: int, jaccard: float, containment: float, small: int):
        if not self.enabled or a >= self.n or b >= self.n:  # an index's: no text here
            return None
        if self.template[a] and self.template[b]:
            # the pages may differ in a few words only (the slots a template fills in):
            # two short stories that share a sentence under one long footer align on
            # the footer, but differ in all their other words
            (key_a, words_a), (key_b, words_b) = self.words(a), self.words(b)
            if abs(len(words_a) - len(words_b)) <= TEMPLATE_MAX_EDIT_WORDS and (
                edit_words(words_a, words_b) <= TEMPLATE_MAX_EDIT_WORDS
            ):
                return aligned_ratio(key_a, key_b)
        if (
            small >= MIN_CONTAINED_SHINGLES
            and (jaccard >= NEAR_MISS_JACCARD or containment >= NEAR_MISS_CONTAINMENT)
            and self.longest_gap(a, b) <= NEAR_MISS_MAX_GAP
        ):  # a near miss (verify.near_miss) whose differences are scattered
            return aligned_ratio(self.content_key(a), self.content_key(b))
        return None

    def longest_gap(self, a: int, b: int) -> int:
        """The longest run of the shorter document's shingles (in text order) that the
        other does not hold: a few for character noise or a new headline, whole
        paragraphs for a different text (a live blog's version three updates on)."""
        if len(self.all_shingles(a)) > len(self.all_shingles(b)):
            a, b = b, a
        seq, other = self.store.doc_shingles(a), self.all_shingles(b)
        pos = np.minimum(other.searchsorted(seq), max(len(other) - 1, 0))
        missing = np.flatnonzero(other[pos] != seq) if len(other) else np.arange(len(seq))
        if not len(missing):
            return 0
        breaks = np.flatnonzero(np.diff(missing) != 1)
        runs = np.diff(np.concatenate(([-1], breaks, [len(missing) - 1])))
        return int(runs.max())

    def _all_shingles(self, i: int) -> np.ndarray:
        return sorted_unique(self.store.doc_shingles(i))

    def _words(self, i: int) -> tuple[str, list[int]]:
        key = self.store.key_text(i)
        return key, [hash(w) for w in key.split(" ")]

    def _content_key(self, i: int) -> str:
        """The comparison key of document i without the paragraphs left out of its
        comparison (as :func:`content_of` leaves them out)."""
        words = self.store.key_text(i).split(" ")
        para_hash, para_words, _ = self.store.doc_paras(i)
        drop = np.isin(para_hash, self.boiler)
        site = self.doc_sites[i] if self.site_lines is not None else None
        if site is not None:
            on_site = self.site_lines.lookup(site, para_hash) > 0
            if on_site.any() and not on_site.all():
                drop |= on_site
        if not drop.any() or drop.all():
            return " ".join(words)
        ends = np.cumsum(para_words).tolist()
        return " ".join(" ".join(words[e - w : e])
                        for e, w, d in zip(ends, para_words.tolist(), drop.tolist(), strict=True)
                        if not d)  # fmt: skip


#: pairs a compiled intersection reads the documents of at once (bounds the memory: at
#: most twice as many documents' content shingles)
_SHARED_BLOCK = 8192


def _overlaps_compiled(block, content, rows, key_text) -> None:
    """Shared shingles and sizes of the pairs of ``block`` into ``rows`` (the compiled
    path, :func:`_shared_compiled`); with ``key_text``, the Python path, which reads the
    two keys of each pair for its fuzzy score in the same loop."""
    if key_text is not None:
        _overlaps_python(block, content, rows, key_text)
    else:
        _shared_compiled(block, content, rows["inter"], rows["size_a"], rows["size_b"])


def _overlaps_python(block, content, rows, key_text) -> None:
    """Shared shingles and sizes of the pairs of ``block`` into ``rows``, and with
    ``key_text`` their fuzzy score, a pair at a time (the Python path)."""
    inter, size_a, size_b = rows["inter"], rows["size_a"], rows["size_b"]
    last, content_a = -1, None
    for i, (x, y) in enumerate(block.tolist()):  # the only per-pair Python
        if x != last:  # pairs come sorted by a: read each first document once
            last, content_a = x, content[x]
        content_b = content[y]
        size_a[i], size_b[i] = len(content_a), len(content_b)
        if len(content_a) and len(content_b):
            inter[i] = shared(content_a, content_b)
        if key_text is not None:
            rows["fuzzy"][i] = fuzzy_ratio(key_text(x), key_text(y))


def _shared_compiled(block, content, inter, size_a, size_b) -> None:
    """Shared shingles and sizes of the pairs of ``block`` (into the given arrays), the
    intersections by a compiled merge: read from a memory map of the content store, or
    with each document of a sub-block read once. Reads by document cost a system call a
    document, and in a large corpus nearly every pair's second document is one more."""
    flat = content.mapped() if isinstance(content, _ContentStore) else None
    if flat is not None:
        a, b = block[:, 0], block[:, 1]
        # the block's first documents are one stretch of the store (pairs come sorted by
        # a); its second ones are all over it: read them in order, one sweep of the map
        order = np.argsort(b, kind="stable")
        inter[order] = kernels.shared_counts_in(
            flat, content.start, content.sizes, a[order], b[order]
        )
        size_a[:], size_b[:] = content.sizes[a], content.sizes[b]
        del flat
        content.release()
        return
    for lo in range(0, len(block), _SHARED_BLOCK):
        sub = block[lo : lo + _SHARED_BLOCK]
        docs = sorted_unique(sub.ravel())
        ia, ib = docs.searchsorted(sub[:, 0]), docs.searchsorted(sub[:, 1])
        hi = lo + len(sub)
        if isinstance(content, _ContentStore):  # one read per document, no array each
            flat, lens = content.gather(docs)
            inter[lo:hi] = kernels.shared_counts_in(flat, np.cumsum(lens) - lens, lens, ia, ib)
        else:
            inter[lo:hi], lens = kernels.shared_counts([content[d] for d in docs.tolist()], ia, ib)
        size_a[lo:hi], size_b[lo:hi] = lens[ia], lens[ib]


# ------------------------------------------------------------------------------ runner

#: stage 5's outputs in the work directory (its marker: ``verify.done.json``); with the
#: scored pairs kept, also the first bytes of ``pairs.bin`` (the marker says how many)
OUTPUTS = ("verified_edges.npz",)
#: the verified edges' columns (:meth:`~neardup.verify.EdgeTable.columns`) in that file
_EDGE_COLUMNS = ("a", "b", "contained", "floats", "sizes")


def verify_stage(
    store: FeatureStore,
    boiler: Boilerplate,
    doc_sites: Sequence[str | None],
    cands,
    config: DedupConfig,
    keep_keys: bool,
    work: Path,
    log_pairs: bool,
    stats,
    stage: Stage,
) -> tuple[EdgeTable, PairLog, _SecondLook]:
    """Stage 5: every candidate pair of ``cands`` (:class:`~neardup.stages.candidates.
    Candidates`) scored; the scored pairs logged to ``pairs.bin`` with ``log_pairs`` (the
    log and the second look are the cluster stage's too). The verified edges, the counts
    and the log are read back from ``work`` instead when ``stage`` resumes (never after a
    candidate stage that does not: an index's, an engine's grouping). ``stats``: the
    run's :class:`~neardup.dedup.DedupStats`."""
    look = _SecondLook(
        store, boiler.paragraphs, boiler.site_lines, doc_sites, cands.template, keep_keys
    )
    log_path = work / "pairs.bin" if log_pairs else None
    settings = {"threshold": config.threshold, "containment": config.containment,
                "verify": config.verify, "aligned": config.aligned,
                "log_pairs": log_pairs}  # fmt: skip
    resumed = stage.resume(
        settings, lambda info: _resumed(work, info, log_path, cands.n_all, config.num_perm, stats)
    )
    if resumed is not None:
        return (*resumed, look)
    log = PairLog(log_path, config.num_perm)
    # with an engine's grouping (Ray), its own verify_pairs, which scores its pairs too
    score = verify_pairs if cands.spread is None else cands.spread.verify
    template = np.concatenate([cands.template, np.zeros(cands.n_all - cands.n, dtype=bool)])
    edges, rejected_pairs, prefiltered = score(
        cands.pairs, cands.content, cands.sigs, config,
        key_text=store.key_text if config.verify == "fuzzy" else None, log=log,
        sizes=cands.sizes, look=look, template=template,
    )  # fmt: skip
    if cands.spread is not None:  # its pairs were counted as they were verified
        stats.candidate_pairs = cands.spread.count + cands.index_prefiltered
    stats.prefiltered_pairs = prefiltered + cands.index_prefiltered
    stats.verified_pairs = len(edges)
    stats.rejected_pairs = rejected_pairs + cands.index_prefiltered
    if stage.fingerprint is not None:  # (no index: its counts are 0)
        np.savez(work / OUTPUTS[0], **dict(zip(_EDGE_COLUMNS, edges.columns(), strict=True)))
        stage.done(OUTPUTS, {"log_bytes": log.written(), "prefiltered": stats.prefiltered_pairs,
                             "rejected": stats.rejected_pairs})  # fmt: skip
    return edges, log, look


def _resumed(work: Path, info: dict, log_path: Path | None, n_all: int, num_perm: int,
             stats) -> tuple[EdgeTable, PairLog] | None:  # fmt: skip
    """Stage 5's verified edges and log as a run left them in ``work``, the counts into
    ``stats`` (None: not edges of ``n_all`` documents, or the log is cut short)."""
    with np.load(work / OUTPUTS[0]) as data:
        columns = [data[name] for name in _EDGE_COLUMNS]
    if len(columns[0]) and int(max(columns[0].max(), columns[1].max())) >= n_all:
        return None
    log = (PairLog(None, num_perm) if log_path is None
           else PairLog.reopen(log_path, num_perm, info["log_bytes"]))  # fmt: skip
    if log is None:
        return None
    edges = EdgeTable.from_arrays(n_all, *columns)
    stats.prefiltered_pairs, stats.rejected_pairs = info["prefiltered"], info["rejected"]
    stats.verified_pairs = len(edges)
    return edges, log
