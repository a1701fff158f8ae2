"""LSH banding -> candidate pairs, grouped by sorting band keys (no Python set per
bucket), so memory stays small at millions of documents."""

from __future__ import annotations

import functools
from collections.abc import Iterable

import numpy as np

from .arrays import sorted_unique
from .errors import ConfigError

_trapezoid = getattr(np, "trapezoid", None) or np.trapz  # type: ignore[attr-defined]  # numpy < 2
_MIX1 = np.uint64(0xFF51AFD7ED558CCD)
_MIX2 = np.uint64(0xC4CEB9FE1A85EC53)
#: buckets larger than this are linked as a chain plus a star from their first member
#: instead of all pairs (bounds the work on a bucket of thousands of near-identical docs):
#: each member is paired with the next MAX_BUCKET_PAIRS members and with the first. The
#: clustering needs one verified edge from a member to its cluster's kept document (and
#: tries the kept documents of its neighbours' clusters), so a short window loses no
#: link; each pair it adds costs a verification, and on template-heavy crawls those
#: pairs are most of the run (see benchmarks/README.md, "bucket window")
MAX_BUCKET_PAIRS = 8


def lsh_params(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows) for a Jaccard ``threshold``, chosen as datasketch's ``MinHashLSH``
    chooses them (minimising equal-weighted false positive and negative probability)."""
    if not 0.0 < threshold < 1.0:
        raise ConfigError(f"threshold must be between 0 and 1, got {threshold}")
    return _optimal_param(round(threshold, 6), num_perm)


@functools.lru_cache(maxsize=64)
def _optimal_param(threshold: float, num_perm: int) -> tuple[int, int]:
    """datasketch's rule: the (b, r) with b * r <= num_perm that minimises the integrated
    false positive probability below the threshold plus the false negative probability
    above it (equal weights). Integrals by the trapezoid rule on a fine grid (datasketch
    uses scipy's quad; a test checks both pick the same layout)."""
    lo = np.linspace(0.0, threshold, 2001)
    hi = np.linspace(threshold, 1.0, 2001)
    best, best_err = (1, 1), float("inf")
    for b in range(1, num_perm + 1):
        for r in range(1, num_perm // b + 1):
            fp = _trapezoid(1 - (1 - lo**r) ** b, lo)
            fn = _trapezoid((1 - hi**r) ** b, hi)
            err = 0.5 * fp + 0.5 * fn
            if err < best_err:
                best, best_err = (b, r), err
    return best


def band_keys(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """One 64-bit key per (document, band): shape (n_docs, bands)."""
    n = len(signatures)
    sig = signatures[:, : bands * rows].astype(np.uint64).reshape(n, bands, rows)
    with np.errstate(over="ignore"):
        acc = np.zeros((n, bands), dtype=np.uint64)
        for j in range(rows):
            acc = (acc ^ sig[:, :, j]) * _MIX1
            acc ^= acc >> np.uint64(29)
        acc = acc * _MIX2
        acc ^= acc >> np.uint64(32)
    return acc


def candidate_pairs(keys: np.ndarray, skip: np.ndarray | None = None) -> np.ndarray:
    """Pairs (i, j), i < j, of documents that share a band key in any band, as an array of
    shape (n_pairs, 2) sorted and without repeats. ``skip`` marks documents to leave out
    (exact duplicates, empty texts)."""
    n = len(keys)
    codes = candidate_codes(keys, skip)
    return np.stack([codes // n, codes % n], axis=1)


def candidate_codes(keys: np.ndarray, skip: np.ndarray | None = None) -> np.ndarray:
    """:func:`candidate_pairs` as sorted unique codes ``i * n_docs + j``; the pairs of
    each band are merged into the result as the band is done, so memory holds the
    distinct pairs, not every band's copy of them."""
    n, bands = keys.shape
    idx = np.arange(n, dtype=np.int64)
    if skip is not None:
        idx = idx[~skip]
    return merged_codes(bucket_codes(keys[idx, band], idx, n) for band in range(bands))


def bucket_codes(keys: np.ndarray, docs: np.ndarray, n: int) -> np.ndarray:
    """Sorted unique codes ``i * n + j`` (i < j) of the pairs of documents ``docs`` that
    share a key of ``keys`` (one band's: each key a bucket), by the bucket rule
    (:data:`MAX_BUCKET_PAIRS`). The pairs of a bucket depend on its members only, not on
    the order they come in: the Ray engine's shuffle (:mod:`neardup.engines.ray_stages`)
    calls this on the buckets of each partition and gets this process's pairs."""
    order = np.argsort(keys)  # not stable (five times faster): see the big buckets
    sorted_keys = keys[order]
    docs = docs[order]
    same = sorted_keys[1:] == sorted_keys[:-1]
    if not same.any():
        return np.zeros(0, dtype=np.int64)
    found = []
    # bucket starts and sizes
    starts = np.flatnonzero(np.concatenate(([True], ~same)))
    sizes = np.diff(np.append(starts, len(docs)))
    multi = sizes >= 2
    starts, sizes = starts[multi], sizes[multi]
    # a small bucket gives all its pairs, in any order of its members; a big one
    # gives pairs that depend on the order: its members in document order
    for s, z in zip(starts[sizes > MAX_BUCKET_PAIRS + 1].tolist(),
                    sizes[sizes > MAX_BUCKET_PAIRS + 1].tolist(), strict=True):  # fmt: skip
        docs[s : s + z].sort()
    # pairs of consecutive members (every bucket) ...
    found.append((docs[:-1][same], docs[1:][same]))
    # ... all other pairs in small buckets, a star from the first member in big ones
    for lag in range(2, MAX_BUCKET_PAIRS + 1):
        sel = sizes > lag
        if not sel.any():
            break
        s, z = starts[sel], sizes[sel]
        firsts = np.repeat(s, z - lag)
        within = np.arange(len(firsts)) - np.repeat(np.cumsum(z - lag) - (z - lag), z - lag)
        found.append((docs[firsts + within], docs[firsts + within + lag]))
    big = sizes > MAX_BUCKET_PAIRS + 1
    for s, z in zip(starts[big].tolist(), sizes[big].tolist(), strict=True):
        found.append(
            (np.full(z - MAX_BUCKET_PAIRS - 1, docs[s]), docs[s + MAX_BUCKET_PAIRS + 1 : s + z])
        )
    a = np.concatenate([f[0] for f in found])
    b = np.concatenate([f[1] for f in found])
    return sorted_unique(np.minimum(a, b) * n + np.maximum(a, b))


def merged_codes(parts: Iterable[np.ndarray]) -> np.ndarray:
    """The sorted union of sorted unique code arrays, merged as they come: once the
    pending codes outweigh the result, so that every code is merged a logarithmic number
    of times and memory stays within about twice the result."""
    result = np.zeros(0, dtype=np.int64)
    pending: list[np.ndarray] = []  # codes not yet merged into ``result``
    pending_len = 0
    for codes in parts:
        if not len(codes):
            continue
        pending.append(codes)
        pending_len += len(codes)
        if pending_len > max(len(result), 1 << 20):
            result = sorted_unique(np.concatenate([result, *pending]))
            pending, pending_len = [], 0
    if pending:
        result = sorted_unique(np.concatenate([result, *pending]))
    return result
