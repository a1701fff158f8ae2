"""Streaming readers and atomic writers for every supported format."""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import itertools
import json
import math
import os
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

from ..document import Document
from ..errors import ConfigError, FormatError, InputError, MissingDependencyError

FORMATS = ("jsonl", "csv", "parquet", "txt", "html", "warc", "arc")
#: formats neardup writes
WRITE_FORMATS = ("jsonl", "csv", "parquet", "txt")
#: formats read as raw pages (main text extracted by :mod:`neardup.io.web`)
PAGE_FORMATS = ("html", "htmldir", "warc", "arc")
_SUFFIXES = {
    ".jsonl": "jsonl",
    ".json": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".txt": "txt",
    ".text": "txt",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".warc": "warc",
    ".arc": "arc",
}
_COMPRESSIONS = (".gz", ".zst", ".zstd")
STDIO = "-"
#: the largest record read (a line of JSONL, a text file, decompressed): a larger one is
#: a reject, so that a decompression bomb or a file that is no document cannot exhaust
#: memory (no article comes near it)
MAX_RECORD_BYTES = 64 << 20
TOO_LARGE = f"record larger than {MAX_RECORD_BYTES >> 20} MiB (decompressed); not read"


@dataclass(slots=True)
class Reject:
    """A record that could not be read, with where it was and why.

    ``skipped``: a record of a crawl file that is not a page (a request, a PDF, an error
    status) or could not be read; it is counted by reason and never stops a run.
    ``offset``: its byte offset in a crawl file."""

    path: str
    line: int
    reason: str
    raw: str = ""
    skipped: bool = False
    offset: int | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {"file": self.path, "line": self.line, "error": self.reason, "raw": self.raw}
        if self.offset is not None:
            out["offset"] = self.offset
        if self.skipped:
            out["skipped"] = True
        return out

    def error(self) -> InputError:
        return InputError(self.reason, self.path, self.line)

    @property
    def kind(self) -> str:
        """The reason without its details (what summaries count skips by)."""
        return re.sub(r"\s*\(.*?\)", "", self.reason.split(":", 1)[0]).strip()


def _split_compression(name: str) -> tuple[str, str | None]:
    lower = name.lower()
    for suffix in _COMPRESSIONS:
        if lower.endswith(suffix):
            return name[: -len(suffix)], suffix
    return name, None


def detect_format(path: str, override: str | None = None) -> str:
    """The format of ``path``: ``override`` when given, ``txtdir`` for a directory, else
    from the suffix (after any compression suffix)."""
    if override:
        if override not in FORMATS:
            raise FormatError(f"unknown format {override!r}; choose one of {', '.join(FORMATS)}")
        if override in ("txt", "html") and path != STDIO and Path(path).is_dir():
            return override + "dir"
        return override
    if path == STDIO:
        return "jsonl"
    if Path(path).is_dir() or path.endswith(os.sep):
        from .web import has_html_files

        return "htmldir" if Path(path).is_dir() and has_html_files(path) else "txtdir"
    base, _ = _split_compression(path)
    fmt = _SUFFIXES.get(Path(base).suffix.lower())
    if fmt is None:
        raise FormatError(
            f"{path}: cannot tell the format from the suffix {Path(base).suffix or '(none)'!r}; "
            f"use a .jsonl, .csv, .parquet, .txt, .html, .warc or .arc name (optionally "
            f".gz/.zst) or pass --format"
        )
    return fmt


def _open_binary_read(path: str) -> IO[bytes]:
    if path == STDIO:
        return sys.stdin.buffer
    _, comp = _split_compression(path)
    try:
        if comp == ".gz":
            return cast(IO[bytes], gzip.open(path, "rb"))
        if comp in (".zst", ".zstd"):
            import zstandard

            raw = zstandard.ZstdDecompressor().stream_reader(open(path, "rb"), closefd=True)  # noqa: SIM115
            return io.BufferedReader(raw)
        return open(path, "rb", buffering=1 << 20)
    except FileNotFoundError:
        raise InputError("no such file", path) from None
    except IsADirectoryError:
        raise InputError("is a directory; pass --format txt to read its .txt files", path) from None


def json_number(x) -> str:
    """A number as ``json.dumps`` writes it (faster for a float)."""
    if isinstance(x, float) and math.isfinite(x):
        return float.__repr__(x)
    return int.__repr__(x) if type(x) is int else json.dumps(x)


def _lines(stream: IO[bytes], path: str) -> Iterator[bytes | int]:
    """The lines of ``stream``; a line longer than :data:`MAX_RECORD_BYTES` comes as its
    length (an int), its bytes skipped, never held."""
    try:
        while True:
            raw = stream.readline(MAX_RECORD_BYTES + 1)
            if not raw:
                return
            if len(raw) <= MAX_RECORD_BYTES or raw.endswith(b"\n"):
                yield raw
                continue
            size = len(raw)
            while not raw.endswith(b"\n"):
                raw = stream.readline(1 << 20)
                if not raw:
                    break
                size += len(raw)
            yield size
    except (EOFError, OSError) as exc:  # a truncated gzip member, a corrupt zstd frame
        raise InputError(f"the compressed stream is damaged: {exc}", path) from None


def _decode(raw: bytes) -> tuple[str | None, str]:
    """(text, "") or (None, reason) for bytes that are not UTF-8."""
    try:
        return raw.decode("utf-8"), ""
    except UnicodeDecodeError as exc:
        return None, f"invalid UTF-8 at byte {exc.start}"


def _make_doc(
    record: Any,
    path: str,
    line: int,
    text_field: str,
    id_field: str,
    raw: str,
    source: bytes = b"",
) -> Document | Reject:
    if not isinstance(record, dict):
        problem = f"not a JSON object but {type(record).__name__}"
        return Reject(path, line, problem, raw.rstrip("\r\n"))
    if text_field not in record:
        problem = f"no {text_field!r} field (pass --text-field NAME)"
        return Reject(path, line, problem, raw.rstrip("\r\n"))
    text = record[text_field]
    if not isinstance(text, str):
        problem = f"the {text_field!r} field is {type(text).__name__}, not a string"
        return Reject(path, line, problem, raw.rstrip("\r\n"))
    doc_id = record.get(id_field)
    if doc_id is None:
        doc_id = f"{path}:{line}"
    elif not isinstance(doc_id, str):
        doc_id = json.dumps(doc_id, ensure_ascii=False)
    return Document(doc_id, text, record, path, line, source=source)


def _read_jsonl(path: str, text_field: str, id_field: str) -> Iterator[Document | Reject]:
    for number, _, raw in jsonl_lines(path):
        yield parse_jsonl_line(raw, path, number, text_field, id_field)


def jsonl_lines(path: str) -> Iterator[tuple[int, int, bytes]]:
    """(line number, byte offset, bytes) of every line of a JSONL file that is not blank
    (blank lines hold no record; a line larger than :data:`MAX_RECORD_BYTES` comes
    empty, a reject for :func:`parse_jsonl_line`). Offsets count the bytes as read
    (decompressed)."""
    stream = _open_binary_read(path)
    offset = 0
    try:
        for number, raw in enumerate(_lines(stream, path), start=1):
            if isinstance(raw, int):  # too large: an empty line stands for it
                yield number, offset, b""
                offset += raw
                continue
            if raw and not raw.isspace():  # tested without copying the line
                yield number, offset, raw
            offset += len(raw)
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()


def is_plain_file(path: str) -> bool:
    """True for a regular file read as it is stored (not compressed, not a stream): its
    byte offsets can be read again later."""
    return path != STDIO and _split_compression(path)[1] is None and os.path.isfile(path)


try:  # the ``fast`` extra: a JSON parser about twice as fast as the standard one
    import orjson as _orjson
except ImportError:  # pragma: no cover - the tests install it
    _orjson = None


def _huge_float(values: dict | list) -> bool:
    """True when the values of a dict or list that orjson gave hold a float of magnitude
    2**63 or more, at any depth: what orjson makes of an integer beyond 64 bits (the
    standard parser keeps it an int)."""
    for v in values.values() if type(values) is dict else values:
        t = type(v)
        if t is float:
            if abs(v) >= 2.0**63:
                return True
        elif (t is dict or t is list) and _huge_float(v):
            return True
    return False


def parse_jsonl_line(
    raw: bytes, path: str, number: int, text_field: str, id_field: str
) -> Document | Reject:
    """The document of one line of a JSONL file (a reject when it holds none).

    With orjson installed, a line that holds a document is parsed by it; anything else
    (a line orjson refuses: invalid UTF-8, NaN, a lone surrogate escape; a record with
    an integer beyond 64 bits; a reject) by the standard parser, so the result is the
    same either way."""
    if not raw:  # a line too large to read (see jsonl_lines)
        return Reject(path, number, TOO_LARGE)
    if _orjson is not None:
        try:
            record = _orjson.loads(raw)
        except _orjson.JSONDecodeError:
            record = None
        if (
            isinstance(record, dict)
            and isinstance(record.get(text_field), str)
            and not _huge_float(record)
        ):
            return _make_doc(record, path, number, text_field, id_field, "", raw.rstrip(b"\r\n"))
    line, problem = _decode(raw)
    if line is None:
        return Reject(path, number, problem, raw.decode("utf-8", "replace").rstrip("\r\n"))
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        return Reject(
            path, number, f"malformed JSON: {exc.msg} at column {exc.colno}", line.rstrip("\r\n")
        )
    return _make_doc(record, path, number, text_field, id_field, line, raw.rstrip(b"\r\n"))


def _read_csv(path: str, text_field: str, id_field: str) -> Iterator[Document | Reject]:
    stream = _open_binary_read(path)
    text = io.TextIOWrapper(stream, encoding="utf-8", errors="surrogateescape", newline="")
    try:
        reader = csv.DictReader(text)
        if reader.fieldnames is None:
            return
        if text_field not in reader.fieldnames:
            raise InputError(
                f"the CSV header has no {text_field!r} column (columns: "
                f"{', '.join(reader.fieldnames)}); pass --text-field NAME",
                path,
                1,
            )
        start = reader.line_num + 1
        for row in reader:
            number, start = start, reader.line_num + 1
            if None in row:
                yield Reject(
                    path, number, "more fields than the header has", json.dumps(row.get(None))
                )
                continue
            bad = [k for k, v in row.items() if isinstance(v, str) and _has_surrogates(v)]
            if bad:
                raw = json.dumps(
                    {
                        k: v.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                        for k, v in row.items()
                        if isinstance(v, str)
                    },
                    ensure_ascii=False,
                )
                yield Reject(path, number, f"invalid UTF-8 in field {bad[0]!r}", raw)
                continue
            yield _make_doc(dict(row), path, number, text_field, id_field, "")
    except csv.Error as exc:
        raise InputError(f"malformed CSV: {exc}", path, reader.line_num) from None
    finally:
        text.detach()
        if stream is not sys.stdin.buffer:
            stream.close()


def _has_surrogates(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _read_parquet(path: str, text_field: str, id_field: str) -> Iterator[Document | Reject]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise MissingDependencyError("pyarrow", "parquet", "Reading Parquet") from None
    if path == STDIO:
        raise FormatError("Parquet cannot be read from standard input; pass a file name")
    try:
        pfile = pq.ParquetFile(path)
    except FileNotFoundError:
        raise InputError("no such file", path) from None
    except Exception as exc:  # pyarrow raises ArrowInvalid and friends
        raise InputError(f"not a readable Parquet file: {exc}", path) from None
    if text_field not in pfile.schema_arrow.names:
        raise InputError(
            f"no {text_field!r} column (columns: {', '.join(pfile.schema_arrow.names)}); "
            "pass --text-field NAME",
            path,
        )
    row = 0
    for batch in pfile.iter_batches(batch_size=2048):
        for record in batch.to_pylist():
            row += 1
            yield _make_doc(record, path, row, text_field, id_field, "")


def _read_txt(
    path: str, text_field: str, id_field: str, doc_id: str | None = None
) -> Iterator[Document | Reject]:
    stream = _open_binary_read(path)
    try:
        data = stream.read(MAX_RECORD_BYTES + 1)
    except (EOFError, OSError) as exc:  # a truncated gzip member, a corrupt zstd frame
        raise InputError(f"the compressed stream is damaged: {exc}", path) from None
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    name = doc_id or ("<stdin>" if path == STDIO else path)
    if len(data) > MAX_RECORD_BYTES:
        yield Reject(path, 1, TOO_LARGE)
        return
    text, problem = _decode(data)
    if text is None:
        yield Reject(path, 1, problem, data[:200].decode("utf-8", "replace"))
        return
    yield Document(name, text, {id_field: name, text_field: text}, path, 1)


def _read_txtdir(path: str, text_field: str, id_field: str) -> Iterator[Document | Reject]:
    root = Path(path)
    files = sorted(
        p
        for p in root.rglob("*")
        if p.is_file() and _split_compression(p.name)[0].lower().endswith((".txt", ".text"))
    )
    for file in files:
        yield from _read_txt(
            str(file), text_field, id_field, doc_id=file.relative_to(root).as_posix()
        )


_READERS = {
    "jsonl": _read_jsonl,
    "csv": _read_csv,
    "parquet": _read_parquet,
    "txt": _read_txt,
    "txtdir": _read_txtdir,
}


def read_documents(
    path: str,
    fmt: str | None = None,
    text_field: str = "text",
    id_field: str = "id",
) -> Iterator[Document | Reject]:
    """Stream the documents of ``path`` (``-`` for standard input).

    Yields :class:`~neardup.document.Document` for every usable record and
    :class:`Reject` for every record that cannot be used (malformed JSON, no text
    field, text that is not a string, invalid UTF-8). Raises
    :class:`~neardup.errors.InputError` for a file that cannot be read at all.

    HTML files and folders, WARC and ARC files yield pages (``Document.raw`` set, text
    empty) and skipped records; pass them through
    :func:`neardup.io.web.extract_documents`, or use :func:`read_texts` which does.
    """
    fmt = detect_format(path, fmt)
    if fmt in PAGE_FORMATS:
        from .web import WEB_READERS

        return WEB_READERS[fmt](path, text_field, id_field)
    return _READERS[fmt](path, text_field, id_field)


def read_texts(
    paths: Sequence[str],
    fmt: str | None = None,
    text_field: str = "text",
    id_field: str = "id",
    workers: int = 1,
) -> Iterator[Document | Reject]:
    """The documents of every file of ``paths`` in turn, with the main text of pages
    extracted (on ``workers`` processes) when any input holds raw pages."""
    items = itertools.chain.from_iterable(
        read_documents(p, fmt, text_field, id_field) for p in paths
    )
    if any(detect_format(p, fmt) in PAGE_FORMATS for p in paths):
        from .web import extract_documents

        return extract_documents(items, text_field, workers)
    return items


def default_output_format(paths: Sequence[str], fmt: str | None) -> str:
    """The output format for these inputs: theirs when they share a format, else JSONL
    (always JSONL for pages)."""
    formats = {detect_format(p, fmt) for p in paths}
    out = formats.pop() if len(formats) == 1 else "jsonl"
    return "jsonl" if out in PAGE_FORMATS else out


# ----------------------------------------------------------------------------- writers


def check_paths(
    inputs: Sequence[str], outputs: Sequence[str | None], workdir: str | None = None
) -> None:
    """Refuse a run that would destroy its input: an output that is an input file (it
    would be replaced when the output is complete), or a work directory that holds an
    input (its spool files could overwrite it)."""
    existing = [p for p in inputs if p != STDIO and os.path.isfile(p)]
    for out in outputs:
        if out is None or out == STDIO or not os.path.exists(out):
            continue
        for p in existing:
            if os.path.samefile(out, p):
                raise ConfigError(
                    f"{out} is also an input: writing it would destroy the input; "
                    "choose another output path"
                )
    if workdir is not None and os.path.isdir(workdir):
        for p in existing:
            if os.path.samefile(os.path.dirname(os.path.abspath(p)), workdir):
                raise ConfigError(
                    f"the work directory {workdir} holds the input {p}; its work files "
                    "could overwrite it: use an empty folder for --workdir"
                )


class Writer:
    """Writes records to ``path`` through a temporary file, renamed into place by
    :meth:`close`; :meth:`abort` removes the temporary file. ``-`` writes to stdout; an
    existing path that is no regular file (``/dev/null``, a FIFO) is written in place,
    never replaced."""

    def __init__(self, path: str):
        self.path = path
        self.count = 0
        self._in_place = False
        if path == STDIO:
            self._tmp: Path | None = None
        else:
            target = Path(path)
            if target.parent and not target.parent.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists() and not target.is_file() and not target.is_dir():
                self._tmp, self._in_place = target, True
            else:
                self._tmp = target.with_name(f".{target.name}.part-{os.getpid()}")

    def write(self, record: dict[str, Any], text_field: str = "text", doc_id: str = "") -> None:
        """Write one record (``doc_id`` names the file in a directory output)."""
        raise NotImplementedError

    def _finish(self) -> None:
        """Flush and close the stream (subclasses)."""

    def close(self) -> None:
        self._finish()
        if self._tmp is not None and not self._in_place:
            os.replace(self._tmp, self.path)

    def abort(self) -> None:
        with contextlib.suppress(Exception):  # the run already failed; keep its error
            self._finish()
        if self._tmp is not None and not self._in_place and self._tmp.exists():
            if self._tmp.is_dir():
                import shutil

                shutil.rmtree(self._tmp)
            else:
                self._tmp.unlink()

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def _open_binary_write(path: str, tmp: Path | None) -> IO[bytes]:
    if tmp is None:
        return sys.stdout.buffer
    _, comp = _split_compression(path)
    if comp == ".gz":
        return cast(IO[bytes], gzip.open(tmp, "wb", compresslevel=6))
    if comp in (".zst", ".zstd"):
        import zstandard

        return zstandard.ZstdCompressor(level=3).stream_writer(open(tmp, "wb"), closefd=True)
    return open(tmp, "wb", buffering=1 << 20)


class _ByteStreamWriter(Writer):
    """A writer over one (possibly compressed) byte stream."""

    def __init__(self, path: str):
        super().__init__(path)
        self._stream = _open_binary_write(path, self._tmp)

    def _finish(self) -> None:
        if self._stream is sys.stdout.buffer:
            self._stream.flush()
        elif not self._stream.closed:
            self._stream.close()


class JsonlWriter(_ByteStreamWriter):
    def write(self, record: dict[str, Any], text_field: str = "text", doc_id: str = "") -> None:
        self._stream.write(json.dumps(record, ensure_ascii=False).encode("utf-8") + b"\n")
        self.count += 1

    def write_line(self, line: bytes) -> None:
        """Write a record already encoded as one JSON line (UTF-8), with its newline (as
        :meth:`write` encodes it, or as it was read: :attr:`Document.source`)."""
        self._stream.write(line)
        self.count += 1

    def write_lines(self, lines, count: int) -> None:
        """Write ``count`` records already encoded as JSON lines, one after the other
        (bytes or a memoryview)."""
        self._stream.write(lines)
        self.count += count


class CsvWriter(Writer):
    def __init__(self, path: str):
        super().__init__(path)
        self._stream = _open_binary_write(path, self._tmp)
        self._text = io.TextIOWrapper(self._stream, encoding="utf-8", newline="")
        self._writer: csv.DictWriter | None = None

    def write(self, record: dict[str, Any], text_field: str = "text", doc_id: str = "") -> None:
        if self._writer is None:
            self._writer = csv.DictWriter(self._text, fieldnames=list(record))
            self._writer.writeheader()
        extra = [k for k in record if k not in self._writer.fieldnames]
        if extra:
            raise FormatError(
                f"{self.path}: record has fields {extra} that the CSV header (from the first "
                "record) lacks; write to .jsonl instead"
            )
        self._writer.writerow({k: _csv_value(v) for k, v in record.items()})
        self.count += 1

    def _finish(self) -> None:
        self._text.flush()
        if self._stream is sys.stdout.buffer:
            self._text.detach()
            self._stream.flush()
        elif not self._text.closed:
            self._text.close()


def _csv_value(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return value


class TxtWriter(_ByteStreamWriter):
    """One document as plain text."""

    def write(self, record: dict[str, Any], text_field: str = "text", doc_id: str = "") -> None:
        if self.count:
            raise FormatError(
                f"{self.path}: a .txt output holds one document; write several to a .jsonl "
                "file or a directory (a path ending in /)"
            )
        self._stream.write(str(record.get(text_field, "")).encode("utf-8") + b"\n")
        self.count += 1


class TxtDirWriter(Writer):
    """One ``.txt`` file per document in a directory, named after the document id."""

    def __init__(self, path: str):
        if path == STDIO:
            raise FormatError("a directory output cannot be standard output")
        super().__init__(path.rstrip("/\\") or path)
        assert self._tmp is not None
        if Path(self.path).exists():
            raise FormatError(f"{self.path}: output directory exists; remove it or pick a new name")
        self._tmp.mkdir(parents=True)
        self._names: set[str] = set()

    def write(self, record: dict[str, Any], text_field: str = "text", doc_id: str = "") -> None:
        assert self._tmp is not None
        name = _safe_name(doc_id or str(self.count))
        if not name.endswith(".txt"):
            name += ".txt"
        if name in self._names:
            raise FormatError(f"{self.path}: two documents map to the file name {name!r}")
        self._names.add(name)
        target = self._tmp / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(str(record.get(text_field, "")) + "\n", encoding="utf-8")
        self.count += 1


def _safe_name(doc_id: str) -> str:
    parts = [p for p in doc_id.replace("\\", "/").split("/") if p not in ("", ".", "..")]
    cleaned = "/".join("".join(c if c.isalnum() or c in "-_.@" else "_" for c in p) for p in parts)
    return cleaned or "doc"


class ParquetWriter(Writer):
    def __init__(self, path: str):
        try:
            import pyarrow  # noqa: F401
            import pyarrow.parquet  # noqa: F401
        except ImportError:
            raise MissingDependencyError("pyarrow", "parquet", "Writing Parquet") from None
        if path == STDIO:
            raise FormatError("Parquet cannot be written to standard output; pass a file name")
        super().__init__(path)
        self._rows: list[dict[str, Any]] = []
        self._writer: Any = None

    def write(self, record: dict[str, Any], text_field: str = "text", doc_id: str = "") -> None:
        self._rows.append(record)
        self.count += 1
        if len(self._rows) >= 4096:
            self._flush()

    def _flush(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if not self._rows:
            return
        if self._writer is None:
            table = pa.Table.from_pylist(self._rows)
            self._writer = pq.ParquetWriter(str(self._tmp), table.schema)
        else:
            table = pa.Table.from_pylist(self._rows, schema=self._writer.schema)
        self._writer.write_table(table)
        self._rows = []

    def _finish(self) -> None:
        self._flush()
        if self._writer is None:  # no rows: an empty file with no columns
            import pyarrow as pa
            import pyarrow.parquet as pq

            pq.write_table(pa.table({}), str(self._tmp))
        else:
            self._writer.close()
            self._writer = None


_WRITERS = {
    "jsonl": JsonlWriter,
    "csv": CsvWriter,
    "parquet": ParquetWriter,
    "txt": TxtWriter,
    "txtdir": TxtDirWriter,
}


def open_writer(path: str, fmt: str | None = None, default: str = "jsonl") -> Writer:
    """A writer for ``path``: format from ``fmt``, else from the suffix, else ``default``
    (used for ``-``). A path ending in ``/`` is a directory of ``.txt`` files."""
    if fmt is None:
        if path == STDIO:
            fmt = default if default != "txtdir" else "jsonl"
        elif path.endswith(("/", os.sep)) or Path(path).is_dir():
            fmt = "txtdir"
        else:
            fmt = detect_format(path)
    elif fmt == "txt" and path != STDIO and (path.endswith(("/", os.sep)) or Path(path).is_dir()):
        fmt = "txtdir"
    if fmt not in _WRITERS:
        raise FormatError(
            f"{path}: cannot write {fmt!r}; write one of {', '.join(WRITE_FORMATS)} "
            f"(by suffix or --output-format)"
        )
    return _WRITERS[fmt](path)
