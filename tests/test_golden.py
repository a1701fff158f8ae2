"""Golden cases: the seed file and the hand-written cases in tests/golden/."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from neardup import repair_text

GOLDEN = sorted((Path(__file__).parent / "golden").glob("*.json"))


@pytest.mark.parametrize("path", GOLDEN, ids=[p.stem for p in GOLDEN])
def test_golden_case(path: Path) -> None:
    case = json.loads(path.read_text(encoding="utf-8"))
    assert repair_text(case["input"]).text == case["expected"], case["note"]


def test_seed_file_keeps_the_seven_paragraphs_once(shared_data: Path) -> None:
    raw = (shared_data / "seed" / "scraped-article-doubled.txt").read_text(encoding="utf-8")
    paragraphs = [p for p in raw.split("\n") if p.strip()]
    assert len(paragraphs) == 13 and paragraphs[1:7] == paragraphs[7:13]  # the fault is there
    result = repair_text(raw)
    assert result.text.split("\n") == paragraphs[:7]
    (span,) = result.removed
    assert span.reason == "repeat" and span.similarity == 1.0
    second_copy = raw.index(paragraphs[7], raw.index(paragraphs[6]) + len(paragraphs[6]))
    assert span.start == second_copy and span.end == len(raw.rstrip("\n"))


def test_seed_file_through_the_cli(shared_data: Path, runner, tmp_path: Path) -> None:
    from neardup.cli import main

    out = tmp_path / "fixed.txt"
    seed = shared_data / "seed" / "scraped-article-doubled.txt"
    result = runner.invoke(main, ["clean", str(seed), "-o", str(out)])
    assert result.exit_code == 0, result.output
    paragraphs = [p for p in seed.read_text(encoding="utf-8").split("\n") if p.strip()]
    assert out.read_text(encoding="utf-8").rstrip("\n").split("\n") == paragraphs[:7]
    assert "read 1 = written 1 + rejected 0" in result.output
