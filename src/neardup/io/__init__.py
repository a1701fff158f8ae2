"""Readers and writers, chosen by file suffix (overridable), streaming, with compression
by suffix (``.gz``, ``.zst``).

Formats: ``jsonl`` (``.jsonl``, ``.json``, ``.ndjson``), ``csv``, ``parquet`` (extra
``neardup[parquet]``), ``txt`` (one document per file) and a directory of ``.txt`` files;
raw pages (extra ``neardup[html]``): ``html`` files and folders, ``warc`` and ``arc``
crawl files (see :mod:`neardup.io.web`).
``-`` is standard input or output.
"""

from __future__ import annotations

from .formats import (
    FORMATS,
    PAGE_FORMATS,
    WRITE_FORMATS,
    Reject,
    default_output_format,
    detect_format,
    open_writer,
    read_documents,
    read_texts,
)

__all__ = [
    "FORMATS",
    "PAGE_FORMATS",
    "WRITE_FORMATS",
    "Reject",
    "default_output_format",
    "detect_format",
    "open_writer",
    "read_documents",
    "read_texts",
]
