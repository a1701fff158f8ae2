"""The in-memory API: neardup.dedup and neardup.clean over lists, pandas, polars, Arrow
and Hugging Face datasets, with the CLI's decisions."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from click.testing import CliRunner

import neardup
from neardup.cli import main

EXAMPLES = Path(__file__).parent.parent / "examples"

WORDS = [
    "harbour",
    "board",
    "market",
    "fish",
    "council",
    "vote",
    "budget",
    "school",
    "road",
    "river",
    "storm",
    "police",
    "court",
    "festival",
    "museum",
    "library",
    "bridge",
    "train",
    "station",
    "hospital",
    "farm",
    "factory",
    "weather",
    "election",
]


def corpus(n: int = 60, seed: int = 0) -> list[dict]:
    """Stories and copies of them: a trimmed end, a new headline, a typo."""
    rng = random.Random(seed)
    rows = []
    for s in range(n // 3):
        body = " ".join(rng.choice(WORDS) for _ in range(120))
        rows.append({"id": f"s{s}", "text": body, "date": rng.randint(1, 9)})
        rows.append(
            {"id": f"s{s}-trim", "text": body[: len(body) * 9 // 10], "date": rng.randint(1, 9)}
        )
        rows.append({"id": f"s{s}-head", "text": "Breaking: " + body, "date": rng.randint(1, 9)})
    rng.shuffle(rows)
    return rows


def cli_kept(tmp_path: Path, rows: list[dict], *options: str) -> list[str]:
    src = tmp_path / "rows.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "kept.jsonl"
    result = CliRunner().invoke(main, ["dedup", str(src), "-o", str(out), "-q", *options])
    assert result.exit_code == 0, result.output
    return [json.loads(x)["id"] for x in out.read_text().splitlines()]


def _ids(table) -> list:
    if isinstance(table, list):
        return [r["id"] for r in table]
    if isinstance(table, pd.DataFrame):
        return table["id"].tolist()
    if isinstance(table, pl.DataFrame):
        return table.get_column("id").to_list()
    if isinstance(table, pa.Table):
        return table.column("id").to_pylist()
    return list(table["id"])  # datasets.Dataset


def _inputs(rows: list[dict]) -> dict:
    import datasets

    return {
        "dicts": rows,
        "pandas": pd.DataFrame(rows),
        "polars": pl.DataFrame(rows),
        "arrow": pa.Table.from_pylist(rows),
        "dataset": datasets.Dataset.from_list(rows),
    }


@pytest.mark.parametrize("kind", ["dicts", "pandas", "polars", "arrow", "dataset"])
@pytest.mark.parametrize("keep", ["first", "-field:date"])
def test_same_decisions_as_the_cli_in_the_input_type(tmp_path: Path, kind: str, keep: str) -> None:
    rows = corpus()
    expected = cli_kept(tmp_path, rows, "--keep", keep)
    data = _inputs(rows)[kind]
    result = neardup.dedup(data, id_field="id", keep=keep)
    assert type(result.kept) is type(data) and type(result.removed) is type(data)
    assert _ids(result.kept) == expected
    assert 0 < len(result.removed) < len(rows)
    assert sorted(_ids(result.kept) + _ids(result.removed)) == sorted(r["id"] for r in rows)
    s = result.stats
    assert s.read == len(rows) == s.kept + s.removed + s.rejected and s.rejected == 0
    # other columns untouched; the removed rows say what they duplicate
    by_id = {r["id"]: r for r in rows}
    removed = result.removed.to_pylist() if kind == "arrow" else (
        result.removed.to_dict("records") if kind == "pandas" else result.removed.to_dicts()
        if kind == "polars" else list(result.removed)
    )  # fmt: skip
    for r in removed:
        assert r["text"] == by_id[r["id"]]["text"] and r["date"] == by_id[r["id"]]["date"]
        assert r["duplicate_of"] in expected and r["reason"] in ("exact", "near", "contained")
        assert 0 < r["similarity"] <= 1
    if kind == "pandas":  # the index of the rows that came in
        assert list(result.kept.index) == [
            i for i, r in enumerate(rows) if r["id"] in set(expected)
        ]


def test_strings_and_explain() -> None:
    rows = corpus()
    texts = [r["text"] for r in rows]
    result = neardup.dedup(texts)
    assert isinstance(result.kept, list) and all(isinstance(t, str) for t in result.kept)
    assert len(result.kept) + len(result.removed) == len(texts)
    first = result.removed[0]
    assert set(first) == {"text", "duplicate_of", "reason", "similarity", "cluster"}
    assert texts[first["duplicate_of"]] in result.kept  # the kept row's position
    # explain gives the facts `neardup explain` gives, by position
    position = texts.index(first["text"])
    why = result.explain(position)
    assert why["status"] == "removed" and why["duplicate_of"] == str(first["duplicate_of"])
    assert why["reason"] == first["reason"] and "diff" in why
    kept_position = texts.index(result.kept[0])
    assert result.explain(kept_position)["status"] == "kept"
    assert result.clusters and all(c["size"] >= 2 for c in result.clusters)


def test_empty_input_and_rejected_rows() -> None:
    for empty in ([], pd.DataFrame({"text": []}), pa.table({"text": pa.array([], pa.string())})):
        result = neardup.dedup(empty)
        assert len(result.kept) == 0 and len(result.removed) == 0 and result.stats.read == 0
    rows = corpus(9) + [{"id": "n", "text": None}, {"id": "i", "text": 42}]
    df = pd.DataFrame(rows)
    result = neardup.dedup(df, id_field="id")
    assert [r["id"] for r in result.rejected] == ["n", "i"]
    assert "missing" in result.rejected[0]["error"] and "int" in result.rejected[1]["error"]
    s = result.stats
    assert s.read == 11 and s.rejected == 2 and s.read == s.kept + s.removed + s.rejected
    assert "n" not in set(result.kept["id"]) | set(result.removed["id"])


def test_errors_name_the_column_and_the_rows() -> None:
    df = pd.DataFrame(corpus(6))
    with pytest.raises(neardup.InputError, match="no 'body' column .*text_field"):
        neardup.dedup(df, text_field="body")
    with pytest.raises(neardup.InputError, match="no 'key' column"):
        neardup.dedup(df, id_field="key")
    twice = pd.DataFrame([{"id": "a", "text": "x y z"}, {"id": "a", "text": "p q r"}])
    with pytest.raises(neardup.InputError, match="rows 0 and 1 have the same id 'a'"):
        neardup.dedup(twice, id_field="id")
    with pytest.raises(neardup.InputError, match="not one str"):
        neardup.dedup("one text")


def test_clean_repairs_in_the_input_type() -> None:
    doubled = (EXAMPLES / "doubled-article.txt").read_text(encoding="utf-8").strip()
    once = "\n".join(doubled.split("\n")[:6])  # the article, once (see test_cli)
    rows = [{"id": "a", "text": doubled, "n": 1}, {"id": "b", "text": "Short &amp; fine.", "n": 2},
            {"id": "c", "text": None, "n": 3}]  # fmt: skip
    for data in (rows, pd.DataFrame(rows), pl.DataFrame(rows), pa.Table.from_pylist(rows)):
        result = neardup.clean(data)
        texts = _column(result.data, "text")
        assert texts[0] == once and texts[1] == "Short & fine."
        assert texts[2] is None and result.rejected == [{"row": 2, "error": "the text is missing"}]
        assert _column(result.data, "n") == [1, 2, 3]
        assert result.repairs[0] and result.repairs[0][0]["reason"] and not result.repairs[1]
        assert result.normalized[1] and result.stats.read == 3 and result.stats.written == 2
    assert neardup.clean([doubled]).data == [once]


def _column(table, name: str) -> list:
    if isinstance(table, list):
        return [r[name] for r in table]
    if isinstance(table, pa.Table):
        return table.column(name).to_pylist()
    if isinstance(table, pl.DataFrame):
        return table.get_column(name).to_list()
    return [None if v is None or v != v else v for v in table[name].tolist()]


def test_a_folder_of_parquet_files_is_read_column_by_column(tmp_path: Path) -> None:
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    rows = corpus(30)
    pq.write_table(pa.Table.from_pylist(rows[:15]), tmp_path / "a.parquet")
    pq.write_table(pa.Table.from_pylist(rows[15:]), tmp_path / "b.parquet")
    result = neardup.dedup(ds.dataset(tmp_path, format="parquet"), id_field="id")
    assert isinstance(result.kept, pa.Table)
    assert result.kept.column("id").to_pylist() == cli_kept(tmp_path, rows)
    assert result.removed.num_rows == len(rows) - result.kept.num_rows


def test_the_docstrings_render_with_help() -> None:
    import pydoc

    for func, words in ((neardup.dedup, ("text_field", "id_field", "DedupResult")),
                        (neardup.clean, ("CleanResult", "repairs"))):  # fmt: skip
        text = pydoc.render_doc(func, renderer=pydoc.plaintext)
        assert all(w in text for w in words)
    assert "duplicate_of" in pydoc.render_doc(neardup.DedupResult, renderer=pydoc.plaintext)
