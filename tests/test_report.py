"""Audit trail: `neardup explain`, the HTML report, what-if replays, and a browser
check that document text in the report cannot run."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from neardup import DedupConfig, run_dedup
from neardup.cli import main
from neardup.explain import compare_texts, explain_document
from neardup.whatif import what_if
from test_dedup import read_jsonl, story, write_jsonl

HOSTILE = [
    "<script>document.documentElement.setAttribute('data-pwned', 'script')</script>",
    "<img src=x onerror=\"document.documentElement.setAttribute('data-pwned', 'img')\">",
    "</textarea></pre></div><b onmouseover=alert(1)>bold</b>",
    "<svg onload=alert(1)></svg> &lt;escaped&gt; \" ' `",
]


def _paragraphs(rng: random.Random, n: int, words: int = 40) -> list[str]:
    return [story(rng, words) for _ in range(n)]


def _corpus(tmp_path: Path) -> Path:
    """A: an original; B: new headline (near); C: trimmed to 60% (contained); D: A in
    other case and spacing (exact); E: a story scraped twice (repaired); F: unique, with
    hostile markup; G and H: a pair at Jaccard ~0.8 (near at 0.7, apart at 0.9)."""
    rng = random.Random(7)
    a = _paragraphs(rng, 8)
    e = _paragraphs(rng, 4)
    g = story(rng, 300).split()
    h = list(g)
    for i in range(0, len(h), 25):  # one word in 25 changed: Jaccard about 0.78
        h[i] = "zzz" + h[i]
    hostile = "\n\n".join([*HOSTILE, story(rng, 60)])
    docs = [
        {"id": "A", "text": "\n\n".join(a)},
        {"id": "B", "text": "\n\n".join(["A new headline for the same story", *a])},
        {"id": "C", "text": "\n\n".join(a[:5]) + "\n\nRead more at example.org"},
        {"id": "D", "text": "\n\n".join(a).upper().replace(" ", "  ")},
        {"id": "E", "text": "\n\n".join(e + e)},
        {"id": "F", "text": hostile},
        {"id": "F2", "text": hostile + "\n\n" + story(rng, 5)},
        {"id": "G", "text": " ".join(g)},
        {"id": "H", "text": " ".join(h)},
    ]
    return write_jsonl(tmp_path / "in.jsonl", docs)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("run")
    corpus = _corpus(tmp)
    out = tmp / "out"
    result = CliRunner().invoke(main, ["run", str(corpus), "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    return out


# ------------------------------------------------------------------------- explain


def test_explain_near_contained_exact_and_kept(run_dir: Path) -> None:
    removed = {r["id"]: r for r in read_jsonl(run_dir / "removed.jsonl")}
    assert {"B", "C", "D", "H"} <= set(removed)
    b = explain_document(run_dir, "B")
    assert b["status"] == "removed" and b["reason"] == "near" and b["duplicate_of"] == "A"
    assert b["scores"]["jaccard"] >= 0.7 and 0 < b["fuzzy"] <= 1
    inserted = " ".join(y for tag, _, y in b["diff"] if tag in ("insert", "replace"))
    assert "new headline" in inserted
    c = explain_document(run_dir, "C")
    assert c["reason"] == "contained" and c["scores"]["containment"] >= 0.8
    assert c["scores"]["jaccard"] < 0.7
    d = explain_document(run_dir, "D")
    assert d["reason"] == "exact" and d["similarity"] == 1.0
    a = explain_document(run_dir, "A")
    assert a["status"] == "kept" and {m["id"] for m in a["members"]} == {"B", "C", "D"}
    assert explain_document(run_dir, "G")["members"][0]["id"] == "H"


def test_explain_repaired_document_shows_the_span_it_repeats(run_dir: Path) -> None:
    e = explain_document(run_dir, "E")
    assert e["status"] == "kept"
    (span,) = e["repairs"]["removed"]
    assert span["words"] >= 100
    assert " ".join(span["repeats_text"].split()) == " ".join(span["text"].split())


def test_explain_cli_text_and_json(run_dir: Path) -> None:
    runner = CliRunner()
    out = runner.invoke(main, ["explain", str(run_dir), "C"])
    assert out.exit_code == 0, out.output
    assert "REMOVED as a contained duplicate of A" in out.output
    assert "[-" in out.output  # the part of A that C does not have
    js = runner.invoke(main, ["explain", str(run_dir), "B", "--json"])
    assert json.loads(js.output)["duplicate_of"] == "A"
    missing = runner.invoke(main, ["explain", str(run_dir), "nope"])
    assert missing.exit_code == 1 and "no such document" in missing.output
    usage = runner.invoke(main, ["explain", str(run_dir)])
    assert usage.exit_code == 2


def test_explain_shows_an_ad_line_the_other_copy_lacked(tmp_path: Path) -> None:
    rng = random.Random(5)
    body = _paragraphs(rng, 5)
    with_ad = "\n\n".join([*body[:2], "Advertisement", *body[2:]])
    corpus = write_jsonl(
        tmp_path / "in.jsonl", [{"id": "E", "text": with_ad + "\n\n" + "\n\n".join(body)}]
    )
    out = tmp_path / "out"
    assert CliRunner().invoke(main, ["run", str(corpus), "-o", str(out), "-q"]).exit_code == 0
    (kept,) = read_jsonl(out / "kept.jsonl")
    assert kept["text"] == "\n\n".join(body)
    spans = explain_document(out, "E")["repairs"]["removed"]
    assert sorted(s["reason"] for s in spans) == ["inserted-line", "repeat"]
    text = CliRunner().invoke(main, ["explain", str(out), "E"]).output
    assert "(inserted-line" in text and "lacking from the copy at" in text
    assert "removed: Advertisement" in text


def test_explain_two_texts(tmp_path: Path) -> None:
    rng = random.Random(3)
    base = story(rng, 200)
    (tmp_path / "a.txt").write_text(base)
    (tmp_path / "b.txt").write_text("Breaking: " + base + " Share this article")
    (tmp_path / "c.txt").write_text(story(rng, 200))
    same = compare_texts(base, "Breaking: " + base)
    assert same["verdict"] == "near" and same["scores"]["jaccard"] > 0.9
    assert compare_texts(base, story(rng, 200))["verdict"] == "different"
    result = CliRunner().invoke(
        main, ["explain", "--text", str(tmp_path / "a.txt"), str(tmp_path / "b.txt")]
    )
    assert result.exit_code == 0 and "verdict: NEAR" in result.output
    assert "{+Breaking:+}" in result.output


# -------------------------------------------------------------------------- what-if


@pytest.mark.parametrize(
    ("threshold", "containment", "aligned"),
    [(0.7, 0.8, 0.85), (0.8, 0.8, 0.85), (0.9, 0.8, 0.85), (0.9, 0.95, 0.85), (0.75, 0.9, 0.85),
     (0.9, 0.95, 0.99), (0.7, 0.8, 0.5)],
)  # fmt: skip
def test_what_if_matches_a_real_rerun(
    run_dir: Path, tmp_path: Path, threshold, containment, aligned
):
    corpus = run_dir.parent / "in.jsonl"
    real = run_dedup(
        [str(corpus)],
        kept=str(tmp_path / "kept.jsonl"),
        config=DedupConfig(threshold=threshold, containment=containment, aligned=aligned),
    )
    guess = what_if(run_dir, threshold, containment, aligned)
    assert guess.exact, guess.note
    assert (guess.removed, guess.clusters) == (real.removed, real.clusters)


def test_what_if_changes_with_the_settings(run_dir: Path) -> None:
    # H: G with one word in 25 changed (Jaccard ~0.78, containment ~0.88): removed at
    # the run's settings, kept when every bar is raised above its scores (its texts align
    # at about 0.97: raising the shingle bars alone leaves it to the second look)
    assert what_if(run_dir, 0.7).removed == what_if(run_dir, 0.9, 0.95).removed
    assert what_if(run_dir, 0.7).removed == what_if(run_dir, 0.9, 0.95, 0.99).removed + 1


# --------------------------------------------------------------------------- report


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def test_report_structure_counts_and_escaping(run_dir: Path) -> None:
    page = (run_dir / "report.html").read_text(encoding="utf-8")
    parser = _Collect()
    parser.feed(page)
    names = [t for t, _ in parser.tags]
    assert "script" not in names and "img" not in names and "textarea" not in names
    assert not [a for _, attrs in parser.tags for a in attrs if a.startswith("on")]
    text = "".join(parser.text)
    stats = json.loads((run_dir / "stats.json").read_text())["stats"]
    assert (
        f"read {stats['read']:,} = kept {stats['kept']:,} + removed {stats['removed']:,} "
        f"+ rejected {stats['rejected']:,}" in text
    )
    # the hostile markup of F shows as text (F2 is its near copy, so F is in a cluster)
    assert "<script>document.documentElement" in text
    assert "onerror=" in text
    assert "What if" in text and "Largest clusters" in text and "Repaired documents" in text
    assert "default-src 'none'" in page


def test_report_command_with_what_if(run_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "r.html"
    result = CliRunner().invoke(
        main,
        ["report", str(run_dir), "-o", str(target), "--threshold", "0.85", "--containment", "0.9"],
    )
    assert result.exit_code == 0, result.output
    assert "at threshold 0.85, containment 0.9:" in result.output
    assert "0.85" in target.read_text()


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(
    _chromium() is None,
    reason="no chromium on this machine (`.ci/run` installs Debian's chromium package)",
)
def test_report_in_a_browser_runs_no_script_from_the_data(run_dir: Path, tmp_path: Path) -> None:
    flags = [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]  # fmt: skip
    url = (run_dir / "report.html").resolve().as_uri()
    dom = subprocess.run(
        [_chromium(), *flags, "--virtual-time-budget=2000", "--dump-dom", url],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert "What if" in dom  # the page loaded
    assert "data-pwned" not in dom.split("<body")[0]  # no script from the data ran
    assert 'data-pwned="' not in dom
    shot = tmp_path / "report.png"
    subprocess.run(
        [_chromium(), *flags, "--window-size=1280,1800", f"--screenshot={shot}", url],
        capture_output=True,
        timeout=120,
    )
    assert shot.exists() and shot.stat().st_size > 10_000


def test_records_without_ids_are_explained_by_file_and_line(tmp_path: Path) -> None:
    rng = random.Random(5)
    base = story(rng, 200)
    corpus = write_jsonl(
        tmp_path / "noid.jsonl",
        [{"text": base}, {"text": "Breaking news. " + base}, {"text": story(rng, 120)}],
    )
    out = tmp_path / "out"
    assert CliRunner().invoke(main, ["run", str(corpus), "-o", str(out), "-q"]).exit_code == 0
    (removed,) = read_jsonl(out / "removed.jsonl")
    assert removed["id"] == f"{corpus}:2" and removed["duplicate_of"] == f"{corpus}:1"
    e = explain_document(out, f"{corpus}:2")
    assert e["status"] == "removed" and any(tag == "insert" for tag, _, _ in e["diff"])
    assert explain_document(out, f"{corpus}:3")["status"] == "kept"
    assert "<ins>" in (out / "report.html").read_text()
