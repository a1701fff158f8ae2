"""Persistent index: incremental runs equal one run, pinned settings, crash safety,
writers and readers, query, remove, the CLI."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neardup import CleanConfig, ConfigError, DedupConfig, RepairConfig
from neardup.cli import main
from neardup.dedup import run_dedup
from neardup.index import Index, IndexError_
from test_dedup import _corpus, read_jsonl, story, write_jsonl


def _docs(prefix: str, texts: list[str]) -> list[dict]:
    return [{"id": f"{prefix}{i}", "text": t} for i, t in enumerate(texts)]


def _run(tmp: Path, name: str, inputs: list[Path], **kw):
    out = tmp / name
    out.mkdir(exist_ok=True)
    stats = run_dedup(
        [str(p) for p in inputs], kept=str(out / "kept.jsonl"),
        removed=str(out / "removed.jsonl"), clusters_out=str(out / "clusters.jsonl"), **kw,
    )  # fmt: skip
    return stats, out


def _ids(path: Path) -> set[str]:
    return {r["id"] for r in read_jsonl(path)}


# ------------------------------------------------- day1 then day2 == day1 + day2 at once


def _check_equivalent(tmp: Path, texts: list[str], cuts: list[int]) -> None:
    """Batches cut at ``cuts``, each added to the index, keep what one run keeps."""
    bounds = [0, *cuts, len(texts)]
    files = []
    for b, (lo, hi) in enumerate(zip(bounds, bounds[1:], strict=False)):
        files.append(write_jsonl(tmp / f"day{b}.jsonl", _docs(f"d{b}-", texts[lo:hi])))
    _, single = _run(tmp, "single", files)
    index = tmp / "seen.ndx"
    Index.create(index).close()
    kept: set[str] = set()
    earlier: set[str] = set()
    for b, f in enumerate(files):
        stats, out = _run(tmp, f"inc{b}", [f], index=str(index), update=True)
        assert stats.read == stats.kept + stats.removed
        batch_kept = _ids(out / "kept.jsonl")
        for r in read_jsonl(out / "removed.jsonl"):
            # every removed document points at a document kept now or by an earlier batch
            assert r["duplicate_of"] in batch_kept | earlier
        kept |= batch_kept
        earlier |= batch_kept
    assert kept == _ids(single / "kept.jsonl")
    with Index.open(index) as opened:
        assert opened.info().documents == len(kept)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow,
          HealthCheck.function_scoped_fixture])  # fmt: skip
@given(st.integers(0, 10**6), st.lists(st.floats(0.05, 0.95), min_size=1, max_size=3))
def test_batches_against_the_index_keep_what_one_run_keeps(tmp_path_factory, seed, cuts):
    texts = _corpus(seed, 30, 4)
    points = sorted({int(c * len(texts)) for c in cuts})
    _check_equivalent(tmp_path_factory.mktemp("eq"), texts, points)


def test_copies_in_a_later_batch_point_at_the_earlier_kept_document(tmp_path: Path) -> None:
    rng = random.Random(5)
    a, b = story(rng, 120), story(rng, 120)
    words = a.split()
    day1 = write_jsonl(tmp_path / "d1.jsonl", [{"id": "a", "text": a}, {"id": "b", "text": b}])
    day2 = write_jsonl(
        tmp_path / "d2.jsonl",
        [
            {"id": "a-exact", "text": a.upper()},
            {"id": "a-trimmed", "text": " ".join(words[:80])},
            {"id": "a-typo", "text": " ".join(["Breaking:"] + words[:50] + ["tpyo"] + words[51:])},
            {"id": "c", "text": story(rng, 120)},
        ],
    )
    index = tmp_path / "seen.ndx"
    Index.create(index).close()
    _run(tmp_path, "o1", [day1], index=str(index), update=True)
    stats, out = _run(tmp_path, "o2", [day2], index=str(index), update=True)
    removed = {r["id"]: r for r in read_jsonl(out / "removed.jsonl")}
    assert {k: (r["duplicate_of"], r["reason"]) for k, r in removed.items()} == {
        "a-exact": ("a", "exact"),
        "a-trimmed": ("a", "contained"),
        "a-typo": ("a", "near"),
    }
    assert _ids(out / "kept.jsonl") == {"c"}
    assert stats.index_removed == 3 and stats.index_batch == 2
    (cluster,) = read_jsonl(out / "clusters.jsonl")
    kept_member = next(m for m in cluster["members"] if m["reason"] == "kept")
    assert cluster["kept"] == "a" and kept_member["indexed"] is True
    # without --update the index is only read
    _run(tmp_path, "o3", [day2], index=str(index))
    with Index.open(index) as opened:
        assert opened.info().documents == 3 and opened.info().batches == 2


def test_index_documents_win_over_the_keep_policy(tmp_path: Path) -> None:
    rng = random.Random(6)
    a = story(rng, 100)
    day1 = write_jsonl(tmp_path / "d1.jsonl", [{"id": "short", "text": a}])
    day2 = write_jsonl(tmp_path / "d2.jsonl", [{"id": "long", "text": a + " " + story(rng, 5)}])
    index = tmp_path / "seen.ndx"
    Index.create(index).close()
    _run(tmp_path, "o1", [day1], index=str(index), update=True, keep="longest")
    _, out = _run(tmp_path, "o2", [day2], index=str(index), update=True, keep="longest")
    assert [r["duplicate_of"] for r in read_jsonl(out / "removed.jsonl")] == ["short"]


# --------------------------------------------------------------------- pinned settings


def test_settings_are_pinned(tmp_path: Path, runner) -> None:
    index = tmp_path / "seen.ndx"
    Index.create(index, DedupConfig(threshold=0.8)).close()
    src = write_jsonl(tmp_path / "in.jsonl", _docs("x", [story(random.Random(1), 60)]))
    result = runner.invoke(main, ["run", str(src), "-o", str(tmp_path / "o"), "--index",
                                  str(index), "--threshold", "0.7"])  # fmt: skip
    assert result.exit_code == 2
    assert "created with --threshold 0.8; this run asks for 0.7" in result.output
    for name, value in (("--num-perm", "64"), ("--ngram", "5"), ("--verify", "jaccard")):
        result = runner.invoke(main, ["dedup", str(src), "-o", str(tmp_path / "k.jsonl"),
                                      "--index", str(index), name, value])  # fmt: skip
        assert result.exit_code == 2 and f"created with {name}" in result.output
    # options left out take the index's values
    result = runner.invoke(main, ["run", str(src), "-o", str(tmp_path / "o"), "--index",
                                  str(index), "--no-report", "-q"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert '"threshold": 0.8' in (tmp_path / "o" / "stats.json").read_text()
    # library: repair settings are pinned too, and fuzzy verification is refused
    other = CleanConfig(repair=RepairConfig(min_words=20))
    with pytest.raises(ConfigError, match="repair setting min_words=50"):
        _run(tmp_path, "o2", [src], index=str(index), config=DedupConfig(threshold=0.8),
             clean=other)  # fmt: skip
    with pytest.raises(ConfigError, match="fuzzy"):
        Index.create(tmp_path / "f.ndx", DedupConfig(verify="fuzzy"))
    with pytest.raises(ConfigError, match="needs an index"):
        _run(tmp_path, "o3", [src], update=True)


def test_missing_or_foreign_index_files(tmp_path: Path, runner) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", _docs("x", ["one two three"]))
    result = runner.invoke(main, ["run", str(src), "-o", str(tmp_path / "o"), "--index",
                                  str(tmp_path / "nope.ndx")])  # fmt: skip
    assert result.exit_code == 1 and "no such index; create it with" in result.output
    (tmp_path / "junk.ndx").write_text("not sqlite")
    with pytest.raises(IndexError_, match="not a neardup index"):
        Index.open(tmp_path / "junk.ndx")
    Index.create(tmp_path / "a.ndx").close()
    with pytest.raises(IndexError_, match="already exists"):
        Index.create(tmp_path / "a.ndx")
    result = runner.invoke(main, ["run", str(src), "-o", str(tmp_path / "o"), "--update"])
    assert result.exit_code == 2 and "--update needs --index" in result.output


def test_empty_and_rejected_batches(tmp_path: Path) -> None:
    index = tmp_path / "seen.ndx"
    Index.create(index).close()
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    stats, _ = _run(tmp_path, "o1", [empty], index=str(index), update=True)
    assert stats.read == 0 and stats.index_batch == 1
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "text": "five words in this text"}\nnot json\n')
    stats, _ = _run(tmp_path, "o2", [bad], index=str(index), update=True,
                    rejects=str(tmp_path / "rejects.jsonl"))  # fmt: skip
    assert (stats.read, stats.kept, stats.rejected) == (2, 1, 1)
    stats, out = _run(tmp_path, "o3", [bad], index=str(index), update=True,
                      rejects=str(tmp_path / "rejects.jsonl"), dedupe_ids=True)  # fmt: skip
    assert stats.index_removed == 1 and _ids(out / "removed.jsonl") == {"x#2"}
    with Index.open(index) as opened:
        assert opened.info().documents == 1 and opened.info().batches == 3


def test_ids_stay_unique_across_batches(tmp_path: Path) -> None:
    rng = random.Random(2)
    index = tmp_path / "seen.ndx"
    Index.create(index).close()
    day1 = write_jsonl(tmp_path / "d1.jsonl", [{"id": "x", "text": story(rng, 60)}])
    day2 = write_jsonl(tmp_path / "d2.jsonl", [{"id": "x", "text": story(rng, 60)}])
    _run(tmp_path, "o1", [day1], index=str(index), update=True)
    with pytest.raises(Exception, match="duplicate id 'x', already in the index"):
        _run(tmp_path, "o2", [day2], index=str(index), update=True)
    _, out = _run(tmp_path, "o3", [day2], index=str(index), update=True, dedupe_ids=True)
    assert _ids(out / "kept.jsonl") == {"x#2"}


# ------------------------------------------------------------- transactions and locks


def _state(path: Path) -> str:
    """A digest of every row of the index (what a batch changes)."""
    conn = sqlite3.connect(str(path))
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    digest = hashlib.sha256()
    for table in ("docs", "aliases", "keys", "bands", "boilerplate", "batches"):
        for row in conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2"):
            digest.update(repr(row[:1] + row[2:] if table == "batches" else row).encode())
    conn.close()
    return digest.hexdigest()


def test_sigkill_at_any_moment_leaves_the_index_before_or_after(tmp_path: Path) -> None:
    texts = _corpus(11, 700, 3)
    day1 = write_jsonl(tmp_path / "d1.jsonl", _docs("a", texts[: len(texts) // 3]))
    day2 = write_jsonl(tmp_path / "d2.jsonl", _docs("b", texts[len(texts) // 3 :]))
    base = tmp_path / "base.ndx"
    Index.create(base).close()
    _run(tmp_path, "o1", [day1], index=str(base), update=True)
    with sqlite3.connect(str(base)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = _state(base)

    def start(target: Path) -> subprocess.Popen:
        target.write_bytes(base.read_bytes())
        cmd = [sys.executable, "-m", "neardup", "run", str(day2), "-o", str(tmp_path / "o2"),
               "--index", str(target), "--update", "--no-report", "-q"]  # fmt: skip
        # killed runs leave their work folders: in tmp_path, not in the system's /tmp
        env = {**os.environ, "TMPDIR": str(tmp_path)}
        return subprocess.Popen(cmd, stderr=subprocess.PIPE, env=env)

    # the whole run, twice: the kills below are timed by the second (a first run in a
    # fresh install also compiles and caches what later runs load)
    durations, states = [], []
    for n in range(2):
        full = tmp_path / f"full{n}.ndx"
        t0 = time.monotonic()
        proc = start(full)
        assert proc.wait() == 0, proc.stderr.read() if proc.stderr else ""
        durations.append(time.monotonic() - t0)
        states.append(_state(full))
    after = states[0]
    assert states[1] == after != before
    duration = durations[1]
    rng = random.Random(0)
    seen = set()
    for attempt in range(10):
        target = tmp_path / f"kill{attempt}.ndx"
        for side in ("-wal", "-shm"):
            Path(f"{target}{side}").unlink(missing_ok=True)
        proc = start(target)
        # moments from start-up to past the commit, denser towards the end, where the
        # batch is written
        time.sleep(duration * (1.1 - rng.random() ** 2 * 0.9))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        state = _state(target)
        assert state in (before, after), f"attempt {attempt}: the index is in between"
        seen.add("after" if state == after else "before")
    assert "before" in seen  # (the kills are spread over the whole run)


def test_second_writer_waits_then_fails_and_readers_never_block(tmp_path: Path) -> None:
    rng = random.Random(3)
    index = tmp_path / "seen.ndx"
    Index.create(index).close()
    a = story(rng, 80)
    day1 = write_jsonl(tmp_path / "d1.jsonl", [{"id": "a", "text": a}])
    _run(tmp_path, "o1", [day1], index=str(index), update=True)
    day2 = write_jsonl(tmp_path / "d2.jsonl", [{"id": "a2", "text": a}])
    writer = Index.open(index, write=True)
    try:
        t0 = time.monotonic()
        with pytest.raises(IndexError_, match="another process is adding a batch"):
            _run(tmp_path, "o2", [day2], index=str(index), update=True, lock_timeout=0.3)
        assert time.monotonic() - t0 >= 0.3  # it waited before giving up
        # readers: info, query and a read-only run go on while the writer holds the lock
        with Index.open(index) as reader:
            assert reader.info().documents == 1
            assert reader.query(a)[0]["duplicate"] == "exact"
        stats, _ = _run(tmp_path, "o3", [day2], index=str(index))
        assert stats.index_removed == 1
    finally:
        writer.close()
    reader = Index.open(index)  # a snapshot: what a writer commits later is not seen
    stats, _ = _run(tmp_path, "o4", [day2], index=str(index), update=True)
    assert stats.index_removed == 1
    assert reader.info().batches == 1
    reader.close()
    with Index.open(index) as again:
        assert again.info().batches == 2


# ------------------------------------------------------------------- query and remove


def test_query_and_remove(tmp_path: Path, runner) -> None:
    rng = random.Random(4)
    a, b = story(rng, 120), story(rng, 120)
    index = tmp_path / "seen.ndx"
    assert runner.invoke(main, ["index", "create", str(index)]).exit_code == 0
    day1 = write_jsonl(tmp_path / "d1.jsonl", [{"id": "a", "text": a}, {"id": "b", "text": b}])
    result = runner.invoke(main, ["run", str(day1), "-o", str(tmp_path / "o1"), "--index",
                                  str(index), "--update", "--no-report"])  # fmt: skip
    assert result.exit_code == 0, result.output
    with Index.open(index) as opened:
        assert opened.query(a)[0]["id"] == "a"
        trimmed = opened.query(" ".join(a.split()[:70]))
        assert trimmed[0]["id"] == "a" and trimmed[0]["duplicate"] == "contained"
        assert all(d["duplicate"] is None for d in opened.query(story(rng, 120)))
    (tmp_path / "q.txt").write_text(a)
    result = runner.invoke(main, ["index", "query", str(index), str(tmp_path / "q.txt")])
    assert result.exit_code == 0 and "a  batch 1  similarity 1.000  duplicate (exact)" in (
        result.output
    )
    result = runner.invoke(main, ["index", "info", str(index)])
    assert "documents 2," in result.output and "batch 1:" in result.output
    (tmp_path / "ids.txt").write_text("a\nzzz\n")
    result = runner.invoke(main, ["index", "remove", str(index), "--ids",
                                  str(tmp_path / "ids.txt")])  # fmt: skip
    assert result.exit_code == 0
    assert "removed 1 of 2 ids" in result.output and "1 ids not in the index: zzz" in result.output
    # a copy of a removed document is kept again, and nothing of it is left behind
    with Index.open(index) as opened:
        assert opened.query(a) == [] and opened.info().documents == 1
        conn = opened.conn
        assert conn.execute("SELECT COUNT(*) FROM bands WHERE doc = 1").fetchone()[0] == 0
    day2 = write_jsonl(tmp_path / "d2.jsonl", [{"id": "a-again", "text": a}])
    stats, out = _run(tmp_path, "o2", [day2], index=str(index), update=True)
    assert _ids(out / "kept.jsonl") == {"a-again"}


@pytest.mark.parametrize("store_text", [False, True])
def test_explain_says_the_kept_document_is_in_the_index(
    tmp_path: Path, runner, store_text: bool
) -> None:
    rng = random.Random(8)
    a = story(rng, 90)
    index = tmp_path / "seen.ndx"
    create = ["index", "create", str(index)] + (["--store-text"] if store_text else [])
    assert runner.invoke(main, create).exit_code == 0
    for day, doc_id, text in (("d1", "a", a), ("d2", "a2", a + " extra words here")):
        src = write_jsonl(tmp_path / f"{day}.jsonl", [{"id": doc_id, "text": text}])
        result = runner.invoke(main, ["run", str(src), "-o", str(tmp_path / day), "--index",
                                      str(index), "--update"])  # fmt: skip
        assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["explain", str(tmp_path / "d2"), "a2", "--json"])
    assert result.exit_code == 0
    explained = json.loads(result.output)
    assert explained["kept_in_index"] is True and explained["duplicate_of"] == "a"
    if store_text:  # the diff against the text kept by the earlier batch
        assert [op for op in explained["diff"] if op[0] == "insert"][0][2] == "extra words here"
        with Index.open(index) as opened:
            assert opened.text("a") == a
    else:
        assert "diff" not in explained
        result = runner.invoke(main, ["explain", str(tmp_path / "d2"), "a2"])
        assert "a was kept by an earlier batch" in result.output
        assert "create it with --store-text" in result.output
    assert os.path.exists(tmp_path / "d2" / "report.html")
