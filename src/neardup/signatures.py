"""MinHash signatures (datasketch-compatible) and exact-duplicate keys.

Signatures use datasketch's ``affine32`` scheme (its default since 2.0): each input hash
is pre-mixed with the MurmurHash3 32-bit finalizer, then permutation k maps it to
``a_k * h + b_k mod 2**32`` with datasketch's own ``a``/``b`` for the seed; the signature
is the minimum per permutation. For the same shingle hashes, seed and ``num_perm`` the
values equal ``datasketch.MinHash(num_perm, seed, hashfunc=lambda x: x)`` updated with
those hashes, so users can load them into datasketch (``LeanMinHash``/``MinHashLSH``).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
import xxhash

from .arrays import sorted_unique

SCHEME = "affine32"
EMPTY = np.uint32(0xFFFFFFFF)  # datasketch's value for an empty MinHash

_C1 = np.uint32(0x85EBCA6B)
_C2 = np.uint32(0xC2B2AE35)


@functools.lru_cache(maxsize=8)
def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's affine32 permutation parameters (a, b) for ``num_perm`` and ``seed``:
    the same draws from ``numpy.random.RandomState(seed)`` (a test compares them with
    datasketch's own; datasketch itself is not imported, it pulls in scipy)."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a.reshape(1, -1), b.reshape(1, -1)


def fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer (a bijection), as datasketch applies it."""
    h = h ^ (h >> np.uint32(16))
    h = h * _C1
    h = h ^ (h >> np.uint32(13))
    h = h * _C2
    return h ^ (h >> np.uint32(16))


def minhash(hashes: np.ndarray, num_perm: int = 128, seed: int = 1) -> np.ndarray:
    """The MinHash signature (``num_perm`` uint32) of one set of 32-bit hashes."""
    if not len(hashes):
        return np.full(num_perm, EMPTY, dtype=np.uint32)
    a, b = permutations(num_perm, seed)
    with np.errstate(over="ignore"):
        mixed = fmix32(sorted_unique(hashes.astype(np.uint32))).reshape(-1, 1)
        return (mixed * a + b).min(axis=0)


def minhash_many(
    hashes: Sequence[np.ndarray], num_perm: int = 128, seed: int = 1, chunk: int = 4096
) -> np.ndarray:
    """Signatures of many sets at once: an array of shape (len(hashes), num_perm).

    Vectorised: the permutations of a group of documents with about ``chunk`` hashes in
    all are one (num_perm, chunk) array, reduced per document with ``minimum.reduceat``.
    """
    out = np.full((len(hashes), num_perm), EMPTY, dtype=np.uint32)
    a, b = permutations(num_perm, seed)
    a_col, b_col = a.reshape(-1, 1), b.reshape(-1, 1)
    work = np.empty((num_perm, chunk), dtype=np.uint32)
    start = 0
    while start < len(hashes):
        stop, total = start, 0
        while stop < len(hashes) and (total == 0 or total + len(hashes[stop]) <= chunk):
            total += len(hashes[stop])
            stop += 1
        sizes = np.fromiter((len(hashes[i]) for i in range(start, stop)), dtype=np.int64)
        nonempty = np.flatnonzero(sizes)
        if len(nonempty):
            flat = np.concatenate([hashes[start + i] for i in nonempty]).astype(np.uint32)
            offsets = np.concatenate(([0], np.cumsum(sizes[nonempty])[:-1]))
            buf = (
                work[:, : len(flat)]
                if len(flat) <= chunk
                else np.empty((num_perm, len(flat)), np.uint32)
            )
            with np.errstate(over="ignore"):
                np.multiply(a_col, fmix32(flat), out=buf)
                np.add(buf, b_col, out=buf)
            out[start + nonempty] = np.minimum.reduceat(buf, offsets, axis=1).T
        start = stop
    return out


def exact_key(key: str) -> int:
    """64-bit hash (xxh3) of a comparison key, for exact-duplicate detection."""
    return xxhash.xxh3_64_intdigest(key.encode("utf-8"))


def paragraph_hash(words: list[str]) -> int:
    """63-bit hash of one paragraph (a line) from its comparison words: what dedup's
    corpus boilerplate and the site boilerplate of :mod:`neardup.sites` both count."""
    return exact_key(" ".join(words)) & 0x7FFFFFFFFFFFFFFF
