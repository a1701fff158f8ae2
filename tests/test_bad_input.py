"""Bad input, faults and hostile content: every reproduction of the bad-input issue, as
a test. Nothing destroyed, nothing lost, never a traceback."""

from __future__ import annotations

import base64
import gzip
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import zstandard
from click.testing import CliRunner

from neardup import read_documents
from neardup.cli import main
from neardup.io import Reject

STORY = "The harbour board met on Tuesday to discuss the new fish market and its costs. "


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def corpus(path: Path, n: int = 6) -> Path:
    """n records: pairs of duplicates (i and i+1 share a story)."""
    return write_jsonl(
        path,
        [{"id": f"d{i}", "text": f"{STORY * 3} Story {i // 2} of the week."} for i in range(n)],
    )


def no_traceback(result) -> None:
    assert result.exit_code in (0, 1, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.output


def run_cli(runner: CliRunner, *args: str):
    result = runner.invoke(main, list(args))
    no_traceback(result)
    return result


# ---------------------------------------------------------------- records lost silently


def test_truncated_and_foreign_compressed_text_files_are_rejects_naming_the_file(
    runner, tmp_path: Path
) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text(STORY)
    whole = zstandard.ZstdCompressor().compress((STORY * 50).encode())
    (folder / "b.txt.zst").write_bytes(whole[: len(whole) // 2])
    (folder / "c.txt.gz").write_bytes(b"this is no gzip stream")
    gz = gzip.compress((STORY * 50).encode())
    (folder / "d.txt.gz").write_bytes(gz[: len(gz) // 2])
    items = list(read_documents(str(folder)))
    rejects = {Path(i.path).name: i.reason for i in items if isinstance(i, Reject)}
    assert set(rejects) == {"b.txt.zst", "c.txt.gz", "d.txt.gz"}
    assert all("damaged or truncated" in r for r in rejects.values())
    failed = run_cli(runner, "clean", str(folder), "-o", str(tmp_path / "o.jsonl"))
    assert failed.exit_code == 1 and "b.txt.zst:1:" in failed.output
    assert "Aborted" not in failed.output
    rej = tmp_path / "r.jsonl"
    ok = run_cli(
        runner, "clean", str(folder), "-o", str(tmp_path / "o.jsonl"), "--rejects", str(rej)
    )
    assert ok.exit_code == 0 and "read 4 = written 1 + rejected 3" in ok.output
    assert len(rej.read_text().splitlines()) == 3


def test_csv_unterminated_quote_is_a_reject_not_a_merge(runner, tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text('id,text\na,first story\nb,"second story\nc,third story\n')
    items = list(read_documents(str(path)))
    assert [type(i).__name__ for i in items] == ["Document", "Reject"]
    assert items[1].line == 3 and "never closes" in items[1].reason
    result = run_cli(runner, "clean", str(path), "-o", str(tmp_path / "o.jsonl"))
    assert result.exit_code == 1 and "x.csv:3:" in result.output


def test_csv_bom_is_stripped_and_duplicate_columns_refused(runner, tmp_path: Path) -> None:
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbfid,text\na,hello\nb,world\n")
    assert [d.id for d in read_documents(str(bom))] == ["a", "b"]
    dup = tmp_path / "dup.csv"
    dup.write_text("id,text,text\na,hello,x\n")
    result = run_cli(runner, "clean", str(dup), "-o", str(tmp_path / "o.jsonl"))
    assert result.exit_code == 1 and "'text' more than once" in result.output
    assert "--rejects" not in result.output  # setting records aside would not help


def test_csv_fields_longer_than_the_csv_module_default(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    path.write_text("id,text\na," + "word " * 60_000 + "\n")
    (doc,) = read_documents(str(path))
    assert len(doc.text) == 300_000


# ------------------------------------------------------------- tracebacks, one by one


@pytest.mark.parametrize("command", ["clean", "dedup"])
def test_lone_surrogates_are_rejects(runner, tmp_path: Path, command: str) -> None:
    path = tmp_path / "s.jsonl"
    path.write_text(
        '{"id": "a\\udfff", "text": "one story here"}\n'
        '{"id": "b", "text": "another story", "url": "http://x/\\ud800"}\n'
        '{"id": "c", "text": "a third story"}\n'
    )
    rej = tmp_path / "r.jsonl"
    result = run_cli(
        runner, command, str(path), "-o", str(tmp_path / "o.jsonl"), "--rejects", str(rej)
    )
    assert result.exit_code == 0 and "rejected 2" in result.output
    reasons = [json.loads(line)["error"] for line in rej.read_text().splitlines()]
    assert "'id'" in reasons[0] and "'url'" in reasons[1]


def test_deep_nesting_and_nan_are_rejects(runner, tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text(
        '{"id": "a", "text": "x", "m": ' + "[" * 1000 + "]" * 1000 + "}\n"
        '{"id": "b", "text": "y", "v": NaN}\n'
        '{"id": "c", "text": "z", "v": -Infinity}\n'
        + json.dumps({"id": "d", "text": "brackets [[[[ in the text " * 100})
        + "\n"
    )
    rej = tmp_path / "r.jsonl"
    out = tmp_path / "o.jsonl"
    result = run_cli(runner, "clean", str(path), "-o", str(out), "--rejects", str(rej))
    assert result.exit_code == 0 and "read 4 = written 1 + rejected 3" in result.output
    assert "NaN" not in out.read_text() and "Infinity" not in out.read_text()
    errors = [json.loads(line)["error"] for line in rej.read_text().splitlines()]
    assert "nested deeper" in errors[0] and "NaN" in errors[1] and "Infinity" in errors[2]


def test_malformed_json_message_reads_well(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text('{"id": "a", "text": "unterminated\n')
    (reject,) = read_documents(str(path))
    assert "at at" not in reject.reason and "column" in reject.reason


def test_parquet_with_types_json_cannot_hold(runner, tmp_path: Path) -> None:
    import datetime
    import decimal

    import pyarrow as pa
    import pyarrow.parquet as pq

    n = 4
    table = pa.table(
        {
            "id": [f"p{i}" for i in range(n)],
            "text": [f"{STORY} Story {i // 2}." for i in range(n)],
            "when": pa.array(
                [datetime.datetime(2024, 1, i + 1, 12) for i in range(n)], pa.timestamp("ns")
            ),
            "day": pa.array([datetime.date(2024, 2, i + 1) for i in range(n)], pa.date32()),
            "price": pa.array([decimal.Decimal(f"{i}.50") for i in range(n)], pa.decimal128(5, 2)),
            "blob": pa.array([bytes([0xFF, i]) for i in range(n)], pa.binary()),
            "tags": pa.array([[("k", i)] for i in range(n)], pa.map_(pa.string(), pa.int64())),
            "score": pa.array([float("nan"), 1.0, 2.0, float("inf")]),
        }
    )
    path = tmp_path / "t.parquet"
    pq.write_table(table, path)
    for command, out in (("clean", "c.jsonl"), ("dedup", "d.jsonl"), ("run", "run")):
        result = run_cli(runner, command, str(path), "-o", str(tmp_path / out))
        assert result.exit_code == 0, result.output
    kept = [json.loads(x) for x in (tmp_path / "c.jsonl").read_text().splitlines()]
    assert kept[0]["when"].startswith("2024-01-01T12:00") and kept[0]["day"] == "2024-02-01"
    assert kept[1]["price"] == "1.50" and kept[0]["score"] is None
    assert base64.b64decode(kept[1]["blob"]) == bytes([0xFF, 1])
    assert kept[2]["tags"] == {"k": 2}
    assert (tmp_path / "run" / "kept.parquet").exists()


def test_long_and_clashing_ids_in_a_txt_folder(runner, tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "x.jsonl",
        [
            {"id": "x" * 300, "text": "first"},
            {"id": "a.txt", "text": "second"},
            {"id": "a.txt/b", "text": "third"},
            {"id": "a.txt", "text": "fourth, same id"},
        ],
    )
    result = run_cli(runner, "clean", str(path), "-o", str(tmp_path / "out") + "/")
    assert result.exit_code == 0, result.output
    texts = sorted(p.read_text().strip() for p in (tmp_path / "out").rglob("*.txt"))
    assert texts == ["first", "fourth, same id", "second", "third"]


def test_keep_field_over_mixed_types(runner, tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "x.jsonl",
        [
            {"id": "a", "text": STORY, "date": "2020-01-01"},
            {"id": "b", "text": STORY, "date": 5},
            {"id": "c", "text": STORY, "date": [1]},
            {"id": "d", "text": STORY},
        ],
    )
    kept = {}
    for policy in ("field:date", "-field:date"):
        out = tmp_path / f"{policy}.jsonl"
        assert run_cli(runner, "dedup", str(path), "-o", str(out), "--keep", policy).exit_code == 0
        (kept[policy],) = [json.loads(x)["id"] for x in out.read_text().splitlines()]
    # numbers, then strings, then lists: the largest is the list, the smallest the number
    assert kept == {"field:date": "c", "-field:date": "b"}


def test_unwritable_outputs_are_one_line_errors(runner, tmp_path: Path) -> None:
    src = corpus(tmp_path / "x.jsonl")
    blocker = tmp_path / "file"
    blocker.write_text("a file, not a folder")
    result = run_cli(runner, "clean", str(src), "-o", str(blocker / "o.jsonl"))
    assert result.exit_code == 1 and "Error:" in result.output
    if os.path.exists("/dev/full"):
        full = run_cli(runner, "clean", str(src), "-o", "/dev/full", "--output-format", "jsonl")
        assert full.exit_code == 1 and "No space left" in full.output


def test_damaged_run_folders_and_index(runner, tmp_path: Path) -> None:
    src = corpus(tmp_path / "x.jsonl")
    out = tmp_path / "out"
    assert run_cli(runner, "run", str(src), "-o", str(out)).exit_code == 0
    assert run_cli(runner, "explain", str(out), "d1").exit_code == 0
    (out / "clusters.jsonl").write_text("{not json\n")
    damaged = run_cli(runner, "explain", str(out), "d1")
    assert damaged.exit_code == 1 and "clusters.jsonl:1" in damaged.output
    (out / "stats.json").write_text("[]")
    assert run_cli(runner, "report", str(out)).exit_code == 1
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_cli(runner, "explain", str(empty), "x.jsonl:1")
    assert result.exit_code == 1 and "KEPT" not in result.output
    bad = tmp_path / "bad.ndx"
    bad.write_bytes(os.urandom(4096))
    for args in (
        ["index", "info", str(bad)],
        ["dedup", str(src), "-o", str(tmp_path / "k.jsonl"), "--index", str(bad)],
    ):
        result = run_cli(runner, *args)
        assert result.exit_code == 1 and "bad.ndx" in result.output


# ------------------------------------------------------------------------------ faults


def test_failed_run_leaves_no_folder_that_looks_finished(runner, tmp_path: Path) -> None:
    src = corpus(tmp_path / "x.jsonl")
    out = tmp_path / "out"
    out.mkdir()
    (out / "kept.csv").write_text("id,text\nstale,stale\n")  # from an earlier CSV run
    (out / "report.html").write_text("<html>stale</html>")
    (out / "mine.txt").write_text("the user's own file")
    blocker = tmp_path / "file"
    blocker.write_text("")
    failed = run_cli(runner, "run", str(src), "-o", str(out), "--rejects", str(blocker / "r.jsonl"))
    assert failed.exit_code == 1
    assert sorted(p.name for p in out.iterdir()) == ["mine.txt"]
    assert run_cli(runner, "report", str(out)).exit_code == 1
    assert run_cli(runner, "run", str(src), "-o", str(out)).exit_code == 0
    names = {p.name for p in out.iterdir()}
    assert "kept.jsonl" in names and "kept.csv" not in names and "complete.json" in names
    assert "stale" not in (out / "report.html").read_text()


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_workers_die_with_their_parent(tmp_path: Path, sig: int) -> None:
    src = write_jsonl(
        tmp_path / "big.jsonl",
        [{"id": str(i), "text": f"{STORY} number {i} " * 20} for i in range(60_000)],
    )
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    cmd = [
        sys.executable,
        "-m",
        "neardup",
        "dedup",
        str(src),
        "-o",
        str(tmp_path / "k.jsonl"),
        "-j",
        "2",
        "-q",
    ]
    proc = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE)
    workers: list[int] = []
    for _ in range(300):  # until the pool is up
        workers = _children(proc.pid)
        if len(workers) >= 2 or proc.poll() is not None:
            break
        time.sleep(0.05)
    assert len(workers) >= 2, "the run ended before its workers started"
    proc.send_signal(sig)
    proc.wait(timeout=60)
    for _ in range(100):
        if not any(_alive(w) for w in workers):
            break
        time.sleep(0.1)
    assert not any(_alive(w) for w in workers)
    if sig == signal.SIGTERM:
        assert proc.returncode == 130
        assert not list(tmp_path.glob("neardup-*")), "the work folder was left behind"
        assert not (tmp_path / "k.jsonl").exists()


# ------------------------------------------------------- hostile content, misleading


def test_control_characters_in_ids_never_reach_the_terminal(runner, tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "x.jsonl",
        [{"id": "k5\x1b]0;pwned\x07", "text": STORY * 3}, {"id": "k6\x1b[31m", "text": STORY * 3}],
    )
    out = tmp_path / "out"
    assert run_cli(runner, "run", str(path), "-o", str(out)).exit_code == 0
    for doc_id in ("k5\x1b]0;pwned\x07", "k6\x1b[31m"):
        result = run_cli(runner, "explain", str(out), doc_id)
        assert result.exit_code == 0 and "\x1b" not in result.output and "\x07" not in result.output
        assert "\\x1b" in result.output
    missing = run_cli(runner, "explain", str(out), "nope\x1b[2J")
    assert missing.exit_code == 1 and "\x1b" not in missing.output


def test_rejects_hint_only_where_it_helps(runner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "text": "fine"}\nnot json\n')
    plain = run_cli(runner, "clean", str(bad), "-o", str(tmp_path / "o.jsonl"))
    assert plain.exit_code == 1 and "--rejects" in plain.output
    missing = run_cli(
        runner, "clean", str(tmp_path / "nope.jsonl"), "-o", str(tmp_path / "o.jsonl")
    )
    assert missing.exit_code == 1 and "--rejects" not in missing.output


def test_run_to_stdout_is_a_usage_error(runner, tmp_path: Path) -> None:
    src = corpus(tmp_path / "x.jsonl")
    result = run_cli(runner, "run", str(src), "-o", "-")
    assert result.exit_code == 2 and not Path("-").exists()


def test_rejects_keep_the_original_bytes(runner, tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    bad_line = b'{"id": "a", "text": "caf\xe9"}'
    path.write_bytes(bad_line + b"\n" + json.dumps({"id": "b", "text": "fine"}).encode() + b"\n")
    rej = tmp_path / "r.jsonl"
    assert (
        run_cli(
            runner, "clean", str(path), "-o", str(tmp_path / "o.jsonl"), "--rejects", str(rej)
        ).exit_code
        == 0
    )
    (entry,) = [json.loads(x) for x in rej.read_text().splitlines()]
    assert base64.b64decode(entry["raw_base64"]) == bad_line


def _subprocess(args: list[str], tmp_path: Path, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "neardup", *args], cwd=tmp_path, timeout=120, **kwargs
    )


def test_closed_streams(tmp_path: Path) -> None:
    src = corpus(tmp_path / "x.jsonl", 4000)
    # stderr closed: the run goes on, silently
    done = _subprocess(["dedup", str(src), "-o", "k.jsonl"], tmp_path, stderr=subprocess.DEVNULL,
                       preexec_fn=lambda: os.close(2))  # fmt: skip
    assert done.returncode == 0 and (tmp_path / "k.jsonl").exists()
    # stdout closed with -o -: an error that says so
    closed = _subprocess(["dedup", str(src), "-o", "-"], tmp_path, capture_output=False,
                         stderr=subprocess.PIPE, preexec_fn=lambda: os.close(1))  # fmt: skip
    assert closed.returncode == 1 and b"standard output is closed" in closed.stderr
    assert b"Traceback" not in closed.stderr
    # the reader of stdout goes away before the run writes: not "kept 4,000", exit 0
    proc = subprocess.Popen(
        [sys.executable, "-m", "neardup", "dedup", str(src), "-o", "-"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 1
    assert b"standard output was closed" in err and b"Traceback" not in err


# ------------------------------------------------- found by the adversarial pass


@pytest.mark.parametrize("suffix", [".gz", ".zst", ".bz2", ".xz"])
def test_every_compression_reads_and_an_empty_compressed_file_is_damaged(
    runner, tmp_path: Path, suffix: str
) -> None:
    import bz2
    import lzma

    pack = {".gz": gzip.compress, ".zst": zstandard.ZstdCompressor().compress,
            ".bz2": bz2.compress, ".xz": lzma.compress}[suffix]  # fmt: skip
    body = "".join(json.dumps({"id": str(i), "text": STORY}) + "\n" for i in range(5)).encode()
    good = tmp_path / f"a.jsonl{suffix}"
    good.write_bytes(pack(body))
    assert [d.id for d in read_documents(str(good))] == ["0", "1", "2", "3", "4"]
    out = tmp_path / f"o.jsonl{suffix}"
    assert run_cli(runner, "clean", str(good), "-o", str(out)).exit_code == 0
    assert [d.id for d in read_documents(str(out))] == ["0", "1", "2", "3", "4"]
    empty = tmp_path / f"e.jsonl{suffix}"
    empty.write_bytes(b"")
    result = run_cli(runner, "clean", str(empty), "-o", str(tmp_path / "x.jsonl"))
    assert result.exit_code == 1 and "empty (0 bytes)" in result.output


def test_bad_output_and_input_paths_name_what_the_user_gave(
    runner, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    src = corpus(tmp_path / "x.jsonl")
    (tmp_path / "stray.txt").write_text("a stray text in the current folder")
    for args, words in (
        (["clean", "", "-o", "o.jsonl"], "empty input path"),
        (["clean", str(src), "-o", ""], "empty output path"),
        (["dedup", str(src), "-o", "."], "exists"),
        (["clean", str(src), "-o", "od/", "--output-format", "jsonl"], "ends in /"),
        (["clean", str(src), "-o", "x.jsonl/out.jsonl"], "x.jsonl/out.jsonl: cannot write here"),
    ):
        result = run_cli(runner, *args)
        assert result.exit_code in (1, 2) and words in result.output, (args, result.output)
        assert ".part-" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stray.txt", "x.jsonl"]
    missing = run_cli(runner, "run", "crawl/*.jsonl", "-o", "out/")
    assert missing.exit_code == 1 and not (tmp_path / "out").exists()


def test_report_writes_only_html(runner, tmp_path: Path) -> None:
    src = corpus(tmp_path / "x.jsonl")
    out = tmp_path / "out"
    assert run_cli(runner, "run", str(src), "-o", str(out), "--no-report").exit_code == 0
    before = (out / "kept.jsonl").read_bytes()
    for target in (out / "kept.jsonl", src):
        result = run_cli(runner, "report", str(out), "-o", str(target))
        assert result.exit_code == 2 and "html" in result.output
    assert (out / "kept.jsonl").read_bytes() == before
    deep = tmp_path / "new" / "dir" / "r.html"
    assert run_cli(runner, "report", str(out), "-o", str(deep)).exit_code == 0 and deep.exists()


def test_csv_empty_ids_are_missing_ids(runner, tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_text("id,text\n,first story here\n,second story there\n")
    assert [d.id for d in read_documents(str(path))] == [f"{path}:2", f"{path}:3"]
    assert run_cli(runner, "dedup", str(path), "-o", str(tmp_path / "k.csv")).exit_code == 0


def test_index_remove_ids_with_line_separators(runner, tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "u.jsonl", [{"id": "a\u2028b", "text": STORY * 3}])
    index = tmp_path / "seen.ndx"
    assert run_cli(runner, "index", "create", str(index)).exit_code == 0
    assert (
        run_cli(
            runner, "run", str(src), "-o", str(tmp_path / "o"), "--index", str(index), "--update"
        ).exit_code
        == 0
    )
    ids = tmp_path / "ids.txt"
    ids.write_text("a\u2028b\n", encoding="utf-8")
    result = run_cli(runner, "index", "remove", str(index), "--ids", str(ids))
    assert result.exit_code == 0 and "removed 1 of 1" in result.output


def test_word_diff_of_long_unrelated_texts_is_one_replaced_run() -> None:
    import random

    from neardup.explain import MAX_ALIGNED, word_diff

    rng = random.Random(0)
    n = int(MAX_ALIGNED**0.5) + 1000
    a = " ".join(f"a{rng.randrange(10**6)}" for _ in range(n))
    b = " ".join(f"b{rng.randrange(10**6)}" for _ in range(n))
    same = "shared opening words "
    diff = word_diff(same + a, same + b)
    assert [op[0] for op in diff] == ["equal", "replace"] and diff[1][1] == a and diff[1][2] == b


def test_keep_on_a_field_no_record_has_is_said(runner, tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "x.jsonl", [{"id": "a", "text": STORY, "date": 2}, {"id": "b", "text": STORY}]
    )
    out = str(tmp_path / "k.jsonl")
    typo = run_cli(runner, "dedup", str(path), "-o", out, "--keep", "field:dat")
    assert typo.exit_code == 0 and "no record has the field" in typo.output
    right = run_cli(runner, "dedup", str(path), "-o", out, "--keep", "field:date")
    assert right.exit_code == 0 and "no record has the field" not in right.output


def test_removed_records_keep_their_own_fields_of_neardups_names(runner, tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "r.jsonl",
        [{"id": "a", "text": STORY * 3},
         {"id": "b", "text": STORY * 3, "reason": "user reason", "duplicate_of": "zz"}],
    )  # fmt: skip
    removed = tmp_path / "rm.jsonl"
    assert (
        run_cli(
            runner, "dedup", str(path), "-o", str(tmp_path / "k.jsonl"), "--removed", str(removed)
        ).exit_code
        == 0
    )
    (record,) = [json.loads(x) for x in removed.read_text().splitlines()]
    assert record["duplicate_of"] == "a" and record["reason"] == "exact"
    assert record["input_reason"] == "user reason" and record["input_duplicate_of"] == "zz"


def test_parquet_rejects_keep_the_row(runner, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(
        pa.table({"id": ["a", "b"], "text": [STORY, None], "n": [1, 2]}), tmp_path / "t.parquet"
    )
    rej = tmp_path / "r.jsonl"
    assert (
        run_cli(
            runner,
            "clean",
            str(tmp_path / "t.parquet"),
            "-o",
            str(tmp_path / "o.jsonl"),
            "--rejects",
            str(rej),
        ).exit_code
        == 0
    )
    (entry,) = [json.loads(x) for x in rej.read_text().splitlines()]
    assert json.loads(entry["raw"]) == {"id": "b", "text": None, "n": 2}
