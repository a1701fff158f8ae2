"""Streaming readers for every supported format (the writers are in
:mod:`neardup.io.writers`, file names and suffixes in :mod:`neardup.io.paths`)."""

from __future__ import annotations

import base64
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
from ..errors import FormatError, InputError, MissingDependencyError
from .paths import (  # noqa: F401  (re-exported: the names every reader shares)
    _COMPRESSIONS,
    _SUFFIXES,
    FORMATS,
    PAGE_FORMATS,
    STDIO,
    WRITE_FORMATS,
    _split_compression,
    detect_format,
    is_uri,
)
from .writers import (  # noqa: F401  (re-exported for the modules that import them here)
    CsvWriter,
    JsonlWriter,
    ParquetWriter,
    TxtDirWriter,
    TxtWriter,
    Writer,
    check_paths,
    open_writer,
)

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
    raw: str | bytes = ""
    skipped: bool = False
    offset: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The reject as its line of the rejects file: ``raw`` holds the record as read,
        or ``raw_base64`` its bytes where they are not UTF-8, so nothing is lost."""
        out: dict[str, Any] = {"file": self.path, "line": self.line, "error": self.reason}
        raw = self.raw
        if isinstance(raw, bytes):
            try:
                out["raw"] = raw.decode("utf-8")
            except UnicodeDecodeError:
                out["raw_base64"] = base64.b64encode(raw).decode("ascii")
        else:
            out["raw"] = raw
        if self.offset is not None:
            out["offset"] = self.offset
        if self.skipped:
            out["skipped"] = True
        return out

    def error(self) -> InputError:
        return InputError(self.reason, self.path, self.line, rejectable=True)

    @property
    def kind(self) -> str:
        """The reason without its details (what summaries count skips by)."""
        return re.sub(r"\s*\(.*?\)", "", self.reason.split(":", 1)[0]).strip()


class _ZstdRaw(io.RawIOBase):
    """The decompressed bytes of a file of zstd frames, one after the other. Unlike
    ``zstandard``'s stream reader, a file that ends inside a frame (a download cut
    short) is an error, not a silent end."""

    def __init__(self, path: str, file: IO[bytes] | None = None):
        import zstandard

        # ``file``: the stored bytes already open (a URI's); else ``path`` is opened
        self._file = file if file is not None else open(path, "rb")  # noqa: SIM115
        self._dctx = zstandard.ZstdDecompressor()
        self._dobj = self._dctx.decompressobj()
        self._fed = False  # bytes went into the current frame, which has not ended
        self._out = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._out:
            chunk = self._file.read(1 << 17)
            if not chunk:
                if self._fed:
                    raise EOFError("the file ends inside a zstd frame (truncated)")
                return 0
            self._feed(chunk)
        n = min(len(buffer), len(self._out))
        buffer[:n] = self._out[:n]
        self._out = self._out[n:]
        return n

    def _feed(self, chunk: bytes) -> None:
        import zstandard

        parts = []
        while chunk:
            try:
                parts.append(self._dobj.decompress(chunk))
            except zstandard.ZstdError as exc:
                raise OSError(f"not a valid zstd stream: {exc}") from None
            self._fed = not self._dobj.eof
            if not self._dobj.eof:
                break
            chunk = self._dobj.unused_data  # the next frame starts here
            self._dobj = self._dctx.decompressobj()
        self._out += b"".join(parts)

    def close(self) -> None:
        self._file.close()
        super().close()


def _open_binary_read(path: str) -> IO[bytes]:
    """The decompressed bytes of ``path`` (by its suffix: .gz, .zst, .bz2, .xz), ``-``
    for standard input. A compressed file of 0 bytes holds no stream at all (a download
    that never started): reading it fails as a damaged stream does."""
    if path == STDIO:
        return sys.stdin.buffer
    if path == "":
        raise InputError("an empty input path (a shell variable that was not set?)", "''")
    _, comp = _split_compression(path)
    if is_uri(path):
        from .remote import open_uri_read

        return open_uri_read(path, comp)
    try:
        if comp is not None and os.path.getsize(path) == 0:
            return cast(IO[bytes], _EmptyStream())
        if comp == ".gz":
            return cast(IO[bytes], gzip.open(path, "rb"))
        if comp in (".zst", ".zstd"):
            return io.BufferedReader(_ZstdRaw(path), buffer_size=1 << 17)
        if comp == ".bz2":
            import bz2

            return cast(IO[bytes], bz2.open(path, "rb"))
        if comp == ".xz":
            import lzma

            return cast(IO[bytes], lzma.open(path, "rb"))
        return open(path, "rb", buffering=1 << 20)
    except FileNotFoundError:
        raise InputError("no such file", path) from None
    except IsADirectoryError:
        raise InputError("is a directory; pass --format txt to read its .txt files", path) from None
    except PermissionError:
        raise InputError("permission denied", path) from None


class _EmptyStream(io.RawIOBase):
    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        raise EOFError("the compressed file is empty (0 bytes)")

    def readline(self, size: int = -1) -> bytes:
        raise EOFError("the compressed file is empty (0 bytes)")


class DamagedTail(bytes):
    """What :func:`jsonl_lines` gives where a compressed stream turns out damaged or
    truncated: the records from there on cannot be read (a reject that says so)."""

    reason = ""


def json_number(x) -> str:
    """A number as ``json.dumps`` writes it (faster for a float)."""
    if isinstance(x, float) and math.isfinite(x):
        return float.__repr__(x)
    return int.__repr__(x) if type(x) is int else json.dumps(x)


def _lines(stream: IO[bytes]) -> Iterator[bytes | int]:
    """The lines of ``stream``; a line longer than :data:`MAX_RECORD_BYTES` comes as its
    length (an int), its bytes skipped, never held; a damaged or truncated compressed
    stream ends with a :class:`DamagedTail`."""
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
        tail = DamagedTail()
        tail.reason = _damaged(exc)
        yield tail


def _damaged(exc: BaseException) -> str:
    return (
        f"the compressed stream is damaged or truncated here ({exc}); nothing after it can be read"
    )


def _decode(raw: bytes) -> tuple[str | None, str]:
    """(text, "") or (None, reason) for bytes that are not UTF-8."""
    try:
        return raw.decode("utf-8"), ""
    except UnicodeDecodeError as exc:
        return None, f"invalid UTF-8 at byte {exc.start}"


def record_id(value: Any) -> str:
    """The id neardup uses for a record's id value: a string as it is, anything else as
    its JSON text (``7`` is ``"7"``, ``[1]`` is ``"[1]"``)."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _make_doc(
    record: Any,
    path: str,
    line: int,
    text_field: str,
    id_field: str,
    raw: str,
    source: bytes = b"",
    parquet: bool = False,
) -> Document | Reject:
    if parquet and (text_field not in record or not isinstance(record[text_field], str)):
        raw = json.dumps(record, ensure_ascii=False)  # what the reject keeps of the row
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
    # an empty id is no id (a CSV cannot write a missing value any other way)
    doc_id = f"{path}:{line}" if doc_id is None or doc_id == "" else record_id(doc_id)
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
        for number, raw in enumerate(_lines(stream), start=1):
            if number == 1 and isinstance(raw, bytes) and raw[:3] == b"\xef\xbb\xbf":
                raw, offset = raw[3:], 3  # a byte-order mark (Windows tools write one)
            if isinstance(raw, DamagedTail):
                yield number, offset, raw
                return
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


#: the deepest nesting of a record read: deeper ones are rejects (no document needs
#: them, and every recursive walk of a record, ours or a library's, stays safe)
MAX_DEPTH = 200


def _nesting(raw: bytes) -> int:
    """How deep the brackets of a JSON line nest, outside strings (only called on a
    line with many brackets)."""
    depth = deepest = 0
    in_string = escaped = False
    for c in raw:
        if in_string:
            if escaped:
                escaped = False
            elif c == 0x5C:  # backslash
                escaped = True
            elif c == 0x22:
                in_string = False
        elif c == 0x22:
            in_string = True
        elif c in (0x5B, 0x7B):
            depth += 1
            deepest = max(deepest, depth)
        elif c in (0x5D, 0x7D):
            depth -= 1
    return deepest


def parse_jsonl_line(
    raw: bytes, path: str, number: int, text_field: str, id_field: str
) -> Document | Reject:
    """The document of one line of a JSONL file (a reject when it holds none).

    With orjson installed, a line that holds a document is parsed by it; anything else
    (a line orjson refuses: invalid UTF-8, NaN, a lone surrogate escape; a record with
    an integer beyond 64 bits; a reject) by the standard parser, so the result is the
    same either way."""
    if isinstance(raw, DamagedTail):
        return Reject(path, number, raw.reason)
    if not raw:  # a line too large to read (see jsonl_lines)
        return Reject(path, number, TOO_LARGE)
    if raw.count(b"[") + raw.count(b"{") > MAX_DEPTH and _nesting(raw) > MAX_DEPTH:
        return Reject(
            path, number, f"JSON nested deeper than {MAX_DEPTH} levels", raw.rstrip(b"\r\n")
        )
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
        return Reject(path, number, problem, raw.rstrip(b"\r\n"))
    try:
        record = json.loads(line, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        msg = exc.msg.removesuffix(" at")  # "Unterminated string starting at"
        return Reject(
            path, number, f"malformed JSON: {msg} at column {exc.colno}", line.rstrip("\r\n")
        )
    except ValueError as exc:  # NaN / Infinity (see _no_constant)
        return Reject(path, number, f"not valid JSON: {exc}", line.rstrip("\r\n"))
    if "\\u" in line and _surrogate_field(record):
        problem = (
            f"a lone surrogate (not a Unicode character) in field {_surrogate_field(record)!r}"
        )
        return Reject(path, number, problem, line.rstrip("\r\n"))
    return _make_doc(record, path, number, text_field, id_field, line, raw.rstrip(b"\r\n"))


def _no_constant(name: str):
    """NaN and Infinity are no JSON (RFC 8259): a record holding one is a reject, never
    written back out as what other parsers refuse."""
    raise ValueError(f"{name} is not a JSON value")


def _surrogate_field(value: Any, name: str = "") -> str | None:
    """The name of the first field of a parsed record whose strings hold a lone surrogate
    (a ``\\udfff`` escape), which no UTF-8 output can hold; None when there is none."""
    if isinstance(value, str):
        return name if _has_surrogates(value) else None
    if isinstance(value, dict):
        for k, v in value.items():
            found = _surrogate_field(k, name or str(k)) or _surrogate_field(v, name or str(k))
            if found is not None:
                return found
    elif isinstance(value, list):
        for v in value:
            found = _surrogate_field(v, name)
            if found is not None:
                return found
    return None


def _read_csv(path: str, text_field: str, id_field: str) -> Iterator[Document | Reject]:
    """Rows of a CSV file with a header line. Quoting is strict: a row whose quotes do
    not close is a reject that names its first line (a quote left open swallows the rest
    of the file, which is said, never merged into one record)."""
    stream = _open_binary_read(path)
    # utf-8-sig: a byte-order mark must not become part of the first column's name
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="surrogateescape", newline="")
    csv.field_size_limit(MAX_RECORD_BYTES)  # the default (128 KiB) is shorter than articles
    try:
        reader = csv.reader(text, strict=True)
        header = _csv_header(reader, path, text_field)
        if header is None:
            return
        start = reader.line_num + 1
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                number, start = start, reader.line_num + 1
                yield Reject(path, number, _csv_problem(exc, number))
                continue
            number, start = start, reader.line_num + 1
            if not row:  # a blank line holds no record
                continue
            yield _csv_row(row, header, path, number, text_field, id_field)
    except (EOFError, OSError) as exc:
        yield Reject(path, reader.line_num + 1, _damaged(exc))
    finally:
        text.detach()
        if stream is not sys.stdin.buffer:
            stream.close()


def _csv_header(reader, path: str, text_field: str) -> list[str] | None:
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise InputError(f"malformed CSV header: {exc}", path, 1) from None
    if header is None:
        return None
    dupes = sorted({c for c in header if header.count(c) > 1})
    if dupes:
        raise InputError(
            f"the CSV header names {', '.join(map(repr, dupes))} more than once; every column "
            "needs its own name",
            path,
            1,
        )
    if text_field not in header:
        raise InputError(
            f"the CSV header has no {text_field!r} column (columns: {', '.join(header)}); "
            "pass --text-field NAME",
            path,
            1,
        )
    return header


def _csv_problem(exc: csv.Error, number: int) -> str:
    if "unexpected end of data" in str(exc):
        return (
            f"malformed CSV: the quoted field opened in the row starting on line {number} "
            "never closes; the rest of the file is inside it"
        )
    return f"malformed CSV: {exc}"


def _csv_row(
    row: list[str], header: list[str], path: str, number: int, text_field: str, id_field: str
) -> Document | Reject:
    if len(row) > len(header):
        return Reject(path, number, "more fields than the header has", _csv_raw(row))
    record = dict(zip(header, row, strict=False))
    for name in header[len(row) :]:
        record[name] = None  # a short row: the missing fields are empty, as csv.DictReader has it
    bad = [k for k, v in record.items() if isinstance(v, str) and _has_surrogates(v)]
    if bad:
        return Reject(path, number, f"invalid UTF-8 in field {bad[0]!r}", _csv_raw(row))
    return _make_doc(record, path, number, text_field, id_field, "")


def _csv_raw(row: list[str]) -> bytes:
    """A rejected row as CSV again, in its original bytes (for the rejects file)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(row)
    return out.getvalue().encode("utf-8", "surrogateescape")


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
    if is_uri(path):
        from .remote import open_uri

        with open_uri(path) as source:  # read by row group, with seeks: never whole
            yield from _parquet_rows(pq, source, path, text_field, id_field)
        return
    yield from _parquet_rows(pq, path, path, text_field, id_field)


def _parquet_rows(pq, source, path: str, text_field: str, id_field: str):
    try:
        pfile = pq.ParquetFile(source)
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
    convert = [f.name for f in pfile.schema_arrow if _needs_json(f.type)]
    row = 0
    try:
        for batch in pfile.iter_batches(batch_size=2048):
            for record in batch.to_pylist():
                row += 1
                for name in convert:
                    record[name] = _jsonable(record[name])
                yield _make_doc(record, path, row, text_field, id_field, "", parquet=True)
    except OSError as exc:  # pyarrow's errors for a damaged page or column chunk
        yield Reject(
            path, row + 1, f"the Parquet file is damaged here ({exc}); nothing after it can be read"
        )


def _needs_json(kind) -> bool:
    """True for an Arrow type whose Python values JSON cannot hold as they are (dates,
    timestamps, decimals, binary, maps, floats that may be NaN), at any depth."""
    import pyarrow as pa

    t = pa.types
    if t.is_string(kind) or t.is_large_string(kind) or t.is_integer(kind) or t.is_boolean(kind):
        return False
    if t.is_null(kind):
        return False
    if t.is_list(kind) or t.is_large_list(kind) or t.is_fixed_size_list(kind):
        return _needs_json(kind.value_type)
    if t.is_struct(kind):
        return any(_needs_json(kind.field(i).type) for i in range(kind.num_fields))
    return True


def _jsonable(value: Any) -> Any:
    """A Parquet value as JSON holds it: a date or time in ISO 8601, a decimal or a
    duration as text, bytes as UTF-8 text (base64 where they are not UTF-8), a map as a
    object (keys as text), NaN and infinities as null."""
    import datetime
    import decimal

    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if (
        isinstance(value, list)
        and value
        and all(isinstance(v, tuple) and len(v) == 2 for v in value)
    ):  # a map: its pairs
        return {str(_jsonable(k)): _jsonable(v) for k, v in value}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return base64.b64encode(value).decode("ascii")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | datetime.timedelta):
        return str(value)
    return str(value)


def _read_txt(
    path: str, text_field: str, id_field: str, doc_id: str | None = None
) -> Iterator[Document | Reject]:
    stream = _open_binary_read(path)
    try:
        data = stream.read(MAX_RECORD_BYTES + 1)
    except (EOFError, OSError) as exc:  # a truncated gzip member, a corrupt zstd frame
        yield Reject(path, 1, _damaged(exc))
        return
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    name = doc_id or ("<stdin>" if path == STDIO else path)
    if len(data) > MAX_RECORD_BYTES:
        yield Reject(path, 1, TOO_LARGE)
        return
    text, problem = _decode(data)
    if text is None:
        yield Reject(path, 1, problem, data)
        return
    yield Document(name, text, {id_field: name, text_field: text}, path, 1)


def _read_txtdir(path: str, text_field: str, id_field: str) -> Iterator[Document | Reject]:
    root = Path(path)
    files, others = [], []
    for p in root.rglob("*"):
        if p.is_file():
            name = _split_compression(p.name)[0].lower()
            if name.endswith((".txt", ".text")):
                files.append(p)
            elif Path(name).suffix in _SUFFIXES:
                others.append(p)
    if others and not files:  # a folder of records, not of texts: never read as empty
        shown = ", ".join(str(p.relative_to(root)) for p in sorted(others)[:3])
        more = f" and {len(others) - 3} more" if len(others) > 3 else ""
        raise InputError(
            f"a folder input is read as .txt files, one document each, but it holds none, "
            f"only {shown}{more}: pass such files as inputs (e.g. {path.rstrip('/')}/*.jsonl)",
            path,
        )
    for file in sorted(files):
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
    if is_uri(path):
        from .remote import expand_inputs

        files = expand_inputs([path])
        if list(files) != [path]:  # a folder prefix or a pattern: its files in turn
            return itertools.chain.from_iterable(
                read_documents(p, fmt, text_field, id_field) for p in files
            )
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
    extracted (on ``workers`` processes) when any input holds raw pages. Folder and
    pattern URIs stand for their files."""
    if any(is_uri(p) for p in paths):
        from .remote import expand_inputs

        paths = expand_inputs(paths)
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
