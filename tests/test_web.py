"""Raw pages in: HTML files and folders, WARC and ARC crawl files, main-text extraction,
and every record accounted for."""

from __future__ import annotations

import gzip
import io
import json
import zlib
from collections import Counter
from pathlib import Path

import pytest

from neardup import read_documents
from neardup.cli import main
from neardup.document import Document
from neardup.io import Reject, read_texts
from neardup.io.web import extract_page, http_payload
from neardup.pipeline import run_clean

ARTICLE = (
    "<html><head><title>{title}</title></head><body>"
    "<nav><a href='/'>Home</a> <a href='/news'>News</a> <a href='/sport'>Sport</a></nav>"
    "<article><h1>{title}</h1>{paras}</article>"
    "<footer>Copyright Example Media. All rights reserved.</footer></body></html>"
)


def page(title: str, sentences: list[str]) -> str:
    paras = "".join(f"<p>{s}</p>" for s in sentences)
    return ARTICLE.format(title=title, paras=paras)


STORY = [
    "The harbour authority said on Tuesday that the new fish market will open in spring.",
    "Traders have waited six years for the building, which cost twelve million pounds.",
    "Local fishermen welcomed the news but warned that berthing fees were still too high.",
    "A spokesperson for the council said the fees would be reviewed before the opening.",
]


def _warc(tmp_path: Path, name: str = "crawl.warc.gz") -> tuple[Path, dict]:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    path = tmp_path / name
    expected = {}
    with path.open("wb") as fh:
        w = WARCWriter(fh, gzip=name.endswith(".gz"))

        def response(url, body: bytes, ctype="text/html; charset=utf-8", status="200 OK", extra=()):
            http = StatusAndHeaders(status, [("Content-Type", ctype), *extra], protocol="HTTP/1.1")
            rec = w.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http)
            w.write_record(rec)
            return rec.rec_headers.get_header("WARC-Record-ID")

        w.write_record(w.create_warcinfo_record("crawl.warc.gz", {"software": "test"}))
        expected["page"] = response(
            "https://www.example.com/news/market", page("Fish market", STORY).encode()
        )
        w.write_record(
            w.create_warc_record(
                "https://www.example.com/news/market",
                "request",
                payload=io.BytesIO(b"GET /news/market HTTP/1.1\r\nHost: www.example.com\r\n\r\n"),
            )
        )
        response("https://example.com/report.pdf", b"%PDF-1.4 binary", ctype="application/pdf")
        response("https://example.com/gone", b"<html>not found</html>", status="404 Not Found")
        latin = page(
            "Café", ["Le café de la gare a rouvert ses portes après des travaux de six mois."]
        )
        expected["latin"] = response(
            "https://example.fr/cafe",
            latin.encode("latin-1"),
            ctype="text/html; charset=iso-8859-1",
        )
        # a gzip-encoded, chunked body: warcio undoes both
        body = gzip.compress(page("Harbour", STORY[:2]).encode())
        chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
        expected["encoded"] = response(
            "https://example.com/encoded",
            chunked,
            extra=[("Content-Encoding", "gzip"), ("Transfer-Encoding", "chunked")],
        )
        response("https://example.com/empty", b"   ")
        expected["plain"] = response(
            "https://example.com/notes.txt",
            b"Plain text notes about the harbour and its fish market.",
            ctype="text/plain",
        )
    return path, expected


def test_warc_records_become_pages_or_counted_skips(tmp_path: Path) -> None:
    pytest.importorskip("warcio")
    pytest.importorskip("trafilatura")
    path, expected = _warc(tmp_path)
    items = list(read_texts([str(path)], text_field="text", id_field="id"))
    docs = [i for i in items if isinstance(i, Document)]
    skips = [i for i in items if isinstance(i, Reject)]
    assert all(s.skipped for s in skips)
    assert len(items) == 9  # every record: warcinfo, 5 responses, request, pdf, 404 ...
    reasons = Counter(s.kind for s in skips)
    assert reasons == {
        "WARC warcinfo record": 1,
        "WARC request record": 1,
        "content type application/pdf": 1,
        "HTTP status 404": 1,
        "empty page": 1,
    }
    by_id = {d.id: d for d in docs}
    assert set(by_id) == set(expected.values())
    market = by_id[expected["page"]]
    assert market.record["url"] == "https://www.example.com/news/market"
    assert market.record["warc_record_id"] == expected["page"]
    assert market.record["date"] and market.record["offset"] >= 0
    assert "new fish market will open in spring" in market.text
    assert "Sport" not in market.text.split()  # navigation left out
    assert market.record["title"] == "Fish market"
    assert "Le café de la gare" in by_id[expected["latin"]].text
    assert "Traders have waited six years" in by_id[expected["encoded"]].text
    assert by_id[expected["plain"]].text.startswith("Plain text notes")
    # offsets point at the records: reading again from an offset gives the same record
    from warcio.archiveiterator import ArchiveIterator

    with path.open("rb") as fh:
        fh.seek(market.record["offset"])
        rec = next(iter(ArchiveIterator(fh)))
        assert rec.rec_headers.get_header("WARC-Record-ID") == expected["page"]


def test_truncated_warc_gz_is_a_counted_skip_not_a_crash(tmp_path: Path) -> None:
    pytest.importorskip("warcio")
    pytest.importorskip("trafilatura")
    path, _ = _warc(tmp_path)
    data = path.read_bytes()
    cut = tmp_path / "cut.warc.gz"
    cut.write_bytes(data[: int(len(data) * 0.6)])
    out = tmp_path / "out.jsonl"
    rejects = tmp_path / "rejects.jsonl"
    stats = run_clean([str(cut)], str(out), rejects=str(rejects))
    assert stats.read == stats.written + stats.rejected
    lines = [json.loads(x) for x in rejects.read_text().splitlines()]
    damaged = [x for x in lines if x["error"].startswith("record cut off")]
    assert len(damaged) == 1 and damaged[0]["skipped"] and damaged[0]["file"] == str(cut)
    assert "offset" in damaged[0]
    # without a rejects file the skips are only counted, the run goes on
    stats2 = run_clean([str(cut)], str(tmp_path / "out2.jsonl"))
    assert stats2.skipped == stats.skipped and stats2.written == stats.written


def _arc_record(url: str, body: bytes, ctype: str = "text/html", stamp: str = "20080509190241"):
    return b"\n%s 10.0.0.1 %s %s %d\n%s" % (
        url.encode(),
        stamp.encode(),
        ctype.encode(),
        len(body),
        body,
    )


def _http(body: bytes, headers: str = "Content-Type: text/html", status: str = "200 OK") -> bytes:
    return f"HTTP/1.1 {status}\r\n{headers}\r\n\r\n".encode() + body


def test_arc_reader_handles_old_crawl_quirks(tmp_path: Path) -> None:
    pytest.importorskip("trafilatura")
    html = page("Harbour", STORY).encode()
    gz = gzip.compress(html)
    chunked_gz = b"%x\r\n%s\r\n0\r\n\r\n" % (len(gz), gz)
    version = b"1 0 Test\nURL IP-address Archive-date Content-type Archive-length\n"
    parts = [
        # the file header record, not followed by a newline (as in Common Crawl's 2008
        # files, where warcio stops): the next header is read all the same
        b"filedesc://test.arc 0.0.0.0 20080619093439 text/plain %d\n" % len(version) + version,
        _arc_record("http://a.example/plain", _http(html)),
        # headers say chunked + gzip and the body still is
        _arc_record(
            "http://a.example/encoded",
            _http(
                chunked_gz,
                "Content-Type: text/html\r\nTransfer-Encoding: chunked\r\nContent-Encoding: gzip",
            ),
        ),
        # headers say chunked + gzip, but the crawler stored the decoded body
        _arc_record(
            "http://a.example/decoded",
            _http(
                html,
                "Content-Type: text/html\r\nTransfer-Encoding: chunked\r\nContent-Encoding: gzip",
            ),
        ),
        b"this line is not an ARC header\nneither is this\n",
        _arc_record(
            "http://a.example/doc.pdf",
            _http(b"%PDF-1.4", "Content-Type: application/pdf"),
            "application/pdf",
        ),
        _arc_record("http://a.example/moved", _http(b"", "Location: /x", "301 Moved")),
    ]
    data = b"".join(parts)
    data += b"http://a.example/cut 10.0.0.1 20080509190241 text/html 5000\nHTTP/1.1 200 OK\r\n"
    path = tmp_path / "sample.arc.gz"
    path.write_bytes(gzip.compress(data))
    items = list(read_texts([str(path)]))
    docs = {i.record["url"]: i for i in items if isinstance(i, Document)}
    skips = Counter(i.kind for i in items if isinstance(i, Reject))
    assert set(docs) == {
        "http://a.example/plain",
        "http://a.example/encoded",
        "http://a.example/decoded",
    }
    for d in docs.values():
        assert "Traders have waited six years" in d.text
        assert d.record["date"] == "2008-05-09T19:02:41Z"
        assert d.id == f"{path}@{d.record['offset']}"
    assert skips == {
        "ARC file header record": 1,
        "not an ARC record header": 1,
        "content type application/pdf": 1,
        "HTTP status 301": 1,
        "record cut off": 1,
    }
    # offsets are byte offsets of the header line in the uncompressed stream
    for d in docs.values():
        assert data[d.record["offset"] :].startswith(d.record["url"].encode() + b" ")


def test_http_payload_keeps_what_a_truncated_gzip_body_holds() -> None:
    body = ("word " * 5000).encode()
    gz = gzip.compress(body)
    status, ctype, out = http_payload(
        _http(
            gz[: len(gz) // 2], "Content-Type: text/html; charset=utf-8\r\nContent-Encoding: gzip"
        )
    )
    assert status == 200 and ctype.startswith("text/html")
    assert 0 < len(out) < len(body) and body.startswith(out)
    deflated = zlib.compress(body)
    assert http_payload(_http(deflated, "Content-Encoding: deflate"))[2] == body


def test_html_folder_and_files(tmp_path: Path) -> None:
    pytest.importorskip("trafilatura")
    folder = tmp_path / "pages"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.html").write_text(page("A", STORY), encoding="utf-8")
    (folder / "sub" / "b.htm.gz").write_bytes(gzip.compress(page("B", STORY[:3]).encode("utf-8")))
    (folder / "broken.html.gz").write_bytes(gzip.compress(page("C", STORY).encode())[:60])
    (folder / "empty.html").write_text("  \n", encoding="utf-8")
    (folder / "nav.html").write_text("<html><body><script>var x = 1;</script></body></html>")
    (folder / "style.css").write_text("body {}")
    items = list(read_texts([str(folder)]))
    assert len(items) == 5  # every .html/.htm(.gz) file, nothing else
    docs = {i.id: i for i in items if isinstance(i, Document)}
    assert set(docs) == {"a.html", "sub/b.htm.gz"}
    assert docs["a.html"].record["title"] == "A"
    assert "berthing fees" in docs["a.html"].text
    skips = {Path(i.path).name: i.kind for i in items if isinstance(i, Reject)}
    assert skips == {
        "broken.html.gz": "damaged compressed file",
        "empty.html": "empty page",
        "nav.html": "no main text found",
    }
    # a single file too, and --format html for another suffix
    (tmp_path / "page.xml").write_text(page("D", STORY), encoding="utf-8")
    [doc] = list(read_texts([str(tmp_path / "page.xml")], fmt="html"))
    assert "fish market" in doc.text


def test_raw_pages_need_extraction(tmp_path: Path) -> None:
    """read_documents leaves a page's bytes in ``raw``; read_texts extracts them."""
    pytest.importorskip("trafilatura")
    (tmp_path / "a.html").write_text(page("A", STORY), encoding="utf-8")
    [doc] = list(read_documents(str(tmp_path / "a.html")))
    assert doc.text == "" and doc.raw is not None
    assert "fish market" in extract_page(doc.raw)["text"]


def test_cli_run_on_a_warc_accounts_for_every_record(tmp_path: Path, runner) -> None:
    pytest.importorskip("warcio")
    pytest.importorskip("trafilatura")
    path, _ = _warc(tmp_path)
    out = tmp_path / "out"
    result = runner.invoke(main, ["run", str(path), "-o", str(out), "-j", "2", "--no-report"])
    assert result.exit_code == 0, result.output
    stats = json.loads((out / "stats.json").read_text())["stats"]
    assert stats["read"] == 9
    assert stats["read"] == stats["kept"] + stats["removed"] + stats["rejected"]
    assert stats["skipped"] == 5 and sum(stats["skipped_reasons"].values()) == 5
    assert "records were skipped (not pages with text)" in result.output
    assert "content type application/pdf 1" in result.output
    kept = [json.loads(x) for x in (out / "kept.jsonl").read_text().splitlines()]
    assert {k["url"] for k in kept} >= {"https://www.example.com/news/market"}


# ------------------------------------------------------------------- the shared data


def _arc_headers(path: Path) -> int:
    """Records of an ARC file, counted independently of the reader (header lines whose
    last field is the length of what follows)."""
    data = gzip.decompress(path.read_bytes())
    pos = n = 0
    while pos < len(data):
        nl = data.index(b"\n", pos)
        length = int(data[pos:nl].rsplit(b" ", 1)[1])
        n += 1
        pos = nl + 1 + length
        while data[pos : pos + 1] == b"\n":
            pos += 1
    return n


def test_commoncrawl_arc_samples_every_record_accounted_for(
    shared_data: Path, tmp_path: Path
) -> None:
    pytest.importorskip("trafilatura")
    files = sorted((shared_data / "commoncrawl-2008-arc").glob("*.arc.gz"))
    assert files
    out = tmp_path / "out.jsonl"
    rejects = tmp_path / "rejects.jsonl"
    stats = run_clean([str(f) for f in files], str(out), rejects=str(rejects), workers=2)
    assert stats.read == sum(_arc_headers(f) for f in files)
    assert stats.read == stats.written + stats.rejected
    assert stats.rejected == stats.skipped  # nothing unexplained
    assert stats.skipped_reasons.get("content type application/pdf") == 6
    kept = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(kept) == stats.written
    assert all(k["text"].strip() and k["url"].startswith("http") for k in kept)
    assert len({k["id"] for k in kept}) == len(kept)


def test_web_pages_every_file_accounted_for(shared_data: Path) -> None:
    pytest.importorskip("trafilatura")
    folder = shared_data / "web-pages" / "scrapinghub-articles" / "html"
    files = sorted(folder.glob("*.html.gz"))
    items = list(read_texts([str(folder)], workers=2))
    assert len(items) == len(files) == 181
    gold = json.loads((folder.parent / "ground-truth.json").read_text(encoding="utf-8"))
    docs = [i for i in items if isinstance(i, Document)]
    assert len(docs) >= 175  # trafilatura finds a main text on nearly every page
    # the extracted text is the article: most gold words are found in it
    recall = []
    for d in docs:
        want = gold[d.id.removesuffix(".html.gz")]["articleBody"].split()
        have = set(d.text.split())
        recall.append(sum(w in have for w in want) / max(1, len(want)))
    assert sum(recall) / len(recall) > 0.85


def test_missing_html_extra_says_how_to_install(tmp_path: Path, monkeypatch, runner) -> None:
    import sys

    (tmp_path / "a.html").write_text(page("A", STORY), encoding="utf-8")
    monkeypatch.setitem(sys.modules, "trafilatura", None)  # import fails
    result = runner.invoke(
        main, ["clean", str(tmp_path / "a.html"), "-o", str(tmp_path / "o.jsonl")]
    )
    assert result.exit_code == 1
    assert "pip install 'neardup[html]'" in result.output


def test_explain_and_report_show_site_boilerplate_and_skips(tmp_path: Path, runner) -> None:
    pytest.importorskip("warcio")
    pytest.importorskip("trafilatura")
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    path = tmp_path / "site.warc"
    promo = "Subscribe to the Harbour Gazette for only one pound a week, cancel any time."
    topics = [
        ("ferry", "timetable", "islanders", "winter"),
        ("lifeboat", "volunteers", "rescue", "storm"),
        ("market", "fishermen", "prices", "auction"),
        ("festival", "musicians", "crowds", "summer"),
    ]
    stories = [
        [f"The {a} {b} sentence {j} tells of the {c} and the {d} by the quay." for j in range(5)]
        for a, b, c, d in topics
    ]
    with path.open("wb") as fh:
        w = WARCWriter(fh, gzip=False)
        for k, body in enumerate(stories):
            html = page(f"Story {k}", [*body, promo]).encode()
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
            w.write_record(
                w.create_warc_record(
                    f"https://gazette.example/{k}",
                    "response",
                    payload=io.BytesIO(html),
                    http_headers=http,
                )
            )
        http = StatusAndHeaders("200 OK", [("Content-Type", "image/png")], protocol="HTTP/1.1")
        w.write_record(
            w.create_warc_record(
                "https://gazette.example/logo.png",
                "response",
                payload=io.BytesIO(b"PNG"),
                http_headers=http,
            )
        )
    out = tmp_path / "out"
    r = runner.invoke(main, ["run", str(path), "-o", str(out), "-j", "1"])
    assert r.exit_code == 0, r.output
    site = [json.loads(x) for x in (out / "site_boilerplate.jsonl").read_text().splitlines()]
    assert len(site) == 4 and all([x["text"] for x in s["removed"]] == [promo] for s in site)
    doc_id = site[0]["id"]
    r = runner.invoke(main, ["explain", str(out), doc_id])
    assert r.exit_code == 0, r.output
    assert "site boilerplate of gazette.example" in r.output and "on 4 documents" in r.output
    html = (out / "report.html").read_text()
    assert "site boilerplate lines removed" in html and "skipped: content type image/png" in html


@pytest.mark.parametrize(
    "folder", ["trafilatura-eval", "readability/test-pages", "newspaper/data/html"]
)
def test_every_page_of_the_shared_sets_is_read_or_skipped_with_a_reason(
    shared_data: Path, folder: str
) -> None:
    """The messy pages (any language, odd file names, broken markup) never stop a run:
    every HTML file becomes a document or a skip with its reason."""
    pytest.importorskip("trafilatura")
    root = shared_data / "web-pages" / folder
    files = [p for p in root.rglob("*") if p.name.lower().endswith((".html.gz", ".htm.gz"))]
    # --format html: trafilatura-eval's folder also holds a README.txt
    items = list(read_texts([str(root)], fmt="html", workers=2))
    assert len(items) == len(files) > 100
    docs = [i for i in items if isinstance(i, Document)]
    skips = [i for i in items if isinstance(i, Reject)]
    assert all(s.skipped and s.reason for s in skips)
    assert all(d.text.strip() for d in docs)
    assert len(docs) > 0.6 * len(files)
    assert len({d.id for d in docs}) == len(docs)


def test_pages_and_site_learning_give_the_same_outputs_on_any_worker_count(
    tmp_path: Path, runner
) -> None:
    pytest.importorskip("warcio")
    pytest.importorskip("trafilatura")
    path, _ = _warc(tmp_path)
    outs = []
    for j in ("1", "2"):
        out = tmp_path / f"out{j}"
        r = runner.invoke(main, ["run", str(path), "-o", str(out), "-j", j, "--no-report", "-q"])
        assert r.exit_code == 0, r.output
        outs.append(out)
    for name in (
        "kept.jsonl",
        "removed.jsonl",
        "clusters.jsonl",
        "repairs.jsonl",
        "site_boilerplate.jsonl",
    ):
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name
    cleaned = []
    for j in ("1", "2"):
        out = tmp_path / f"clean{j}.jsonl"
        r = runner.invoke(
            main, ["clean", str(path), "-o", str(out), "-j", j, "--site-boilerplate", "-q"]
        )
        assert r.exit_code == 0, r.output
        cleaned.append(out.read_bytes())
    assert cleaned[0] == cleaned[1]
