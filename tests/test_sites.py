"""Site boilerplate: lines a site repeats on many pages are learned and removed; the
article never is (republished stories, quotes, pages without a site)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from neardup.cli import main
from neardup.config import SiteConfig
from neardup.pipeline import run_clean
from neardup.sites import SiteCounter, site_of, text_lines

VOCAB = [f"w{i}" for i in range(3000)]


def sentence(rng: random.Random, n: int = 18) -> str:
    return " ".join(rng.choice(VOCAB) for _ in range(n)).capitalize() + "."


BOILER = {
    "news.example": [
        "Share this article on Facebook Twitter Email",
        "Sign up for our morning newsletter and get the news first",
        "Copyright 2026 Example News Ltd. All rights reserved.",
    ],
    "daily.example": [
        "Daily Example | Home | World | Business | Sport",
        "The views expressed in this article are the author's own and do not reflect the "
        "views of Daily Example, its owners or its advertisers. Daily Example accepts no "
        "liability for any loss arising from reliance on this article.",
    ],
}


def corpus(seed: int = 0):
    """Records of two sites with boilerplate around articles, a story republished five
    times on one site (new headline, one typo each), a sentence quoted in two articles,
    and documents with no URL."""
    rng = random.Random(seed)
    records, article_lines = [], set()
    quote = "We will rebuild the harbour wall before the winter storms arrive said the mayor."
    story = [sentence(rng) for _ in range(6)]
    n = 0
    for site, lines in BOILER.items():
        for k in range(12):
            body = [sentence(rng) for _ in range(rng.randint(3, 7))]
            if k in (2, 7) and site == "news.example":
                body.insert(1, quote)
            article_lines.update(body)
            text = "\n".join([lines[0], *body, *lines[1:]])
            records.append({"id": f"d{n}", "url": f"https://www.{site}/a/{k}", "text": text})
            n += 1
    for k in range(5):
        body = list(story)
        body[k] = body[k].replace(".", f" typo{k}.")
        headline = f"Republished headline number {k} {sentence(rng, 4)}"
        article_lines.update(body + [headline])
        text = "\n".join([BOILER["news.example"][0], headline, *body, *BOILER["news.example"][1:]])
        records.append({"id": f"d{n}", "url": f"https://news.example/r/{k}", "text": text})
        n += 1
    for _ in range(4):  # no URL: never touched, even with the footer
        text = "\n".join([sentence(rng), BOILER["news.example"][2]])
        records.append({"id": f"d{n}", "text": text})
        n += 1
    return records, article_lines


def write_jsonl(path: Path, records) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


def test_learns_boilerplate_and_keeps_every_article_line(tmp_path: Path) -> None:
    records, article_lines = corpus()
    src = tmp_path / "in.jsonl"
    write_jsonl(src, records)
    out, audit = tmp_path / "out.jsonl", tmp_path / "audit.jsonl"
    stats = run_clean([str(src)], str(out), audit=str(audit), site=SiteConfig())
    assert stats.read == stats.written == len(records)
    kept = [json.loads(x) for x in out.read_text().splitlines()]
    boiler = {line for lines in BOILER.values() for line in lines}
    for rec, got in zip(records, kept, strict=True):
        lines = got["text"].split("\n")
        if "url" in rec:
            assert not boiler & set(lines), rec["id"]
        else:
            assert got["text"] == rec["text"]
        want = [x for x in rec["text"].split("\n") if x in article_lines]
        assert [x for x in lines if x in article_lines] == want  # article untouched
    # the audit trail: every removed line, its site, frequency and share
    entries = [json.loads(x) for x in audit.read_text().splitlines()]
    removed = [s for e in entries for s in e["removed"] if s["reason"] == "site-boilerplate"]
    assert {s["text"] for s in removed} == boiler
    assert stats.site_lines_removed == len(removed)
    for s in removed:
        assert s["site"] in BOILER and s["frequency"] >= 3 and 0 < s["share"] <= 1
    footer = [s for s in removed if s["text"] == BOILER["news.example"][1]]
    # the five republished copies count once (at most 12 articles + 1 story; counted
    # as five documents it would be 17)
    assert len({s["frequency"] for s in footer}) == 1 and footer[0]["frequency"] <= 13


def test_republished_copies_are_recognised_and_count_once() -> None:
    """The mechanism that protects the story: the five copies (new headline, a typo
    each) are recognised as copies, so the story's lines are counted once, below the
    threshold; counted five times they would pass it."""
    records, _ = corpus()
    copies = records[24:29]
    c = SiteCounter(SiteConfig())
    for r in records:
        hashes = np.array([h for *_, h in text_lines(r["text"])], dtype=np.uint64)
        c.add(site_of(r), hashes)
    bp = c.finish()
    assert c.copies >= 4
    story = [line for line in copies[0]["text"].split("\n")[2:-2] if "typo" not in line]
    hashes = np.array([h for *_, h in text_lines("\n".join(story))], dtype=np.uint64)
    assert len(hashes) >= 4 and not bp.lookup("news.example", hashes).any()
    assert bp.site_docs[bp.sites["news.example"]] <= 14  # 12 articles, the story (x1 or x2)


def test_page_made_only_of_boilerplate_stays_whole(tmp_path: Path) -> None:
    records, _ = corpus()
    only = "\n".join(BOILER["news.example"])
    records.append({"id": "only", "url": "https://news.example/empty", "text": only})
    src = tmp_path / "in.jsonl"
    write_jsonl(src, records)
    out = tmp_path / "out.jsonl"
    run_clean([str(src)], str(out), site=SiteConfig())
    kept = {r["id"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert kept["only"]["text"] == only


def test_site_of() -> None:
    assert site_of({"url": "https://www.BBC.co.uk/news/1"}) == "bbc.co.uk"
    assert site_of({"url": "bbc.co.uk/news"}) == "bbc.co.uk"
    assert site_of({"url": ""}) is None and site_of({}) is None
    assert site_of({"source": "Reuters"}, "source") == "Reuters"


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 2), st.lists(st.integers(0, 30), min_size=1, max_size=8)),
        min_size=1,
        max_size=60,
    ),
    st.integers(2, 4),
    st.sampled_from([0.05, 0.3, 0.6]),
)
def test_never_removes_a_line_below_the_thresholds(docs, min_docs, min_share) -> None:
    """Whatever the corpus: a line removed from a site is on at least ``min_docs``
    documents of that site and on at least ``min_share`` of them (counts can only be
    low, since copies count once), and the reported frequency is never above the true
    number of documents carrying it."""
    texts = [(f"s{site}", "\n".join(f"line number {x}" for x in lines)) for site, lines in docs]
    c = SiteCounter(SiteConfig(min_docs=min_docs, min_share=min_share, max_lines=1000))
    for site, text in texts:
        c.add(site, np.array([h for *_, h in text_lines(text)], dtype=np.uint64))
    bp = c.finish()
    for site, text in texts:
        _, removed = bp.strip(text, site)
        same_site = [t for s, t in texts if s == site]
        for r in removed:
            true = sum(r["text"] in t.split("\n") for t in same_site)
            assert r["frequency"] <= true
            assert r["frequency"] >= min_docs
            assert r["frequency"] >= min_share * bp.site_docs[bp.sites[site]] - 1e-9


def test_run_compares_without_site_boilerplate(tmp_path: Path, runner) -> None:
    """Two different short stories that share a long site footer are not duplicates:
    `run` learns the footer on four pages of the site (too few for the corpus-wide
    boilerplate rule) and compares what the stories say; without site learning they
    merge."""
    rng = random.Random(3)
    footer = [sentence(rng, 60) for _ in range(4)]
    records = [
        {
            "id": f"s{k}",
            "url": f"https://small.example/{k}",
            "text": "\n".join([*(sentence(rng, 8) for _ in range(5)), *footer]),
        }
        for k in range(4)
    ]
    src = tmp_path / "in.jsonl"
    write_jsonl(src, records)
    on, off = tmp_path / "on", tmp_path / "off"
    r1 = runner.invoke(main, ["run", str(src), "-o", str(on), "--no-report", "-j", "1"])
    r2 = runner.invoke(
        main, ["run", str(src), "-o", str(off), "--no-report", "-j", "1", "--no-site-boilerplate"]
    )
    assert r1.exit_code == 0 and r2.exit_code == 0, r1.output + r2.output
    s_on = json.loads((on / "stats.json").read_text())["stats"]
    s_off = json.loads((off / "stats.json").read_text())["stats"]
    assert s_on["removed"] == 0 and s_off["removed"] == 3
    assert "site boilerplate: 4 lines learned on 1 sites" in r1.output
    kept = [json.loads(x) for x in (on / "kept.jsonl").read_text().splitlines()]
    assert all(not set(footer) & set(k["text"].split("\n")) for k in kept)
    audit = [json.loads(x) for x in (on / "site_boilerplate.jsonl").read_text().splitlines()]
    assert len(audit) == 4 and all(len(a["removed"]) == 4 for a in audit)
    assert all(r["frequency"] >= 3 and r["share"] >= 0.75 for a in audit for r in a["removed"])
    # `dedup` compares the same way with --site-boilerplate, records left as they came
    kept_path = tmp_path / "kept.jsonl"
    r3 = runner.invoke(
        main, ["dedup", str(src), "-o", str(kept_path), "--site-boilerplate", "-j", "1"]
    )
    assert r3.exit_code == 0, r3.output
    assert kept_path.read_text().splitlines() == src.read_text().splitlines()


def test_clean_cli_site_boilerplate(tmp_path: Path, runner) -> None:
    records, _ = corpus()
    src = tmp_path / "in.jsonl"
    write_jsonl(src, records)
    out = tmp_path / "out.jsonl"
    r = runner.invoke(main, ["clean", str(src), "-o", str(out), "--site-boilerplate", "-j", "2"])
    assert r.exit_code == 0, r.output
    assert "site boilerplate: 5 lines learned on 2 sites" in r.output
    r = runner.invoke(
        main, ["clean", str(src), "-o", str(out), "--site-min-docs", "30", "--site-boilerplate"]
    )
    assert "0 lines learned" in r.output


def test_bounded_counter_prunes_lines_seen_once_and_still_learns() -> None:
    """Past max_lines distinct (site, line) pairs the counter drops lines seen once: the
    footer every page carries is still learned, nothing is counted high."""
    rng = random.Random(5)
    footer = "Copyright 2026 Example News Ltd. All rights reserved."
    c = SiteCounter(SiteConfig(max_lines=1000))
    texts = []
    for _ in range(6000):  # ~24,000 distinct lines, every one seen once, plus the footer
        text = "\n".join([*(sentence(rng, 6) for _ in range(4)), footer])
        texts.append(text)
        c.add("news.example", np.array([h for *_, h in text_lines(text)], dtype=np.uint64))
    bp = c.finish()
    assert c.pruned > 20_000
    _, removed = bp.strip(texts[0], "news.example")
    assert [r["text"] for r in removed] == [footer]
    assert removed[0]["frequency"] <= 6000 and len(bp) == 1
