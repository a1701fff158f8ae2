"""Readers and writers: every format, compression, pass-through, ids, atomic output."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from neardup import FormatError, InputError, Reject, open_writer, read_documents
from neardup.io import detect_format

RECORDS = [
    {"url": "https://example.org/1", "text": "First document.", "id": "a", "n": 1},
    {"url": "https://example.org/2", "text": "Second document, caf\u00e9.", "id": "b", "n": 2},
]


def write_jsonl(path: Path, records, opener=open) -> None:
    with opener(path, "wt", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("a.jsonl", "jsonl"),
        ("a.json.gz", "jsonl"),
        ("a.ndjson.zst", "jsonl"),
        ("a.csv", "csv"),
        ("a.csv.gz", "csv"),
        ("a.parquet", "parquet"),
        ("a.txt", "txt"),
        ("-", "jsonl"),
    ],
)
def test_format_from_suffix(name, fmt) -> None:
    assert detect_format(name) == fmt


def test_unknown_suffix_says_what_to_do() -> None:
    with pytest.raises(FormatError, match="--format"):
        detect_format("data.xml")


@pytest.mark.parametrize(
    "suffix", [".jsonl", ".jsonl.gz", ".jsonl.zst", ".csv", ".csv.zst", ".parquet"]
)
def test_round_trip_keeps_every_field_in_order(tmp_path: Path, suffix: str) -> None:
    path = str(tmp_path / f"data{suffix}")
    with open_writer(path) as w:
        for r in RECORDS:
            w.write(dict(r))
    docs = list(read_documents(path))
    assert [d.id for d in docs] == ["a", "b"]
    assert [d.text for d in docs] == [r["text"] for r in RECORDS]
    for doc, rec in zip(docs, RECORDS, strict=True):
        assert list(doc.record) == list(rec)
        if suffix.startswith(".csv"):  # CSV holds strings
            assert doc.record == {k: str(v) for k, v in rec.items()}
        else:
            assert doc.record == rec


def test_missing_id_field_gives_stable_file_line_ids(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    write_jsonl(path, [{"text": "one"}, {"text": "two"}])
    ids = [d.id for d in read_documents(str(path))]
    assert ids == [f"{path}:1", f"{path}:2"]
    assert ids == [d.id for d in read_documents(str(path))]


def test_custom_text_and_id_fields(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    write_jsonl(path, [{"body": "hello", "uid": 7}])
    (doc,) = read_documents(str(path), text_field="body", id_field="uid")
    assert doc.text == "hello" and doc.id == "7"


def test_bad_records_become_rejects_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(
        b'{"text": "good"}\n'
        b"{not json\n"
        b'{"body": "no text field"}\n'
        b'{"text": 42}\n'
        b'{"text": "caf\xe9"}\n'
        b"\n"
        b'["a list"]\n'
        b'{"text": "good again"}\n'
    )
    items = list(read_documents(str(path)))
    kinds = [(type(i).__name__, i.line) for i in items]
    assert kinds == [
        ("Document", 1),
        ("Reject", 2),
        ("Reject", 3),
        ("Reject", 4),
        ("Reject", 5),
        ("Reject", 7),
        ("Document", 8),
    ]
    reasons = [i.reason for i in items if isinstance(i, Reject)]
    assert "malformed JSON" in reasons[0]
    assert "no 'text' field" in reasons[1]
    assert "int, not a string" in reasons[2]
    assert "invalid UTF-8" in reasons[3]
    assert "not a JSON object" in reasons[4]
    err = items[1].error()
    assert isinstance(err, InputError) and f"{path}:2:" in str(err) and err.rejectable


def test_csv_bad_utf8_and_missing_column(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(b'id,text\n1,fine\n2,caf\xe9\n3,"multi\nline"\n')
    items = list(read_documents(str(path)))
    assert [type(i).__name__ for i in items] == ["Document", "Reject", "Document"]
    assert items[1].line == 3 and items[2].line == 4 and items[2].text == "multi\nline"
    with pytest.raises(InputError, match="no 'body' column"):
        list(read_documents(str(path), text_field="body"))


def test_txt_and_directory_of_txt(tmp_path: Path) -> None:
    (tmp_path / "d" / "sub").mkdir(parents=True)
    (tmp_path / "d" / "one.txt").write_text("One.", encoding="utf-8")
    (tmp_path / "d" / "sub" / "two.txt").write_text("Two.", encoding="utf-8")
    (tmp_path / "d" / "skip.md").write_text("not text", encoding="utf-8")
    with gzip.open(tmp_path / "d" / "three.txt.gz", "wt", encoding="utf-8") as f:
        f.write("Three.")
    docs = list(read_documents(str(tmp_path / "d")))
    assert [(d.id, d.text) for d in docs] == [
        ("one.txt", "One."),
        ("sub/two.txt", "Two."),
        ("three.txt.gz", "Three."),
    ]
    (doc,) = read_documents(str(tmp_path / "d" / "one.txt"))
    assert doc.text == "One."


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        list(read_documents(str(tmp_path / "nope.jsonl")))


@pytest.mark.parametrize("suffix", [".gz", ".zst"])
def test_truncated_stream_ends_in_a_reject(tmp_path: Path, suffix: str) -> None:
    """A compressed file cut short gives the records before the cut, then a reject that
    names the line where the damage is: never a silent end."""
    import zstandard

    path = tmp_path / f"x.jsonl{suffix}"
    records = [{"text": f"text {i} " * 50, "id": str(i)} for i in range(2000)]
    if suffix == ".gz":
        write_jsonl(path, records, gzip.open)
    else:  # several frames, as zstd files written in pieces have them
        raw = "".join(json.dumps(r) + "\n" for r in records).encode()
        c = zstandard.ZstdCompressor()
        path.write_bytes(
            b"".join(c.compress(raw[i : i + 50_000]) for i in range(0, len(raw), 50_000))
        )
        assert [d.id for d in read_documents(str(path))] == [r["id"] for r in records]
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])
    items = list(read_documents(str(path)))
    *docs, last = items
    assert all(not isinstance(d, Reject) for d in docs) and 0 < len(docs) < len(records)
    assert isinstance(last, Reject) and "damaged or truncated" in last.reason
    assert last.line == len(docs) + 1
    assert "--rejects" not in str(last.error()) and last.error().rejectable


def test_writer_is_atomic(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    with pytest.raises(RuntimeError), open_writer(str(target)) as w:
        w.write({"text": "partial"})
        raise RuntimeError("boom")
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_txt_writer_holds_one_document(tmp_path: Path) -> None:
    w = open_writer(str(tmp_path / "x.txt"))
    w.write({"text": "one"})
    with pytest.raises(FormatError, match="one document"):
        w.write({"text": "two"})
    w.abort()


def test_parquet_missing_dependency_message(monkeypatch, tmp_path: Path) -> None:
    import builtins

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name.startswith("pyarrow"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(ImportError, match=r"pip install 'neardup\[parquet\]'"):
        list(read_documents(str(tmp_path / "x.parquet")))


_JSON_LEAF = (
    st.none() | st.booleans() | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=5)
    | st.sampled_from(["\ud800", "caf\u00e9", "\U0001f600"])
)  # fmt: skip
_JSON_VALUE = st.recursive(
    _JSON_LEAF, lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=3), kids, max_size=3),
    max_leaves=8,
)  # fmt: skip
_RECORD = st.dictionaries(st.sampled_from(["text", "id", "n", "meta"]), _JSON_VALUE, max_size=4)


@settings(max_examples=1500, deadline=None)
@given(
    record=_RECORD | _JSON_VALUE,
    damage=st.sampled_from(["", "cut", "bad utf-8", "crlf", "bom", "nan"]),
)
@example(record={"text": "a", "id": 2**64 + 5}, damage="")  # orjson: a float
@example(record={"text": "a", "n": [-(2**63) - 1]}, damage="")
@example(record={"text": "a", "n": 2**64 - 1, "id": -(2**63)}, damage="")  # orjson: ints
@example(record={"text": "a", "meta": {"n": 1e300}}, damage="")
@example(record={"text": 1, "id": "x"}, damage="")
def test_jsonl_lines_parse_the_same_with_and_without_orjson(record, damage) -> None:
    """orjson (the ``fast`` extra) parses exactly the lines it is given to, the rest go to
    the standard parser: the documents and rejects do not depend on it."""
    from neardup.io import formats

    pytest.importorskip("orjson")
    raw = json.dumps(record, ensure_ascii=damage == "bom").encode("utf-8", "surrogatepass")
    raw = {
        "": raw + b"\n",
        "cut": raw[: len(raw) // 2] + b"\n",
        "bad utf-8": raw[:-1] + b"\xff" + raw[-1:],
        "crlf": raw + b"\r\n",
        "bom": b"\xef\xbb\xbf" + raw,
        "nan": raw.replace(b"0", b"NaN", 1),
    }[damage]
    fast = formats.parse_jsonl_line(raw, "a.jsonl", 3, "text", "id")
    with pytest.MonkeyPatch.context() as m:
        m.setattr(formats, "_orjson", None)
        slow = formats.parse_jsonl_line(raw, "a.jsonl", 3, "text", "id")
    assert repr(fast) == repr(slow)


def test_records_larger_than_the_limit_are_rejects_naming_the_file(tmp_path, monkeypatch):
    """A decompression bomb (a .txt.gz, or one JSONL line) becomes a reject naming its
    file and line; the records around it are read."""
    import gzip

    from neardup.io import formats

    monkeypatch.setattr(formats, "MAX_RECORD_BYTES", 1000)
    folder = tmp_path / "pages"
    folder.mkdir()
    with gzip.open(folder / "bomb.txt.gz", "wb") as f:
        f.write(b"a" * 5000)
    (folder / "ok.txt").write_text("a fine text")
    items = list(formats.read_documents(str(folder), fmt="txt"))
    assert [type(i).__name__ for i in items] == ["Reject", "Document"]
    assert items[0].path.endswith("bomb.txt.gz") and "larger than" in items[0].reason
    jsonl = tmp_path / "bomb.jsonl.gz"
    with gzip.open(jsonl, "wb") as f:
        f.write(b'{"id": "a", "text": "one"}\n{"id": "b", "text": "' + b"x" * 5000 + b'"}\n')
        f.write(b'{"id": "c", "text": "three"}\n')
    items = list(formats.read_documents(str(jsonl)))
    assert [(type(i).__name__, i.line) for i in items] == [
        ("Document", 1),
        ("Reject", 2),
        ("Document", 3),
    ]
    assert "larger than" in items[1].reason


def test_outputs_never_destroy_inputs_or_replace_special_files(tmp_path, runner):
    """An output or rejects file that is an input, or a work directory holding an input,
    is a usage error that leaves the input whole; an output that is a FIFO is written in
    place, not replaced by a regular file."""
    import os

    from neardup.cli import main

    src = tmp_path / "x.jsonl"
    src.write_text('{"id": "a", "text": "one two three"}\n{"id": "b", "text": "one two three"}\n')
    before = src.read_bytes()
    for args in (
        ["dedup", str(src), "-o", str(src)],
        ["run", str(src), "-o", str(tmp_path / "out"), "--rejects", str(src)],
        ["dedup", str(src), "-o", str(tmp_path / "k.jsonl"), "--workdir", str(tmp_path)],
        ["clean", str(src), "-o", str(src)],
    ):
        result = runner.invoke(main, args)
        assert result.exit_code == 2, result.output
        assert "input" in result.output and src.read_bytes() == before
    fifo = tmp_path / "f.jsonl"
    os.mkfifo(fifo)
    pid = os.fork()
    if pid == 0:  # the reader at the other end
        with open(fifo, "rb") as f, open(tmp_path / "got", "wb") as g:
            g.write(f.read())
        os._exit(0)
    result = runner.invoke(main, ["clean", str(src), "-o", str(fifo), "-q"])
    os.waitpid(pid, 0)
    assert result.exit_code == 0, result.output
    assert fifo.is_fifo() and (tmp_path / "got").read_bytes().count(b"\n") == 2
