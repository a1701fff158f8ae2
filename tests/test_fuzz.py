"""Fuzz the readers and the options: whatever the input and the options, a command exits
0, 1 or 2, never with a traceback, and when it succeeds its counts add up (every record
read is written, removed or rejected, and every record of the input is read).

It runs for ``NEARDUP_FUZZ_SECONDS`` (60 by default), as many rounds of examples as fit.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import time
from pathlib import Path

import zstandard
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neardup.cli import main

WORDS = ["harbour", "board", "fish", "market", "the", "of", "costs", "é", "日本", "\u200f", "a"]

text = st.lists(st.sampled_from(WORDS), min_size=0, max_size=60).map(" ".join)
value = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), text,
    st.lists(st.integers(), max_size=3), st.dictionaries(st.sampled_from("xyz"), st.integers(), max_size=2),
)  # fmt: skip
record = st.fixed_dictionaries(
    {"text": st.one_of(text, text, text, value)},
    optional={
        "id": st.one_of(st.text(max_size=12), st.integers(), value),
        "date": value,
        "url": text,
    },
)
# a line of JSONL: a record, or a line that holds none
line = st.one_of(
    record.map(lambda r: json.dumps(r, ensure_ascii=False).encode()),
    record.map(lambda r: json.dumps(r).encode()),
    st.sampled_from([b"", b"   ", b"{", b"[1, 2]", b"null", b"42", b'"text"', b'{"text": NaN}',
                     b'{"text": "caf\xe9"}', b'{"text": "x\\udfff"}', b'\xef\xbb\xbf{"text": "bom"}',
                     b'{"text": "a", "text": "b"}', b"[" * 300 + b"]" * 300, b'{"text": "cr\rin it"}']),
    st.binary(max_size=40),
)  # fmt: skip


def _csv(records: list[dict]) -> bytes:
    import csv
    import io

    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["id", "text", "date"])
    for r in records:
        w.writerow([r.get("id", ""), r.get("text", ""), r.get("date", "")])
    return out.getvalue().encode()


@st.composite
def input_file(draw) -> tuple[str, bytes, int | None]:
    """(file name, bytes, the number of records it holds, or None where that is not
    known: a file damaged on purpose)."""
    kind = draw(st.sampled_from(["jsonl", "jsonl.gz", "jsonl.zst", "csv"]))
    if kind == "csv":
        records = draw(st.lists(record, max_size=12))
        raw = _csv(records)
        if draw(st.booleans()):  # a stray quote, a cut line
            cut = draw(st.integers(0, len(raw)))
            return "in.csv", raw[:cut] + b'"' + raw[cut:], None
        return "in.csv", raw, len(records)
    lines = draw(st.lists(line, max_size=15))
    body = b"\n".join(lines) + (b"\n" if lines and draw(st.booleans()) else b"")
    # a byte-order mark opening the file is no record (the reader drops it)
    count = sum(1 for x in body.removeprefix(b"\xef\xbb\xbf").split(b"\n") if x.strip())
    if kind == "jsonl":
        return "in.jsonl", body, count
    packed = (
        gzip.compress(body) if kind == "jsonl.gz" else zstandard.ZstdCompressor().compress(body)
    )
    if draw(st.booleans()):
        return f"in.{kind}", packed, count
    cut = draw(st.integers(0, max(len(packed) - 1, 0)))
    return f"in.{kind}", packed[:cut], None


options = st.fixed_dictionaries(
    {
        "command": st.sampled_from(["clean", "dedup", "run"]),
        "rejects": st.booleans(),
        "extra": st.lists(
            st.sampled_from([
                ["--keep", "first"], ["--keep", "longest"], ["--keep", "field:date"],
                ["--keep", "-field:date"], ["--keep", "field:"], ["--keep", "bogus"],
                ["--threshold", "0.5"], ["--threshold", "1.5"], ["--threshold", "nan"],
                ["--ngram", "1"], ["--ngram", "0"], ["--num-perm", "16"], ["--id-field", "url"],
                ["--text-field", "date"], ["--no-repair"], ["--dedupe-ids"], ["-j", "0"],
            ]),
            max_size=3,
        ),
    }
)  # fmt: skip

SUMMARY = re.compile(
    r"read ([\d,]+) = (?:kept|written) ([\d,]+)(?: \+ removed ([\d,]+))? \+ rejected ([\d,]+)"
)


def _number(s: str | None) -> int:
    return int(s.replace(",", "")) if s else 0


def _check(tmp: Path, name: str, data: bytes, count: int | None, opts: dict) -> None:
    src = tmp / name
    src.write_bytes(data)
    out = tmp / ("out" if opts["command"] == "run" else "out.jsonl")
    args = [opts["command"], str(src), "-o", str(out)]
    if opts["rejects"]:
        args += ["--rejects", str(tmp / "rejects.jsonl")]
    for extra in opts["extra"]:
        if opts["command"] == "clean" and extra[0] not in (
            "--id-field",
            "--text-field",
            "--no-repair",
            "-j",
        ):
            continue  # a dedup option
        args += extra
    result = CliRunner().invoke(main, args)
    assert result.exit_code in (0, 1, 2), (args, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        args, repr(result.exception), result.output,
    )  # fmt: skip
    assert "Traceback" not in result.output and "internal error" not in result.output, (
        args, result.output,
    )  # fmt: skip
    assert src.read_bytes() == data  # the input is never touched
    if result.exit_code != 0:
        return
    m = SUMMARY.search(result.output)
    assert m, (args, result.output)
    read, kept, removed, rejected = (_number(g) for g in m.groups())
    assert read == kept + removed + rejected, (args, result.output)
    if count is not None and "--text-field" not in args:
        assert read == count, (args, count, result.output)


@settings(
    max_examples=40, deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)  # fmt: skip
@given(file=input_file(), opts=options)
def _round(tmp: Path, file, opts) -> None:
    import shutil
    import tempfile

    work = Path(tempfile.mkdtemp(dir=tmp))
    try:
        _check(work, *file, opts)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_fuzz_readers_and_options(tmp_path: Path) -> None:
    budget = float(os.environ.get("NEARDUP_FUZZ_SECONDS", "60"))
    end = time.monotonic() + budget
    rounds = 0
    while rounds == 0 or time.monotonic() < end:
        _round(tmp_path)
        rounds += 1
