"""Deduplicate and clean where users hold their corpora: lists, pandas and polars
DataFrames, pyarrow Tables, Hugging Face Datasets.

:func:`dedup` and :func:`clean` run the very engine of ``neardup dedup`` and ``neardup
clean``, with the same decisions: the rows travel to it as JSON lines in a work folder
(as a file's records do), a slice of a column at a time, and only the row numbers of
the decisions come back. The results hold the input's own type, rows selected from it,
every other column untouched."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .config import CleanConfig, DedupConfig
from .errors import ConfigError, InputError
from .tables import Table, table_of

try:
    import orjson as _orjson
except ImportError:  # pragma: no cover - a core dependency wherever it has wheels
    _orjson = None


def _missing(text: Any) -> str:
    """Why a value is no text: missing (None, or NaN as pandas has it) or its type."""
    if text is None or (isinstance(text, float) and text != text):
        return "the text is missing"
    return f"the text is {type(text).__name__}, not a string"


def _line(record: dict) -> bytes:
    if _orjson is not None:
        return _orjson.dumps(record) + b"\n"
    return json.dumps(record, ensure_ascii=False).encode("utf-8") + b"\n"


@dataclass
class DedupResult:
    """What :func:`dedup` decided.

    ``kept``: the kept rows, in input order, in the input's type. ``removed``: the
    removed rows with four more columns: ``duplicate_of`` (the id of the kept row:
    its ``id_field`` value, or its position when there is no id field), ``reason``
    (``exact``, ``near``, ``contained``), ``similarity`` and ``cluster``. ``clusters``:
    one dict per cluster of two or more (as ``clusters.jsonl``). ``rejected``: rows
    that hold no text (``{"row", "id", "error"}``). ``stats``: the run's counters
    (``read == kept + removed + rejected``). ``folder``: the run's outputs, as
    ``neardup run`` writes them (kept for :meth:`explain` while the result lives).
    """

    kept: Any
    removed: Any
    clusters: list[dict]
    rejected: list[dict]
    stats: Any
    folder: Path
    _tmp: Any = field(default=None, repr=False)

    def explain(self, doc_id: Any) -> dict:
        """Why the row with this id (its position when there is no id field) was kept or
        removed: the same facts as ``neardup explain`` (status, cluster, the kept row,
        the scores that linked them, a word diff)."""
        from .explain import explain_document

        return explain_document(self.folder, str(doc_id), "text", "id")


@dataclass
class CleanResult:
    """What :func:`clean` did. ``data``: the input's type with the text repaired
    (rejected rows as they were). ``repairs``: one list per row of the spans removed
    (``start``, ``end``, ``reason``, ``similarity``, ``text``, ...; empty when nothing
    was). ``normalized``: per row, the normalisation steps that changed its text.
    ``rejected``: rows that hold no text. ``stats``: counters."""

    data: Any
    repairs: list[list[dict]]
    normalized: list[list[str]]
    rejected: list[dict]
    stats: Any


def _rows(
    table: Table, text_field: str, id_field: str | None, fields: list[str]
) -> Iterator[tuple[int, Any, Any, dict]]:
    """(row, text, id value, the other fields asked for) of every row."""
    texts = table.values(text_field)
    ids = table.values(id_field) if id_field else None
    extras = {f: table.values(f) for f in fields}
    for row, text in enumerate(texts):
        doc_id = next(ids) if ids is not None else row
        yield row, text, doc_id, {f: next(v) for f, v in extras.items()}


def _keep_fields(keep: str | Callable, table: Table, text_field: str) -> list[str]:
    """The fields the keep policy reads: NAME of field:NAME, every column for a
    callable (it gets the record)."""
    if callable(keep):
        return [c for c in table.columns() if c != text_field]
    if isinstance(keep, str) and keep.startswith(("field:", "-field:")):
        name = keep.split(":", 1)[1]
        if name and name in table.columns() and name != text_field:
            return [name]
    return []


def _spool(table: Table, path: Path, text_field: str, id_field: str | None, fields: list[str]):
    """Write the rows with a text as JSON lines (id, text, the fields asked for); give
    back (rows written, the rejected rows, id -> the row's id value)."""
    written: list[int] = []
    rejected: list[dict] = []
    first_row: dict[str, int] = {}
    values: dict[str, Any] = {}
    with path.open("wb") as out:
        for row, text, doc_id, extra in _rows(table, text_field, id_field, fields):
            if doc_id is None or (isinstance(doc_id, float) and doc_id != doc_id):
                raise InputError(f"row {row} has no {id_field!r} (every row needs an id)")
            key = doc_id if isinstance(doc_id, str) else json.dumps(doc_id, default=str)
            if key in first_row:
                raise InputError(
                    f"rows {first_row[key]} and {row} have the same id {key!r}; ids must be "
                    "unique (or pass id_field=None: rows are then told apart by position)"
                )
            first_row[key] = row
            if not isinstance(text, str):
                rejected.append({"row": row, "id": doc_id, "error": _missing(text)})
                continue
            if id_field:
                values[key] = doc_id
            record = {"id": key, "text": text, **extra} if extra else {"id": key, "text": text}
            try:
                out.write(_line(record))
            except (TypeError, ValueError) as exc:  # a keep field JSON cannot hold
                raise InputError(f"row {row}: {exc}") from None
            written.append(row)
    return np.asarray(written, dtype=np.int64), rejected, first_row, values


def dedup(
    data: Any,
    *,
    text_field: str = "text",
    id_field: str | None = None,
    config: DedupConfig | None = None,
    keep: str | Callable = "first",
    workers: int = 1,
    index: str | None = None,
    engine: str = "local",
) -> DedupResult:
    """Deduplicate ``data`` in memory, as ``neardup dedup`` does a file.

    ``data``: a list (or any iterable) of strings or of dicts, a pandas or polars
    DataFrame, a pyarrow Table or a ``datasets.Dataset``. ``text_field``: the column
    holding the text (ignored for strings). ``id_field``: the column holding unique
    ids (None: rows are told apart by position). ``config``: the comparison settings
    (:class:`~neardup.config.DedupConfig`). ``keep``: which row of a cluster to keep:
    ``first``, ``longest``, ``field:NAME`` (largest value), ``-field:NAME``, or a
    callable on ``DocInfo(index, length, record)`` whose smallest value is kept.
    ``workers``: processes (0: one per core). ``index``: a persistent index file
    (:class:`~neardup.index.Index`): rows that duplicate its documents are removed.
    ``engine``: ``local`` or ``ray`` (Ray tasks: the Ray this process started, or one
    started here; see :func:`~neardup.engines.open_engine`), with the same result.

    Returns a :class:`DedupResult`. Rows whose text is not a string are in
    ``result.rejected``, in neither ``kept`` nor ``removed``.

    >>> result = neardup.dedup(df, id_field="url")  # doctest: +SKIP
    >>> result.kept, result.removed[["url", "duplicate_of", "reason"]]  # doctest: +SKIP
    """
    import os

    from . import runfolder
    from .dedup import run_dedup

    table = table_of(data)
    table.require(text_field, "text_field")
    if id_field is not None:
        table.require(id_field, "id_field")
    if workers < 0:
        raise ConfigError(f"workers must be >= 0, got {workers}")
    tmp = tempfile.TemporaryDirectory(prefix="neardup-api-")
    folder = Path(tmp.name) / "run"
    folder.mkdir()
    spool = Path(tmp.name) / "rows.jsonl"
    written, rejected, row_of, values = _spool(
        table, spool, text_field, id_field, _keep_fields(keep, table, text_field)
    )
    outputs = {
        "kept": "kept.jsonl",
        "removed": "removed.jsonl",
        "clusters_out": "clusters.jsonl",
        "repairs_out": "repairs.jsonl",
        "stats_out": "stats.json",
    }  # fmt: skip  (no pairs.npz: what-if replays are for run folders; scoring every
    # pair for that log would cost more than the dedup itself)
    stats = run_dedup(
        [str(spool)], config=config, keep=keep, workers=workers or os.cpu_count() or 1,
        index=index, engine=engine, **{k: str(folder / v) for k, v in outputs.items()},
    )  # fmt: skip
    runfolder.mark_complete(folder, list(outputs.values()))
    stats.rejected += len(rejected)
    stats.read += len(rejected)
    return _dedup_result(table, folder, tmp, written, rejected, row_of, values, stats)


def _records(path: Path) -> Iterator[dict]:
    """The records of one of the run's JSONL files (orjson where it is installed)."""
    loads = _orjson.loads if _orjson is not None else json.loads
    if path.exists():
        with path.open("rb") as f:
            for line in f:
                if line.strip():
                    yield loads(line)


def _dedup_result(table, folder, tmp, written, rejected, row_of, values, stats) -> DedupResult:
    def user_id(key: str) -> Any:
        return values.get(key, key) if values else row_of.get(key, key)

    clusters = list(_records(folder / "clusters.jsonl"))
    removed_rows, added = [], {"duplicate_of": [], "reason": [], "similarity": [], "cluster": []}

    def add(doc_id: str, kept_id: str, reason: str, similarity: float, cluster: int) -> None:
        removed_rows.append(row_of[doc_id])
        added["duplicate_of"].append(user_id(kept_id))
        added["reason"].append(reason)
        added["similarity"].append(similarity)
        added["cluster"].append(cluster)

    if stats.index_removed:  # duplicates of an index's documents are in no cluster here
        for r in _records(folder / "removed.jsonl"):
            add(r["id"], str(r["duplicate_of"]), r["reason"], r["similarity"], r["cluster"])
    else:  # the clusters say the same without the removed records' texts to parse
        for c in clusters:
            for m in c["members"]:
                if m["reason"] != "kept":
                    add(m["id"], c["kept"], m["reason"], m["similarity"], c["cluster"])
    order = np.argsort(np.asarray(removed_rows, dtype=np.int64), kind="stable")
    removed = np.asarray(removed_rows, dtype=np.int64)[order]
    added = {k: [v[i] for i in order.tolist()] for k, v in added.items()}
    kept = np.setdiff1d(written, removed, assume_unique=True)
    return DedupResult(
        kept=table.take(kept), removed=table.take(removed, added), clusters=clusters,
        rejected=rejected, stats=stats, folder=folder, _tmp=tmp,
    )  # fmt: skip


def clean(
    data: Any,
    *,
    text_field: str = "text",
    config: CleanConfig | None = None,
    workers: int = 1,
) -> CleanResult:
    """Repair the texts of ``data`` in memory, as ``neardup clean`` does a file: the
    article body captured twice, repeated blocks, mojibake, entities, whitespace.

    ``data`` and ``text_field`` as for :func:`dedup`; ``config``: a
    :class:`~neardup.config.CleanConfig`. Returns a :class:`CleanResult` whose ``data``
    is the input's type with the text column repaired, and ``repairs`` the spans
    removed from each row.

    >>> neardup.clean(["First paragraph.\\n\\nFirst paragraph."]).data  # doctest: +SKIP
    """
    import os

    from .document import Document
    from .pipeline import CleanStats, clean_documents

    table = table_of(data)
    table.require(text_field, "text_field")
    stats = CleanStats()
    texts: list[Any] = []
    spans: dict[int, list[dict]] = {}
    steps: dict[int, list[str]] = {}
    rejected: list[dict] = []

    def documents() -> Iterator[Document]:
        for row, text in enumerate(table.values(text_field)):
            texts.append(text)
            if isinstance(text, str):
                yield Document(str(row), text, {}, "", row + 1)
            else:
                rejected.append({"row": row, "error": _missing(text)})

    for doc, rep in clean_documents(documents(), config, workers or os.cpu_count() or 1):
        row = doc.line - 1
        texts[row] = rep.text
        if rep.removed:
            spans[row] = [s.to_dict() for s in rep.removed]
        if rep.normalized:
            steps[row] = list(rep.normalized)
        stats.repaired += bool(rep.removed)
        stats.normalized += bool(rep.normalized)
        stats.spans_removed += len(rep.removed)
        stats.chars_removed += sum(s.end - s.start for s in rep.removed)
    stats.read = len(texts)
    stats.rejected = len(rejected)
    stats.written = stats.read - stats.rejected
    n = len(texts)
    return CleanResult(
        table.with_column(text_field, texts),
        [spans.get(i, []) for i in range(n)],
        [steps.get(i, []) for i in range(n)],
        rejected,
        stats,
    )
