"""File names: the formats neardup reads and writes, told from suffixes, and compression
by suffix. A leaf module: the readers and the writers both build on it."""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..errors import FormatError, InputError

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
_COMPRESSIONS = (".gz", ".zst", ".zstd", ".bz2", ".xz")
STDIO = "-"
#: ``scheme://...`` (and fsspec's chained ``a::b://...``): read and written through fsspec
#: (:mod:`neardup.io.remote`); anything else is a local path
_URI_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*(?:::[A-Za-z][A-Za-z0-9+.\-]*)*://")


def is_uri(path: object) -> bool:
    """True for a URI (``s3://bucket/key``, ``gs://...``, ``file:///abs``, ``memory://``):
    told from the text alone, so a plain path never imports fsspec."""
    return isinstance(path, str) and _URI_RE.match(path) is not None


def _split_compression(name: str) -> tuple[str, str | None]:
    lower = name.lower()
    for suffix in _COMPRESSIONS:
        if lower.endswith(suffix):
            return name[: -len(suffix)], suffix
    return name, None


def detect_format(path: str, override: str | None = None) -> str:
    """The format of ``path``: ``override`` when given, ``txtdir`` for a directory, else
    from the suffix (after any compression suffix)."""
    if not path.strip():  # Path("") is the current folder: never read it by accident
        raise InputError("an empty input path (a shell variable that was not set?)", "''")
    if override:
        if override not in FORMATS:
            raise FormatError(f"unknown format {override!r}; choose one of {', '.join(FORMATS)}")
        if (
            override in ("txt", "html")
            and path != STDIO
            and not is_uri(path)
            and Path(path).is_dir()
        ):
            return override + "dir"
        return override
    if path == STDIO:
        return "jsonl"
    if is_uri(path) and (path.endswith("/") or any(c in path for c in "*[")):
        raise FormatError(
            f"{path}: a folder or a pattern, not a file: its files are the inputs "
            "(neardup.io.remote.expand_inputs lists them)"
        )
    if is_uri(path):
        return _format_of_name(path)
    if Path(path).is_dir() or path.endswith(os.sep):
        from .web import has_html_files

        return "htmldir" if Path(path).is_dir() and has_html_files(path) else "txtdir"
    return _format_of_name(path)


def _format_of_name(path: str) -> str:
    base, _ = _split_compression(path)
    fmt = _SUFFIXES.get(Path(base).suffix.lower())
    if fmt is None:
        raise FormatError(
            f"{path}: cannot tell the format from the suffix {Path(base).suffix or '(none)'!r}; "
            f"use a .jsonl, .csv, .parquet, .txt, .html, .warc or .arc name (optionally "
            f".gz/.zst) or pass --format"
        )
    return fmt
