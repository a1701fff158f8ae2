"""Adversarial cases against the ``neardup`` command line: what a careless or hostile
user feeds it (odd encodings, broken compression, hostile ids and file names, clashing
options, reused folders, signals). A report, not a test: each case runs
``python -m neardup ...`` (60 s timeout, stdin closed or given) in a fresh temporary
folder, the table goes to ``benchmarks/results/adversarial.md``, and the exit status is 0
whatever fails.

A case's folder is ROOT/work (the working directory; its inputs are written there) with
TMPDIR=ROOT/systmp. Checks on every case:
(1) no traceback, no "internal error"; (2) exit code 0, 1 or 2;
(3) every file present before the run is byte-identical after it; nothing appears in ROOT
    beside work/ (written outside the folder); systmp/ is empty and no ``.*.part*`` file
    is left;
(4) nothing lost silently: on exit 0 the summary line (``read N = written W + rejected
    R``, ``read N = kept K + removed M + rejected R``) and every stats.json written add up
    and agree, ``read`` equals the records the case wrote, and the output, removed and
    rejects files hold the counted records (each a JSON object);
(5) an error is one ``Error:`` line, names the file (and line) the case says, and no
    temporary file name; every stderr line is neardup's own (no library warnings);
(6) no raw C0 control character (ESC, BEL, ...) but newline and tab on stdout or stderr
    (stdout is exempt where it carries the records).
Cases add their own checks (``expect``, ``check``).

    python benchmarks/adversarial.py [--only NAME ...] [--list]
"""

from __future__ import annotations

import argparse
import bz2
import gzip
import json
import os
import re
import shlex
import sqlite3
import sys
import time

from adversarial_harness import (  # the case helpers and checks
    CASES,
    CONTROL,
    ESC,
    ROOT,
    TABLE,
    Case,
    Result,
    absent,
    case,
    concurrent_runner,
    consistent_run_folder,
    csv_bytes,
    docs,
    error_line,
    files,
    holds,
    index_unchanged,
    jl,
    left,
    link,
    made,
    mkdir,
    parquet_bytes,
    parquet_has,
    run_case,
    same_as_j1,
    says,
    sigint_runner,
    text,
    within,
    zst,
)

# -------------------------------------------------------------------------- cases
# fmt: off
D3 = jl(*docs(3))
DUP = jl({"id": "a", "text": text(1)}, {"id": "b", "text": text(1)}, {"id": "c", "text": text(2)})
A = files({"a.jsonl": D3})
RUN = ["run", "in.jsonl", "-o", "out/", "-q"]  # a run folder for explain / report
RUNDIR = files({"in.jsonl": DUP, "!": [RUN]})
CLEANDIR = files({"a.jsonl": D3, "!": [["clean", "a.jsonl", "-o", "cl/", "-q"]]})
IDX = {"a.jsonl": D3, "!": [["index", "create", "seen.ndx"]]}
UPDATE = ["--index", "seen.ndx", "--update"]
BAD1 = files({"a.jsonl": jl(*docs(2), b"{oops")})
big = lambda n, words=80: jl(*({"id": f"d{i}", "text": text(i, words)} for i in range(n)))  # noqa: E731

# JSONL: what a line can hold
case("jsonl_empty", "empty .jsonl file", files({"e.jsonl": b""}), ["clean", "e.jsonl", "-o", "out.jsonl"], records=0, expect="ok")
case("jsonl_blank_only", "blank and whitespace-only lines", files({"w.jsonl": b"\n  \n\t\r\n"}),
     ["clean", "w.jsonl", "-o", "out.jsonl"], records=0, expect="ok")
case("jsonl_bom_first_record", "UTF-8 BOM before the first record", files({"bom.jsonl": b"\xef\xbb\xbf" + D3}),
     ["clean", "bom.jsonl", "-o", "out.jsonl"], records=3, names=("bom.jsonl:1",))
case("jsonl_crlf", "CRLF line ends, two exact copies", files({"crlf.jsonl": DUP.replace(b"\n", b"\r\n")}),
     ["dedup", "crlf.jsonl", "-o", "kept.jsonl", "--removed", "rm.jsonl"], records=3, expect="ok")
case("jsonl_no_final_newline", "first of two inputs lacks its final newline (kept as they came)",
     files({"a.jsonl": jl(*docs(2)).rstrip(b"\n"), "b.jsonl": jl(*docs(2, 5))}),
     ["dedup", "a.jsonl", "b.jsonl", "-o", "kept.jsonl"], records=4, expect="ok")
case("jsonl_gzip_without_suffix", "gzip bytes in a file named .jsonl", files({"z.jsonl": gzip.compress(D3)}),
     ["clean", "z.jsonl", "-o", "out.jsonl"], expect="error", names=("z.jsonl:1",))
case("jsonl_nul_bytes", "raw NUL in a line, escaped NUL in a text",
     files({"nul.jsonl": jl(b'{"id":"a","text":"x\x00y"}', {"id": "b", "text": "p\u0000q"}, *docs(1))}),
     ["clean", "nul.jsonl", "-o", "out.jsonl", "--rejects", "rej.jsonl"], records=3, expect="ok")
case("jsonl_non_objects", "lines that are a number, array, string, null, bool",
     files({"n.jsonl": jl(b"42", b"[1, 2]", b'"str"', b"null", b"true", *docs(1))}),
     ["clean", "n.jsonl", "-o", "out.jsonl", "--rejects", "rej.jsonl"], records=6, expect="ok")
case("jsonl_array_stops", "an array on line 2 without --rejects", files({"arr.jsonl": jl(*docs(1), b"[1]")}),
     ["clean", "arr.jsonl", "-o", "out.jsonl"], expect="error", names=("arr.jsonl:2",), check=left("out.jsonl"))
case("text_field_types", "text is a number, list, dict, null, missing, empty",
     files({"t.jsonl": jl(*({"id": str(i), "text": v} for i, v in enumerate([5, ["a"], {"a": 1}, None, "", "ok"])), {"id": "m"})}),
     ["clean", "t.jsonl", "-o", "out.jsonl", "--rejects", "rej.jsonl"], records=7, expect="ok")
case("text_empty_dedup", "empty and whitespace-only texts (exact copies of each other)",
     files({"e.jsonl": jl({"id": "a", "text": ""}, {"id": "b", "text": "   "}, {"id": "c", "text": "\n\t"})}),
     ["dedup", "e.jsonl", "-o", "kept.jsonl", "--removed", "rm.jsonl"], records=3, expect="ok", check=holds("kept.jsonl", 1))
case("id_types", "ids that are int, float, bool, null, dict, list",
     files({"ids.jsonl": jl(*({"id": v, "text": text(i)} for i, v in enumerate([7, 7.5, True, None, {"a": 1}, [1]])))}),
     ["run", "ids.jsonl", "-o", "out/"], records=6, expect="ok")
case("id_int_vs_string", "id 1 and id \"1\" in one file", files({"ids.jsonl": jl({"id": 1, "text": text(1)}, {"id": "1", "text": text(2)})}),
     ["dedup", "ids.jsonl", "-o", "kept.jsonl"], records=2, names=("ids.jsonl:2",))
case("id_null_vs_fileline", "id null (becomes FILE:LINE) and an explicit id equal to it",
     files({"n.jsonl": jl({"id": None, "text": text(1)}, {"id": "n.jsonl:1", "text": text(2)})}),
     ["dedup", "n.jsonl", "-o", "kept.jsonl"], records=2, names=("n.jsonl:2",))
case("dup_ids_across_files", "the same id in two files",
     files({"a.jsonl": jl({"id": "x", "text": text(1)}), "b.jsonl": jl({"id": "x", "text": text(2)})}),
     ["dedup", "a.jsonl", "b.jsonl", "-o", "kept.jsonl"], expect="error", names=("b.jsonl:1", "a.jsonl:1"))
case("input_given_twice", "one file passed twice", A, ["dedup", "a.jsonl", "a.jsonl", "-o", "kept.jsonl"], records=6, names=("a.jsonl:1",))
case("huge_int_field", "an id beyond 64 bits passes through exactly", files({"h.jsonl": jl({"id": 2**70, "n": -(2**80), "text": text(1)})}),
     ["clean", "h.jsonl", "-o", "out.jsonl"], records=1, expect="ok",
     check=lambda t, r: None if r.code or str(2**70) in (t / "out.jsonl").read_text() else "the big integer changed")
case("surrogate_in_text", "lone surrogate escape in the text field",
     files({"s.jsonl": jl(b'{"id":"a","text":"broken \\ud800 text here"}', *docs(1))}),
     ["clean", "s.jsonl", "-o", "out.jsonl", "--rejects", "rej.jsonl"], records=2)
case("dup_id_with_escape", "a duplicated id holding a CSI sequence",
     files({"e.jsonl": jl({"id": ESC + "[2Jx", "text": text(1)}, {"id": ESC + "[2Jx", "text": text(2)})}),
     ["dedup", "e.jsonl", "-o", "kept.jsonl"], expect="error", names=("e.jsonl:2",))
case("unicode_line_separators", "U+2028, U+0085, \\x1c in ids and texts; run then explain",
     files({"u.jsonl": jl({"id": "a\u2028b", "text": text(1)}, {"id": "c\x85d\x1ce", "text": text(1) + "\u2028" + "x"}), "!": [["run", "u.jsonl", "-o", "out/", "-q"]]}),
     ["explain", "out/", "c\x85d\x1ce"], expect="ok", check=says("REMOVED|removed", "does not say removed"))
case("doc_50mb", "a single 50 MB document (time, memory)", files({"huge.jsonl": jl({"id": "huge", "text": text(3, 8_000_000)})}),
     ["dedup", "huge.jsonl", "-o", "kept.jsonl", "--stats", "stats.json"], records=1, expect="ok", check=within(45))
case("identical_10k", "10,000 identical records, -j 2", files({"same.jsonl": jl(*[{"text": text(5)}] * 10_000)}),
     ["run", "same.jsonl", "-o", "out/", "-j", "2", "--no-report"], records=10_000, expect="ok", check=holds("out/kept.jsonl", 1))
case("entity_bomb", "a text of 20,000 nested &amp; escapes", files({"amp.jsonl": jl({"id": "a", "text": "&" + "amp;" * 20_000 + "lt;b&gt;"})}),
     ["clean", "amp.jsonl", "-o", "out.jsonl"], records=1, expect="ok", check=within(20))
case("url_junk_types", "url field: int, dict, list, bad IPv6, javascript:, empty (run learns sites)",
     files({"u.jsonl": jl(*({"id": str(i), "url": u, "text": text(i)} for i, u in enumerate([123, {"a": 1}, ["x"], "http://[::1", "javascript:alert(1)", ""])))}),
     ["run", "u.jsonl", "-o", "out/"], records=6, expect="ok")

# compression
case("gz_multimember", "a .jsonl.gz of two gzip members", files({"m.jsonl.gz": gzip.compress(jl(*docs(2))) + gzip.compress(jl(*docs(2, 5)))}),
     ["clean", "m.jsonl.gz", "-o", "out.jsonl"], records=4, expect="ok")
case("zst_multiframe", "a .jsonl.zst of two zstd frames (cat a.zst b.zst)", files({"m.jsonl.zst": zst(jl(*docs(2))) + zst(jl(*docs(2, 5)))}),
     ["clean", "m.jsonl.zst", "-o", "out.jsonl"], records=4, expect="ok")
case("gz_trailing_garbage", "a .jsonl.gz with bytes after its member", files({"g.jsonl.gz": gzip.compress(D3) + b"garbage!"}),
     ["clean", "g.jsonl.gz", "-o", "out.jsonl"], names=("g.jsonl.gz",))
case("gz_zero_bytes", "a 0-byte .jsonl.gz (no gzip header: truncated to nothing)", files({"z.jsonl.gz": b""}),
     ["clean", "z.jsonl.gz", "-o", "out.jsonl"], expect="error", names=("z.jsonl.gz",))
case("zst_zero_bytes", "a 0-byte .jsonl.zst (no frame: truncated to nothing)", files({"z.jsonl.zst": b""}),
     ["clean", "z.jsonl.zst", "-o", "out.jsonl"], expect="error", names=("z.jsonl.zst",))
case("zst_not_zstd", "plain JSONL named .jsonl.zst", files({"p.jsonl.zst": D3}),
     ["clean", "p.jsonl.zst", "-o", "out.jsonl"], expect="error", names=("p.jsonl.zst",))
case("gz_bad_line", "malformed line 3 inside a .jsonl.gz", files({"b.jsonl.gz": gzip.compress(jl(*docs(2), b"{oops"))}),
     ["clean", "b.jsonl.gz", "-o", "out.jsonl"], expect="error", names=("b.jsonl.gz:3",))
case("bz2_input", ".jsonl.bz2 (read since bz2 and xz are supported)", files({"a.jsonl.bz2": bz2.compress(D3)}),
     ["clean", "a.jsonl.bz2", "-o", "out.jsonl"], records=3, expect="ok", check=holds("out.jsonl", 3))
case("zst_gz_outputs", "write .jsonl.zst output and .jsonl.gz rejects", BAD1,
     ["clean", "a.jsonl", "-o", "out.jsonl.zst", "--rejects", "rej.jsonl.gz"], records=3, expect="ok")

# CSV and TSV
case("csv_empty", "0-byte .csv", files({"e.csv": b""}), ["clean", "e.csv", "-o", "out.csv"], records=0)
case("csv_short_row", "a row with fewer fields than the header, with --rejects",
     files({"s.csv": csv_bytes([["id", "title", "text"], ["1", "t", text(1)], ["2"], ["3", "t", text(3)]])}),
     ["clean", "s.csv", "-o", "out.csv", "--rejects", "rej.jsonl"], records=3, expect="ok")
case("csv_blank_line_then_bad_row", "blank line 3, a row with too many fields on line 4",
     files({"bl.csv": b"id,text\n1,hello\n\n2,world,extra\n"}), ["clean", "bl.csv", "-o", "out.csv"], expect="error", names=("bl.csv:4",))
case("csv_multiline_then_bad_row", "a quoted field over lines 2-3, a bad row on line 4",
     files({"ml.csv": b'id,text\n1,"two\nlines"\n2,world,extra\n'}), ["clean", "ml.csv", "-o", "out.csv"], expect="error", names=("ml.csv:4",))
case("csv_field_over_128k", "a 200,000-character article in a CSV field, with --rejects",
     files({"long.csv": csv_bytes([["id", "text"], ["1", text(1, 30_000)], ["2", text(2)]])}),
     ["clean", "long.csv", "-o", "out.csv", "--rejects", "rej.jsonl"], records=2, expect="ok")
case("csv_nul_byte", "a NUL byte inside a CSV field", files({"n.csv": b"id,text\n1,hello\x00world\n2,fine text\n"}),
     ["clean", "n.csv", "-o", "out.csv", "--rejects", "rej.jsonl"], records=2)
case("csv_latin1", "a latin-1 byte in a CSV field, with --rejects", files({"l.csv": b"id,text\n1,caf\xe9 au lait\n2,fine text\n"}),
     ["clean", "l.csv", "-o", "out.csv", "--rejects", "rej.jsonl"], records=2, expect="ok")
case("csv_crlf_dedup", "CRLF CSV with two exact copies",
     files({"c.csv": csv_bytes([["id", "text"], ["a", text(1)], ["b", text(1)], ["c", text(2)]], "\r\n")}),
     ["run", "c.csv", "-o", "out/"], records=3, expect="ok")
case("csv_lone_cr", "CSV with old-Mac CR line ends", files({"c.csv": csv_bytes([["id", "text"], ["a", text(1)], ["b", text(2)]], "\r")}),
     ["clean", "c.csv", "-o", "out.jsonl"], records=2, expect="ok")
case("csv_empty_ids", "a CSV whose id column is empty (CSV has no null: the ids are absent)",
     files({"e.csv": csv_bytes([["id", "text"], ["", text(1)], ["", text(2)]])}), ["dedup", "e.csv", "-o", "k.csv"], records=2, expect="ok")
case("csv_escape_in_header", "a CSV header with an ESC sequence and no text column",
     files({"e.csv": b"id,\x1b[31mevil\x1b[0m,body\n1,2,3\n"}), ["clean", "e.csv", "-o", "out.csv"], expect="error", names=("e.csv",))
case("csv_header_mismatch", "two CSV files, the second with an extra column, into one CSV",
     files({"a.csv": csv_bytes([["id", "text"], ["1", text(1)]]), "b.csv": csv_bytes([["id", "text", "lang"], ["2", text(2), "en"]])}),
     ["clean", "a.csv", "b.csv", "-o", "out.csv"], records=2, check=left("out.csv"))
case("tsv_as_csv", ".tsv read with --format csv", files({"a.tsv": b"id\ttext\n1\thello\n"}),
     ["clean", "a.tsv", "--format", "csv", "-o", "out.jsonl"], expect="error", names=("a.tsv",))

# Parquet
case("parquet_null_text", "Parquet whose text column is all null, with --rejects",
     files({"n.parquet": lambda p: p.write_bytes(parquet_bytes({"id": ["a", "b"], "text": [None, None]}, None))}),
     ["clean", "n.parquet", "-o", "out.jsonl", "--rejects", "rej.jsonl"], records=2, expect="ok")
case("parquet_zero_rows", "Parquet with a schema and no rows", files({"z.parquet": lambda p: p.write_bytes(parquet_bytes(
     {"id": [], "text": []}, __import__("pyarrow").schema([("id", "string"), ("text", "string")])))}),
     ["run", "z.parquet", "-o", "out/"], records=0, expect="ok")
case("parquet_nested_text_field", "--text-field meta.text on a struct column", files({"s.parquet": parquet_bytes({"id": ["a"], "meta": [{"text": "x y"}]})}),
     ["clean", "s.parquet", "--text-field", "meta.text", "-o", "out.jsonl"], expect="error", names=("s.parquet",))
case("parquet_escape_column", "a Parquet column name with an OSC sequence, no text column",
     files({"e.parquet": parquet_bytes({"\x1b]0;pwned\x07": ["x"]})}), ["clean", "e.parquet", "-o", "out.jsonl"], expect="error", names=("e.parquet",))
case("to_parquet_extra_field", "JSONL to Parquet, record 2 has a field record 1 lacks",
     files({"x.jsonl": jl({"id": "a", "text": text(1)}, {"id": "b", "text": text(2), "lang": "en"})}),
     ["clean", "x.jsonl", "-o", "out.parquet"], records=2, expect="ok", check=parquet_has("out.parquet", "lang", 1))
case("to_parquet_mixed_types", "JSONL to Parquet, a field int in one record and str in the next",
     files({"x.jsonl": jl({"id": "a", "n": 1, "text": text(1)}, {"id": "b", "n": "x", "text": text(2)})}),
     ["clean", "x.jsonl", "-o", "out.parquet"], records=2, check=left("out.parquet"))
case("to_csv_heterogeneous", "dedup JSONL with differing fields into kept.csv",
     files({"x.jsonl": jl({"id": "a", "text": text(1)}, {"id": "b", "text": text(2), "lang": "en"})}),
     ["dedup", "x.jsonl", "-o", "kept.csv"], records=2, check=left("kept.csv"))

# text files, folders, pages
case("folder_of_jsonl", "a folder holding .jsonl files (not .txt)", files({"data/a.jsonl": D3, "data/b.jsonl": jl(*docs(2, 7))}),
     ["clean", "data", "-o", "out.jsonl"], records=5)
case("dir_named_jsonl", "a directory named data.jsonl", files({"data.jsonl/part-0.jsonl": D3}), ["clean", "data.jsonl", "-o", "out.jsonl"], records=3)
case("folder_txt_and_bz2", "a folder with a.txt and b.txt.bz2", files({"d/a.txt": text(1), "d/b.txt.bz2": bz2.compress(text(2).encode())}),
     ["clean", "d", "-o", "out.jsonl"], records=2)
case("folder_empty", "an empty folder", files({"empty": mkdir}), ["run", "empty", "-o", "out/"], records=0)
case("folder_3000_files", "3,000 tiny .txt files in 30 folders", files({f"many/{i // 100}/{i}.txt": f"note {i % 1500} on it" for i in range(3000)}),
     ["run", "many", "-o", "out/", "--no-report"], records=3000, expect="ok", check=within(40))
case("folder_symlink_loop", "a folder with a symlink to itself", files({"d/a.txt": text(1), "d/loop": link(".")}),
     ["clean", "d", "-o", "out.jsonl"], records=1, expect="ok")
case("txt_utf16_in_folder", "a UTF-16 .txt beside a UTF-8 one, with --rejects",
     files({"d/a.txt": text(1), "d/u16.txt": text(2).encode("utf-16")}), ["clean", "d", "-o", "out.jsonl", "--rejects", "rej.jsonl"],
     records=2, expect="ok")
case("txt_name_newline", "file names holding a newline, duplicates", files({"d/a\nb.txt": text(1), "d/c.txt": text(1)}),
     ["dedup", "d", "-o", "kept.jsonl", "--removed", "rm.jsonl"], records=2, expect="ok")
case("txt_name_escape_bad_utf8", "invalid UTF-8 in a file whose name holds ESC [2J", files({"d/x\x1b[2J.txt": b"\xff\xfe bad"}),
     ["clean", "d", "-o", "out.jsonl"], expect="error", names=("d/x",))
case("jsonl_name_newline_bad_line", "a malformed line in a file whose name holds a newline", files({"bad\nname.jsonl": b"{oops\n"}),
     ["clean", "bad\nname.jsonl", "-o", "out.jsonl"], expect="error")
case("missing_input_osc_name", "a missing input whose name holds an OSC title sequence", files({}),
     ["clean", "gone\x1b]0;pwned\x07.jsonl", "-o", "out.jsonl"], expect="error", names=("gone",))
case("glob_no_match", "an unexpanded glob (no file matched)", files({}), ["run", "crawl/*.jsonl.zst", "-o", "out/"], expect="error",
     names=("crawl/*.jsonl.zst",), check=absent("out"))
case("txt_output_many_docs", "three documents into one .txt output", A, ["clean", "a.jsonl", "-o", "out.txt"], expect="error",
     names=("out.txt",), check=left("out.txt"))
case("txtdir_name_collision", "ids a?b and a_b into -o dir/",
     files({"a.jsonl": jl({"id": "a?b", "text": text(1)}, {"id": "a_b", "text": text(2)})}), ["clean", "a.jsonl", "-o", "outdir/"],
     records=2, names=("outdir",), check=left("outdir"))
case("txtdir_traversal_ids", "ids ../../escape and /abs/path into -o dir/",
     files({"sub/a.jsonl": jl({"id": "../../escape", "text": text(1)}, {"id": "/abs/path", "text": text(2)})}),
     ["clean", "sub/a.jsonl", "-o", "sub/outdir/"], records=2, expect="ok", check=absent("escape.txt"))
case("html_deep_nesting", "an HTML page of 100,000 nested <div>",
     files({"deep.html": "<html><body>" + "<div>" * 100_000 + "a page of text " * 40 + "</div>" * 100_000 + "</body></html>"}),
     ["clean", "deep.html", "-o", "out.jsonl", "--rejects", "rej.jsonl"], records=1, expect="ok", check=within(30))
case("warc_not_warc", "a text file named .warc",
     files({"junk.warc": b"this is not a warc file at all\n" * 5}), ["clean", "junk.warc", "-o", "out.jsonl", "--rejects", "rej.jsonl"],
     names=("junk.warc",), check=lambda t, r: "garbage read as WARC records (skip reasons: "
     f"{sorted({json.loads(x)['error'] for x in (t / 'rej.jsonl').read_text().splitlines()})})" if r.code == 0
     and "WARC" not in (t / "rej.jsonl").read_text() and "damaged" not in (t / "rej.jsonl").read_text() else None)
case("warc_negative_length", "a WARC record with Content-Length: -5",
     files({"neg.warc": b"WARC/1.0\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:1>\r\nWARC-Target-URI: http://x.example/a\r\n"
            b"Content-Type: application/http; msgtype=response\r\nContent-Length: -5\r\n\r\nHTTP/1.1 200 OK\r\n"
            b"Content-Type: text/html\r\n\r\n<html><body><p>short page</p></body></html>\r\n\r\n"}),
     ["clean", "neg.warc", "-o", "out.jsonl", "--rejects", "rej.jsonl"], names=("neg.warc",))

# standard input
case("stdin_to_stdout", "clean - -o - (3 records)", files({}), ["clean", "-", "-o", "-"], stdin=D3, records=3, expect="ok", stdout_data=True)
case("stdin_closed_dedup", "dedup - with nothing on stdin", files({}), ["dedup", "-", "-o", "kept.jsonl"], records=0, expect="ok")
case("stdin_twice", "'-' given twice", files({}), ["clean", "-", "-", "-o", "out.jsonl"], stdin=D3, records=3)
case("stdin_run", "run - -o out/ with duplicates", files({}), ["run", "-", "-o", "out/"], stdin=DUP, records=3, expect="ok")
case("stdin_csv", "--format csv on stdin to stdout", files({}), ["clean", "-", "--format", "csv", "-o", "-"],
     stdin=csv_bytes([["id", "text"], ["1", text(1)], ["2", text(2)]]), records=2, expect="ok", stdout_data=True)
case("stdin_workdir_resume", "a second stdin run with other records reuses --workdir",
     files({"!": [(["dedup", "-", "-o", "k1.jsonl", "--workdir", "w", "-q"], DUP)]}), ["dedup", "-", "-o", "k.jsonl", "--workdir", "w"],
     stdin=jl(*docs(4, 100)), records=4, expect="ok", mutable=("w/*",),
     check=lambda t, r: None if r.code or "d100" in (t / "k.jsonl").read_text() else "k.jsonl holds the earlier run's records")

# option values out of range, clashing options (D3 in a.jsonl)
for name, args, expect in [
    ("threshold_nan", ["dedup", "a.jsonl", "-o", "k.jsonl", "--threshold", "nan"], "error"),
    ("site_min_share_nan", ["run", "a.jsonl", "-o", "out/", "--site-min-share", "nan"], "error"),
    ("seed_huge", ["dedup", "a.jsonl", "-o", "k.jsonl", "--seed", str(10**30)], None),
    ("seed_negative", ["dedup", "a.jsonl", "-o", "k.jsonl", "--seed", "-5"], None),
    ("output_empty_string", ["clean", "a.jsonl", "-o", ""], "error"),
    ("output_parent_is_file", ["clean", "a.jsonl", "-o", "a.jsonl/out.jsonl"], "error"),
    ("output_name_too_long", ["clean", "a.jsonl", "-o", "x" * 248 + ".jsonl"], "error"),
    ("output_is_dir", ["dedup", "a.jsonl", "-o", "."], "error"),
    ("output_slash_as_jsonl", ["clean", "a.jsonl", "-o", "od/", "--output-format", "jsonl"], None),
    ("text_field_empty_name", ["clean", "a.jsonl", "--text-field", "", "-o", "o.jsonl"], None),
]:
    case(name, "options: " + " ".join(args[2:])[:60], A, args, expect=expect, names=("a.jsonl",) if "format_" in name else ())
case("input_empty_string", "an empty string as the input, a stray .txt in the folder", files({"stray.txt": text(1)}),
     ["clean", "", "-o", "out.jsonl"], expect="error")
case("keep_unknown_field", "--keep field:dat (a typo) with duplicates: nothing says no record has it", files({"a.jsonl": DUP}),
     ["dedup", "a.jsonl", "-o", "k.jsonl", "--keep", "field:dat"], records=3, check=says(r"\bdat\b", "the unknown field is not mentioned"))
case("keep_dict_values", "--keep field:meta where every meta is a dict",
     files({"m.jsonl": jl({"id": "a", "meta": {"x": 1}, "text": text(1)}, {"id": "b", "meta": {"x": 2}, "text": text(1)})}),
     ["dedup", "m.jsonl", "-o", "k.jsonl", "--keep", "field:meta"], records=2)
case("id_field_is_text", "--id-field text with two identical texts", files({"a.jsonl": DUP}),
     ["dedup", "a.jsonl", "-o", "k.jsonl", "--id-field", "text"], records=3)
case("mixed_inputs", "JSONL + CSV + TXT into one JSONL",
     files({"a.jsonl": jl(*docs(2)), "b.csv": csv_bytes([["id", "text"], ["c1", text(8)]]), "c.txt": text(9)}),
     ["clean", "a.jsonl", "b.csv", "c.txt", "-o", "out.jsonl"], records=4, expect="ok")

MIX = [jl(b"{oops"), *(jl({"id": f"m{i}", "text": text(i % 300, 60) + (" extra" * (i % 3))}) for i in range(900))]
case("j2_equals_j1", "-j 2 and -j 1 give the same bytes on 901 lines (near copies, a bad line, empty texts)",
     files({"mix.jsonl": b"".join(MIX) + jl({"id": "e1", "text": ""}, {"id": "e2", "text": " "})}),
     ["run", "mix.jsonl", "-o", "out/", "-j", "2", "--rejects", "rej.jsonl"], records=903, expect="ok", check=same_as_j1)
case("removed_keeps_user_fields", "dedup a record that already has reason/duplicate_of/cluster/similarity fields",
     files({"r.jsonl": jl({"id": "a", "text": text(1)}, {"id": "b", "text": text(1), "reason": "user reason", "duplicate_of": "zz"})}),
     ["dedup", "r.jsonl", "-o", "k.jsonl", "--removed", "rm.jsonl"], records=2,
     check=lambda t, r: "the record's own reason/duplicate_of fields were overwritten" if r.code == 0
     and "user reason" not in (t / "rm.jsonl").read_text() else None)

# outputs that collide with each other or with a run folder's files
case("dedupe_ids_renames_unique_id", "--dedupe-ids on ids x, x, x#2: the input's own unique x#2 must keep its id",
     files({"x.jsonl": jl({"id": "x", "text": text(1)}, {"id": "x", "text": text(2)}, {"id": "x#2", "text": text(3)})}),
     ["dedup", "x.jsonl", "-o", "k.jsonl", "--dedupe-ids"], records=3, expect="ok",
     check=lambda t, r: "the unique input id x#2 was renamed" if r.code == 0 and "x#2#2" in (t / "k.jsonl").read_text() else None)
case("rejects_is_output", "--rejects names the output file", BAD1, ["clean", "a.jsonl", "-o", "out.jsonl", "--rejects", "out.jsonl"],
     records=3, check=holds("out.jsonl", 2))
case("removed_is_kept", "dedup --removed names the -o file", files({"a.jsonl": DUP}),
     ["dedup", "a.jsonl", "-o", "k.jsonl", "--removed", "k.jsonl"], records=3, check=holds("k.jsonl", 2))
case("run_rejects_in_outdir", "run --rejects out/kept.jsonl", BAD1, ["run", "a.jsonl", "-o", "out/", "--rejects", "out/kept.jsonl"],
     records=3, check=holds("out/kept.jsonl", 2))
case("removed_dash", "dedup --removed - (stdout or refuse; not a file named '-')", files({"a.jsonl": DUP}),
     ["dedup", "a.jsonl", "-o", "k.jsonl", "--removed", "-"], records=3, check=absent("-"), stdout_data=True)
case("hardlink_stats_to_input", "--stats is a hard link to the input", files({"a.jsonl": D3, "s.json": lambda p: os.link(p.parent / "a.jsonl", p)}),
     ["dedup", "a.jsonl", "-o", "k.jsonl", "--stats", "s.json"], expect="error", names=("s.json",))
case("report_over_kept", "report -o out/kept.jsonl (the run's own kept records)", RUNDIR, ["report", "out/", "-o", "out/kept.jsonl"],
     expect="error", names=("kept.jsonl",))
case("report_over_input", "report -o names the run's input file", RUNDIR, ["report", "out/", "-o", "in.jsonl"], expect="error",
     names=("in.jsonl",))

# reused folders, work directories, signals, two runs at once
SITE = [{"id": f"s{i}", "url": f"https://news.example/{i}", "text": text(i) + "\n\nShare this article with friends"} for i in range(6)]
case("input_inside_outdir", "run out/data.jsonl -o out/ beside a user's notes.txt", files({"out/data.jsonl": D3, "out/notes.txt": "mine"}),
     ["run", "out/data.jsonl", "-o", "out/"], records=3, expect="ok")
case("report_html_is_dir", "a second run into a folder whose report.html is a directory",
     files({"a.jsonl": D3, "b.jsonl": jl(*docs(2, 9)), "!": [RUN[:1] + ["a.jsonl"] + RUN[2:], lambda t: (t / "out/report.html").unlink() or mkdir(t / "out/report.html/x")]}),
     ["run", "b.jsonl", "-o", "out/"], mutable=("out/*",), expect="error", names=("out/report.html",))
case("stale_site_boilerplate", "a second run into one folder with --no-site-boilerplate",
     files({"a.jsonl": jl(*SITE), "b.jsonl": jl(*docs(2, 50)), "!": [["run", "a.jsonl", "-o", "out/", "-q"]]}),
     ["run", "b.jsonl", "-o", "out/", "--no-site-boilerplate"], records=2, mutable=("out/*",),
     check=lambda t, r: "out/site_boilerplate.jsonl of the earlier run survives" if (t / "out/site_boilerplate.jsonl").is_file()
     and "s0" in (t / "out/site_boilerplate.jsonl").read_text() else None)
case("workdir_with_user_file", "--workdir holding an unrelated file", files({"a.jsonl": D3, "w/notes.txt": "mine"}),
     ["dedup", "a.jsonl", "-o", "k.jsonl", "--workdir", "w"], records=3, expect="ok")
case("workdir_resume_other_input", "--workdir reused for another input file",
     files({"a.jsonl": DUP, "b.jsonl": jl(*docs(4, 20)), "!": [["dedup", "a.jsonl", "-o", "k1.jsonl", "--workdir", "w", "-q"]]}),
     ["dedup", "b.jsonl", "-o", "k.jsonl", "--workdir", "w"], records=4, expect="ok", mutable=("w/*",), check=holds("k.jsonl", 4))
case("workdir_is_output_folder", "run --workdir out/ -o out/", A, ["run", "a.jsonl", "-o", "out/", "--workdir", "out/"], records=3)
case("sigint_mid_run", "Ctrl-C (SIGINT to the process group) into a -j 2 run", files({"big.jsonl": big(60_000, 150)}),
     ["run", "big.jsonl", "-o", "out/", "-j", "2"], runner=sigint_runner, codes=(0, 1, 2, 130),
     check=lambda t, r: "orphaned workers" if "ADV: worker" in r.err else None)
case("sigint_index_update", "Ctrl-C into run --index --update (-j 1: in the compiled loops)", files({"big.jsonl": big(60_000, 150), "!": IDX["!"]}),
     ["run", "big.jsonl", "-o", "out/", *UPDATE], runner=sigint_runner, codes=(0, 1, 2, 130), mutable=("seen.ndx*",),
     check=lambda t, r: index_unchanged(t, r) if r.code else None)
case("two_runs_one_folder", "two runs into one folder at once (a.jsonl, b.jsonl)",
     files({"a.jsonl": jl(*({"id": f"a{i}", "text": text(i)} for i in range(3000))),
            "b.jsonl": jl(*({"id": f"b{i}", "text": text(i + 9000)} for i in range(1000)))}),
     ["run", "a.jsonl", "-o", "out/", "-q"], runner=concurrent_runner, check=lambda t, r: None if r.code else consistent_run_folder(t, r))

# the persistent index
ESCID = {"id": "\x1b[2J\x1b]0;owned\x07x", "text": text(1)}
case("index_info_other_sqlite", "index info on another program's SQLite file",
     files({"o.ndx": lambda p: sqlite3.connect(p).executescript("CREATE TABLE t(x); INSERT INTO t VALUES (1);")}),
     ["index", "info", "o.ndx"], expect="error", names=("o.ndx",))
case("index_create_parent_is_file", "index create under a path whose parent is a file", A, ["index", "create", "a.jsonl/seen.ndx"],
     expect="error", names=("a.jsonl/seen.ndx",))
case("index_query_binary", "index query with invalid UTF-8", files({**IDX, "b.txt": b"\xff\xfe\x00bin"}),
     ["index", "query", "seen.ndx", "b.txt"], expect="error", names=("b.txt",))
case("index_query_escape_filename", "index query of a file whose name holds ESC [31m", files({**IDX, "q\x1b[31m.txt": text(1)}),
     ["index", "query", "seen.ndx", "q\x1b[31m.txt"], expect="ok")
case("index_query_escape_id", "index query hitting an indexed id that holds CSI/OSC sequences",
     files({"e.jsonl": jl(ESCID), "q.txt": text(1), "!": [*IDX["!"], ["run", "e.jsonl", "-o", "o1/", *UPDATE, "-q"]]}),
     ["index", "query", "seen.ndx", "q.txt"], expect="ok")
case("index_remove_escape_ids", "index remove --ids with ids holding OSC/BEL", files({**IDX, "ids.txt": "\x1b]0;pwned\x07\nplain\n"}),
     ["index", "remove", "seen.ndx", "--ids", "ids.txt"], expect="ok", mutable=("seen.ndx*",))
case("index_remove_line_separator_id", "index remove of an indexed id holding U+2028",
     files({"u.jsonl": jl({"id": "a\u2028b", "text": text(1)}), "ids.txt": "a\u2028b\n",
            "!": [*IDX["!"], ["run", "u.jsonl", "-o", "o1/", *UPDATE, "-q"]]}),
     ["index", "remove", "seen.ndx", "--ids", "ids.txt"], expect="ok", mutable=("seen.ndx*",), check=says("removed 1 of 1", "id not removed"))
case("index_update_dup_ids", "a second --update batch reusing the first batch's ids",
     files({"a.jsonl": D3, "b.jsonl": jl(*({"id": f"d{i}", "text": text(i + 40)} for i in range(3))),
            "!": [*IDX["!"], ["run", "a.jsonl", "-o", "o1/", *UPDATE, "-q"]]}),
     ["run", "b.jsonl", "-o", "out/", *UPDATE], expect="error", names=("b.jsonl:1",), mutable=("seen.ndx*",))
case("index_is_input", "run --index names the JSONL input", A, ["run", "a.jsonl", "-o", "out/", "--index", "a.jsonl", "--update"],
     expect="error", names=("a.jsonl",))

# explain and report
case("explain_missing_id", "explain an id that is not in the run", RUNDIR, ["explain", "out/", "nope"], expect="error", names=("nope",))
case("explain_clean_folder", "explain on a folder written by clean -o dir/", CLEANDIR, ["explain", "cl/", "d0"], expect="error", names=("cl",))
case("explain_text_directory", "explain --text with a directory", files({"a.txt": text(1), "d": mkdir}), ["explain", "--text", "d", "a.txt"],
     expect="error", names=("d",))
case("explain_text_empty", "explain --text of two empty files", files({"a.txt": "", "b.txt": ""}), ["explain", "--text", "a.txt", "b.txt"],
     expect="ok")
case("explain_text_large_unrelated", "explain --text of two unrelated 1.3 MB texts (200,000 words each)",
     files({"a.txt": text(3, 200_000), "b.txt": text(4, 200_000)}), ["explain", "--text", "a.txt", "b.txt"], expect="ok", check=within(30))
case("explain_id_newline", "explain a removed document whose id holds a newline",
     files({"in.jsonl": jl({"id": "a", "text": text(1)}, {"id": "x\ny", "text": text(1)}), "!": [RUN]}),
     ["explain", "out/", "x\ny"], expect="ok", check=says("REMOVED|removed", "does not say removed"))
case("explain_other_text_field", "run --text-field body, then explain without it",
     files({"b.jsonl": jl({"id": "a", "body": text(1)}, {"id": "b", "body": text(1)}), "!": [["run", "b.jsonl", "-o", "out/", "--text-field", "body", "-q"]]}),
     ["explain", "out/", "b"])
case("explain_rtl_id", "explain a document whose id holds U+202E (right-to-left override)",
     files({"in.jsonl": jl({"id": "a", "text": text(1)}, {"id": "evil\u202etxt.exe", "text": text(1)}), "!": [RUN]}),
     ["explain", "out/", "a"], expect="ok", check=lambda t, r: "raw U+202E on stdout" if "\u202e" in r.out else None)
case("explain_input_changed", "explain a repaired document after its input file was rewritten",
     files({"in.jsonl": jl({"id": "r", "text": text(7, 60) + "\n\n" + text(7, 60)}, *docs(2)),
            "!": [RUN, lambda t: (t / "in.jsonl").write_bytes(jl({"id": "r", "text": "short"}))]}),
     ["explain", "out/", "r"], check=lambda t, r: "shows the rewritten input as the repeated text" if "repeats: short" in r.out else None)
case("report_clean_folder", "report on a folder written by clean", CLEANDIR, ["report", "cl/"], expect="error", names=("cl",),
     check=left("cl/report.html"))
case("report_threshold_nan", "report --threshold nan", RUNDIR, ["report", "out/", "--threshold", "nan"], expect="error")
case("report_output_missing_dir", "report -o into a folder that does not exist", RUNDIR, ["report", "out/", "-o", "new/dir/r.html"],
     names=("new/dir/r.html",))
case("run_all_rejected", "run where every record is rejected", files({"bad.jsonl": jl(b"1", b"[2]", b"{oops")}),
     ["run", "bad.jsonl", "-o", "out/", "--rejects", "rej.jsonl"], records=3, expect="ok", check=made("out/report.html"))
# fmt: on


# ------------------------------------------------------------------------- report


def visible(s: str, limit: int = 120) -> str:
    s = CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", s.replace("\n", "\\n"))
    s = s if len(s) <= limit else s[: limit - 3] + "..."
    return s.replace("|", "\\|")


def command_line(c: Case) -> str:
    line = "neardup " + shlex.join(c.args)
    return visible(line + (" < stdin" if c.stdin is not None else ""), 160)


def write_table(rows: list[tuple[Case, Result, list[str]]], seconds: float) -> None:
    failed = sum(1 for _, _, f in rows if f)
    out = [
        "# Adversarial cases against the neardup command line",
        "",
        f"`python benchmarks/adversarial.py`, {time.strftime('%Y-%m-%d %H:%M')}: {len(rows)} cases, "
        f"{failed} failing, {seconds:.0f} s. Each case runs in a fresh temporary folder; the checks "
        "are described at the top of the script. `notes`: the error line (or the last line of "
        "stderr), control characters escaped.",
        "",
        "| case | description | command | exit | result | notes |",
        "|---|---|---|---|---|---|",
    ]
    for c, r, fails in rows:
        result = "PASS" if not fails else "FAIL: " + "; ".join(fails)
        note = (
            error_line(r.err)
            if r.code != 0
            else next(
                (x for x in r.err.splitlines() if re.search(r"read [\d,]+ =", x)), error_line(r.err)
            )
        )
        out.append(
            f"| {c.name} | {visible(c.desc)} | `{command_line(c).replace('`', chr(39))}` | {r.code} "
            f"| {visible(result, 300)} | {visible(note)} |"
        )
    TABLE.parent.mkdir(parents=True, exist_ok=True)
    TABLE.write_text("\n".join(out) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", help="run this case only (repeatable)")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    opts = parser.parse_args()
    names = [c.name for c in CASES]
    dupes = {n for n in names if names.count(n) > 1}
    assert not dupes, f"duplicate case names: {dupes}"
    if opts.list:
        print("\n".join(f"{c.name}: {c.desc}" for c in CASES))
        return
    chosen = [c for c in CASES if not opts.only or c.name in opts.only]
    if opts.only and len(chosen) != len(opts.only):
        sys.exit(f"unknown case: {sorted(set(opts.only) - set(names))}")
    rows, t0 = [], time.perf_counter()
    for c in chosen:
        try:
            r, fails = run_case(c)
        except Exception as exc:  # a harness problem (setup, a check): say so, go on
            r, fails = Result("harness", "", str(exc), 0.0), [f"harness error: {exc!r}"]
        rows.append((c, r, fails))
        status = "PASS" if not fails else "FAIL " + "; ".join(fails)
        print(
            f"{c.name:32} exit {r.code!s:7} {r.seconds:5.1f}s  {visible(status, 200)}", flush=True
        )
    seconds = time.perf_counter() - t0
    failed = [c.name for c, _, f in rows if f]
    print(
        f"\n{len(rows)} cases, {len(failed)} failing, {seconds:.0f} s: {', '.join(failed) or 'none'}"
    )
    if not opts.only:
        write_table(rows, seconds)
        print(f"table: {TABLE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
