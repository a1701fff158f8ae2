"""Verification of candidate pairs: every pair is scored before it may link two
documents."""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from .io.formats import json_number

#: a document is "contained" in another only when it has at least this many shingles
#: (a single sentence quoted in a long article is not a copy of it)
MIN_CONTAINED_SHINGLES = 16
#: a pair that shingles leave short of a link but this close (Jaccard, or containment of
#: the smaller) gets a second look on its texts (:func:`aligned_ratio`): character noise
#: breaks word 3-grams (2% of characters changed leave about 60% of them), while the text
#: is still plainly the same
NEAR_MISS_JACCARD = 0.45
NEAR_MISS_CONTAINMENT = 0.6
#: ... provided no run of more than this many of the shorter text's shingles is missing
#: from the other (noise and a new headline make short gaps; another text, or a live
#: blog's version a few updates on, whole paragraphs)
NEAR_MISS_MAX_GAP = 24
#: a page whose content (outside boilerplate paragraphs) is under this share of its
#: shingles is a template page (a soft-404 page with its path and date filled in)...
TEMPLATE_SHARE = 0.9
#: ... and two template pages whose contents share at least this Jaccard compare their
#: whole texts in their second look (two short stories under one long footer share
#: nothing outside it, and stay apart)
TEMPLATE_MIN_JACCARD = 0.2
#: ... and whose words differ in at most this many insertions and deletions (a path, a
#: date and a reference filled in: 14-27 on the development corpora; two short stories
#: that share a sentence under one footer: 58 and more)
TEMPLATE_MAX_EDIT_WORDS = 40
#: sizes (shingles) of a pair linked by its texts: at least this ratio is "near", under
#: it "contained"
NEAR_SIZE_RATIO = 0.8


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
    # rapidfuzz ratio of the comparison keys: of the whole keys with verify="fuzzy";
    # otherwise :func:`aligned_ratio` of a near miss's content, None when not looked at
    fuzzy: float | None = None

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

    def to_json(self) -> str:
        """``json.dumps(self.to_dict())``, built from pieces (faster)."""
        num = json_number
        a, b = self.sizes
        out = (f'{{"jaccard": {num(round(self.jaccard, 4))}, '
               f'"containment": {num(round(self.containment, 4))}, '
               f'"estimated": {num(round(self.estimated, 4))}, "shingles": [{num(a)}, {num(b)}]')  # fmt: skip
        if self.fuzzy is not None:
            out += f', "fuzzy": {num(round(self.fuzzy, 4))}'
        return out + "}"


def score_pair(a: np.ndarray, b: np.ndarray, sig_a: np.ndarray, sig_b: np.ndarray) -> PairScore:
    """Scores of two sorted arrays of unique shingle hashes and their signatures."""
    sizes = (len(a), len(b))
    estimated = int(np.count_nonzero(sig_a == sig_b)) / len(sig_a)  # = np.mean, faster
    if not len(a) or not len(b):
        return PairScore(0.0, 0.0, estimated, sizes)
    inter = shared(a, b)
    union = len(a) + len(b) - inter
    return PairScore(inter / union, inter / min(sizes), estimated, sizes)


def shared(a: np.ndarray, b: np.ndarray) -> int:
    """|A and B| of two arrays of unique values: the values that appear twice in both
    together (``np.intersect1d`` does the same with twice the overhead)."""
    both = np.concatenate((a, b))
    both.sort()
    return int(np.count_nonzero(both[1:] == both[:-1]))


def ratios(inter: np.ndarray, size_a: np.ndarray, size_b: np.ndarray):
    """(jaccard, containment) of many pairs from their shared and own sizes: the floats
    :func:`score_pair` computes (0.0 where a set is empty)."""
    union, small = size_a + size_b - inter, np.minimum(size_a, size_b)
    with np.errstate(divide="ignore", invalid="ignore"):
        jaccard = np.where(union > 0, inter / np.maximum(union, 1), 0.0)
        containment = np.where(small > 0, inter / np.maximum(small, 1), 0.0)
    return jaccard, containment


def decide_many(
    jaccard: np.ndarray,
    containment: np.ndarray,
    estimated: np.ndarray,
    fuzzy: np.ndarray,
    smaller: np.ndarray,
    threshold: float,
    containment_level: float,
    method: str,
    aligned: float = 1.0,
    larger: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`decide` over many pairs: (near, contained) masks. ``fuzzy`` is NaN where
    not scored; ``smaller`` (``larger``) the shingles of the smaller (larger) document of
    each pair."""
    if method == "estimated":
        near = estimated >= threshold
        return near, np.zeros_like(near)
    if method == "fuzzy":
        near = np.where(np.isnan(fuzzy), jaccard >= threshold, fuzzy >= threshold)
    else:
        near = jaccard >= threshold
    contained = (
        ~near
        & (method in ("containment", "fuzzy"))
        & (containment >= containment_level)
        & (smaller >= MIN_CONTAINED_SHINGLES)
    )
    if method == "containment" and larger is not None:
        # the second look at near misses: texts aligned at level ``aligned``
        by_text = ~(near | contained) & (np.nan_to_num(fuzzy) >= aligned)
        similar_size = smaller >= NEAR_SIZE_RATIO * larger
        near |= by_text & similar_size
        contained |= by_text & ~similar_size & (smaller >= MIN_CONTAINED_SHINGLES)
    return near, contained


def near_miss(jaccard: np.ndarray, containment: np.ndarray, smaller: np.ndarray) -> np.ndarray:
    """Which pairs get the second look on their texts (see :data:`NEAR_MISS_JACCARD`)."""
    return ((jaccard >= NEAR_MISS_JACCARD) | (containment >= NEAR_MISS_CONTAINMENT)) & (
        smaller >= MIN_CONTAINED_SHINGLES
    )


def edit_words(words_a: Sequence, words_b: Sequence) -> int:
    """Words inserted plus words deleted to turn one sequence of words (or of their
    hashes) into the other."""
    from rapidfuzz.distance import Indel

    return Indel.distance(words_a, words_b)


def aligned_ratio(key_a: str, key_b: str) -> float:
    """How well the shorter comparison key reads as a copy of the longer one from its
    start: rapidfuzz's normalised Indel similarity of the shorter and the longer (its
    start, as long as the shorter and a tenth more, when it is over a quarter longer).
    Character noise, a changed headline, a sentence dropped or a template page with its
    path filled in cost a little per character; another story, or the shorter text
    found only in the middle of the longer, scores low."""
    from rapidfuzz.distance import Indel

    if len(key_a) > len(key_b):
        key_a, key_b = key_b, key_a
    if len(key_b) > 1.25 * len(key_a):
        key_b = key_b[: int(1.1 * len(key_a))]
    return Indel.normalized_similarity(key_a, key_b)


def fuzzy_ratio(key_a: str, key_b: str) -> float:
    """The rapidfuzz ratio (normalised Indel similarity, 0-1) of two comparison keys."""
    from rapidfuzz.distance import Indel

    return Indel.normalized_similarity(key_a, key_b)


def decide(
    score: PairScore, threshold: float, containment: float, method: str, aligned: float = 1.0
) -> str | None:
    """The reason two documents are duplicates ("near" or "contained"), or None.

    ``method``: ``jaccard`` (true Jaccard >= threshold), ``containment`` (also accept a
    document whose shingles are at least ``containment`` contained in the other's, and a
    near miss whose texts align at level ``aligned``: :func:`aligned_ratio`), ``fuzzy``
    (rapidfuzz ratio of the normalised texts >= threshold, or containment), or
    ``estimated`` (MinHash estimate >= threshold, what MinHashLSH scripts do).
    """
    f = np.array([np.nan if score.fuzzy is None else score.fuzzy])
    near, contained = decide_many(
        np.array([score.jaccard]), np.array([score.containment]), np.array([score.estimated]),
        f, np.array([min(score.sizes)]), threshold, containment, method, aligned,
        np.array([max(score.sizes)]),
    )  # fmt: skip
    if near[0]:
        return "near"
    return "contained" if contained[0] else None


@dataclass
class Edge:
    a: int
    b: int
    reason: str
    score: PairScore


REASONS = ("near", "contained")


class EdgeTable:
    """Verified edges as flat arrays (a few dozen bytes per edge, not a Python object
    each), looked up by binary search on the sorted pair codes."""

    def __init__(self, n_docs: int):
        self.n = n_docs
        self._a, self._b = array("q"), array("q")
        self._reason = array("b")
        self._floats = array("d")  # jaccard, containment, estimated, fuzzy (nan: none)
        self._sizes = array("q")

    def add(self, a: int, b: int, reason: str, score: PairScore) -> None:
        self._a.append(a)
        self._b.append(b)
        self._reason.append(REASONS.index(reason))
        fuzzy = float("nan") if score.fuzzy is None else score.fuzzy
        self._floats.extend((score.jaccard, score.containment, score.estimated, fuzzy))
        self._sizes.extend(score.sizes)

    @classmethod
    def from_arrays(
        cls, n_docs: int, a: np.ndarray, b: np.ndarray, contained: np.ndarray,
        floats: np.ndarray, sizes: np.ndarray,
    ) -> EdgeTable:  # fmt: skip
        """A finished table of many edges at once: pairs ``a < b`` sorted, ``contained``
        True where the reason is "contained" ("near" otherwise), ``floats`` rows of
        (jaccard, containment, estimated, fuzzy or nan), ``sizes`` rows of shingles."""
        table = cls(n_docs)
        # the arrays as they are, not copies: a table of millions of edges (template pages)
        # would otherwise be held two or three times over at its peak
        table._a = np.ascontiguousarray(a, dtype=np.int64)  # type: ignore[assignment]
        table._b = np.ascontiguousarray(b, dtype=np.int64)  # type: ignore[assignment]
        table._reason = np.asarray(contained, dtype=np.int8)  # type: ignore[assignment]
        table._floats = np.ascontiguousarray(floats, dtype=np.float64).reshape(-1)  # type: ignore[assignment]
        table._sizes = np.ascontiguousarray(sizes, dtype=np.int64).reshape(-1)  # type: ignore[assignment]
        return table.finish()

    def columns(self) -> tuple[np.ndarray, ...]:
        """The arguments of :meth:`from_arrays` after ``n_docs`` (a Ray verification task
        sends its block's edges back so; the blocks joined in order make the table)."""
        return (self.a, self.b, np.asarray(self._reason).astype(bool),
                np.asarray(self._floats).reshape(-1, 4), np.asarray(self._sizes).reshape(-1, 2))  # fmt: skip

    def contained_documents(self) -> np.ndarray:
        """The documents that a "contained" edge finds inside a larger document (the
        smaller side of each such edge; neither where the sizes are equal)."""
        if not len(self):
            return np.zeros(0, dtype=np.int64)
        contained = np.asarray(self._reason).astype(bool)
        sizes = np.asarray(self._sizes).reshape(-1, 2)
        a_in = contained & (sizes[:, 0] < sizes[:, 1])
        b_in = contained & (sizes[:, 1] < sizes[:, 0])
        return np.unique(np.concatenate([self.a[a_in], self.b[b_in]]))

    @classmethod
    def from_edges(cls, n_docs: int, edges: Iterable[Edge]) -> EdgeTable:
        table = cls(n_docs)
        for e in sorted(edges, key=lambda e: (e.a, e.b)):
            table.add(e.a, e.b, e.reason, e.score)
        return table.finish()

    def finish(self) -> EdgeTable:
        self.a = np.frombuffer(self._a, dtype=np.int64) if len(self._a) else np.zeros(0, np.int64)
        self.b = np.frombuffer(self._b, dtype=np.int64) if len(self._b) else np.zeros(0, np.int64)
        self.codes = self.a * self.n + self.b  # sorted: pairs arrive sorted
        return self

    def __len__(self) -> int:
        return len(self._a)

    def edge(self, i: int) -> Edge:
        f = self._floats[4 * i : 4 * i + 4]
        fuzzy = None if f[3] != f[3] else float(f[3])
        sizes = (int(self._sizes[2 * i]), int(self._sizes[2 * i + 1]))
        score = PairScore(float(f[0]), float(f[1]), float(f[2]), sizes, fuzzy)
        return Edge(int(self._a[i]), int(self._b[i]), REASONS[int(self._reason[i])], score)

    def get(self, a: int, b: int) -> Edge | None:
        # binary search on the sorted codes: a dict of them would cost about 150 bytes an
        # edge (4 GB at a million template pages with 20 verified pairs each)
        code = min(a, b) * self.n + max(a, b)
        i = int(np.searchsorted(self.codes, code))
        if i < len(self.codes) and self.codes[i] == code:
            return self.edge(i)
        return None

    def __iter__(self) -> Iterator[Edge]:
        return (self.edge(i) for i in range(len(self)))
