"""The document record that flows through every stage."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Document:
    """One document of a corpus.

    ``record`` holds the input record as it was read (every field, in input order); the
    writers put ``text`` back under the text field and leave every other field as it came.
    ``path`` and ``line`` say where the record was read from (``line`` is 1-based; the
    record number in a crawl file). A page read from HTML or a crawl file carries its bytes
    in ``raw`` until :func:`neardup.io.web.extract_documents` fills ``text``. A record read
    from a JSONL line carries that line in ``source``, so that a writer can copy a record
    whose text did not change as it came (no decoding and encoding again).
    """

    id: str
    text: str
    record: dict[str, Any] = field(default_factory=dict)
    path: str = ""
    line: int = 0
    raw: bytes | None = None  # a page's bytes, before main-text extraction
    raw_type: str = ""  # the page's content type
    source: bytes = b""  # the JSON line of the record (JSONL input), without its newline
