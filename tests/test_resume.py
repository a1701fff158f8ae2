"""Resuming a dedup run stage by stage from its work directory (neardup.stagerun): a
resumed run writes what a fresh run writes, a changed setting reruns its stage and the
later ones only, and a damaged or missing output reruns its stage instead of failing."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from click.testing import CliRunner

import neardup.stages.verify
from neardup.cli import main
from neardup.config import DedupConfig, SiteConfig
from neardup.dedup import run_dedup
from neardup.index import Index
from test_dedup import _corpus, soft_404, write_jsonl

#: the stages that resume, in order
RESUMABLE = ["ingest", "boilerplate", "signatures", "candidates", "verify"]
FOOTER = (
    "Subscribe to our newsletter for the day's top stories, delivered to your inbox every "
    "morning. You can unsubscribe at any time from the link at the bottom of every email."
)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """Stories and their edited copies, soft-404 pages of one site (template pages), a
    footer that many stories carry (corpus boilerplate) and a URL per record (site
    boilerplate)."""
    rng = random.Random(7)
    docs = []
    for i, text in enumerate(_corpus(17, 80, 3)):
        if i % 4 == 0:
            text += "\n\n" + FOOTER
        docs.append({"id": str(i), "text": text, "url": f"https://site{i % 3}.example/{i}"})
    for k in range(30):
        docs.insert(rng.randrange(len(docs)), {"id": f"404-{k}", "text": soft_404(rng),
                                               "url": f"https://site0.example/x{k}"})  # fmt: skip
    return write_jsonl(tmp_path_factory.mktemp("corpus") / "in.jsonl", docs)


def _run(corpus: Path, out: Path, work: Path | None, **kw):
    """A run with every output (pairs.npz too); its stats and the outputs' bytes."""
    out.mkdir(parents=True)
    names = {"kept": "kept.jsonl", "removed": "removed.jsonl", "clusters_out": "clusters.jsonl",
             "repairs_out": "repairs.jsonl", "pairs_out": "pairs.npz"}  # fmt: skip
    stats = run_dedup(
        [str(corpus)], **{k: str(out / v) for k, v in names.items()},
        workdir=str(work) if work is not None else None, **kw,
    )  # fmt: skip
    return stats, {p.name: p.read_bytes() for p in sorted(out.iterdir())}


@pytest.mark.parametrize("site", [None, SiteConfig(min_docs=3)])
def test_a_resumed_run_writes_what_a_fresh_run_writes(corpus: Path, tmp_path: Path, site) -> None:
    work = tmp_path / "work"
    fresh, expected = _run(corpus, tmp_path / "fresh", None, site=site)
    first, out1 = _run(corpus, tmp_path / "one", work, site=site)
    again, out2 = _run(corpus, tmp_path / "two", work, site=site)
    assert fresh.removed and fresh.verified_pairs and fresh.boilerplate_paragraphs
    assert first.resumed_stages == [] and again.resumed_stages == RESUMABLE
    assert out1 == out2 == expected
    for name in RESUMABLE[1:]:
        assert (work / f"{name}.done.json").exists()
    counts = [{k: v for k, v in s.to_dict().items() if k not in ("seconds", "resumed",
                                                                   "resumed_stages")}
              for s in (fresh, again)]  # fmt: skip
    assert counts[0] == counts[1]
    if site is not None:
        assert again.site_boilerplate == fresh.site_boilerplate and fresh.site_boilerplate["lines"]


def test_a_changed_setting_reruns_its_stage_and_the_later_ones(
    corpus: Path, tmp_path: Path
) -> None:
    work = tmp_path / "work"
    _, at_07 = _run(corpus, tmp_path / "a", work)
    # the threshold is verify's alone (containment verification: the bands are tuned for
    # 0.5 at any threshold above it)
    stricter = DedupConfig(threshold=0.9)
    stats, got = _run(corpus, tmp_path / "b", work, config=stricter)
    assert stats.resumed_stages == RESUMABLE[:4]
    assert got == _run(corpus, tmp_path / "b-fresh", None, config=stricter)[1] != at_07
    # back: verify's marker is the 0.9 run's now
    stats, got = _run(corpus, tmp_path / "c", work)
    assert stats.resumed_stages == RESUMABLE[:4] and got == at_07
    # boilerplate's own setting: stage 1 resumes, the rest rerun
    fewer = DedupConfig(boilerplate_min_docs=4)
    stats, got = _run(corpus, tmp_path / "d", work, config=fewer)
    assert stats.resumed_stages == ["ingest"]
    assert got == _run(corpus, tmp_path / "d-fresh", None, config=fewer)[1]
    # the keep policy is the cluster stage's (stage 1 keeps the fields it reads: none)
    stats, got = _run(corpus, tmp_path / "e", work, config=fewer, keep="longest")
    assert stats.resumed_stages == RESUMABLE
    assert got == _run(corpus, tmp_path / "e-fresh", None, config=fewer, keep="longest")[1]
    # without the scored pairs kept, verify reruns (its prefilter's floor is another)
    stats = run_dedup([str(corpus)], kept=str(tmp_path / "g.jsonl"), workdir=str(work),
                      config=fewer)  # fmt: skip
    assert stats.resumed_stages == RESUMABLE[:4]


@pytest.mark.parametrize(
    ("damage", "name", "reruns"),
    [
        ("delete", "boilerplate.npz", "boilerplate"),
        ("garble", "boilerplate.npz", "boilerplate"),
        ("cut", "signatures.npy", "signatures"),
        ("delete", "band_keys.npy", "signatures"),
        ("delete", "candidate_pairs.npy", "candidates"),
        ("garble", "candidate_pairs.npy", "candidates"),
        ("cut", "verified_edges.npz", "verify"),
        ("cut", "pairs.bin", "verify"),
        ("delete", "candidates.done.json", "candidates"),
        ("garble", "verify.done.json", "verify"),
    ],
)
def test_a_damaged_output_reruns_its_stage(
    corpus: Path, tmp_path: Path, damage: str, name: str, reruns: str
) -> None:
    work = tmp_path / "work"
    _, expected = _run(corpus, tmp_path / "a", work)
    path = work / name
    if damage == "delete":
        path.unlink()
    elif damage == "cut":
        with path.open("r+b") as f:
            f.truncate(path.stat().st_size // 2)
    else:  # the same size, other bytes
        path.write_bytes(bytes(len(path.read_bytes())))
    stats, got = _run(corpus, tmp_path / "b", work)
    assert got == expected
    # the stages after it resume: its outputs are the same again
    assert stats.resumed_stages == [s for s in RESUMABLE if s != reruns]
    assert _run(corpus, tmp_path / "c", work)[0].resumed_stages == RESUMABLE


def test_a_stage_that_fails_leaves_no_marker(corpus: Path, tmp_path: Path, monkeypatch) -> None:
    """A stage's marker goes before it writes anything: a run that fails in verify (at
    another threshold) leaves no marker that a later run would take for the first run's."""
    work = tmp_path / "work"
    _, expected = _run(corpus, tmp_path / "a", work)

    def fail(*args, **kwargs):
        raise RuntimeError("verification failed")

    with monkeypatch.context() as m:
        m.setattr(neardup.stages.verify, "verify_pairs", fail)
        with pytest.raises(RuntimeError, match="verification failed"):
            _run(corpus, tmp_path / "b", work, config=DedupConfig(threshold=0.9))
    assert not (work / "verify.done.json").exists()
    stats, got = _run(corpus, tmp_path / "c", work)
    assert stats.resumed_stages == RESUMABLE[:4] and got == expected


def test_with_an_index_only_stage_1_resumes(corpus: Path, tmp_path: Path) -> None:
    """The later stages read the index: they rerun, and leave no marker that a run
    without the index could resume from."""
    work = tmp_path / "work"
    index = tmp_path / "idx.db"
    Index.create(index).close()
    _, expected = _run(corpus, tmp_path / "a", work)
    first, with_index = _run(corpus, tmp_path / "b", work, index=str(index))
    again, with_index2 = _run(corpus, tmp_path / "c", work, index=str(index))
    assert again.resumed_stages == ["ingest"] and with_index2 == with_index
    assert not list(work.glob("*.done.json"))
    stats, got = _run(corpus, tmp_path / "d", work)
    assert stats.resumed_stages == ["ingest"] and got == expected


def test_a_temporary_work_directory_or_standard_input_resumes_nothing(
    corpus: Path, tmp_path: Path
) -> None:
    work = tmp_path / "work"
    _run(corpus, tmp_path / "a", work)
    result = CliRunner().invoke(
        main, ["dedup", "-", "-o", str(tmp_path / "k.jsonl"), "--workdir", str(work)],
        input=corpus.read_text(encoding="utf-8"),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "resumed" not in result.output
    assert not list(work.glob("*.done.json"))


def test_the_summary_and_the_stats_say_what_resumed(corpus: Path, tmp_path: Path) -> None:
    work = tmp_path / "work"
    args = ["run", str(corpus), "--workdir", str(work), "--no-report"]
    first = CliRunner().invoke(main, [*args, "-o", str(tmp_path / "a")])
    assert first.exit_code == 0 and "resumed" not in first.output
    again = CliRunner().invoke(main, [*args, "-o", str(tmp_path / "b")])
    assert again.exit_code == 0
    assert "; resumed: ingest, boilerplate, signatures, candidates, verify" in again.output
    stats = json.loads((tmp_path / "b" / "stats.json").read_text())["stats"]
    assert stats["resumed"] and stats["resumed_stages"] == RESUMABLE
    stages = ("read_clean_features", "boilerplate", "content_signatures", "candidates", "verify",
              "cluster", "write", "total")  # fmt: skip
    assert set(stats["seconds"]) >= set(stages)
