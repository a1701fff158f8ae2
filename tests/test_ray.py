"""The Ray engine (``--engine ray``) writes what the local engine writes, byte for byte,
also when a Ray worker dies in the middle of a stage. One local Ray (2 CPUs) serves the
module; the engine uses a Ray that is already running, and leaves it running."""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import random
import signal
from pathlib import Path

import numpy as np
import pytest
import ray
from click.testing import CliRunner

from neardup.arrays import union
from neardup.candidates import candidate_codes
from neardup.cli import main
from neardup.engines import ray_stages
from neardup.engines.ray import RayEngine, RayPool
from neardup.stages.signatures import content_block
from test_dedup import _corpus, soft_404, write_jsonl

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


@pytest.fixture(scope="module")
def templated(tmp_path_factory) -> Path:
    """Buckets bigger than the bucket window (MAX_BUCKET_PAIRS): 150 soft-404 pages of
    one site (only a path and a date differ) among stories and their copies."""
    rng = random.Random(5)
    docs = [{"id": str(i), "text": t} for i, t in enumerate(_corpus(3, 150, 3))]
    for k in range(150):
        docs.insert(rng.randrange(len(docs)), {"id": f"404-{k}", "text": soft_404(rng)})
    return write_jsonl(tmp_path_factory.mktemp("templated") / "in.jsonl", docs)


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


def test_the_shuffle_and_the_spread_verification_give_the_local_pairs(
    templated: Path, tmp_path: Path
) -> None:
    """Stage 4 grouped by the shuffle, stage 5 by blocks on the workers: the candidate
    pairs (saved by block) are the local engine's, the bucket window applies (the
    template pages share buckets of 150), and every output, pairs.npz included, is the
    same."""
    runs = {}
    for engine in ("local", "ray"):
        work = tmp_path / f"work-{engine}"
        _invoke("run", str(templated), "-o", str(tmp_path / engine), "--engine", engine, "-j",
                "2", "--workdir", str(work))  # fmt: skip
        runs[engine] = json.loads((tmp_path / engine / "stats.json").read_text())["stats"]
    local, on_ray = _outputs(tmp_path / "local"), _outputs(tmp_path / "ray")
    assert "pairs.npz" in local and local["removed.jsonl"]
    assert on_ray == local
    blocks = sorted((tmp_path / "work-ray" / "verify").glob("candidate_pairs-*.npy"))
    assert len(blocks) == 4 * 2  # four blocks a CPU
    pairs = np.concatenate([np.load(block) for block in blocks])
    assert np.array_equal(pairs, np.load(tmp_path / "work-local" / "candidate_pairs.npy"))
    assert runs["ray"]["candidate_pairs"] == runs["local"]["candidate_pairs"] == len(pairs)
    assert len(pairs) < 150 * 149 // 2  # not every pair of the template pages' buckets


def test_verification_runs_on_the_driver_where_workers_do_not_see_the_work_directory(
    templated: Path, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setattr(RayEngine, "sees", lambda self, folder: False)
    _invoke("run", str(templated), "-o", str(tmp_path / "ray"), "--engine", "ray", "-j", "2",
            "--workdir", str(tmp_path / "work"))  # fmt: skip
    assert not (tmp_path / "work" / "verify").exists()
    assert (tmp_path / "work" / "candidate_pairs.npy").exists()
    _invoke("run", str(templated), "-o", str(tmp_path / "local"), "-j", "2")
    assert _outputs(tmp_path / "ray") == _outputs(tmp_path / "local")


def test_a_ray_engine_sees_the_work_directory_of_its_own_machine(tmp_path: Path) -> None:
    """On a Ray it did not start (the suite's, as a cluster's), a task on each node looks
    for a marker file written here."""
    engine = RayEngine.start(2)
    assert not engine.shared
    assert engine.sees(tmp_path)
    assert list(tmp_path.iterdir()) == []  # the marker is removed


@pytest.mark.parametrize("cpus", [1, 3])
def test_the_shuffle_pairs_band_keys_as_the_local_engine_does(
    cpus: int, tmp_path: Path, monkeypatch
) -> None:
    """Several scatter tasks, partitions and blocks; keys from a tiny range, so that
    buckets of every size form, and the same key stands in several bands (and leads):
    each band is grouped apart."""
    monkeypatch.setattr(ray_stages, "SCATTER_DOCS", 700)
    monkeypatch.setattr(ray_stages, "BLOCK_DOCS", 300)
    rng = np.random.default_rng(cpus)
    n = 3000
    keys = rng.integers(0, 60, size=(n, 4)).astype(np.uint64)
    leads = rng.integers(0, 900, size=(n, 4)).astype(np.uint64)
    skip = rng.random(n) < 0.1
    spread = ray_stages.group_bands(RayPool(), cpus, keys, leads, skip, tmp_path, lambda f: False)
    want = union(candidate_codes(keys, skip), candidate_codes(leads, skip))
    assert np.array_equal(spread.codes(), want)


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
    submitted: list[str] = []
    submit = RayPool.submit

    def submit_killing(self, func, *args):
        submitted.append("sig" if func is content_block else "ingest")
        if submitted.count("ingest") == 2 and submitted[-1] == "ingest":
            func = _killed_once(func, marks, "ingest")
        elif submitted.count("sig") == 1 and submitted[-1] == "sig":
            func = _killed_once(func, marks, "sig")
        return submit(self, func, *args)

    monkeypatch.setattr(RayPool, "submit", submit_killing)
    _invoke("run", str(corpus), "-o", str(tmp_path / "ray"), "--engine", "ray", "-j", "2")
    monkeypatch.undo()
    assert sorted(p.name for p in marks.iterdir()) == [
        "ingest.killed", "ingest.retried", "sig.killed", "sig.retried",
    ]  # fmt: skip
    _invoke("run", str(corpus), "-o", str(tmp_path / "local"), "-j", "2")
    assert _outputs(tmp_path / "ray") == _outputs(tmp_path / "local")


def _killed_once(func, marks: Path, name: str):
    """``func`` run by a worker that then dies (SIGKILL) before it answers, the first
    time (``marks``: a folder the workers see, where ``name.killed`` and, once run again,
    ``name.retried`` are left)."""

    def attempt(*args):
        result = func(*args)
        first = marks / f"{name}.killed"
        if not first.exists():
            first.touch()
            os.kill(os.getpid(), signal.SIGKILL)
        (marks / f"{name}.retried").touch()
        return result

    return attempt


def test_a_worker_killed_in_the_shuffle_or_the_verification_changes_nothing(
    templated: Path, tmp_path: Path, monkeypatch
) -> None:
    """The first task of each step of stages 4 and 5 (scatter, partition, verify a
    block) dies once it has done its work (the block has written its files): Ray runs
    them again, and the outputs are the local engine's."""
    marks = tmp_path / "marks"
    marks.mkdir()
    launch = RayPool.launch
    names = {ray_stages._scatter: "scatter", ray_stages._partition_pairs: "partition",
             ray_stages._verify_block: "verify"}  # fmt: skip

    def launch_killing(self, func, *args, returns=1):
        name = names.get(func)
        if name and not (marks / f"{name}.launched").exists():
            (marks / f"{name}.launched").touch()
            func = _killed_once(func, marks, name)
        return launch(self, func, *args, returns=returns)

    monkeypatch.setattr(RayPool, "launch", launch_killing)
    _invoke("run", str(templated), "-o", str(tmp_path / "ray"), "--engine", "ray", "-j", "2")
    monkeypatch.undo()
    assert sorted(p.name for p in marks.iterdir() if p.suffix != ".launched") == [
        f"{name}.{what}" for name in ("partition", "scatter", "verify")
        for what in ("killed", "retried")
    ]  # fmt: skip
    _invoke("run", str(templated), "-o", str(tmp_path / "local"), "-j", "2")
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


def test_stages_1_to_3_resume_on_ray_and_4_to_5_rerun(corpus: Path, tmp_path: Path) -> None:
    """With a work directory, a Ray run resumes stages 1 to 3 (their files are the local
    engine's); stages 4 and 5 rerun (the shuffle's pairs live in Ray, never in one file)
    and leave no marker that a later run could take for theirs."""
    work = tmp_path / "work"

    def go(tag: str, engine: str) -> tuple[list[str], dict[str, bytes]]:
        _invoke("run", str(corpus), "-o", str(tmp_path / tag), "--engine", engine, "-j", "2",
                "--workdir", str(work))  # fmt: skip
        stats = json.loads((tmp_path / tag / "stats.json").read_text())["stats"]
        return stats["resumed_stages"], _outputs(tmp_path / tag)

    first = ["ingest", "boilerplate", "signatures"]
    resumed, expected = go("ray", "ray")
    assert resumed == [] and expected["removed.jsonl"]
    assert go("ray-again", "ray") == (first, expected)
    assert not list(work.glob("candidates.done.json")) + list(work.glob("verify.done.json"))
    assert go("local", "local") == (first, expected)
    assert go("local-again", "local") == ([*first, "candidates", "verify"], expected)
    assert go("ray-after-local", "ray") == (first, expected)
