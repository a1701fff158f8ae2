"""Readers and writers, chosen by file suffix (overridable), streaming, with compression
by suffix (``.gz``, ``.zst``).

Formats: ``jsonl`` (``.jsonl``, ``.json``, ``.ndjson``), ``csv``, ``parquet`` (extra
``neardup[parquet]``), ``txt`` (one document per file) and a directory of ``.txt`` files.
``-`` is standard input or output.
"""

from __future__ import annotations

from .formats import (
    FORMATS,
    Reject,
    detect_format,
    open_writer,
    read_documents,
)

__all__ = ["FORMATS", "Reject", "detect_format", "open_writer", "read_documents"]
