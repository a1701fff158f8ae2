"""Raw pages in: HTML files and folders, WARC and ARC crawl files.

Readers here yield :class:`~neardup.document.Document` objects whose ``raw`` holds the
page's bytes (``text`` is empty) and :class:`~neardup.io.formats.Reject` objects with
``skipped=True`` for records that are not pages (requests, revisits, PDFs, error
statuses) or cannot be read (a truncated gzip member, a broken record header). A skip is
counted by reason in every summary and listed in the rejects file when there is one; it
never stops the run. :func:`extract_documents` then turns pages into documents (main
text through trafilatura, in worker processes).

Fields of a page document: ``id`` (the WARC record id; ``FILE@OFFSET`` for an ARC
record; the path, relative to the folder given, for an HTML file), ``url``, ``date``
(when the page was fetched, ISO 8601; crawl files only), ``warc_record_id`` (WARC),
``file`` and ``offset`` (crawl files: byte offset of the record, in the compressed file
for WARC, in the uncompressed stream for ARC), ``title`` and ``published`` (found in
the page by trafilatura, when it finds them) and ``text``.
"""

from __future__ import annotations

import gzip
import re
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from ..document import Document
from ..errors import InputError, MissingDependencyError
from .formats import Reject, _open_binary_read, _split_compression
from .paths import is_uri


def _open_stored(path: str) -> IO[bytes]:
    """The bytes of a crawl file as stored (warcio reads its gzip members itself)."""
    if is_uri(path):
        from .remote import open_uri

        return open_uri(path)
    try:
        return open(path, "rb")  # noqa: SIM115 - the caller closes it
    except FileNotFoundError:
        raise InputError("no such file", path) from None


HTML_SUFFIXES = (".html", ".htm", ".xhtml")
# a payload with one of these content types is a page (anything else is skipped)
_PAGE_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "application/xml", "text/xml")
_ARC_HEADER_RE = re.compile(rb"^(\S+) (\S+) (\d{14}) (\S*) (\d+)\r?\n?$")


def _page_doc(
    doc_id: str,
    body: bytes,
    path: str,
    number: int,
    fields: dict[str, Any],
    ctype: str,
    id_field: str,
) -> Document:
    record = {id_field: doc_id, **fields}
    return Document(doc_id, "", record, path, number, raw=body, raw_type=ctype)


def _skip(path: str, number: int, reason: str, offset: int | None = None) -> Reject:
    return Reject(path, number, reason, skipped=True, offset=offset)


def _kind(ctype: str) -> str:
    return ctype.split(";", 1)[0].strip().lower()


def _check_payload(status: int | None, ctype: str, body: bytes) -> str:
    """Why a fetched payload is not a page ('' when it is one)."""
    if status is not None and not 200 <= status < 300:
        return f"HTTP status {status}"
    kind = _kind(ctype)
    if kind and kind not in _PAGE_TYPES:
        return f"content type {kind}"
    if not body.strip():
        return "empty page"
    return ""


# ------------------------------------------------------------------------------- HTML


def read_html(path: str, text_field: str, id_field: str, doc_id: str | None = None):
    """One HTML file (``.html``, ``.htm``, optionally ``.gz``) as one page."""
    name = doc_id or path
    try:
        with _open_binary_read(path) as fh:
            data = fh.read()
    except (OSError, EOFError, zlib.error) as exc:  # a damaged compressed file
        yield _skip(path, 1, f"damaged compressed file: {exc}")
        return
    if not data.strip():
        yield _skip(path, 1, "empty page")
        return
    yield _page_doc(name, data, path, 1, {"path": path}, "text/html", id_field)


def read_html_dir(path: str, text_field: str, id_field: str):
    """Every HTML file under the folder ``path`` (sorted by path), one page each."""
    root = Path(path)
    files = sorted(
        p
        for p in root.rglob("*")
        if p.is_file() and _split_compression(p.name)[0].lower().endswith(HTML_SUFFIXES)
    )
    for file in files:
        yield from read_html(str(file), text_field, id_field, file.relative_to(root).as_posix())


def has_html_files(path: str) -> bool:
    """Whether the folder ``path`` holds HTML files and no ``.txt`` files."""
    html = txt = False
    for p in Path(path).rglob("*"):
        base = _split_compression(p.name)[0].lower()
        html = html or base.endswith(HTML_SUFFIXES)
        txt = txt or base.endswith((".txt", ".text"))
    return html and not txt


# ------------------------------------------------------------------------------- WARC


def _warcio():
    try:
        from warcio.archiveiterator import ArchiveIterator
    except ImportError:
        raise MissingDependencyError("warcio", "html", "Reading WARC files") from None

    class Quiet(ArchiveIterator):
        # warcio writes its own multi-line warning to stderr for a record not followed
        # by a newline; the record is counted and named in the summary instead
        INC_RECORD = ""

    return Quiet


def read_warc(path: str, text_field: str, id_field: str) -> Iterator[Document | Reject]:
    """Response (and resource) records of a WARC file with a page payload."""
    iterator_cls = _warcio()
    fh = _open_stored(path)  # closed below
    number = 0
    offset = 0
    try:
        records = iterator_cls(fh, no_record_parse=False)
        while True:
            try:
                rec = next(records)
            except StopIteration:
                return
            except Exception as exc:  # warcio raises several types on damaged input
                yield _skip(path, number + 1, f"damaged record, rest of file unread: {exc}", offset)
                return
            number += 1
            if getattr(rec, "format", "warc") != "warc":  # warcio reads anything as ARC
                yield _skip(
                    path,
                    number,
                    "not a WARC record (no WARC/1.x header), rest of file unread",
                    offset,
                )
                return
            rtype = rec.rec_type
            try:
                body = rec.content_stream().read()
                left = getattr(rec.raw_stream, "limit", 0)
                problem = f"record cut off ({left} of {rec.length} bytes missing)" if left else ""
            except Exception as exc:
                body, problem = b"", f"damaged payload: {exc}"
            offset = records.get_record_offset()  # (after the payload: it reads the rest)
            if rtype not in ("response", "resource"):
                yield _skip(path, number, f"WARC {rtype} record", offset)
                continue
            if problem:
                yield _skip(path, number, problem, offset)
                continue
            headers = rec.rec_headers
            status = None
            if rec.http_headers is not None and rtype == "response":
                try:
                    status = int(rec.http_headers.get_statuscode())
                except (TypeError, ValueError):
                    status = None
                ctype = rec.http_headers.get_header("Content-Type") or ""
            else:
                ctype = headers.get_header("Content-Type") or ""
            why = _check_payload(status, ctype, body)
            if why:
                yield _skip(path, number, why, offset)
                continue
            rid = headers.get_header("WARC-Record-ID") or f"{path}@{offset}"
            fields = {
                "url": headers.get_header("WARC-Target-URI"),
                "date": headers.get_header("WARC-Date"),
                "warc_record_id": rid,
                "file": path,
                "offset": offset,
            }
            yield _page_doc(rid, body, path, number, fields, ctype, id_field)
    finally:
        fh.close()


# -------------------------------------------------------------------------------- ARC


def _open_maybe_gzip(path: str) -> IO[bytes]:
    fh = _open_stored(path)
    comp = _split_compression(path)[1]
    if comp == ".gz":
        return gzip.GzipFile(fileobj=fh, mode="rb")  # type: ignore[return-value]
    if comp is not None:  # .zst, .bz2, .xz
        fh.close()
        return _open_binary_read(path)
    return fh


def _dechunk(body: bytes) -> bytes | None:
    """The body of a chunked transfer encoding, or None when ``body`` is not chunked."""
    out = []
    pos = 0
    while True:
        end = body.find(b"\n", pos)
        if end < 0:
            return None
        size_text = body[pos:end].split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            return None
        if size == 0:
            return b"".join(out)
        out.append(body[end + 1 : end + 1 + size])
        pos = end + 1 + size
        if pos >= len(body):
            return b"".join(out)  # cut off mid-stream: keep what came
        pos = body.find(b"\n", pos) + 1 or len(body)


def _gunzip(body: bytes) -> bytes:
    """Decompress what a truncated gzip or deflate body holds (as much as is there)."""
    for wbits in (16 + zlib.MAX_WBITS, zlib.MAX_WBITS, -zlib.MAX_WBITS):
        try:
            return zlib.decompressobj(wbits).decompress(body)
        except zlib.error:
            continue
    return body


def http_payload(data: bytes) -> tuple[int | None, str, bytes]:
    """(status, content type, body) of a stored HTTP response; the body is de-chunked and
    decompressed where it still is (old crawls stored it either way, whatever the
    headers say)."""
    status = None
    headers: dict[str, str] = {}
    body = data
    if data[:5].upper() == b"HTTP/":
        split = re.search(rb"\r?\n\r?\n", data)
        head, body = (data[: split.start()], data[split.end() :]) if split else (data, b"")
        lines = head.split(b"\n")
        parts = lines[0].split()
        if len(parts) >= 2 and parts[1].isdigit():
            status = int(parts[1])
        for line in lines[1:]:
            name, sep, value = line.partition(b":")
            if sep:
                headers[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = _dechunk(body) or body
    if body[:2] == b"\x1f\x8b" or (
        headers.get("content-encoding", "").lower() == "deflate" and body[:1] == b"\x78"
    ):
        body = _gunzip(body)
    return status, headers.get("content-type", ""), body


def read_arc(path: str, text_field: str, id_field: str) -> Iterator[Document | Reject]:
    """Records of an ARC (v1) file: a header line ``URL IP DATE TYPE LENGTH`` and LENGTH
    bytes of HTTP response. A header that does not parse is skipped (named, with its
    offset) and reading resumes at the next line that does."""
    stream = _open_maybe_gzip(path)
    offset = 0
    number = 0
    try:
        while True:
            try:
                line = stream.readline()
            except (OSError, EOFError, zlib.error) as exc:
                yield _skip(
                    path, number + 1, f"damaged gzip stream, rest of file unread: {exc}", offset
                )
                return
            if not line:
                return
            here = offset
            offset += len(line)
            if not line.strip():
                continue
            m = _ARC_HEADER_RE.match(line)
            if m is None:
                number += 1
                garbage = len(line)
                # resynchronise: skip lines until one is an ARC header
                while True:
                    try:
                        line = stream.readline()
                    except (OSError, EOFError, zlib.error):
                        line = b""
                    if not line or _ARC_HEADER_RE.match(line):
                        break
                    garbage += len(line)
                    offset += len(line)
                yield _skip(
                    path, number, f"not an ARC record header ({garbage} bytes skipped)", here
                )
                if not line:
                    return
                here = offset
                offset += len(line)
                m = _ARC_HEADER_RE.match(line)
                assert m is not None
            number += 1
            url, _ip, stamp, ctype, length = m.groups()
            try:
                data = stream.read(int(length))
            except (OSError, EOFError, zlib.error) as exc:
                yield _skip(path, number, f"damaged gzip stream, rest of file unread: {exc}", here)
                return
            offset += len(data)
            url_s = url.decode("utf-8", "replace")
            if len(data) < int(length):
                yield _skip(
                    path, number, f"record cut off ({len(data)} of {int(length)} bytes)", here
                )
                return
            if url_s.startswith("filedesc:"):
                yield _skip(path, number, "ARC file header record", here)
                continue
            status, http_type, body = http_payload(data)
            ctype_s = http_type or ctype.decode("latin-1")
            why = _check_payload(status, ctype_s, body)
            if why:
                yield _skip(path, number, why, here)
                continue
            s = stamp.decode()
            fields = {
                "url": url_s,
                "date": f"{s[:4]}-{s[4:6]}-{s[6:8]}T{s[8:10]}:{s[10:12]}:{s[12:14]}Z",
                "file": path,
                "offset": here,
            }
            yield _page_doc(f"{path}@{here}", body, path, number, fields, ctype_s, id_field)
    finally:
        stream.close()


# --------------------------------------------------------------------------- extraction


def _trafilatura():
    try:
        import trafilatura
    except ImportError:
        raise MissingDependencyError("trafilatura", "html", "Extracting text from HTML") from None
    return trafilatura


def load_html(body: bytes):
    """The lxml tree of a page; trafilatura decodes the bytes (declared or detected
    encoding)."""
    from trafilatura.utils import load_html as _load

    return _load(body)


def _decode_text(body: bytes, ctype: str) -> str:
    m = re.search(r"charset=([\w.:-]+)", ctype, re.I)
    for enc in ([m.group(1)] if m else []) + ["utf-8"]:
        try:
            return body.decode(enc)
        except (LookupError, UnicodeDecodeError):
            continue
    return body.decode("cp1252", "replace")


def extract_page(body: bytes, url: str | None = None, ctype: str = "text/html") -> dict | str:
    """Main text, title and publication date of one page, as a dict with ``text``,
    ``title``, ``published``; or the reason (a string) when there is no main text.

    ``text/plain`` payloads are decoded as they are. HTML is parsed once by trafilatura
    (which decodes the bytes: declared or detected encoding); the title comes from
    trafilatura's title finder, the publication date from htmldate's quick search, the
    text from ``trafilatura.bare_extraction`` (comments left out, tables kept).
    """
    if _kind(ctype) == "text/plain":
        text = _decode_text(body, ctype)
        return {"text": text} if text.strip() else "empty page"
    trafilatura = _trafilatura()
    try:
        tree = load_html(body)
        if tree is None:
            return "not HTML"
        # title and date first (extraction prunes the tree); trafilatura's own title
        # finder and htmldate's quick search cost a fifth of what with_metadata=True does
        title = _title(tree)
        published = _date(tree, url)
        canonical = None if url else _canonical(tree)
        doc = trafilatura.bare_extraction(
            tree, url=url, with_metadata=False, include_comments=False, include_tables=True
        )
    except Exception as exc:  # a parser error on one page must not stop a crawl
        return f"extraction failed: {type(exc).__name__}: {exc}"
    if doc is None or not (doc.text or "").strip():
        return "no main text found"
    out: dict[str, Any] = {"text": doc.text}
    if title:
        out["title"] = title
    if published:
        out["published"] = published
    if canonical:
        out["url"] = canonical
    return out


def _canonical(tree) -> str | None:
    """The page's own absolute URL (canonical link or og:url), for pages read from
    files (it gives their site)."""
    for value in tree.xpath("//link[@rel='canonical']/@href | //meta[@property='og:url']/@content"):
        value = str(value).strip()
        if value.startswith(("http://", "https://")):
            return value
    return None


def _title(tree) -> str | None:
    try:
        from trafilatura.metadata import extract_title

        return extract_title(tree) or None
    except Exception:  # an internal helper of trafilatura: fall back to <title>
        text = tree.findtext(".//title")
        return " ".join(text.split()) if text else None


def _date(tree, url: str | None) -> str | None:
    import warnings

    from htmldate import find_date

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # dateutil's unknown-timezone warnings
        try:
            return find_date(tree, url=url, extensive_search=False, original_date=True)
        except Exception:
            return None


def extract_batch(pages: list[tuple[bytes, str | None, str]]) -> list[dict | str]:
    """:func:`extract_page` over one batch (what a worker process runs)."""
    return [extract_page(body, url, ctype) for body, url, ctype in pages]


def _pages(batch: list[Document | Reject]) -> list[tuple[bytes, str | None, str]]:
    return [
        (i.raw, i.record.get("url"), i.raw_type)
        for i in batch
        if isinstance(i, Document) and i.raw is not None
    ]


def extract_documents(
    items: Iterable[Document | Reject], text_field: str, workers: int = 1, batch_size: int = 32
) -> Iterator[Document | Reject]:
    """Fill the text of every page document (other items pass through unchanged); a page
    with no main text becomes a counted skip. Runs on ``workers`` processes, in order."""
    from ..engines import map_ordered
    from ..pipeline import _batched

    _trafilatura()  # a missing extra is said here, before any worker starts
    for batch, results in map_ordered(
        extract_batch, _batched(items, batch_size), workers, with_input=True, arg=_pages
    ):
        it = iter(results)
        for item in batch:
            if not isinstance(item, Document) or item.raw is None:
                yield item
                continue
            got = next(it)
            if isinstance(got, str):
                yield _skip(item.path, item.line, got, item.record.get("offset"))
                continue
            record = item.record
            for key in ("url", "title", "published"):
                if key in got and record.get(key) is None:
                    record[key] = got[key]
            record[text_field] = got["text"]
            item.text = got["text"]
            item.raw = None
            yield item


WEB_READERS = {
    "html": read_html,
    "htmldir": read_html_dir,
    "warc": read_warc,
    "arc": read_arc,
}
WEB_FORMATS = frozenset(WEB_READERS)
