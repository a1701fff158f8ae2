"""Corpus deduplication: exact and near-duplicate clusters, one kept per cluster.

Stages (each a function over arrays or batches):

1. ``features_batch`` (workers): repair each text, cut it into words and paragraphs,
   hash the exact key, the paragraphs and the word n-gram shingles (``stage1_lines``
   parses the lines of JSONL input first, in the workers too).
2. ``boilerplate_paragraphs``: paragraphs that many documents carry around different
   text (site footers, disclaimers) are left out of the comparison.
3. ``content_block`` (workers, a block of documents each): content shingles outside
   boilerplate, ``signatures.minhash_many`` -> ``candidates.band_keys``.
   Then ``candidates.candidate_codes``: pairs that share a band.
4. ``verify_pairs`` (:mod:`neardup.stages.verify`): true Jaccard / containment on the
   content shingles of every pair, and the second look on the texts of the near misses.
5. ``cluster``: union-find over exact and verified edges, keep policy, and the guard
   against chaining (each member must be close to the kept document itself).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import itertools
import json
import os
import re
import shutil
import tempfile
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import BinaryIO, NamedTuple

import numpy as np
import xxhash

from . import kernels
from .arrays import sorted_unique, union, unique_groups
from .candidates import band_keys, candidate_codes, lsh_params
from .clusters import (
    Cluster,
    Decision,
    DocInfo,
    KeyFunc,
    cluster,
    first_copies,
    keep_policy,
    keep_rank,
)
from .config import CleanConfig, DedupConfig, SiteConfig
from .document import Document
from .engines import fewer_collections, map_ordered, worker_pool
from .errors import ConfigError, InputError, NeardupError
from .index import IndexDocs
from .io import Reject, default_output_format, detect_format, open_writer, read_texts
from .io.formats import (
    JsonlWriter,
    check_paths,
    is_plain_file,
    json_number,
    jsonl_lines,
    parse_jsonl_line,
)
from .normalize import normalize_and_explain
from .pipeline import _batched, _texts, audit_record, count_reject
from .repair import Repair, TextWords, _repair_normalized, repair_with_words, truncated_line
from .shingles import line_words, shingle_hashes
from .signatures import exact_key, minhash_many, paragraph_hash, permutations
from .sites import CopyFinder, SiteCounter, site_of
from .stages.verify import (
    PAIR_LOG_FLOOR,
    PairLog,
    _SecondLook,
    prefilter,
    verify_pairs,
)
from .verify import (
    REASONS,
    TEMPLATE_MIN_JACCARD,
    TEMPLATE_SHARE,
    PairScore,
    decide,
    score_pair,
)
from .workdir import _ArrayFile, _Concat, _ContentStore, _SignatureFile

BATCH_SIZE = 256
#: documents a :class:`~neardup.sites.CopyFinder` is fed at a time
_COPY_CHUNK = 4096
#: shingles at the start of a document that a trimmed copy is expected to keep
LEAD_SHINGLES = 48
#: documents per worker task of the content and signature stage (bounds its memory: at
#: 4,096 the two workers and the results in flight added 80 MB at 100k documents)
_SIG_CHUNK = 1024


@dataclass(slots=True)
class Features:
    """What dedup keeps of one document (the text itself is not kept in memory)."""

    key: int  # exact-duplicate key: hash of the comparison key of the repaired text
    words: int
    length: int  # characters of the repaired text
    shingles: np.ndarray  # uint32 shingle hashes in text order
    para_hash: np.ndarray  # uint64 per paragraph (non-empty lines)
    para_words: np.ndarray  # words per paragraph
    para_first: np.ndarray  # index of the first shingle that starts in each paragraph
    key_text: str | None = None  # the comparison key, kept only for --verify fuzzy


def features(
    text: str, ngram: int, keep_key: bool = False, known: TextWords | None = None
) -> Features:
    """Exact key, paragraph hashes and shingles of one (repaired) text (and the
    comparison key itself with ``keep_key``). ``known``: the words of ``text`` per line
    and their token hashes, when :func:`~neardup.repair.repair_with_words` computed them."""
    toks: list[str] = []
    para_hash: list[int] = []
    para_words: list[int] = []
    for w in line_words(text) if known is None else known.lines:
        para_hash.append(paragraph_hash(w))
        para_words.append(len(w))
        toks.extend(w)
    sh = shingle_hashes(toks, ngram, None if known is None else known.hashes)
    counts = np.array(para_words, dtype=np.int64)
    first = np.array(
        list(itertools.accumulate(para_words[:-1], initial=0)) if para_words else [], dtype=np.int64
    )
    np.minimum(first, len(sh), out=first)
    key_text = " ".join(toks)
    return Features(
        key=exact_key(key_text),
        words=len(toks),
        length=len(text),
        shingles=sh,
        para_hash=np.array(para_hash, dtype=np.uint64),
        para_words=counts,
        para_first=first,
        key_text=key_text if keep_key else None,
    )


class FeatureStore:
    """Features of every document, compact: shingles go to a file in the work directory
    as they arrive (memory mapped afterwards), paragraph data into flat arrays."""

    def __init__(self, path: Path):
        self.path = path
        self._file = path.open("wb")
        self.keys: list[int] = []
        self._words = array("q")
        self._lengths = array("q")
        self._shingle_off = array("q", [0])
        self._para_off = array("q", [0])
        self._para_hash = array("Q")
        self._para_words = array("q")
        self._para_first = array("q")
        self._keys_file: BinaryIO | None = None
        self._keys_fd = -1
        self._key_off = array("q", [0])

    def add_batch(self, batch: FeatureBatch) -> None:
        """Add the features of a batch of documents (as :func:`features_batch` returns
        them, by column: copied into the arrays in one go)."""
        head = np.frombuffer(batch.head, dtype=np.uint64).reshape(-1, _HEAD)
        self._file.write(batch.shingles)
        self._para_hash.frombytes(batch.para_hash)
        self._para_words.frombytes(batch.para_words)
        self._para_first.frombytes(batch.para_first)
        if batch.keep_key:
            if self._keys_file is None:
                self._keys_file = self.path.with_suffix(".keys").open("wb")
            self._keys_file.write(batch.keys)
            self._key_off.frombytes(
                (self._key_off[-1] + np.cumsum(head[:, 5], dtype=np.int64)).tobytes()
            )
        self.keys.extend(head[:, 0].tolist())
        self._words.frombytes(head[:, 1].astype(np.int64).tobytes())
        self._lengths.frombytes(head[:, 2].astype(np.int64).tobytes())
        for offsets, counts in ((self._shingle_off, head[:, 3]), (self._para_off, head[:, 4])):
            offsets.frombytes((offsets[-1] + np.cumsum(counts, dtype=np.int64)).tobytes())

    def __len__(self) -> int:
        return len(self.keys)

    def finish(self) -> None:
        self._file.close()
        self._reader = _ArrayFile(self.path)
        if self._keys_file is not None:
            self._keys_file.close()
            self._keys_fd = os.open(self.path.with_suffix(".keys"), os.O_RDONLY)
        self.words = np.frombuffer(self._words, dtype=np.int64)
        self.lengths = np.frombuffer(self._lengths, dtype=np.int64)
        self.key_off = np.frombuffer(self._key_off, dtype=np.int64)
        self.shingle_off = np.frombuffer(self._shingle_off, dtype=np.int64)
        self.para_off = np.frombuffer(self._para_off, dtype=np.int64)
        self.para_hash = np.frombuffer(self._para_hash, dtype=np.uint64)
        self.para_words = np.frombuffer(self._para_words, dtype=np.int64)
        self.para_first = np.frombuffer(self._para_first, dtype=np.int64)

    _ARRAYS = ("words", "lengths", "shingle_off", "para_off", "para_hash", "para_words",
               "para_first", "key_off")  # fmt: skip

    def save(self, path: Path) -> None:
        """Write what :meth:`load` needs (the shingles file is already on disk)."""
        arrays = {name: np.asarray(getattr(self, name)) for name in self._ARRAYS}
        arrays["keys"] = np.array(self.keys, dtype=np.uint64)
        np.savez(path, **arrays)  # type: ignore[arg-type]

    @classmethod
    def load(cls, shingles: Path, saved: Path) -> FeatureStore:
        store = cls.__new__(cls)
        store.path = shingles
        data = np.load(saved)
        store.keys = data["keys"].tolist()
        for name in cls._ARRAYS:
            setattr(store, name, data[name])
        store._key_off = store.key_off  # type: ignore[assignment]
        store._reader = _ArrayFile(shingles)
        keys_path = shingles.with_suffix(".keys")
        store._keys_fd = os.open(keys_path, os.O_RDONLY) if keys_path.exists() else -1
        return store

    def key_text(self, i: int) -> str:
        """The comparison key of document ``i`` (only with ``--verify fuzzy``)."""
        a, b = self._key_off[i], self._key_off[i + 1]
        return os.pread(self._keys_fd, b - a, a).decode("utf-8")

    def doc_shingles(self, i: int) -> np.ndarray:
        return self._reader.read(self.shingle_off[i], self.shingle_off[i + 1])

    def doc_paras(self, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        a, b = self.para_off[i], self.para_off[i + 1]
        return self.para_hash[a:b], self.para_words[a:b], self.para_first[a:b]


class FeatureBatch(NamedTuple):
    """What stage 1 sends back for a batch of documents: each one's repair (None when the
    text came out as it went in: not sent back, the caller has it) and the features of
    all of them by column (a few bytes objects are much cheaper to send from a worker
    process than an object per document)."""

    repairs: list[Repair | None]
    head: bytes  # uint64 per document: key, words, length, shingles, paragraphs, key bytes
    shingles: bytes  # uint32, every document's shingles in text order
    para_hash: bytes  # uint64 per paragraph
    para_words: bytes  # int64 per paragraph
    para_first: bytes  # int64 per paragraph
    keys: bytes  # the comparison keys (UTF-8) one after the other, with ``keep_key``
    keep_key: bool


_HEAD = 6  # columns of FeatureBatch.head
_PARA_MASK = 0x7FFFFFFFFFFFFFFF  # paragraph hashes are 63-bit (signatures.paragraph_hash)


def features_batch(
    texts: Sequence[str], clean: CleanConfig, ngram: int, keep_key: bool = False
) -> FeatureBatch:
    """Stage 1 over one batch: repair, then features of each repaired text."""
    if kernels.available():
        return _features_batch_compiled(texts, clean, ngram, keep_key)
    reps: list[Repair | None] = []
    feats: list[Features] = []
    for text in texts:
        rep, lines = repair_with_words(text, clean)
        feats.append(features(rep.text, ngram, keep_key, lines))
        reps.append(rep if rep.removed or rep.normalized or rep.skipped else None)
    head = np.array(
        [(f.key, f.words, f.length, len(f.shingles), len(f.para_hash),
          len(f.key_text.encode("utf-8")) if f.key_text is not None else 0) for f in feats],
        dtype=np.uint64,
    ).reshape(-1, _HEAD)  # fmt: skip

    def column(name: str, dtype) -> bytes:
        parts = [getattr(f, name) for f in feats]
        return np.concatenate(parts).astype(dtype).tobytes() if parts else b""

    return FeatureBatch(
        reps, head.tobytes(), column("shingles", np.uint32), column("para_hash", np.uint64),
        column("para_words", np.int64), column("para_first", np.int64),
        "".join(f.key_text or "" for f in feats).encode("utf-8"), keep_key,
    )  # fmt: skip


def _features_batch_compiled(
    texts: Sequence[str], clean: CleanConfig, ngram: int, keep_key: bool
) -> FeatureBatch:
    """:func:`features_batch` with words, shingles, paragraphs and the repeat pre-check
    computed by :func:`neardup.kernels.scan` (same bytes out): a second scan for the
    texts the repair changed."""
    encoded = kernels.utf8(texts)
    flags = kernels.text_flags(texts, encoded).tolist()
    normalized = [
        normalize_and_explain(text, clean.normalize, f)
        for text, f in zip(texts, flags, strict=True)
    ]
    rc = clean.repair
    # the bytes of a text that normalisation left as it was are those read above
    for i, (text, _) in enumerate(normalized):
        if text is not texts[i]:
            encoded[i] = text.encode("utf-8", "surrogatepass")
    first = _scan_texts(
        [text for text, _ in normalized], ngram,
        rc.ngram if rc.enabled else 0, rc.min_words, rc.min_density, encoded=encoded,
    )  # fmt: skip
    reps: list[Repair] = []
    redo: list[int] = []
    for i, (text, steps) in enumerate(normalized):
        rep = Repair(text, (), tuple(steps))
        may_repeat = bool(first.may_repeat[i])
        if may_repeat or (rc.enabled and truncated_line(text) is not None):
            rep = _repair_normalized(text, steps, clean, None, None, may_repeat=may_repeat)
            if rep.removed:
                redo.append(i)
        reps.append(rep)
    # the documents in order: runs of the first scan, each repaired one from the second;
    # each scan's columns computed once, the documents' pieces (views) joined once
    columns = _scan_columns(first, keep_key)
    parts: list[tuple[kernels.Scan, tuple, int, int]] = []
    if redo:
        second = _scan_texts([reps[i].text for i in redo], ngram)
        second_columns = _scan_columns(second, keep_key)
        lo = 0
        for j, i in enumerate(redo):
            parts += [(first, columns, lo, i), (second, second_columns, j, j + 1)]
            lo = i + 1
        parts.append((first, columns, lo, len(texts)))
    else:
        parts.append((first, columns, 0, len(texts)))
    pieces: list[list] = [[] for _ in range(6)]
    for s, (head, para_hash), lo, hi in parts:
        if hi == lo:
            continue
        pa, pb = int(s.para_off[lo]), int(s.para_off[hi])
        sa, sb = int(s.shingle_off[lo]), int(s.shingle_off[hi])
        ka, kb = (int(s.key_off[lo]), int(s.key_off[hi])) if keep_key else (0, 0)
        for column, piece in zip(pieces, (
            head[lo:hi], s.shingles[sa:sb], para_hash[pa:pb], s.para_words[pa:pb],
            s.para_first[pa:pb], memoryview(s.keys)[ka:kb],
        ), strict=True):  # fmt: skip
            column.append(piece)
    head = np.concatenate(pieces[0]) if pieces[0] else np.zeros((0, _HEAD), dtype=np.uint64)
    head[:, 2] = [len(rep.text) for rep in reps]
    return FeatureBatch(
        [rep if rep.removed or rep.normalized or rep.skipped else None for rep in reps],
        head.tobytes(), *(b"".join(column) for column in pieces[1:]), keep_key,
    )  # fmt: skip


def _scan_texts(
    texts: Sequence[str], ngram: int, *repeat, encoded: list[bytes] | None = None
) -> kernels.Scan:
    """:func:`neardup.kernels.scan` of ``texts`` (their token texts,
    :func:`neardup.kernels.token_texts`)."""
    return kernels.scan(*kernels.token_texts(texts, encoded), ngram, *repeat)


def _scan_columns(s: kernels.Scan, keep_key: bool) -> tuple[np.ndarray, np.ndarray]:
    """The head of every document of a scan (:class:`FeatureBatch`'s columns, uint64,
    lengths left 0) and the hash of every paragraph."""
    keys = memoryview(s.keys)
    h3 = xxhash.xxh3_64_intdigest
    para_hash = np.array([
        h3(keys[a:b]) & _PARA_MASK
        for a, b in zip(s.para_start.tolist(), s.para_end.tolist(), strict=True)
    ], dtype=np.uint64)  # fmt: skip
    head = np.zeros((len(s.tokens), _HEAD), dtype=np.uint64)
    head[:, 0] = [h3(keys[a:b]) for a, b in itertools.pairwise(s.key_off.tolist())]
    head[:, 1] = s.tokens
    head[:, 3] = np.diff(s.shingle_off)
    head[:, 4] = np.diff(s.para_off)
    if keep_key:
        head[:, 5] = np.diff(s.key_off)
    return head, para_hash


def boilerplate_paragraphs(
    store: FeatureStore, active: np.ndarray, config: DedupConfig
) -> set[int]:
    """Hashes of paragraphs that are corpus boilerplate (see :class:`DedupConfig`).

    Counted over the ``active`` documents (exact duplicates count once), in distinct
    stories: a document whose set of rarer paragraphs resembles an earlier one's
    (:class:`~neardup.sites.CopyFinder`) is a republished copy and counts nothing, so a
    paragraph that three stories and their copies share is not taken for boilerplate.
    """
    active_docs = np.flatnonzero(active)
    if not len(active_docs):
        return set()
    # (document, paragraph hash) of every paragraph of the active documents
    off = np.asarray(store.para_off)
    starts, sizes = off[active_docs], off[active_docs + 1] - off[active_docs]
    rows = np.repeat(starts - np.cumsum(sizes) + sizes, sizes) + np.arange(int(sizes.sum()))
    flat = np.asarray(store.para_hash)[rows]
    owner = np.repeat(active_docs, sizes)
    if not len(flat):
        return set()
    # copies are found by their rarer paragraphs (in fewer than min_docs documents): two
    # short stories under one long multi-paragraph footer are not copies of each other;
    # a document with no rarer paragraph (a live blog's version) by all of its own
    doc_of_row = np.repeat(np.arange(len(active_docs)), sizes)
    order = np.lexsort((owner, flat))
    once = np.ones(len(flat), dtype=bool)
    once[1:] = (flat[order][1:] != flat[order][:-1]) | (owner[order][1:] != owner[order][:-1])
    seen, seen_counts = np.unique(flat[order][once], return_counts=True)
    rare = ~np.isin(flat, seen[seen_counts >= config.boilerplate_min_docs])
    has_rare = np.bincount(doc_of_row[rare], minlength=len(active_docs)) > 0
    use = rare | ~has_rare[doc_of_row]
    used_flat, used_sizes = flat[use], np.bincount(doc_of_row[use], minlength=len(active_docs))
    copy = np.zeros(len(active_docs), dtype=bool)
    finder = CopyFinder()
    bounds = np.concatenate(([0], np.cumsum(used_sizes)))
    with_paras = np.flatnonzero(used_sizes > 0)
    for lo in range(0, len(with_paras), _COPY_CHUNK):
        sel = with_paras[lo : lo + _COPY_CHUNK]
        chunk = used_flat[bounds[sel[0]] : bounds[sel[-1] + 1]]
        copy[sel] = finder.of(chunk, used_sizes[sel], np.zeros(len(sel), dtype=np.uint64))
    # a paragraph's count: the counted documents (not copies) that hold it, once each
    counted = ~np.repeat(copy, sizes)
    c_flat, c_owner = flat[counted], owner[counted]
    order = np.lexsort((c_owner, c_flat))
    c_flat, c_owner = c_flat[order], c_owner[order]
    first = np.ones(len(c_flat), dtype=bool)
    first[1:] = (c_flat[1:] != c_flat[:-1]) | (c_owner[1:] != c_owner[:-1])
    uniq, counts = np.unique(c_flat[first], return_counts=True)
    min_docs = max(
        config.boilerplate_min_docs,
        int(np.ceil(config.boilerplate_min_share * int((~copy).sum()))),
    )
    common_hashes = uniq[counts >= min_docs]
    if not len(common_hashes):
        return set()
    # for every document holding a common paragraph: its words outside all its common
    # paragraphs (a page that is a template with a path and a date filled in has few);
    # a common paragraph is boilerplate when the median of its documents' is high enough
    in_common = np.isin(flat, common_hashes)
    doc_i = np.repeat(np.arange(len(active_docs)), sizes)
    row_words = np.asarray(store.para_words)[rows].astype(np.float64)
    common_words = np.bincount(doc_i, weights=row_words * in_common, minlength=len(active_docs))
    outside = np.asarray(store.words)[active_docs] - common_words
    h, d = flat[in_common], doc_i[in_common]
    order = np.lexsort((d, h))
    h, d = h[order], d[order]
    once = np.ones(len(h), dtype=bool)
    once[1:] = (h[1:] != h[:-1]) | (d[1:] != d[:-1])
    h, values = h[once], outside[d[once]]
    order = np.lexsort((values, h))
    h, values = h[order], values[order]
    starts = np.flatnonzero(np.concatenate(([True], h[1:] != h[:-1])))
    counts = np.diff(np.append(starts, len(h)))
    median = (values[starts + (counts - 1) // 2] + values[starts + counts // 2]) / 2
    return set(h[starts][median >= config.boilerplate_min_rest_words].tolist())


def content_of(
    shingles: np.ndarray,
    para_hash: np.ndarray,
    para_first: np.ndarray,
    boilerplate: set[int],
    lead: int,
    also: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Sorted unique shingles of one document outside boilerplate paragraphs (all of them
    when the document is nothing but boilerplate), and the same for its first ``lead``
    content shingles (the lead a trimmed copy keeps). ``also``: a mask of more paragraphs
    to leave out (its site's boilerplate lines)."""
    if boilerplate or also is not None:
        mask = np.fromiter(
            (h in boilerplate for h in para_hash.tolist()), dtype=bool, count=len(para_hash)
        )
        if also is not None:
            mask |= also
        if mask.any() and not mask.all():
            keep = np.ones(len(shingles), dtype=bool)
            ends = np.append(para_first[1:], len(shingles))
            for j in np.flatnonzero(mask).tolist():
                keep[para_first[j] : ends[j]] = False
            shingles = shingles[keep]
    return sorted_unique(shingles), sorted_unique(shingles[:lead])


@dataclass
class ContentJob:
    """One block of documents for :func:`content_block` (what a worker needs of the
    store: the shingles file is read by the worker itself)."""

    shingles_path: Path
    shingle_off: np.ndarray  # stop - start + 1 offsets into the shingles file
    para_off: np.ndarray  # the same for the paragraph arrays below
    para_hash: np.ndarray
    para_first: np.ndarray
    also: list[np.ndarray | None]  # per document: more paragraphs to leave out (its site's)
    boilerplate: frozenset[int]
    num_perm: int
    seed: int
    bands: int
    rows: int
    lead: bool  # also band keys of the leads
    content: Path  # the content shingles file (as many values as the shingles file) ...
    signatures: Path  # ... and the signatures file (.npy), both at their full size already
    sig_offset: int  # the byte offset of this block's first signature


def content_block(job: ContentJob) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stages 2-3 over a block of documents: content shingles (sorted, unique, outside
    boilerplate paragraphs), their signatures and band keys, and the band keys of the
    leads. The content shingles and signatures are written to their files here (the
    process that runs the block writes them, nothing big travels back): the block's
    content shingles one document after the other from where its shingles start in the
    shingles file (a document has no more content shingles than shingles), its
    signatures at their rows. Returns (content sizes, band keys, lead band keys)."""
    joined, sizes, sigs, keys, lead_keys = _content_block(job)
    first = int(job.shingle_off[0])
    for path, data, offset in (
        (job.content, joined.astype("<u4", copy=False), 4 * first),
        (job.signatures, sigs.astype("<u4", copy=False), job.sig_offset),
    ):
        fd = os.open(path, os.O_WRONLY)
        try:
            os.pwrite(fd, data.tobytes(), offset)
        finally:
            os.close(fd)
    return sizes, keys, lead_keys


def _content_block(
    job: ContentJob,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(content shingles concatenated, content sizes, signatures, band keys, lead band
    keys) of a block (:func:`content_block`)."""
    first, last = int(job.shingle_off[0]), int(job.shingle_off[-1])
    with job.shingles_path.open("rb") as fh:
        fh.seek(4 * first)
        flat = np.frombuffer(fh.read(4 * (last - first)), dtype=np.uint32)
    sh_off = job.shingle_off - first
    p_off = job.para_off - job.para_off[0]
    if kernels.available():
        drop = np.isin(job.para_hash, np.fromiter(job.boilerplate, np.uint64))
        for j, mask in enumerate(job.also):
            if mask is not None:
                drop[p_off[j] : p_off[j + 1]] |= mask
        a, b = permutations(job.num_perm, job.seed)
        joined, sizes, sigs, lead_sigs = kernels.content_signatures(
            flat, sh_off, p_off, job.para_first, drop, LEAD_SHINGLES, a, b, job.lead
        )
        return joined, sizes, sigs, band_keys(sigs, job.bands, job.rows), (
            band_keys(lead_sigs, job.bands, job.rows) if job.lead
            else np.zeros((0, job.bands), dtype=np.uint64)
        )  # fmt: skip
    contents, leads = [], []
    for j in range(len(sh_off) - 1):
        pa, pb = p_off[j], p_off[j + 1]
        content, lead = content_of(
            flat[sh_off[j] : sh_off[j + 1]], job.para_hash[pa:pb], job.para_first[pa:pb],
            job.boilerplate, LEAD_SHINGLES, job.also[j],
        )  # fmt: skip
        contents.append(content)
        leads.append(lead)
    sigs = minhash_many(contents, job.num_perm, job.seed)
    keys = band_keys(sigs, job.bands, job.rows)
    lead_keys = (
        band_keys(minhash_many(leads, job.num_perm, job.seed), job.bands, job.rows)
        if job.lead
        else np.zeros((0, job.bands), dtype=np.uint64)
    )
    sizes = np.fromiter(map(len, contents), dtype=np.int64, count=len(contents))
    joined = np.concatenate(contents) if contents else np.zeros(0, np.uint32)
    return joined, sizes, sigs, keys, lead_keys


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
class DedupStats:
    """Counters of a dedup run: ``read == kept + removed + rejected``."""

    read: int = 0
    kept: int = 0
    removed: int = 0
    rejected: int = 0
    skipped: int = 0  # of the rejected: crawl records that are not pages
    skipped_reasons: dict[str, int] = field(default_factory=dict)
    exact_removed: int = 0
    near_removed: int = 0
    contained_removed: int = 0
    clusters: int = 0
    repaired: int = 0
    candidate_pairs: int = 0
    verified_pairs: int = 0
    rejected_pairs: int = 0
    prefiltered_pairs: int = 0  # of the rejected: by MinHash estimate, unread (prefilter)
    boilerplate_paragraphs: int = 0
    resumed: bool = False  # stage 1 was read back from the work directory
    index_documents: int = 0  # documents of the persistent index compared with this batch
    index_removed: int = 0  # documents removed as duplicates of an index document
    index_batch: int = 0  # the batch number this run added to the index (0: none)
    site_documents: int = 0  # kept documents that lost site boilerplate lines
    site_lines_removed: int = 0
    site_boilerplate: dict = field(default_factory=dict)  # what was learned (summary)
    bands: int = 0
    rows: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    def check(self) -> None:
        if self.read != self.kept + self.removed + self.rejected:  # pragma: no cover
            raise NeardupError(
                f"internal error: read {self.read} != kept {self.kept} + removed "
                f"{self.removed} + rejected {self.rejected}; please report this"
            )

    def to_dict(self) -> dict:
        return asdict(self)


class DocMeta(NamedTuple):
    """What the main process keeps of a document read in stage 1 (not its text)."""

    id: str
    path: str
    line: int
    has_id: bool  # the record has the id field (else ``id`` is FILE:LINE)
    fields: dict | None  # what the keep policy looks at
    site: str | None
    spool: bytes | None  # the record encoded again (None: as it was read)


class _Stage1(NamedTuple):
    """Stage 1's settings, as the workers get them."""

    clean: CleanConfig
    ngram: int
    keep_key: bool
    text_field: str
    id_field: str
    fields: str | None  # what of a record the keep policy needs: "*", a name or None
    site_field: str | None
    write_repaired: bool


def stage1_lines(
    batch: tuple[str, list[int], list[bytes], list[int], int], settings: _Stage1
) -> tuple[list[DocMeta | Reject], FeatureBatch]:
    """Stage 1 over lines of a JSONL file (:func:`_line_batches`): parse them, then
    :func:`features_batch` of their texts. The repairs go back without their texts (the
    records that need them are encoded here): only a repaired document's, for its audit
    line, and not its text."""
    path, numbers, lines = batch[:3]
    items = [
        parse_jsonl_line(raw, path, number, settings.text_field, settings.id_field)
        for number, raw in zip(numbers, lines, strict=True)
    ]
    docs = [i for i in items if not isinstance(i, Reject)]
    features = features_batch(
        [d.text for d in docs], settings.clean, settings.ngram, settings.keep_key
    )
    metas = _metas(items, features.repairs, settings)
    audits = [Repair("", r.removed, r.normalized, r.skipped)
              if r is not None and (r.removed or r.skipped) else None
              for r in features.repairs]  # fmt: skip
    return metas, features._replace(repairs=audits)


def _metas(
    items: Sequence[Document | Reject], repairs: Sequence[Repair | None], settings: _Stage1
) -> list[DocMeta | Reject]:
    """:class:`DocMeta` of each document of ``items`` (``repairs``: theirs, in order)."""
    out: list[DocMeta | Reject] = []
    reps = iter(repairs)
    for item in items:
        if isinstance(item, Reject):
            out.append(item)
            continue
        rep, record = next(reps), item.record
        repaired = settings.write_repaired and rep is not None and rep.text != item.text
        if repaired:
            record[settings.text_field] = rep.text  # type: ignore[union-attr]
        # a record is spooled as it came, unless its text changed or it holds a bare CR
        # (a reader in text mode would see two lines)
        again = repaired or not item.source or b"\r" in item.source
        fields = (
            None if settings.fields is None
            else {k: v for k, v in record.items() if k != settings.text_field}
            if settings.fields == "*"
            else {settings.fields: record[settings.fields]} if settings.fields in record
            else {}
        )  # fmt: skip
        out.append(DocMeta(
            item.id, item.path, item.line, settings.id_field in record, fields,
            site_of(record, settings.site_field) if settings.site_field is not None else None,
            _jsonl(record).encode("utf-8") if again else None,
        ))  # fmt: skip
    return out


def _line_batches(
    inputs: Sequence[str], size: int
) -> Iterator[tuple[str, list[int], list[bytes], list[int], int]]:
    """The non-blank lines of JSONL files in batches of ``size`` (each of one file): path,
    line numbers, lines, byte offsets, and the file's place in ``inputs``."""
    for place, path in enumerate(inputs):
        numbers: list[int] = []
        lines: list[bytes] = []
        offsets: list[int] = []
        for number, offset, raw in jsonl_lines(path):
            numbers.append(number)
            lines.append(raw)
            offsets.append(offset)
            if len(lines) == size:
                yield path, numbers, lines, offsets, place
                numbers, lines, offsets = [], [], []
        if lines:
            yield path, numbers, lines, offsets, place


@fewer_collections()
def run_dedup(
    inputs: Sequence[str],
    *,
    kept: str,
    removed: str | None = None,
    clusters_out: str | None = None,
    repairs_out: str | None = None,
    stats_out: str | None = None,
    pairs_out: str | None = None,
    config: DedupConfig | None = None,
    clean: CleanConfig | None = None,
    write_repaired: bool = False,
    input_format: str | None = None,
    output_format: str | None = None,
    text_field: str = "text",
    id_field: str = "id",
    workers: int = 1,
    rejects: str | None = None,
    dedupe_ids: bool = False,
    workdir: str | None = None,
    keep: str | KeyFunc | None = None,
    progress: Callable[[int], None] | None = None,
    index: str | os.PathLike | None = None,
    update: bool = False,
    lock_timeout: float = 30.0,
    site: SiteConfig | None = None,
    site_out: str | None = None,
) -> DedupStats:
    """Deduplicate the documents of ``inputs``; see the module doc for the stages.

    ``kept`` receives the kept records (as they came, or with the repaired text when
    ``write_repaired``); ``removed`` the removed records with ``duplicate_of``,
    ``cluster``, ``similarity`` and ``reason``; ``clusters_out`` one line per cluster;
    ``pairs_out`` every scored pair (``.npz``, for what-if reports). The records travel
    through a spool file in ``workdir`` (a temporary directory by default), so standard
    input works and memory holds only per-document features.

    ``index`` (a file made by :meth:`neardup.index.Index.create`): also compare with the
    documents kept before; a document that duplicates one of them is removed with
    ``duplicate_of`` its id (index documents are never removed, whatever the keep
    policy). ``update`` adds this batch's kept documents to the index, in one
    transaction, once the outputs are written (waiting up to ``lock_timeout`` seconds
    for another writer).

    ``site``: learn each site's boilerplate lines (:mod:`neardup.sites`) and compare
    documents without them; with ``write_repaired`` the kept texts lose them too, and
    ``site_out`` (JSONL) gets one line per such document with the lines removed and their
    frequency on the site.
    """
    import time

    config = config or DedupConfig()
    clean = clean or CleanConfig()
    check_paths(inputs, [kept, removed, clusters_out, repairs_out, stats_out, pairs_out,
                         rejects, site_out], workdir)  # fmt: skip
    keep_spec = keep if keep is not None else config.keep
    policy = keep_policy(keep_spec)
    # what of each record the keep policy may look at (records are not kept in memory):
    # "*" every field but the text (a callable policy), a field name, or nothing
    fields_spec = (
        "*" if callable(keep_spec)
        else keep_spec.split(":", 1)[1] if isinstance(keep_spec, str) and ":" in keep_spec
        else None
    )  # fmt: skip
    if update and index is None:
        raise ConfigError("update needs an index (pass --index FILE)")
    idx = None
    if index is not None:
        from .index import Index

        idx = Index.open(index, write=update, lock_timeout=lock_timeout)
        try:
            idx.check(config, clean)
        except BaseException:
            idx.close()
            raise
    stats = DedupStats()
    tmp_ctx = tempfile.TemporaryDirectory(prefix="neardup-") if workdir is None else None
    work = Path(tmp_ctx.name if tmp_ctx else workdir)  # type: ignore[arg-type]
    work.mkdir(parents=True, exist_ok=True)
    default_out = default_output_format(inputs, input_format)
    if default_out in ("txt", "txtdir"):
        default_out = "jsonl"
    t0 = time.perf_counter()
    writers: list = []
    kernels.warm()  # compiled before the workers are forked, which then have it
    pool = worker_pool(workers)  # shared by stages 1 and 3, forked while this is small
    try:
        # ---- stage 1: read, repair, features; spool records to the work directory
        spool_path = work / "records.jsonl"
        work_rejects, work_repairs = work / "rejects.jsonl", work / "repairs.jsonl"
        fuzzy = config.verify == "fuzzy"
        # the comparison keys are kept for the texts' second look at near misses
        keep_keys = config.verify in ("fuzzy", "containment")
        fingerprint = _fingerprint(
            inputs, input_format, text_field, id_field, dedupe_ids, clean, config.ngram,
            keep_keys, write_repaired, keep_spec,
            idx.state() if idx is not None and update else None,
            site.field if site is not None else None,
        )  # fmt: skip
        resumed = _load_stage1(work, fingerprint) if tmp_ctx is None else None
        if resumed is not None:
            store, doc_ids, policy_records, counters, doc_sites, no_id = resumed
            stats.read, stats.rejected, stats.repaired, stats.skipped = counters[:4]
            stats.skipped_reasons = dict(counters[4])
            stats.resumed = True
        else:
            store = FeatureStore(work / "shingles.u32")
            policy_records = [] if fields_spec is not None else None
            ids: dict[str, tuple[str, int]] = {}
            # ids must stay unique across the batches of an index
            taken = idx.has_id if idx is not None and update else None
            doc_ids = []
            doc_sites: list[str | None] = []
            no_id: list[int] | None = []  # documents whose record has no id field
            settings = _Stage1(
                clean,
                config.ngram,
                keep_keys,
                text_field,
                id_field,
                fields_spec,
                site.field if site is not None else None,
                write_repaired,
            )
            # JSONL input: the workers parse the lines too (the main process only reads
            # them); other formats are read here and the workers get the texts
            jsonl_in = all(detect_format(p, input_format) == "jsonl" for p in inputs)
            if jsonl_in:
                batches: Iterator = _line_batches(inputs, BATCH_SIZE)
                func: Callable = functools.partial(stage1_lines, settings=settings)
                arg = None
            else:
                batches = _batched(read_texts(inputs, input_format, text_field, id_field,
                                              workers), BATCH_SIZE)  # fmt: skip
                func = functools.partial(
                    features_batch, clean=clean, ngram=config.ngram, keep_key=keep_keys
                )
                arg = _texts
            # where each document's record is: a line of an input file read as it came
            # (source 1, 2, ...), or else of the spool (source 0)
            where = _RecordIndex([str(spool_path), *inputs])
            readable = [is_plain_file(p) for p in inputs]
            spool_pos = 0
            with (
                spool_path.open("wb") as spool,
                work_rejects.open("w", encoding="utf-8") as reject_out,
                work_repairs.open("w", encoding="utf-8") as repairs_w,
            ):
                for batch, results in map_ordered(
                    func, batches, workers, with_input=True, arg=arg, pool=pool
                ):
                    if jsonl_in:  # (path, numbers, lines, offsets, place) -> (docs, features)
                        items, features = results
                        lines, offsets = batch[2], batch[3]
                        # read again from the input, or spooled (compressed, stdin)
                        source = batch[4] + 1 if readable[batch[4]] else 0
                    else:  # documents or rejects -> features
                        items, features = _metas(batch, results.repairs, settings), results
                        lines = [b"" if isinstance(i, Reject) else i.source for i in batch]
                        offsets, source = [0] * len(batch), 0
                    store.add_batch(features)
                    reps = iter(features.repairs)
                    parts = []
                    for item, line, offset in zip(items, lines, offsets, strict=True):
                        stats.read += 1
                        if progress is not None:
                            progress(1)
                        if isinstance(item, Reject):
                            count_reject(
                                stats,
                                item,
                                (lambda d: reject_out.write(_jsonl(d))) if rejects else None,
                            )
                            continue
                        rep = next(reps)
                        doc_id = _unique_id(item, ids, dedupe_ids, taken)
                        renamed = doc_id != item.id and item.has_id  # by --dedupe-ids
                        # the record as it came, unless it had to be encoded again
                        if item.spool is not None:
                            line = item.spool
                        elif line[-1:] != b"\n" or line[-2:-1] == b"\r":
                            line = line.rstrip(b"\r\n") + b"\n"  # one line break
                        elif source and not renamed:  # as it is in its input file
                            where.add(source, offset, offset + len(line))
                            line = b""
                        if renamed:
                            record = json.loads(line)
                            record[id_field] = doc_id
                            line = _jsonl(record).encode("utf-8")
                        if line:
                            parts.append(line)
                            where.add(0, spool_pos, spool_pos + len(line))
                            spool_pos += len(line)
                        if not item.has_id:
                            no_id.append(len(doc_ids))
                        doc_ids.append(doc_id)
                        if site is not None:
                            doc_sites.append(item.site)
                        if policy_records is not None:
                            policy_records.append(item.fields)
                        if rep is not None and rep.removed:
                            stats.repaired += 1
                        if rep is not None and (rep.removed or rep.skipped):
                            repairs_w.write(_jsonl(audit_record(item, rep, doc_id)))
                    spool.writelines(parts)
            store.finish()
            where.save(work / "records.npz")
            if tmp_ctx is None:  # a temporary work directory is never resumed from
                _save_stage1(work, fingerprint, store, doc_ids, policy_records,
                             (stats.read, stats.rejected, stats.repaired, stats.skipped,
                              stats.skipped_reasons), doc_sites, no_id)  # fmt: skip
        for target, source in ((rejects, work_rejects), (repairs_out, work_repairs)):
            if target:
                copy = _CopyWriter(target, source)
                writers.append(copy)
        stats.seconds["read_clean_features"] = round(time.perf_counter() - t0, 3)
        n = len(store)
        lengths = store.lengths

        # ---- stage 2: exact keys, boilerplate paragraphs and site lines learned
        t1 = time.perf_counter()
        keys = store.keys
        active = first_copies(keys) == np.arange(n)  # the first document of each key
        learned = boilerplate_paragraphs(store, active, config)
        boiler = learned | idx.boilerplate() if idx is not None else learned
        stats.boilerplate_paragraphs = len(boiler)
        site_lines = None
        if site is not None and len(doc_sites) == n:
            counter = SiteCounter(site)
            for i in range(n):
                counter.add(doc_sites[i], store.doc_paras(i)[0])
            site_lines = counter.finish()
            stats.site_boilerplate = site_lines.summary()
        site_hit = np.zeros(n, dtype=bool)
        bands, rows = lsh_params(config.candidate_threshold, config.num_perm)
        stats.bands, stats.rows = bands, rows
        lead_on = config.verify in ("containment", "fuzzy")
        stats.seconds["boilerplate"] = round(time.perf_counter() - t1, 3)

        # ---- stage 3: content shingles, signatures (to the work directory), band keys
        # of the content and of the leads, a block of documents per worker task
        t2 = time.perf_counter()
        boiler_set = frozenset(boiler)

        def jobs() -> Iterator[ContentJob]:
            for start in range(0, n, _SIG_CHUNK):
                stop = min(n, start + _SIG_CHUNK)
                also: list[np.ndarray | None] = [None] * (stop - start)
                if site_lines is not None:
                    for i in range(start, stop):
                        if doc_sites[i] is None:
                            continue
                        mask = site_lines.lookup(doc_sites[i], store.doc_paras(i)[0]) > 0
                        if mask.any() and not mask.all():  # all: compared whole
                            also[i - start] = mask
                            site_hit[i] = True
                pa, pb = store.para_off[start], store.para_off[stop]
                yield ContentJob(
                    store.path, store.shingle_off[start : stop + 1],
                    store.para_off[start : stop + 1], store.para_hash[pa:pb],
                    store.para_first[pa:pb], also, boiler_set, config.num_perm, config.seed,
                    bands, rows, lead_on, content_path, sig_path,
                    header + 4 * config.num_perm * start,
                )  # fmt: skip

        # the workers write the content shingles and the signatures themselves, into
        # files made at their full size here (the content file as long as the shingles
        # file: each block's content from where its shingles start; the rest holes)
        content_path = work / "content.u32"
        with content_path.open("wb") as cf:
            cf.truncate(4 * int(store.shingle_off[-1]))
        sig_path = work / "signatures.npy"
        with sig_path.open("wb") as sf:
            np.lib.format.write_array_header_1_0(
                sf, {"descr": "<u4", "fortran_order": False, "shape": (n, config.num_perm)}
            )
            header = sf.tell()
            sf.truncate(header + 4 * config.num_perm * n)
        content_start = np.zeros(n, dtype=np.int64)
        content_size = np.zeros(n, dtype=np.int64)
        keys_all = np.zeros((n, bands), dtype=np.uint64)
        lead_keys = np.zeros((n if lead_on else 0, bands), dtype=np.uint64)
        start = 0
        for sizes, block_keys, block_leads in map_ordered(
            content_block, jobs(), workers, pending=2 * max(workers, 1), pool=pool
        ):
            stop = start + len(sizes)
            content_start[start:stop] = store.shingle_off[start] + np.cumsum(sizes) - sizes
            content_size[start:stop] = sizes
            keys_all[start:stop] = block_keys
            if lead_on:
                lead_keys[start:stop] = block_leads
            start = stop
        if pool is not None:
            pool.shutdown()
        content = _ContentStore(content_path, content_start, content_size)
        sigs = _SignatureFile(sig_path, header, config.num_perm)
        stats.seconds["content_signatures"] = round(time.perf_counter() - t2, 3)

        # ---- stage 4: candidates from the band keys (and from the index)
        t2 = time.perf_counter()
        empty_content = content.sizes == 0
        skip = ~active | empty_content
        codes = candidate_codes(keys_all, skip=skip)
        if lead_on:
            # a trimmed copy keeps the lead of its original: candidates from the leads too
            codes = union(codes, candidate_codes(lead_keys, skip=skip))
        # template pages (boilerplate is most of the page: a soft-404 page, an empty
        # listing) are also paired by signatures of the whole page
        template = ~skip & (content.sizes < TEMPLATE_SHARE * np.diff(store.shingle_off))
        codes = union(codes, _template_codes(store, np.flatnonzero(template), config, bands, rows))
        mixed = None
        if idx is not None:
            from .index import mixed_band_keys

            mixed = mixed_band_keys(keys_all)
            if lead_on:
                mixed = np.hstack([mixed, mixed_band_keys(lead_keys, bands)])
        del keys_all, lead_keys
        # documents of the index this batch must be compared with, numbered n, n + 1, ...
        t_lookup = time.perf_counter()
        content_sizes = content.sizes
        floor = PAIR_LOG_FLOOR if pairs_out else 1.0
        from_index = _index_documents(
            idx, keys, mixed, skip, n, work, content_sizes, sigs, config, floor
        )
        if idx is not None:
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
        np.save(work / "candidate_pairs.npy", pairs)
        stats.seconds["candidates"] = round(time.perf_counter() - t2, 3)

        # ---- stage 5: verification
        t3 = time.perf_counter()
        log = PairLog(work / "pairs.bin" if pairs_out else None, config.num_perm)
        look = _SecondLook(store, boiler, site_lines, doc_sites, template, keep_keys)
        edges, rejected_pairs, prefiltered = verify_pairs(
            pairs, content, sigs, config, store.key_text if fuzzy else None, log,
            sizes=content_sizes, look=look,
            template=np.concatenate([template, np.zeros(n_all - n, dtype=bool)]),
        )  # fmt: skip
        stats.prefiltered_pairs = prefiltered + from_index.prefiltered
        stats.verified_pairs = len(edges)
        stats.rejected_pairs = rejected_pairs + from_index.prefiltered
        stats.seconds["verify"] = round(time.perf_counter() - t3, 3)

        # ---- stage 6: clusters and decisions
        t4 = time.perf_counter()
        infos = _DocInfos(lengths, policy_records)
        rank = keep_rank(infos, policy, pinned)

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
            n_all, keys, edges, direct_score, infos, policy, config, pinned
        )
        stats.index_removed = sum(1 for d in decisions.values() if d.kept >= n)
        if pairs_out:
            _write_pairs(pairs_out, log.read(), keys, doc_ids, rank, pinned)
        log.close()
        stats.clusters = len(clusters)
        stats.seconds["cluster"] = round(time.perf_counter() - t4, 3)

        # ---- stage 7: write
        t5 = time.perf_counter()
        kept_w = open_writer(kept, output_format, default=default_out)
        writers.append(kept_w)
        removed_w = open_writer(removed, "jsonl") if removed else None
        clusters_w = open_writer(clusters_out, "jsonl") if clusters_out else None
        writers += [w for w in (removed_w, clusters_w) if w is not None]
        keep_texts = idx is not None and update and idx.store_text
        kept_texts = _BlobFile(work / "kept_texts.bin", n) if keep_texts else None
        # kept records go to a JSONL output as the spooled line itself (same encoding)
        raw = isinstance(kept_w, JsonlWriter) and kept_texts is None
        strip_sites = site_lines is not None and write_repaired
        site_w = open_writer(site_out, "jsonl") if site_out and strip_sites else None
        if site_w is not None:
            writers.append(site_w)
        # removed records go to a JSONL output as the spooled line with the removal
        # fields appended, when the positions of records without an id are known
        lacks_id = set(no_id) if no_id is not None else None
        append = isinstance(removed_w, JsonlWriter) and lacks_id is not None
        where = _RecordIndex.load(work / "records.npz")
        starts, ends = where.start, where.end
        removed_mask = np.zeros(n, dtype=bool)
        removed_mask[[i for i in decisions if i < n]] = True
        # kept records as they came: written a run of lines at a time
        plain = raw and not strip_sites
        removed_by: dict[str, int] = dict.fromkeys(("exact", *REASONS), 0)
        with where.reader() as read:
            for lo, hi, data in read(_WRITE_BLOCK):
                base = int(starts[lo])
                if plain:
                    for a, b in (_true_runs(~removed_mask[lo:hi]) + lo).tolist():
                        run = data[int(starts[a]) - base : int(ends[b - 1]) - base]
                        kept_w.write_lines(run, b - a)
                        stats.kept += b - a
                    todo = np.flatnonzero(removed_mask[lo:hi]) + lo
                else:
                    todo = np.arange(lo, hi)
                for pos, first, last in zip(
                    todo.tolist(), (starts[todo] - base).tolist(), (ends[todo] - base).tolist(),
                    strict=True,
                ):  # fmt: skip
                    line = bytes(data[first:last])
                    doc_id = doc_ids[pos]
                    d = decisions.get(pos)
                    stripped = d is None and strip_sites and site_hit[pos]
                    if d is None and raw and not stripped:
                        kept_w.write_line(line)
                        stats.kept += 1
                        continue
                    if d is not None:
                        removed_by[d.reason] += 1
                        if removed_w is not None:
                            _write_removed(removed_w, line, pos, doc_id, doc_ids[d.kept], d,
                                           append, lacks_id, id_field, text_field)  # fmt: skip
                        continue
                    record = json.loads(line)
                    if stripped and isinstance(record.get(text_field), str):
                        assert site_lines is not None
                        text, site_removed = site_lines.strip(record[text_field], doc_sites[pos])
                        record[text_field] = text
                        if site_removed:
                            stats.site_documents += 1
                            stats.site_lines_removed += len(site_removed)
                            if site_w is not None:
                                site_w.write({"id": doc_id, "site": doc_sites[pos],
                                              "removed": site_removed})  # fmt: skip
                    kept_w.write(record, text_field, doc_id)
                    stats.kept += 1
                    if kept_texts is not None and isinstance(record.get(text_field), str):
                        kept_texts.put(pos, record[text_field])
        for reason, count in removed_by.items():
            stats.removed += count
            setattr(stats, f"{reason}_removed", getattr(stats, f"{reason}_removed") + count)
        if clusters_w is not None:
            for c in clusters:
                clusters_w.write_line(_cluster_line(c, decisions, doc_ids, n).encode("utf-8"))
        stats.seconds["write"] = round(time.perf_counter() - t5, 3)
        if idx is not None and update:
            # written now, made visible by the commit once every output is in place
            t6 = time.perf_counter()
            kept_mask = np.ones(n, dtype=bool)
            kept_mask[[i for i in decisions if i < n]] = False
            stats.index_batch = idx.add_batch(
                inputs=[os.path.abspath(p) if p != "-" else p for p in inputs],
                ids=doc_ids[:n], keys=keys[:n], lengths=lengths[:n], kept=kept_mask,
                content=content, signatures=sigs, bands=mixed, no_bands=empty_content,
                alias_of={i: d.kept for i, d in decisions.items() if d.reason != "exact"},
                index_rows=found.rows, boilerplate=learned,
                texts=kept_texts.finish() if kept_texts is not None else None,
            )  # fmt: skip
            stats.seconds["index_add"] = round(time.perf_counter() - t6, 3)
        stats.seconds["total"] = round(time.perf_counter() - t0, 3)
        stats.check()
        if stats_out:
            with open_writer(stats_out, "jsonl") as sw:
                run_info = {"stats": stats.to_dict(), "settings": asdict(config)}
                if index is not None:
                    run_info["index"] = os.path.abspath(index)
                sw.write(run_info)
    except BaseException:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
        for w in writers:
            w.abort()
        if idx is not None:
            idx.close()
        if tmp_ctx is not None:
            tmp_ctx.cleanup()
        raise
    try:
        for w in writers:
            w.close()
        if idx is not None:
            idx.commit()
    finally:
        if idx is not None:
            idx.close()
        if tmp_ctx is not None:
            tmp_ctx.cleanup()
    return stats


class _BlobFile(Sequence[bytes]):
    """zlib-compressed texts of some documents of a batch, in a work file, read back by
    position (b"" for a document without one)."""

    def __init__(self, path: Path, n: int):
        self.path, self._f = path, path.open("wb")
        self._start = np.zeros(n, dtype=np.int64)
        self._end = np.zeros(n, dtype=np.int64)
        self._fd = -1

    def put(self, i: int, text: str) -> None:
        import zlib

        data = zlib.compress(text.encode("utf-8"), 6)
        self._start[i] = self._f.tell()
        self._f.write(data)
        self._end[i] = self._f.tell()

    def finish(self) -> _BlobFile:
        self._f.close()
        self._fd = os.open(self.path, os.O_RDONLY)
        return self

    def __len__(self) -> int:
        return len(self._start)

    def __getitem__(self, i):  # type: ignore[override]
        a, b = int(self._start[i]), int(self._end[i])
        return os.pread(self._fd, b - a, a) if b > a else b""


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
        empty = np.zeros(0, np.int64)
        docs = IndexDocs(empty, [], [], empty, empty, np.zeros((0, config.num_perm), np.uint32))
        return _FromIndex(docs, [], np.zeros((0, 2), np.int64), 0)
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


def _unique_id(
    item: Document,
    ids: dict[str, tuple[str, int]],
    dedupe: bool,
    taken: Callable[[str], bool] | None = None,
) -> str:
    """The document's id, unique in the run (and, with ``taken``, among the ids of the
    index the run adds to)."""
    doc_id = item.id

    def used(x: str) -> bool:
        return x in ids or (taken is not None and taken(x))

    if used(doc_id):
        if not dedupe:
            if doc_id in ids:
                path, line = ids[doc_id]
                where = f"first seen at {path}:{line}"
            else:
                where = "already in the index (added by an earlier batch)"
            raise InputError(
                f"duplicate id {doc_id!r}, {where}; make ids unique or "
                "pass --dedupe-ids (later copies get the suffix #2, #3, ...)",
                item.path,
                item.line,
            )
        n = 2
        while used(f"{doc_id}#{n}"):
            n += 1
        doc_id = f"{doc_id}#{n}"
    ids[doc_id] = (item.path, item.line)
    return doc_id


_STAGE1_FORMAT = 3  # 3: records.npz says where each record is (spool or input)


_json_str = json.JSONEncoder(ensure_ascii=False).encode  # one value as JSON text


def _jsonl(obj) -> str:
    return json.dumps(obj, ensure_ascii=False) + "\n"


def _cluster_line(c: Cluster, decisions: dict[int, Decision], doc_ids, n: int) -> str:
    """The clusters-file line of ``c``, as :func:`_jsonl` writes::

        {"cluster": C, "kept": ID, "size": S, "tightness": T, "members": [
          {"id": ID, "reason": "kept", "similarity": 1.0[, "indexed": true]},
          {"id": ID, "reason": R, "similarity": X[, "scores": {...}]}, ...]}

    (``indexed``: kept by an earlier batch of the index), built from pieces: several
    times faster than building the dicts for ``json.dumps``."""
    members = []
    for m in c.members:
        head = f'{{"id": {_json_str(doc_ids[m])}, "reason": '
        if m == c.kept:
            members.append(head + ('"kept", "similarity": 1.0, "indexed": true}' if m >= n
                                   else '"kept", "similarity": 1.0}'))  # fmt: skip
            continue
        d = decisions[m]
        entry = f'{head}"{d.reason}", "similarity": {json_number(round(d.similarity, 4))}'
        if d.scores is not None:
            entry += f', "scores": {d.scores.to_json()}'
        members.append(entry + "}")
    return (
        f'{{"cluster": {c.number}, "kept": {_json_str(doc_ids[c.kept])}, '
        f'"size": {len(c.members)}, "tightness": {json_number(round(c.tightness, 4))}, '
        f'"members": [{", ".join(members)}]}}\n'
    )


def _fingerprint(inputs, input_format, text_field, id_field, dedupe_ids, clean, ngram, fuzzy,
                 write_repaired, keep_spec, index_state=None, site_field=None) -> str | None:  # fmt: skip
    """What stage 1's results depend on; None when they cannot be reused (stdin)."""
    from . import __version__

    files = []
    for p in inputs:
        if p == "-":
            return None
        try:
            st = os.stat(p)
        except FileNotFoundError:
            raise InputError("no such file", p) from None
        files.append([os.path.abspath(p), st.st_size, st.st_mtime_ns])
    return json.dumps(
        {
            "format": _STAGE1_FORMAT, "neardup": __version__, "inputs": files,
            "input_format": input_format, "text_field": text_field, "id_field": id_field,
            "dedupe_ids": dedupe_ids, "clean": asdict(clean), "ngram": ngram, "fuzzy": fuzzy,
            "write_repaired": write_repaired,
            "keep": keep_spec if isinstance(keep_spec, str) else "callable",
            "index": index_state,  # ids are checked against the index a run adds to
            "site_field": site_field,
        },
        sort_keys=True,
    )  # fmt: skip


#: bytes of records read at a time by the write stage
_WRITE_BLOCK = 4 << 20


class _RecordIndex:
    """Where each document's record (one JSON line) is: bytes ``start`` to ``end`` of
    source ``src`` (0: the spool, the records that had to be encoded again or came
    compressed; 1, 2, ...: the input files, read again by the write stage: the resume
    fingerprint holds their sizes and times)."""

    def __init__(self, sources: list[str]):
        self.sources = sources
        self._src, self._start, self._end = array("b"), array("q"), array("q")

    def add(self, src: int, start: int, end: int) -> None:
        self._src.append(src)
        self._start.append(start)
        self._end.append(end)

    def save(self, path: Path) -> None:
        np.savez(path, src=np.frombuffer(self._src, dtype=np.int8),
                 start=np.frombuffer(self._start, dtype=np.int64),
                 end=np.frombuffer(self._end, dtype=np.int64),
                 sources=np.array(self.sources, dtype=str))  # fmt: skip

    @classmethod
    def load(cls, path: Path) -> _RecordIndex:
        data = np.load(path)
        index = cls(data["sources"].tolist())
        index.src, index.start, index.end = data["src"], data["start"], data["end"]
        return index

    @contextlib.contextmanager
    def reader(self):
        """A function of a block size that gives (lo, hi, bytes) for runs of documents
        whose records follow each other in one source (about that many bytes each)."""
        files: dict[int, BinaryIO] = {}

        def blocks(size: int) -> Iterator[tuple[int, int, memoryview]]:
            src, start, end = self.src, self.start, self.end
            n = len(src)
            # documents that do not continue the previous one's bytes start a segment
            cut = np.flatnonzero((src[1:] != src[:-1]) | (start[1:] != end[:-1])) + 1
            bounds = [0, *cut.tolist(), n] if n else [0]
            for seg_lo, seg_hi in itertools.pairwise(bounds):
                lo = seg_lo
                while lo < seg_hi:
                    limit = int(start[lo]) + size
                    hi = max(lo + 1, int(np.searchsorted(end[lo:seg_hi], limit, "right")) + lo)
                    s = int(src[lo])
                    if s not in files:
                        files[s] = open(self.sources[s], "rb")  # noqa: SIM115
                    f = files[s]
                    f.seek(int(start[lo]))
                    yield lo, hi, memoryview(f.read(int(end[hi - 1]) - int(start[lo])))
                    lo = hi

        try:
            yield blocks
        finally:
            for f in files.values():
                f.close()


def _true_runs(mask: np.ndarray) -> np.ndarray:
    """(start, stop) of each run of True in ``mask``, as rows of an array."""
    edges = np.diff(np.concatenate(([0], mask.view(np.int8), [0])))
    return np.stack([np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)], axis=1)


def _write_removed(out, line: bytes, pos: int, doc_id: str, kept_id: str, d: Decision,
                   append: bool, lacks_id, id_field: str, text_field: str) -> None:  # fmt: skip
    """Write the spooled record ``line`` of a removed document with the removal fields:
    appended to the line itself when ``append`` allows it, re-encoded otherwise."""
    similarity = round(d.similarity, 4)
    if append:
        added = (f'"duplicate_of": {_json_str(kept_id)}, "cluster": {d.cluster}, '
                 f'"similarity": {json_number(similarity)}, "reason": "{d.reason}"')  # fmt: skip
        keys = _REMOVAL_KEYS
        if pos in lacks_id:
            # a record without an id gets the one neardup used (FILE:LINE), so every
            # removed line says which it was
            key = _json_str(id_field)
            added = f"{key}: {_json_str(doc_id)}, {added}"
            keys = _keys_re((*_REMOVAL_PATTERNS, re.escape(key.encode("utf-8"))))
        appended = _append_encoded(line, added.encode("utf-8"), keys)
        if appended is not None:
            out.write_line(appended)
            return
    record = json.loads(line)
    record.setdefault(id_field, doc_id)
    record.update(
        {"duplicate_of": kept_id, "cluster": d.cluster, "similarity": similarity,
         "reason": d.reason}
    )  # fmt: skip
    out.write(record, text_field, doc_id)


@functools.lru_cache(maxsize=8)
def _keys_re(patterns: tuple[bytes, ...]) -> re.Pattern:
    """One scan for any of ``patterns`` (escaped keys; faster than a search for each)."""
    return re.compile(b"|".join(patterns))


_REMOVAL_PATTERNS = tuple(re.escape(f'"{k}"'.encode()) for k in
                          ("duplicate_of", "cluster", "similarity", "reason"))  # fmt: skip
_REMOVAL_KEYS = _keys_re(_REMOVAL_PATTERNS)


def _append_fields(line: bytes, encoded: Sequence[tuple[str, str]]) -> bytes | None:
    """The JSON object ``line`` (UTF-8) with fields added at its end, as bytes (what
    ``json.dumps`` of the parsed record with the fields set gives, for a line that
    ``json.dumps`` wrote); ``encoded``: (key, value) pairs, each already JSON. None when
    that cannot be done safely: the line does not end with ``}`` or one of the keys
    appears in it (it may be a key already)."""
    if not encoded:
        body = line.rstrip()
        return body + b"\n" if body.endswith(b"}") else None
    added = ", ".join(f"{k}: {v}" for k, v in encoded).encode("utf-8")
    keys = _keys_re(tuple(re.escape(k.encode("utf-8")) for k, _ in encoded))
    return _append_encoded(line, added, keys)


def _append_encoded(line: bytes, added: bytes, keys: re.Pattern) -> bytes | None:
    """:func:`_append_fields` with the fields already joined (``"k": v, "k2": v2``) and
    their keys as one pattern."""
    body = line.rstrip()
    if not body.endswith(b"}") or keys.search(body):
        return None
    body = body[:-1].rstrip()
    return b"".join((body, b"" if body.endswith(b"{") else b", ", added, b"}\n"))


def _save_stage1(
    work: Path, fingerprint, store, doc_ids, policy_records, counters, doc_sites, no_id
) -> None:
    if fingerprint is None:
        return
    store.save(work / "stage1.npz")
    manifest = {"fingerprint": fingerprint, "doc_ids": doc_ids, "doc_sites": doc_sites,
                "policy_records": policy_records, "counters": list(counters),
                "no_id": no_id}  # fmt: skip
    tmp = work / "stage1.json.part"
    tmp.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, work / "stage1.json")  # written last: its presence marks stage 1 done


def _load_stage1(work: Path, fingerprint):
    """Stage 1's results from an earlier run with the same inputs and settings, or None."""
    manifest_path = work / "stage1.json"
    if fingerprint is None or not manifest_path.exists():
        return None
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    needed = ("records.jsonl", "records.npz", "shingles.u32", "stage1.npz", "rejects.jsonl",
              "repairs.jsonl")  # fmt: skip
    if manifest.get("fingerprint") != fingerprint or not all((work / f).exists() for f in needed):
        return None
    store = FeatureStore.load(work / "shingles.u32", work / "stage1.npz")
    return (
        store,
        manifest["doc_ids"],
        manifest["policy_records"],
        tuple(manifest["counters"]),
        manifest.get("doc_sites") or [],
        manifest.get("no_id"),  # None: not known (an older work directory)
    )


class _CopyWriter:
    """Puts a finished work-directory file at its output path when the run succeeds
    (same temporary-name-then-rename rule as the other outputs)."""

    def __init__(self, target: str, source: Path):
        self.target, self.source = target, source

    def close(self) -> None:
        target = Path(self.target)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.part-{os.getpid()}")
        shutil.copyfile(self.source, tmp)
        os.replace(tmp, target)

    def abort(self) -> None:
        pass
