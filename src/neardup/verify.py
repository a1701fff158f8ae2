"""Verification of candidate pairs: every pair is scored before it may link two
documents."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: a document is "contained" in another only when it has at least this many shingles
#: (a single sentence quoted in a long article is not a copy of it)
MIN_CONTAINED_SHINGLES = 16


@dataclass(frozen=True, slots=True)
class PairScore:
    """Scores of one pair of documents, on their content shingles.

    ``jaccard`` is |A and B| / |A or B|; ``containment`` is |A and B| / min(|A|, |B|) (a
    trimmed copy is contained in its original); ``estimated`` is the share of equal
    MinHash values.
    """

    jaccard: float
    containment: float
    estimated: float
    sizes: tuple[int, int] = (0, 0)  # shingles of each document
    fuzzy: float | None = None  # rapidfuzz ratio of the comparison keys (verify="fuzzy")

    def to_dict(self) -> dict:
        out = {
            "jaccard": round(self.jaccard, 4),
            "containment": round(self.containment, 4),
            "estimated": round(self.estimated, 4),
            "shingles": list(self.sizes),
        }
        if self.fuzzy is not None:
            out["fuzzy"] = round(self.fuzzy, 4)
        return out


def score_pair(a: np.ndarray, b: np.ndarray, sig_a: np.ndarray, sig_b: np.ndarray) -> PairScore:
    """Scores of two sorted arrays of unique shingle hashes and their signatures."""
    sizes = (len(a), len(b))
    estimated = int(np.count_nonzero(sig_a == sig_b)) / len(sig_a)  # = np.mean, faster
    if not len(a) or not len(b):
        return PairScore(0.0, 0.0, estimated, sizes)
    # |A and B| of two sets of unique values: the values that appear twice in both
    # together (``np.intersect1d`` does the same with twice the overhead)
    both = np.concatenate((a, b))
    both.sort()
    inter = int(np.count_nonzero(both[1:] == both[:-1]))
    union = len(a) + len(b) - inter
    return PairScore(inter / union, inter / min(sizes), estimated, sizes)


def with_fuzzy(score: PairScore, key_a: str, key_b: str) -> PairScore:
    """``score`` with the rapidfuzz ratio (normalised Indel similarity, 0-1) of the two
    comparison keys (case-folded words joined by spaces)."""
    from rapidfuzz.distance import Indel

    return PairScore(
        score.jaccard,
        score.containment,
        score.estimated,
        score.sizes,
        Indel.normalized_similarity(key_a, key_b),
    )


def decide(score: PairScore, threshold: float, containment: float, method: str) -> str | None:
    """The reason two documents are duplicates ("near" or "contained"), or None.

    ``method``: ``jaccard`` (true Jaccard >= threshold), ``containment`` (also accept a
    document whose shingles are at least ``containment`` contained in the other's),
    ``fuzzy`` (rapidfuzz ratio of the normalised texts >= threshold, or containment), or
    ``estimated`` (MinHash estimate >= threshold, what MinHashLSH scripts do).
    """
    if method == "estimated":
        return "near" if score.estimated >= threshold else None
    if method == "fuzzy" and score.fuzzy is not None:
        if score.fuzzy >= threshold:
            return "near"
    elif score.jaccard >= threshold:
        return "near"
    if (
        method in ("containment", "fuzzy")
        and score.containment >= containment
        and min(score.sizes) >= MIN_CONTAINED_SHINGLES
    ):
        return "contained"
    return None
