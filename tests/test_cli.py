"""The CLI end to end through click's CliRunner."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from neardup.cli import main

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def doubled(seed: int) -> str:
    rng = random.Random(seed)
    words = [f"w{rng.randrange(10**6)}" for _ in range(120)]
    x = " ".join(words[:60]) + ".\n\n" + " ".join(words[60:]) + "."
    return x + "\n\n" + x


def jsonl(path: Path, lines: list) -> Path:
    path.write_text(
        "".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines),
        encoding="utf-8",
    )
    return path


def test_help_explains_every_command(runner) -> None:
    result = runner.invoke(main, ["--help"])
    assert result.exit_code == 0 and "clean" in result.output
    result = runner.invoke(main, ["clean", "--help"])
    assert result.exit_code == 0
    for option in (
        "--text-field",
        "--id-field",
        "--workers",
        "--rejects",
        "--audit",
        "--quiet",
        "--format",
    ):
        assert option in result.output


def test_clean_jsonl_passes_fields_through_and_repairs(runner, tmp_path: Path) -> None:
    src = jsonl(tmp_path / "in.jsonl", [{"id": "x", "url": "u", "text": doubled(1), "n": 3}])
    out = tmp_path / "out.jsonl"
    result = runner.invoke(
        main, ["clean", str(src), "-o", str(out), "--audit", str(tmp_path / "a.jsonl")]
    )
    assert result.exit_code == 0, result.output
    (rec,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert list(rec) == ["id", "url", "text", "n"] and rec["n"] == 3
    assert rec["text"] == doubled(1)[: len(doubled(1)) // 2 - 1]
    (audit,) = [json.loads(line) for line in (tmp_path / "a.jsonl").read_text().splitlines()]
    assert audit["id"] == "x" and audit["removed"][0]["reason"] == "repeat"
    assert "read 1 = written 1 + rejected 0; repaired 1" in result.output


def test_stdin_to_stdout(runner) -> None:
    data = json.dumps({"id": "s", "text": doubled(2)}) + "\n"
    result = runner.invoke(main, ["clean", "-", "-o", "-", "-q"], input=data)
    assert result.exit_code == 0, result.output
    rec = json.loads(result.stdout.strip())
    assert rec["id"] == "s" and rec["text"] == doubled(2)[: len(doubled(2)) // 2 - 1]


BAD_CASES = [
    ("{not json", "malformed JSON"),
    ({"body": "x"}, "no 'text' field"),
    ({"text": None}, "NoneType, not a string"),
    ({"text": ["a"]}, "list, not a string"),
]


@pytest.mark.parametrize(("line", "message"), BAD_CASES)
def test_bad_record_stops_the_run_naming_file_and_line(
    runner, tmp_path: Path, line, message
) -> None:
    src = jsonl(tmp_path / "in.jsonl", [{"text": "ok"}, line, {"text": "ok"}])
    out = tmp_path / "out.jsonl"
    result = runner.invoke(main, ["clean", str(src), "-o", str(out)])
    assert result.exit_code == 1
    assert (
        f"{src}:2:" in result.output and message in result.output and "--rejects" in result.output
    )
    assert not out.exists()  # no half file that looks finished
    assert [p.name for p in tmp_path.iterdir()] == ["in.jsonl"]


def test_invalid_utf8_stops_the_run(runner, tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_bytes(b'{"text": "ok"}\n{"text": "caf\xe9"}\n')
    result = runner.invoke(main, ["clean", str(src), "-o", str(tmp_path / "o.jsonl")])
    assert result.exit_code == 1 and f"{src}:2: invalid UTF-8" in result.output


def test_rejects_file_keeps_bad_records_and_counts_add_up(runner, tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_bytes(b'{"text": "a"}\n{oops\n{"text": 1}\n{"text": "caf\xe9"}\n{"text": "b"}\n')
    out, rej = tmp_path / "o.jsonl", tmp_path / "rejects.jsonl"
    result = runner.invoke(main, ["clean", str(src), "-o", str(out), "--rejects", str(rej)])
    assert result.exit_code == 0, result.output
    assert "read 5 = written 2 + rejected 3" in result.output
    rejects = [json.loads(line) for line in rej.read_text().splitlines()]
    assert [r["line"] for r in rejects] == [2, 3, 4]
    assert all(r["file"] == str(src) and r["error"] for r in rejects)
    assert rejects[0]["raw"] == "{oops"
    assert len(out.read_text().splitlines()) == 2


def test_workers_do_not_change_output(runner, tmp_path: Path) -> None:
    lines = [
        {"id": str(i), "text": doubled(i) if i % 3 == 0 else f"Doc {i}. Unique."}
        for i in range(700)
    ]
    src = jsonl(tmp_path / "in.jsonl", lines)
    outs = []
    for j in ("1", "2"):
        out = tmp_path / f"out{j}.jsonl"
        result = runner.invoke(main, ["clean", str(src), "-o", str(out), "-j", j, "-q"])
        assert result.exit_code == 0, result.output
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    assert outs[0].count(b"\n") == 700


def test_txt_in_txt_out_and_directory(runner, tmp_path: Path) -> None:
    out = tmp_path / "fixed.txt"
    result = runner.invoke(main, ["clean", str(EXAMPLES / "doubled-article.txt"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    lines = out.read_text(encoding="utf-8").strip().split("\n")
    original = (EXAMPLES / "doubled-article.txt").read_text(encoding="utf-8").strip().split("\n")
    assert lines == original[:6] and original[6:] == original[1:6]
    outdir = tmp_path / "dir"
    result = runner.invoke(
        main, ["clean", str(EXAMPLES), "--format", "txt", "-o", f"{outdir}/", "-q"]
    )
    assert result.exit_code == 0, result.output
    assert (outdir / "doubled-article.txt").read_text(encoding="utf-8").strip().split("\n") == lines


def test_csv_in_csv_out(runner, tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    import csv

    with src.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "title", "text"])
        w.writerow(["1", "T", doubled(5)])
    out = tmp_path / "out.csv"
    result = runner.invoke(main, ["clean", str(src), "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert rows == [{"id": "1", "title": "T", "text": doubled(5)[: len(doubled(5)) // 2 - 1]}]


def test_example_file_cleans(runner, tmp_path: Path) -> None:
    out = tmp_path / "clean.jsonl"
    result = runner.invoke(main, ["clean", str(EXAMPLES / "scraped-news.jsonl"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    recs = {r["id"]: r for r in map(json.loads, out.read_text(encoding="utf-8").splitlines())}
    src = {
        r["id"]: r
        for r in map(
            json.loads, (EXAMPLES / "scraped-news.jsonl").read_text(encoding="utf-8").splitlines()
        )
    }
    assert recs["pe-002"]["text"] == src["pe-002"]["text"]  # legitimate repetition untouched
    assert "Advertisement" not in recs["pe-001"]["text"]
    assert recs["pe-003"]["text"].startswith("The market\u2019s oldest stall sells caf\u00e9")
    assert recs["pe-004"]["text"].count("Councillors") == 1
    assert "read 4 = written 4 + rejected 0; repaired 2" in result.output


def test_usage_errors_exit_2(runner, tmp_path: Path) -> None:
    assert runner.invoke(main, ["clean", "x.jsonl"]).exit_code == 2  # no -o
    assert runner.invoke(main, ["clean", "x.jsonl", "-o", "y", "-j", "-1"]).exit_code == 2
    result = runner.invoke(main, ["clean", "x.jsonl", "-o", "y.jsonl", "--min-repeat-words", "3"])
    assert result.exit_code == 2 and "min_words" in result.output


def test_missing_input_exits_1(runner, tmp_path: Path) -> None:
    missing = str(tmp_path / "none.jsonl")
    for args in (["clean", missing, "-o", str(tmp_path / "o.jsonl")],
                 ["dedup", missing, "-o", str(tmp_path / "o.jsonl")],
                 ["run", missing, "-o", str(tmp_path / "out")]):  # fmt: skip
        result = runner.invoke(main, args)
        assert result.exit_code == 1, args
        assert "no such file" in result.output and "none.jsonl" in result.output, args


def test_python_dash_m(tmp_path: Path) -> None:
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "neardup", "--version"], capture_output=True, text=True
    )
    assert proc.returncode == 0 and "neardup" in proc.stdout


def test_keep_freed_memory_says_whether_it_could() -> None:
    """glibc takes the malloc settings (True); elsewhere nothing changes (False)."""
    import ctypes

    from neardup.engines import keep_freed_memory

    try:
        has_mallopt = hasattr(ctypes.CDLL(None), "mallopt")
    except OSError:
        has_mallopt = False
    assert keep_freed_memory() is has_mallopt
