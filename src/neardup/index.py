"""A persistent index of kept documents, so that each new crawl is deduplicated against
everything kept before without processing history again (``neardup index``,
``neardup run --index FILE --update``).

One SQLite file (standard library ``sqlite3``, write-ahead log; no server, no pickles):

* ``meta``: the settings that decide signatures and verification, pinned at creation
  (format version, datasketch scheme, num_perm, seed, n-gram, LSH bands and rows,
  thresholds, verification method, normalisation and repair settings);
* ``docs``: one row per kept document: its id, exact key, length, sorted unique content
  shingles (what verification compares), MinHash signature and band keys;
* ``bands`` / ``keys``: band key -> document and exact key -> document, the lookups a new
  batch makes. A document a batch removed as a near copy is remembered as an *alias* of
  the document it duplicates (its exact key and band keys point there), so a later copy
  closer to it than to the kept original is still found, as in a single run;
* ``boilerplate``: paragraph hashes learned as site boilerplate by earlier batches;
* ``batches``: one row per batch added.

A batch is added in one transaction, after its outputs are written: a process killed at
any moment leaves the index as it was before the batch or after it. A run that updates
the index holds SQLite's write lock from its first lookup to its commit, so a second
writer waits (up to ``lock_timeout`` seconds) and then fails with a clear message;
readers never wait (write-ahead log).
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from .arrays import sorted_unique
from .candidates import MAX_BUCKET_PAIRS, lsh_params
from .config import CleanConfig, DedupConfig
from .errors import ConfigError, NeardupError
from .signatures import SCHEME

#: version of the index's layout; an index written by another version is refused
FORMAT = 1
#: the DedupConfig fields pinned in the index (the others, keep policy and boilerplate
#: thresholds, may change from batch to batch)
PINNED = ("threshold", "containment", "verify", "ngram", "num_perm", "seed")
_MIX = np.uint64(0x9E3779B97F4A7C15)
#: keys passed to SQLite in one JSON array
_PROBE_CHUNK = 1 << 19
#: batch documents whose band keys are looked up together
_LOOKUP_DOCS = 16384


class IndexError_(NeardupError):
    """The index file cannot be used as asked (missing, locked, other settings)."""


def _signed(values: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(values, dtype=np.uint64).view(np.int64)


def mixed_band_keys(keys: np.ndarray, offset: int = 0) -> np.ndarray:
    """Band keys (n_docs, bands) as one int64 per (document, band) with the band number
    mixed in, so that one table holds every band (``offset`` separates lead bands)."""
    bands = np.arange(offset, offset + keys.shape[1], dtype=np.uint64) + np.uint64(1)
    with np.errstate(over="ignore"):
        return _signed(keys ^ (bands * _MIX))


@dataclass
class IndexInfo:
    path: str
    format: int
    neardup: str
    created: str
    documents: int
    aliases: int
    batches: int
    boilerplate_paragraphs: int
    bytes: int
    settings: dict

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class IndexDocs:
    """Documents of the index fetched for one batch: row numbers, ids, exact keys,
    lengths, numbers of content shingles and signatures."""

    rows: np.ndarray
    ids: list[str]
    keys: list[int]
    lengths: np.ndarray
    sizes: np.ndarray
    signatures: np.ndarray

    def subset(self, keep: np.ndarray) -> IndexDocs:
        """The documents at positions ``keep`` (sorted)."""
        pick = keep.tolist()
        return IndexDocs(
            self.rows[keep], [self.ids[i] for i in pick], [self.keys[i] for i in pick],
            self.lengths[keep], self.sizes[keep], self.signatures[keep],
        )  # fmt: skip


class Index:
    """An open index. Create one with :meth:`create`, open it with :meth:`open`."""

    def __init__(self, path: Path, conn: sqlite3.Connection, write: bool):
        self.path = path
        self.conn = conn
        self.write = write
        meta = dict(conn.execute("SELECT name, value FROM meta").fetchall())
        self.meta = meta
        if int(meta.get("format", -1)) != FORMAT:
            raise IndexError_(
                f"{path}: index format {meta.get('format')} was written by neardup "
                f"{meta.get('neardup')}; this neardup reads format {FORMAT}. Create a new "
                "index with `neardup index create` and add the batches again"
            )
        self.settings: dict = json.loads(meta["settings"])
        self.clean_settings: dict = json.loads(meta["clean"])
        self.config = DedupConfig(**{k: self.settings[k] for k in PINNED})
        self.bands, self.rows = self.settings["bands"], self.settings["rows"]
        self.leads = bool(self.settings["leads"])
        self.store_text = bool(self.settings.get("store_text", False))
        self._in_batch = False
        self._reading = False
        self.lock_timeout = 30.0

    # ------------------------------------------------------------------ open / create

    @staticmethod
    def _connect(path: Path, timeout: float) -> sqlite3.Connection:
        conn = sqlite3.connect(str(path), timeout=timeout, isolation_level=None)
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA temp_store=MEMORY")
        conn.execute("PRAGMA cache_size=-65536")
        return conn

    @classmethod
    def create(
        cls,
        path: str | os.PathLike,
        config: DedupConfig | None = None,
        clean: CleanConfig | None = None,
        store_text: bool = False,
    ) -> Index:
        """A new, empty index at ``path`` with these settings pinned. ``store_text``
        keeps the text of every kept document too (zlib-compressed), so that
        ``neardup explain`` can show a diff against a document kept by an earlier batch."""
        from . import __version__

        config = config or DedupConfig()
        clean = clean or CleanConfig()
        if config.verify == "fuzzy":
            raise ConfigError(
                "an index cannot use --verify fuzzy (it compares texts, and the index keeps "
                "shingles and signatures, not texts); use containment or jaccard"
            )
        path = Path(path)
        if path.exists():
            raise IndexError_(f"{path} already exists; pick another name or delete it first")
        bands, rows = lsh_params(config.candidate_threshold, config.num_perm)
        from .stages.signatures import LEAD_SHINGLES

        settings = {k: getattr(config, k) for k in PINNED}
        settings.update(
            bands=bands, rows=rows, scheme=SCHEME,
            leads=config.verify in ("containment", "fuzzy"), lead_shingles=LEAD_SHINGLES,
            store_text=bool(store_text),
        )  # fmt: skip
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # a file where a folder must be
            raise IndexError_(f"{path}: cannot create the index here ({exc.strerror})") from None
        conn = cls._connect(path, 0)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.executescript(_SCHEMA)
        meta = {
            "format": str(FORMAT),
            "neardup": __version__,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "settings": json.dumps(settings, sort_keys=True),
            "clean": json.dumps(asdict(clean), sort_keys=True),
        }
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
        conn.execute("COMMIT")
        return cls(path, conn, write=False)

    @classmethod
    def open(
        cls, path: str | os.PathLike, write: bool = False, lock_timeout: float = 30.0
    ) -> Index:
        """Open an existing index. ``write=True`` takes the write lock now (waiting up to
        ``lock_timeout`` seconds for another writer) and keeps it until :meth:`commit` or
        :meth:`rollback`; lookups then see the index as it is when the lock is taken.
        Without it, everything read sees one snapshot, the index as it is when opened,
        whatever writers commit meanwhile (until :meth:`close`)."""
        path = Path(path)
        if not path.is_file():
            raise IndexError_(
                f"{path}: no such index; create it with `neardup index create {path}`"
            )
        try:
            conn = cls._connect(path, lock_timeout)
            index = cls(path, conn, write)
        except sqlite3.DatabaseError as exc:
            raise IndexError_(f"{path}: not a neardup index ({exc})") from None
        index.lock_timeout = lock_timeout
        if write:
            index._begin_write(lock_timeout)
        else:  # a read transaction: one consistent snapshot (write-ahead log: no lock)
            conn.execute("BEGIN")
            conn.execute("SELECT COUNT(*) FROM batches").fetchone()
            index._reading = True
        return index

    def _begin_write(self, lock_timeout: float) -> None:
        if self._reading:
            self.conn.execute("COMMIT")
            self._reading = False
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise IndexError_(
                    f"{self.path}: another process is adding a batch to this index (waited "
                    f"{lock_timeout:g} s); run again when it has finished"
                ) from None
            raise
        self._in_batch = True

    def close(self) -> None:
        if self._in_batch:
            self.rollback()
        if self._reading:
            self.conn.execute("COMMIT")
            self._reading = False
        self.conn.close()

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ settings

    def dedup_config(
        self, given: dict | None = None, base: DedupConfig | None = None
    ) -> DedupConfig:
        """The run's settings: the index's pinned settings, the others from ``base``.
        ``given`` holds the settings the user asked for explicitly; one that differs from
        the index's is an error naming it."""
        for name, value in (given or {}).items():
            if name in PINNED and value != self.settings[name]:
                raise ConfigError(
                    f"index {self.path} was created with --{name.replace('_', '-')} "
                    f"{self.settings[name]}; this run asks for {value}. Leave the option "
                    "out (the index's value is used) or create a new index with "
                    "`neardup index create`"
                )
        base = base or DedupConfig()
        return replace(base, **{k: self.settings[k] for k in PINNED})

    def check(self, config: DedupConfig, clean: CleanConfig) -> None:
        """Raise ConfigError when ``config`` or ``clean`` would make signatures or
        decisions other than those the index holds."""
        self.dedup_config({k: getattr(config, k) for k in PINNED})
        current = asdict(clean)
        for group, values in self.clean_settings.items():
            for name, value in values.items():
                if current.get(group, {}).get(name) != value:
                    raise ConfigError(
                        f"index {self.path} was created with the {group} setting {name}="
                        f"{value}; this run uses {current.get(group, {}).get(name)}. Use "
                        "the index's setting or create a new index"
                    )

    # ------------------------------------------------------------------ reading

    def boilerplate(self) -> set[int]:
        return {h for (h,) in self.conn.execute("SELECT hash FROM boilerplate")}

    def state(self) -> list:
        """What changes when a batch is added or a document removed (for resuming)."""
        row = self.conn.execute("SELECT COUNT(*), COALESCE(MAX(doc), 0) FROM docs").fetchone()
        batches = self.conn.execute("SELECT COUNT(*) FROM batches").fetchone()[0]
        return [str(self.path.resolve()), *row, batches]

    def text(self, doc_id: str) -> str | None:
        """The stored text of a kept document (None: not stored, or no such id)."""
        import zlib

        row = self.conn.execute("SELECT text FROM docs WHERE id = ?", (doc_id,)).fetchone()
        if row is None or row[0] is None:
            return None
        return zlib.decompress(row[0]).decode("utf-8")

    def has_id(self, doc_id: str) -> bool:
        return (
            self.conn.execute("SELECT 1 FROM docs WHERE id = ?", (doc_id,)).fetchone() is not None
        )

    def _probe(self, table: str, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Rows (key, doc) of ``table`` whose key is among ``keys`` (int64, sorted, no
        repeats). The keys go to SQLite as one JSON array per chunk (``json_each``:
        parsed in C, far faster than binding millions of parameters from Python)."""
        found = [np.zeros((0, 2), dtype=np.int64)]
        for start in range(0, len(keys), _PROBE_CHUNK):
            part = json.dumps(keys[start : start + _PROBE_CHUNK].tolist())
            cursor = self.conn.execute(
                f"SELECT key, doc FROM {table} WHERE key IN (SELECT value FROM json_each(?))",
                (part,),
            )
            while rows := cursor.fetchmany(65536):
                found.append(np.array(rows, dtype=np.int64))
        both = np.concatenate(found)
        return both[:, 0].copy(), both[:, 1].copy()

    def lookup(
        self, exact: np.ndarray, bands: np.ndarray, docs: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Index documents a batch must be compared with.

        ``exact``: the batch's exact keys (uint64, one per document); ``bands``: its mixed
        band keys (int64, shape (n_docs, k)); ``docs``: which batch documents take part
        in the band lookup (all by default). Returns pairs (batch document, index row),
        sorted and without repeats. A band key shared by more than
        :data:`~neardup.candidates.MAX_BUCKET_PAIRS` index documents links the earliest
        of them only.
        """
        n = len(exact)
        which = np.arange(n, dtype=np.int64) if docs is None else np.asarray(docs, np.int64)

        def probes():
            yield "keys", _signed(np.asarray(exact, dtype=np.uint64)), np.arange(n)
            if bands.size:  # a block of documents at a time: memory stays small
                for start in range(0, len(which), _LOOKUP_DOCS):
                    w = which[start : start + _LOOKUP_DOCS]
                    yield "bands", bands[w].ravel(), np.repeat(w, bands.shape[1])

        parts_b, parts_r = [], []
        for table, probe_keys, probe_docs in probes():
            if not len(probe_keys):
                continue
            # sorted probes: unique keys for SQLite, and a cache-friendly join after
            order = np.argsort(probe_keys, kind="stable")
            probe_keys, probe_docs = probe_keys[order], probe_docs[order]
            first = np.concatenate(([True], probe_keys[1:] != probe_keys[:-1]))
            keys, rows = self._probe(table, probe_keys[first])
            if len(keys):
                b, r = _join(probe_keys, probe_docs, keys, rows)
                parts_b.append(b)
                parts_r.append(r)
        if not parts_b:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        b = np.concatenate(parts_b)
        r = np.concatenate(parts_r)
        width = int(r.max()) + 1
        codes = sorted_unique(b * width + r)
        return codes // width, codes % width

    def fetch(self, rows: np.ndarray) -> IndexDocs:
        """Ids, exact keys, lengths, numbers of shingles and signatures of index rows
        (``rows`` sorted); their content shingles are read by :meth:`fetch_content`, once
        the signatures have ruled most candidates out."""
        ids: list[str] = []
        keys: list[int] = []
        lengths: list[int] = []
        sizes: list[int] = []
        sigs: list[bytes] = []
        found: list[int] = []
        for part in _parts(rows):
            for doc, doc_id, key, length, size, sig in self.conn.execute(
                "SELECT doc, id, key, length, shingles, signature FROM docs "
                f"WHERE doc IN ({','.join('?' * len(part))}) ORDER BY doc",
                part,
            ):
                found.append(doc)
                ids.append(doc_id)
                keys.append(int(np.int64(key).view(np.uint64)))
                lengths.append(length)
                sizes.append(size)
                sigs.append(sig)
        num_perm = self.settings["num_perm"]
        signatures = (
            np.frombuffer(b"".join(sigs), dtype="<u4").reshape(len(sigs), num_perm)
            if sigs
            else np.zeros((0, num_perm), dtype=np.uint32)
        )
        return IndexDocs(
            np.array(found, dtype=np.int64), ids, keys, np.array(lengths, np.int64),
            np.array(sizes, np.int64), signatures,
        )  # fmt: skip

    def fetch_content(self, rows: np.ndarray, spool: Path | None = None) -> Sequence[np.ndarray]:
        """Sorted content shingles of index rows (``rows`` sorted), in that order. With
        ``spool`` (a folder) they go to a file there and are read back on demand, so
        memory does not grow with the number of index documents a batch meets."""
        from .workdir import _ContentStore

        out: list[np.ndarray] = []
        offsets = [0]
        f = (spool / "index_content.u32").open("wb") if spool is not None else None
        try:
            for part in _parts(rows):
                for (blob,) in self.conn.execute(
                    f"SELECT content FROM docs WHERE doc IN ({','.join('?' * len(part))}) "
                    "ORDER BY doc",
                    part,
                ):
                    if f is not None:
                        f.write(blob)
                        offsets.append(offsets[-1] + len(blob) // 4)
                    else:
                        out.append(np.frombuffer(blob, dtype="<u4"))
        finally:
            if f is not None:
                f.close()
        if spool is not None:
            return _ContentStore.one_after_another(
                spool / "index_content.u32", np.array(offsets, np.int64)
            )
        return out

    def query(self, text: str, top: int = 10) -> list[dict]:
        """The index documents nearest ``text`` (repaired and compared as a batch
        document would be), best first: id, the batch that added it, the verdict at the
        index's settings (``exact``, ``near``, ``contained`` or None) and the scores.
        Only documents that share an exact key or an LSH band with the text are scored
        (at the index's candidate threshold, those about that similar or more)."""
        from .candidates import band_keys
        from .repair import repair_with_words
        from .signatures import minhash_many
        from .stages.ingest import features
        from .stages.signatures import LEAD_SHINGLES, content_of
        from .verify import decide, score_pair

        clean = CleanConfig(**_clean_kwargs(self.clean_settings))
        config = self.config
        rep, lines = repair_with_words(text, clean)
        f = features(rep.text, config.ngram, False, lines)
        content, lead = content_of(
            f.shingles, f.para_hash, f.para_first, self.boilerplate(), LEAD_SHINGLES
        )
        sig = minhash_many([content], config.num_perm, config.seed)
        mixed = mixed_band_keys(band_keys(sig, self.bands, self.rows))
        if self.leads:
            lead_sig = minhash_many([lead], config.num_perm, config.seed)
            lead_keys = mixed_band_keys(band_keys(lead_sig, self.bands, self.rows), self.bands)
            mixed = np.hstack([mixed, lead_keys])
        probe = np.arange(1 if len(content) else 0, dtype=np.int64)
        _, rows = self.lookup(np.array([f.key], dtype=np.uint64), mixed, probe)
        got = self.fetch(sorted_unique(rows))
        got_content = self.fetch_content(got.rows)
        batch_of = dict(
            self.conn.execute(
                f"SELECT doc, batch FROM docs WHERE doc IN ({','.join('?' * len(got.rows))})",
                got.rows.tolist(),
            ).fetchall()
        )
        found = []
        for j, row in enumerate(got.rows.tolist()):
            score = score_pair(content, got_content[j], sig[0], got.signatures[j])
            if got.keys[j] == f.key:
                reason: str | None = "exact"
            else:
                reason = decide(
                    score, config.threshold, config.containment, config.verify, config.aligned
                )
            similarity = 1.0 if reason == "exact" else (
                score.containment if reason == "contained" else score.jaccard
            )  # fmt: skip
            found.append(
                {
                    "id": got.ids[j],
                    "batch": batch_of[row],
                    "duplicate": reason,
                    "similarity": round(similarity, 4),
                    "scores": score.to_dict(),
                }  # fmt: skip
            )
        found.sort(key=lambda d: (d["duplicate"] is None, -d["similarity"], d["id"]))
        return found[:top]

    # ------------------------------------------------------------------ writing

    def add_batch(
        self,
        *,
        inputs: Sequence[str],
        ids: Sequence[str],
        keys: Sequence[int],
        lengths: np.ndarray,
        kept: np.ndarray,
        content: Sequence[np.ndarray],
        signatures: Sequence[np.ndarray],
        bands: np.ndarray,
        no_bands: np.ndarray,
        alias_of: dict[int, int],
        index_rows: np.ndarray,
        boilerplate: Iterable[int],
        texts: Sequence[bytes] | None = None,
    ) -> int:
        """Write one batch (inside the transaction :meth:`open` with ``write=True``
        began; :meth:`commit` makes it visible). Documents ``kept`` become rows; a removed
        document ``i`` in ``alias_of`` (its kept document's position, a batch position
        below ``len(ids)`` or ``len(ids) + j`` for the ``j``-th of ``index_rows``)
        points its exact key and band keys at that document. Documents marked ``no_bands``
        (no content shingles: their signatures are all equal) get no band rows. Returns
        the batch number. ``texts``: the zlib-compressed text of document ``i`` (of the
        kept ones), stored when the index was created with ``store_text``."""
        if not self._in_batch:
            raise IndexError_("add_batch needs an index opened with write=True")
        conn = self.conn
        n = len(ids)
        (next_row,) = conn.execute("SELECT COALESCE(MAX(doc), 0) + 1 FROM docs").fetchone()
        (batch,) = conn.execute("SELECT COALESCE(MAX(batch), 0) + 1 FROM batches").fetchone()
        kept_idx = np.flatnonzero(kept)
        row_of = np.full(n, -1, dtype=np.int64)
        row_of[kept_idx] = next_row + np.arange(len(kept_idx))
        key_arr = _signed(np.asarray(keys, dtype=np.uint64))

        def doc_rows():
            for i, row in zip(kept_idx.tolist(), row_of[kept_idx].tolist(), strict=True):
                shingles = np.asarray(content[i], dtype="<u4")
                yield (
                    row, ids[i], batch, int(key_arr[i]), int(lengths[i]), len(shingles),
                    np.asarray(signatures[i], dtype="<u4").tobytes(), bands[i].tobytes(),
                    shingles.tobytes(), texts[i] if texts is not None and self.store_text else None,
                )  # fmt: skip

        conn.executemany("INSERT INTO docs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", doc_rows())
        alias_i = np.array(sorted(alias_of), dtype=np.int64)
        target = np.array([alias_of[i] for i in alias_i.tolist()], dtype=np.int64)
        target_row = np.empty(len(target), dtype=np.int64)
        in_batch = target < n
        target_row[in_batch] = row_of[target[in_batch]]
        target_row[~in_batch] = index_rows[target[~in_batch] - n]
        conn.executemany(
            "INSERT INTO aliases VALUES (?, ?, ?)",
            zip(target_row.tolist(), key_arr[alias_i].tolist(),
                (bands[i].tobytes() for i in alias_i.tolist()), strict=True),
        )  # fmt: skip
        # exact keys and band keys of kept documents and aliases, inserted in key order
        owners = np.concatenate([kept_idx, alias_i])
        owner_rows = np.concatenate([row_of[kept_idx], target_row])
        self._insert_pairs("keys", key_arr[owners], owner_rows)
        with_bands = ~np.asarray(no_bands, dtype=bool)[owners]
        owners, owner_rows = owners[with_bands], owner_rows[with_bands]
        if bands.shape[1] and len(owners):
            self._insert_pairs(
                "bands", bands[owners].ravel(), np.repeat(owner_rows, bands.shape[1])
            )
        conn.executemany(
            "INSERT OR IGNORE INTO boilerplate VALUES (?, ?)",
            ((int(h), batch) for h in sorted(boilerplate)),
        )
        conn.execute(
            "INSERT INTO batches VALUES (?, ?, ?, ?, ?, ?)",
            (batch, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), json.dumps(list(inputs)),
             n, int(len(kept_idx)), int(len(alias_i))),
        )  # fmt: skip
        return int(batch)

    def _insert_pairs(self, table: str, keys: np.ndarray, rows: np.ndarray) -> None:
        """Insert (key, doc) pairs in key order (a B-tree takes sorted keys far faster),
        passed as JSON arrays (see :meth:`_probe`)."""
        if not len(keys):
            return
        order = np.argsort(keys)  # (a pair inserted twice is ignored)
        keys, rows = keys[order], rows[order]
        del order
        conn = self.conn
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS owner(i INTEGER PRIMARY KEY, doc INTEGER)")
        for start in range(0, len(keys), _PROBE_CHUNK):
            conn.execute("DELETE FROM owner")
            conn.execute(
                "INSERT INTO owner SELECT key, value FROM json_each(?)",
                (json.dumps(rows[start : start + _PROBE_CHUNK].tolist()),),
            )
            conn.execute(
                f"INSERT OR IGNORE INTO {table} SELECT k.value, o.doc "
                "FROM json_each(?) k JOIN owner o ON o.i = k.key",
                (json.dumps(keys[start : start + _PROBE_CHUNK].tolist()),),
            )

    def commit(self) -> None:
        if self._in_batch:
            self.conn.execute("COMMIT")
            self._in_batch = False

    def rollback(self) -> None:
        if self._in_batch:
            self.conn.execute("ROLLBACK")
            self._in_batch = False

    def remove(self, ids: Iterable[str]) -> tuple[int, list[str]]:
        """Remove documents (and their aliases) by id, in one transaction; returns the
        number removed and the ids not found. Later copies of them are kept again."""
        self._begin_write(self.lock_timeout)
        removed, missing = 0, []
        try:
            for doc_id in ids:
                row = self.conn.execute(
                    "SELECT doc, key, bands FROM docs WHERE id = ?", (doc_id,)
                ).fetchone()
                if row is None:
                    missing.append(doc_id)
                    continue
                doc, key, band_blob = row
                owned = [(key, band_blob)] + self.conn.execute(
                    "SELECT key, bands FROM aliases WHERE doc = ?", (doc,)
                ).fetchall()
                for k, blob in owned:
                    self.conn.execute("DELETE FROM keys WHERE key = ? AND doc = ?", (k, doc))
                    self.conn.executemany(
                        "DELETE FROM bands WHERE key = ? AND doc = ?",
                        ((b, doc) for b in np.frombuffer(blob, dtype=np.int64).tolist()),
                    )
                self.conn.execute("DELETE FROM aliases WHERE doc = ?", (doc,))
                self.conn.execute("DELETE FROM docs WHERE doc = ?", (doc,))
                removed += 1
            self.commit()
        except BaseException:
            self.rollback()
            raise
        return removed, missing

    # ------------------------------------------------------------------ info

    def info(self) -> IndexInfo:
        c = self.conn
        size = sum(
            os.path.getsize(p) for p in (self.path, Path(f"{self.path}-wal")) if os.path.exists(p)
        )
        return IndexInfo(
            path=str(self.path),
            format=int(self.meta["format"]),
            neardup=self.meta["neardup"],
            created=self.meta["created"],
            documents=c.execute("SELECT COUNT(*) FROM docs").fetchone()[0],
            aliases=c.execute("SELECT COUNT(*) FROM aliases").fetchone()[0],
            batches=c.execute("SELECT COUNT(*) FROM batches").fetchone()[0],
            boilerplate_paragraphs=c.execute("SELECT COUNT(*) FROM boilerplate").fetchone()[0],
            bytes=size,
            settings={**self.settings, "clean": self.clean_settings},
        )

    def batches(self) -> list[dict]:
        cols = ("batch", "added", "inputs", "documents", "kept", "aliases")
        return [
            dict(zip(cols, (*r[:2], json.loads(r[2]), *r[3:]), strict=True))
            for r in self.conn.execute("SELECT * FROM batches ORDER BY batch")
        ]


def _parts(rows: np.ndarray, size: int = 500) -> Iterable[list[int]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size].tolist()


def _clean_kwargs(saved: dict) -> dict:
    from .config import NormalizeConfig, RepairConfig

    return {
        "normalize": NormalizeConfig(**saved["normalize"]),
        "repair": RepairConfig(**saved["repair"]),
    }


def _join(
    probe_keys: np.ndarray, probe_docs: np.ndarray, keys: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (probe doc, index row) for equal keys; at most MAX_BUCKET_PAIRS index rows
    (the earliest) per key."""
    order = np.lexsort((rows, keys))
    keys, rows = keys[order], rows[order]
    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    rank = np.arange(len(keys)) - np.repeat(starts, np.diff(np.append(starts, len(keys))))
    keep = rank < MAX_BUCKET_PAIRS
    keys, rows = keys[keep], rows[keep]
    # for every probe: the range of index rows with its key
    lo = np.searchsorted(keys, probe_keys, side="left")
    hi = np.searchsorted(keys, probe_keys, side="right")
    counts = hi - lo
    hit = counts > 0
    lo, counts, docs = lo[hit], counts[hit], probe_docs[hit]
    total = int(counts.sum())
    if not total:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    base = np.repeat(lo - np.concatenate(([0], np.cumsum(counts)[:-1])), counts)
    return np.repeat(docs, counts), rows[base + np.arange(total)]


_SCHEMA = """
CREATE TABLE meta(name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE batches(
    batch INTEGER PRIMARY KEY, added TEXT NOT NULL, inputs TEXT NOT NULL,
    documents INTEGER NOT NULL, kept INTEGER NOT NULL, aliases INTEGER NOT NULL);
CREATE TABLE docs(
    doc INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, batch INTEGER NOT NULL,
    key INTEGER NOT NULL, length INTEGER NOT NULL, shingles INTEGER NOT NULL,
    signature BLOB NOT NULL, bands BLOB NOT NULL,  -- before the long columns: a row's
    content BLOB NOT NULL, text BLOB);             -- start is read without its overflow
    -- (text: zlib-compressed, with store_text only)
CREATE TABLE aliases(doc INTEGER NOT NULL, key INTEGER NOT NULL, bands BLOB NOT NULL);
CREATE INDEX aliases_doc ON aliases(doc);
CREATE TABLE keys(key INTEGER NOT NULL, doc INTEGER NOT NULL, PRIMARY KEY(key, doc)) WITHOUT ROWID;
CREATE TABLE bands(key INTEGER NOT NULL, doc INTEGER NOT NULL, PRIMARY KEY(key, doc)) WITHOUT ROWID;
CREATE TABLE boilerplate(hash INTEGER PRIMARY KEY, batch INTEGER NOT NULL);
"""
