"""The Ray engine (``--engine ray``) writes what the local engine writes, byte for byte,
also when a Ray worker dies in the middle of a stage. One local Ray (2 CPUs) serves the
module; the engine uses a Ray that is already running, and leaves it running."""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import signal
from pathlib import Path

import pytest
import ray
from click.testing import CliRunner

from neardup.cli import main
from neardup.engines.ray import RayEngine, RayPool
from neardup.stages.signatures import content_block
from test_dedup import _corpus, write_jsonl

# what carries timings (stats.json, the report) differs from run to run, whatever the engine
TIMED = ("stats.json", "report.html")


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.WARNING)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """Near and exact duplicates, more than one stage-1 batch (256 documents) of them."""
    texts = _corpus(11, 220, 3)
    docs = [{"id": str(i), "text": t} for i, t in enumerate(texts)]
    docs += [{"id": f"{i}-again", "text": docs[i]["text"].upper()} for i in range(0, 40, 7)]
    assert len(docs) > 2 * 256
    return write_jsonl(tmp_path_factory.mktemp("corpus") / "in.jsonl", docs)


def _share(monkeypatch, shared: bool) -> None:
    """Whether the Ray workers read and write the work directory themselves (a Ray
    started by neardup) or stage 3 carries its data to them and back (a cluster's)."""
    start = RayEngine.start.__func__

    def start_sharing(cls, *args, **kwargs):
        engine = start(cls, *args, **kwargs)
        engine.shared = shared
        return engine

    monkeypatch.setattr(RayEngine, "start", classmethod(start_sharing))


def _outputs(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.name not in TIMED}


def _invoke(*args: str) -> None:
    result = CliRunner().invoke(main, [*args, "-q"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(("workers", "shared"), [("1", True), ("2", False)])
def test_run_on_ray_writes_what_local_writes(
    corpus: Path, tmp_path: Path, monkeypatch, workers, shared
) -> None:
    _share(monkeypatch, shared)
    _invoke("run", str(corpus), "-o", str(tmp_path / "local"), "-j", "2")
    _invoke("run", str(corpus), "-o", str(tmp_path / "ray"), "--engine", "ray", "-j", workers)
    local, on_ray = _outputs(tmp_path / "local"), _outputs(tmp_path / "ray")
    assert {"kept.jsonl", "removed.jsonl", "clusters.jsonl"} <= set(local)
    assert local["removed.jsonl"] and local["clusters.jsonl"]  # there are duplicates
    assert on_ray == local


def test_dedup_and_clean_on_ray_write_what_local_writes(corpus: Path, tmp_path: Path) -> None:
    for engine in ("local", "ray"):
        out = tmp_path / engine
        out.mkdir()
        _invoke("dedup", str(corpus), "-o", str(out / "kept.jsonl"), "--removed",
                str(out / "removed.jsonl"), "--clusters", str(out / "clusters.jsonl"),
                "--engine", engine, "-j", "2")  # fmt: skip
        _invoke("clean", str(corpus), "-o", str(out / "clean.jsonl"), "--audit",
                str(out / "audit.jsonl"), "--engine", engine, "-j", "2")  # fmt: skip
    assert _outputs(tmp_path / "ray") == _outputs(tmp_path / "local")
    assert (tmp_path / "local" / "removed.jsonl").stat().st_size > 0


@pytest.mark.parametrize("shared", [True, False])
def test_a_worker_killed_mid_stage_changes_nothing(
    corpus: Path, tmp_path: Path, monkeypatch, shared
) -> None:
    """The worker running the second stage-1 batch, and the one running the first
    signature block, are killed (SIGKILL) once they have done the work (``shared``:
    the block has written its rows into the work files) and before they answer: Ray
    runs both tasks again, and the outputs are the local engine's."""
    _share(monkeypatch, shared)
    marks = tmp_path / "marks"
    marks.mkdir()

    def killed_once(func, name: str):
        def attempt(*args):
            result = func(*args)
            first = marks / f"{name}.killed"
            if not first.exists():
                first.touch()
                os.kill(os.getpid(), signal.SIGKILL)
            (marks / f"{name}.retried").touch()
            return result

        return attempt

    submitted: list[str] = []
    submit = RayPool.submit

    def submit_killing(self, func, *args):
        submitted.append("sig" if func is content_block else "ingest")
        if submitted.count("ingest") == 2 and submitted[-1] == "ingest":
            func = killed_once(func, "ingest")
        elif submitted.count("sig") == 1 and submitted[-1] == "sig":
            func = killed_once(func, "sig")
        return submit(self, func, *args)

    monkeypatch.setattr(RayPool, "submit", submit_killing)
    _invoke("run", str(corpus), "-o", str(tmp_path / "ray"), "--engine", "ray", "-j", "2")
    monkeypatch.undo()
    assert sorted(p.name for p in marks.iterdir()) == [
        "ingest.killed", "ingest.retried", "sig.killed", "sig.retried",
    ]  # fmt: skip
    _invoke("run", str(corpus), "-o", str(tmp_path / "local"), "-j", "2")
    assert _outputs(tmp_path / "ray") == _outputs(tmp_path / "local")


def test_a_bad_record_on_ray_is_reported_as_locally(tmp_path: Path) -> None:
    """The task's own error (file and line), not Ray's wrapper around it; not retried."""
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "a", "text": "one two three"}\n{"id": "b", "text": \n')
    messages = []
    for engine in ("local", "ray"):
        result = CliRunner().invoke(
            main,
            [
                "dedup",
                str(src),
                "-o",
                str(tmp_path / f"{engine}.jsonl"),
                "-q",
                "--engine",
                engine,
                "-j",
                "2",
            ],  # fmt: skip
        )
        assert result.exit_code == 1
        messages.append(result.output)
    assert messages[0] == messages[1]
    assert f"{src}:2" in messages[1] and "ray::" not in messages[1]


def test_without_ray_installed_the_error_says_how_to_install_it(
    tmp_path: Path, monkeypatch
) -> None:
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "ray" else find_spec(name, *a)
    )
    src = write_jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": "one two three"}])
    result = CliRunner().invoke(
        main, ["run", str(src), "-o", str(tmp_path / "o"), "--engine", "ray"]
    )
    assert result.exit_code == 1
    assert "pip install 'neardup[ray]'" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_stats_count_the_same_on_both_engines(corpus: Path, tmp_path) -> None:
    for engine in ("local", "ray"):
        _invoke("run", str(corpus), "-o", str(tmp_path / engine), "--engine", engine)
    counts = [
        {k: v for k, v in json.loads((tmp_path / e / "stats.json").read_text())["stats"].items()
         if k != "seconds"}
        for e in ("local", "ray")
    ]  # fmt: skip
    assert counts[0] == counts[1]


def test_python_api_takes_the_engine() -> None:
    import neardup

    texts = _corpus(5, 60, 2)
    local, on_ray = (neardup.dedup(texts, engine=e) for e in ("local", "ray"))
    assert (on_ray.kept, on_ray.removed, on_ray.clusters) == (
        local.kept, local.removed, local.clusters,
    )  # fmt: skip
    assert local.removed
