"""Atomic writers for every output format, and the guard that keeps outputs off inputs."""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any, cast

from ..errors import ConfigError, FormatError, MissingDependencyError
from .paths import STDIO, WRITE_FORMATS, _split_compression, detect_format, is_uri


def check_paths(
    inputs: Sequence[str], outputs: Sequence[str | None], workdir: str | None = None
) -> None:
    """Refuse a run that would destroy its input or lose an output: an output that is an
    input file (the same file by any name: a symlink, a hard link), two outputs that
    are one file, or a work directory that holds an input or an output (its work files
    could overwrite them). URIs are compared by their normalised spelling
    (:func:`neardup.io.remote.check_uris`)."""
    if any(is_uri(p) for p in (*inputs, *outputs)):
        from .remote import check_uris

        check_uris(inputs, outputs)
        inputs = [p for p in inputs if not is_uri(p)]
        outputs = [o for o in outputs if not is_uri(o)]
    existing = [p for p in inputs if p != STDIO and os.path.isfile(p)]
    named = [o for o in outputs if o is not None and o != STDIO]
    seen: dict[str, str] = {}
    for out in named:
        real = os.path.realpath(out)
        if real in seen:  # the same file named twice, by one name or two
            raise ConfigError(
                f"{seen[real]} and {out} are the same file: give each output its own path"
            )
        seen[real] = out
        if not os.path.exists(out):
            continue
        for p in existing:
            if os.path.samefile(out, p):
                raise ConfigError(
                    f"the output {out} is the input {p}: writing it would destroy the input; "
                    "choose another output path"
                )
    if workdir is not None and os.path.isdir(workdir):
        for p in existing + named:
            parent = os.path.dirname(os.path.abspath(p))
            if os.path.isdir(parent) and os.path.samefile(parent, workdir):
                what = "input" if p in existing else "output"
                raise ConfigError(
                    f"the work directory {workdir} holds the {what} {p}; its work files "
                    "could overwrite it: use an empty folder for --workdir"
                )


@contextlib.contextmanager
def _naming(path: str):
    """An error of the file system while an output is set up, as a one-line error that
    names the output the user gave (not its temporary name)."""
    try:
        yield
    except OSError as exc:
        raise FormatError(f"{path}: cannot write here ({exc.strerror or exc})") from None


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
            return
        if not path.strip():
            raise FormatError("an empty output path (a shell variable that was not set?)")
        target = Path(path)
        if target.is_dir() and not isinstance(self, TxtDirWriter):
            raise FormatError(
                f"{path} is a folder: name a file (or end the path with / and write .txt "
                "files, one per document)"
            )
        with _naming(path):
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
        if sys.stdout is None:  # started with stdout closed (>&-)
            raise FormatError("standard output is closed; name an output file instead of -")
        return sys.stdout.buffer
    _, comp = _split_compression(path)
    if comp == ".gz":
        return cast(IO[bytes], gzip.open(tmp, "wb", compresslevel=6))
    if comp in (".zst", ".zstd"):
        import zstandard

        return zstandard.ZstdCompressor(level=3).stream_writer(open(tmp, "wb"), closefd=True)
    if comp == ".bz2":
        import bz2

        return cast(IO[bytes], bz2.open(tmp, "wb"))
    if comp == ".xz":
        import lzma

        return cast(IO[bytes], lzma.open(tmp, "wb"))
    return open(tmp, "wb", buffering=1 << 20)


class _ByteStreamWriter(Writer):
    """A writer over one (possibly compressed) byte stream."""

    def __init__(self, path: str):
        if path.endswith(("/", os.sep)):
            raise FormatError(f"{path} ends in / (a folder of .txt files): that output is txt")
        super().__init__(path)
        with _naming(path):
            self._stream = _open_binary_write(path, self._tmp)

    def _finish(self) -> None:
        if sys.stdout is not None and self._stream is sys.stdout.buffer:
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


class CsvWriter(_ByteStreamWriter):
    def __init__(self, path: str):
        super().__init__(path)
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
        if sys.stdout is not None and self._stream is sys.stdout.buffer:
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
        if Path(path).exists():
            raise FormatError(f"{path}: output folder exists; remove it or pick a new name")
        super().__init__(path.rstrip("/\\") or path)
        assert self._tmp is not None
        with _naming(self.path):
            self._tmp.mkdir(parents=True)
        self._names: set[str] = set()
        self._dirs: set[str] = set()

    def write(self, record: dict[str, Any], text_field: str = "text", doc_id: str = "") -> None:
        assert self._tmp is not None
        name = self._name(doc_id or str(self.count))
        target = self._tmp / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(str(record.get(text_field, "")) + "\n", encoding="utf-8")
        self.count += 1

    def _name(self, doc_id: str) -> str:
        """The file of a document: its id as a relative path (``/`` makes folders). An
        id that cannot be one as it is (a name already taken, a file where a folder
        must go, a name too long for the file system) gets a flat name ending in a hash
        of the id, so that every document has a file of its own."""
        name = _safe_name(doc_id)
        if not name.endswith(".txt"):
            name += ".txt"
        parts = name.split("/")
        parents = ["/".join(parts[:i]) for i in range(1, len(parts))]
        clash = (
            name in self._names
            or name in self._dirs
            or any(p in self._names for p in parents)
            or any(len(p.encode("utf-8")) > _MAX_NAME_BYTES for p in parts)
        )
        if clash:
            import hashlib

            digest = hashlib.sha1(doc_id.encode("utf-8", "surrogatepass")).hexdigest()[:12]
            stem = name.replace("/", "_")[: _MAX_NAME_BYTES // 4]
            name = f"{stem.removesuffix('.txt')}~{digest}.txt"
            if name in self._names:
                raise FormatError(f"{self.path}: two documents have the id {doc_id!r}")
        else:
            self._dirs.update(parents)
        self._names.add(name)
        return name


#: the longest file name (bytes) most file systems take
_MAX_NAME_BYTES = 255


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
        # the columns of every record so far, in order of first sight (from_pylist
        # alone takes the first record's and drops the others' without a word)
        names = list(dict.fromkeys(k for r in self._rows for k in r))
        if self._writer is not None:
            extra = [k for k in names if k not in self._writer.schema.names]
            if extra:
                raise FormatError(
                    f"{self.path}: records have fields {extra} that the Parquet schema (from the "
                    "first records) lacks; write to .jsonl instead"
                )
            names = self._writer.schema.names
        try:
            columns = {k: [r.get(k) for r in self._rows] for k in names}
            if self._writer is None:
                table = pa.Table.from_pydict(columns)
                with _naming(self.path):
                    self._writer = pq.ParquetWriter(str(self._tmp), table.schema)
            else:
                table = pa.Table.from_pydict(columns, schema=self._writer.schema)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise FormatError(
                f"{self.path}: a field holds values of different types ({exc}); a Parquet "
                "column has one type: write to .jsonl instead"
            ) from None
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
    if not path.strip():  # Path("") is the current folder
        raise FormatError("an empty output path (a shell variable that was not set?)")
    if is_uri(path):
        raise FormatError(
            f"{path}: a writer writes a local file; URI outputs are staged locally and "
            "uploaded by run_dedup, run_clean and the commands (neardup.io.remote.staged)"
        )
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
