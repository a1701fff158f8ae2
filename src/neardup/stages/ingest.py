"""Stage 1 of a dedup run: read the inputs, repair each text and compute its features
(exact key, paragraph hashes, word n-gram shingles), in the workers (the lines of JSONL
input are parsed there too). The records go to a spool in the work directory, or are
read again from their input files by the write stage; the features go to a
:class:`FeatureStore`. A later run on the same inputs with the same settings reads all
that back from the work directory."""

from __future__ import annotations

import functools
import itertools
import json
import os
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO, NamedTuple, TextIO

import numpy as np
import xxhash

from .. import dispatch, kernels
from ..config import CleanConfig
from ..document import Document
from ..engines import map_ordered
from ..errors import InputError
from ..fragments import truncated_line
from ..io import Reject, detect_format, read_texts
from ..io.formats import is_plain_file, jsonl_lines, parse_jsonl_line
from ..io.paths import is_uri
from ..io.remote import stamp
from ..normalize import normalize_and_explain
from ..pipeline import _batched, _texts, audit_record, count_reject
from ..repair import Repair, TextWords, _repair_normalized, repair_with_words
from ..shingles import line_words, shingle_hashes
from ..signatures import exact_key, paragraph_hash
from ..sites import site_of
from ..workdir import _ArrayFile, _RecordIndex

BATCH_SIZE = 256


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
    return dispatch.call("features_batch", texts, clean, ngram, keep_key)


def _features_batch_python(
    texts: Sequence[str], clean: CleanConfig, ngram: int, keep_key: bool
) -> FeatureBatch:
    """:func:`features_batch` a text at a time (the Python path)."""
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
        if may_repeat:
            rep = _repair_normalized(text, steps, clean, None, None, may_repeat=True)
        elif rc.enabled and (fragment := truncated_line(text)) is not None:
            rep = _repair_normalized(text, steps, clean, None, None, False, fragment)
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


class Ingested(NamedTuple):
    """What stage 1 gives the later stages (the records themselves stay in the spool or
    their input files: ``records.npz`` says where)."""

    store: FeatureStore
    doc_ids: list[str]
    policy_records: list[dict | None] | None  # what the keep policy looks at, per document
    doc_sites: list[str | None]  # each document's site (empty without site boilerplate)
    no_id: list[int] | None  # documents whose record has no id field (None: not known)
    # what the results depend on (the start of the later stages' chain of fingerprints,
    # :mod:`neardup.stagerun`); None: not resumable (standard input)
    fingerprint: str | None = None


def ingest(
    inputs: Sequence[str],
    settings: _Stage1,
    *,
    input_format: str | None,
    dedupe_ids: bool,
    with_sites: bool,
    work: Path,
    resumable: bool,
    index,
    update: bool,
    workers: int,
    pool,
    rejects: str | None,
    progress: Callable[[int], None] | None,
    stats,
) -> Ingested:
    """Stage 1: read, repair, features; the records spooled to ``work`` (and the rejects
    and the repairs' audit lines written there). With ``resumable`` (``work`` is not a
    temporary directory) the results are saved there too, and read back instead when an
    earlier run saved them for the same inputs and settings. ``stats``: the run's
    :class:`~neardup.dedup.DedupStats` (the reading counters are set here)."""
    fingerprint = _fingerprint(
        inputs, input_format, settings.text_field, settings.id_field, dedupe_ids,
        settings.clean, settings.ngram, settings.keep_key, settings.write_repaired,
        settings.fields, index.state() if index is not None and update else None,
        settings.site_field,
    )  # fmt: skip
    resumed = _load_stage1(work, fingerprint) if resumable else None
    if resumed is not None:
        store, doc_ids, policy_records, counters, doc_sites, no_id = resumed
        stats.read, stats.rejected, stats.repaired, stats.skipped = counters[:4]
        stats.skipped_reasons = dict(counters[4])
        stats.resumed = True
        return Ingested(store, doc_ids, policy_records, doc_sites, no_id, fingerprint)
    # the marker goes before the files it vouches for are written again
    (work / "stage1.json").unlink(missing_ok=True)
    # ids must stay unique across the batches of an index
    taken = index.has_id if index is not None and update else None
    got = _read(inputs, settings, input_format, dedupe_ids, taken, with_sites, work, workers,
                pool, rejects, progress, stats)  # fmt: skip
    if resumable:  # a temporary work directory is never resumed from
        _save_stage1(work, fingerprint, got.store, got.doc_ids, got.policy_records,
                     (stats.read, stats.rejected, stats.repaired, stats.skipped,
                      stats.skipped_reasons), got.doc_sites, got.no_id)  # fmt: skip
    return got._replace(fingerprint=fingerprint)


def _read(inputs: Sequence[str], settings: _Stage1, input_format: str | None, dedupe_ids: bool,
          taken: Callable[[str], bool] | None, with_sites: bool, work: Path, workers: int, pool,
          rejects: str | None, progress: Callable[[int], None] | None, stats) -> Ingested:  # fmt: skip
    """Stage 1 over the inputs (not resumed): features to the store, records to the
    spool (those that are not read again from their input files), where each one is to
    ``records.npz``."""
    store = FeatureStore(work / "shingles.u32")
    # JSONL input: the workers parse the lines too (the main process only reads
    # them); other formats are read here and the workers get the texts
    jsonl_in = all(detect_format(p, input_format) == "jsonl" for p in inputs)
    if jsonl_in:
        batches: Iterator = _line_batches(inputs, BATCH_SIZE)
        func: Callable = functools.partial(stage1_lines, settings=settings)
        arg = None
    else:
        # pages are extracted by local processes (a Ray engine's workers can be a
        # cluster's CPUs: more than this machine has)
        local = min(workers, os.cpu_count() or 1)
        batches = _batched(read_texts(inputs, input_format, settings.text_field,
                                      settings.id_field, local), BATCH_SIZE)  # fmt: skip
        func = functools.partial(features_batch, clean=settings.clean, ngram=settings.ngram,
                                 keep_key=settings.keep_key)  # fmt: skip
        arg = _texts
    # where each document's record is: a line of an input file read as it came
    # (source 1, 2, ...), or else of the spool (source 0)
    where = _RecordIndex([str(work / "records.jsonl"), *inputs])
    readable = [is_plain_file(p) for p in inputs]
    with (
        (work / "records.jsonl").open("wb") as spool,
        (work / "rejects.jsonl").open("w", encoding="utf-8") as reject_out,
        (work / "repairs.jsonl").open("w", encoding="utf-8") as repairs_w,
    ):
        reading = _Reading(
            settings, dedupe_ids, taken, with_sites, where, stats, progress,
            (lambda d: reject_out.write(_jsonl(d))) if rejects else None, repairs_w,
        )  # fmt: skip
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
            spool.writelines(reading.add(items, features.repairs, lines, offsets, source))
    store.finish()
    where.save(work / "records.npz")
    return Ingested(
        store, reading.doc_ids, reading.policy_records, reading.doc_sites, reading.no_id
    )


class _Reading:
    """What stage 1 keeps of the documents as their batches come in (a fresh read)."""

    def __init__(self, settings: _Stage1, dedupe_ids: bool, taken: Callable[[str], bool] | None,
                 with_sites: bool, where: _RecordIndex, stats,
                 progress: Callable[[int], None] | None,
                 write_reject: Callable[[dict], object] | None, repairs: TextIO):  # fmt: skip
        self.settings, self.dedupe_ids, self.taken = settings, dedupe_ids, taken
        self.with_sites, self.where, self.stats, self.progress = with_sites, where, stats, progress
        self.write_reject, self.repairs = write_reject, repairs
        self.ids: dict[str, tuple[str, int]] = {}
        self.doc_ids: list[str] = []
        self.doc_sites: list[str | None] = []
        self.no_id: list[int] = []  # documents whose record has no id field
        self.policy_records: list[dict | None] | None = [] if settings.fields is not None else None
        self.spool_pos = 0

    def add(
        self,
        items: Sequence[DocMeta | Reject],
        repairs: Sequence[Repair | None],
        lines: Sequence[bytes],
        offsets: Sequence[int],
        source: int,
    ) -> list[bytes]:
        """Take a batch: its documents or rejects (``items``), the documents' repairs,
        their lines at ``offsets`` of input ``source`` (0: none); returns the lines that go
        to the spool."""
        stats, where, id_field = self.stats, self.where, self.settings.id_field
        reps = iter(repairs)
        parts = []
        for item, line, offset in zip(items, lines, offsets, strict=True):
            stats.read += 1
            if self.progress is not None:
                self.progress(1)
            if isinstance(item, Reject):
                count_reject(stats, item, self.write_reject)
                continue
            rep = next(reps)
            doc_id = _unique_id(item, self.ids, self.dedupe_ids, self.taken)
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
                where.add(0, self.spool_pos, self.spool_pos + len(line))
                self.spool_pos += len(line)
            if not item.has_id:
                self.no_id.append(len(self.doc_ids))
            self.doc_ids.append(doc_id)
            if self.with_sites:
                self.doc_sites.append(item.site)
            if self.policy_records is not None:
                self.policy_records.append(item.fields)
            if rep is not None and rep.removed:
                stats.repaired += 1
            if rep is not None and (rep.removed or rep.skipped):
                self.repairs.write(_jsonl(audit_record(item, rep, doc_id)))
        return parts


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


def _jsonl(obj) -> str:
    return json.dumps(obj, ensure_ascii=False) + "\n"


def _fingerprint(inputs, input_format, text_field, id_field, dedupe_ids, clean, ngram, fuzzy,
                 write_repaired, fields, index_state=None, site_field=None) -> str | None:  # fmt: skip
    """What stage 1's results depend on; None when they cannot be reused (stdin)."""
    from .. import __version__

    files = []
    for p in inputs:
        if p == "-":
            return None
        if is_uri(p):  # its size and version (ETag), from the file system
            files.append(stamp(p))
            continue
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
            "fields": fields,  # of each record, for the keep policy (itself the cluster stage's)
            "index": index_state,  # ids are checked against the index a run adds to
            "site_field": site_field,
        },
        sort_keys=True,
    )  # fmt: skip


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
