"""Corpus deduplication: signatures, LSH, verification, clusters, keep policies, the CLI."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
from datasketch import MinHash, MinHashLSH
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neardup import DedupConfig, InputError
from neardup.candidates import band_keys, candidate_pairs, lsh_params
from neardup.cli import main
from neardup.clusters import DocInfo, keep_policy
from neardup.dedup import features, run_dedup
from neardup.shingles import (
    SEPARATORS,
    TOKEN_RE,
    _regex_words,
    line_words,
    line_words_with_spans,
    shingle_hashes,
    words,
)
from neardup.signatures import minhash, minhash_many
from neardup.stages.verify import prefilter
from neardup.verify import decide, score_pair

WORDS = sorted({f"{a}{b}{c}" for a in "bcdfgklmnprst" for b in "aeiou" for c in "lmnrst"})


def story(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def write_jsonl(path: Path, docs: list[dict]) -> Path:
    path.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    return path


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# ------------------------------------------------------------------ signatures and bands


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.integers(0, 2**32 - 1), max_size=300),
    st.sampled_from([16, 64, 128]),
    st.integers(0, 2**16),
)
def test_signature_equals_datasketch(values, num_perm, seed) -> None:
    hashes = np.array(values, dtype=np.uint32)
    reference = MinHash(num_perm=num_perm, seed=seed, hashfunc=lambda x: x)
    reference.update_batch(values)
    assert reference.scheme == "affine32"
    assert (minhash(hashes, num_perm, seed) == reference.hashvalues).all()
    many = minhash_many(
        [hashes, hashes[: len(hashes) // 2], np.zeros(0, np.uint32)], num_perm, seed
    )
    assert (many[0] == reference.hashvalues).all()
    assert (many[2] == np.uint32(0xFFFFFFFF)).all()


@pytest.mark.parametrize("threshold", [0.5, 0.7, 0.8, 0.9])
def test_band_layout_is_datasketchs(threshold) -> None:
    lsh = MinHashLSH(threshold=threshold, num_perm=128)
    assert lsh_params(threshold, 128) == (lsh.b, lsh.r)


def test_shingles_of_short_and_empty_texts() -> None:
    assert len(shingle_hashes(words("two words"), 3)) == 1
    assert len(shingle_hashes([], 3)) == 0
    assert len(shingle_hashes(words("one two three four"), 3)) == 2
    # scripts without spaces: characters are the words
    assert len(words("中国人民银行")) == 6


# the characters that decide tokenising: ASCII, the separators of the fast path, letters
# that casefold to more than one letter, Thai (marks are tokens too), CJK, line breaks
_TOKEN_CHARS = (
    "aZ09 _-'\n\t\r"
    + SEPARATORS
    + "\u00e9\u00df\u0130\u0414\u0e01\u0e31\u4e2d\u0301\u2028\u00bd\u0661"
)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(_TOKEN_CHARS) | st.characters(), max_size=60))
def test_fast_tokens_equal_the_regular_expression(text) -> None:
    """The ASCII fast path cuts every text exactly as the regular expression does."""
    assert words(text) == _regex_words(text)
    assert line_words(text) == [w for w in map(_regex_words, text.split("\n")) if w]
    spans = list(line_words_with_spans(text))
    assert [w for _, _, w in spans] == line_words(text)
    for start, end, w in spans:  # each span is one whole line of the text
        assert "\n" not in text[start:end] and text[end : end + 1] in ("", "\n")
        assert _regex_words(text[start:end]) == w


def test_separators_are_never_tokens() -> None:
    assert all(TOKEN_RE.match(ch) is None for ch in SEPARATORS)


# ------------------------------------------------------------ LSH path vs brute force


def _corpus(seed: int, n_stories: int, copies: int) -> list[str]:
    rng = random.Random(seed)
    texts = []
    for _ in range(n_stories):
        base = story(rng, rng.randint(40, 120)).split()
        texts.append(" ".join(base))
        for _ in range(rng.randint(0, copies)):
            copy = list(base)
            for _ in range(rng.randint(0, max(1, len(copy) // 60))):  # a light edit
                copy[rng.randrange(len(copy))] = rng.choice(WORDS)
            texts.append(" ".join(copy))
    rng.shuffle(texts)
    return texts


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 700).flatmap(lambda n: st.tuples(
    st.lists(st.lists(st.integers(0, 9), min_size=3, max_size=3), min_size=n, max_size=n),
    st.lists(st.booleans(), min_size=n, max_size=n))))  # fmt: skip
def test_candidate_pairs_follow_the_bucket_rule(data) -> None:
    """Every pair of a bucket of up to MAX_BUCKET_PAIRS + 1 documents; in a bigger one,
    the pairs up to MAX_BUCKET_PAIRS apart in document order and a star from its first
    document (keys from a tiny range: buckets of every size)."""
    from neardup.candidates import MAX_BUCKET_PAIRS

    rows, skip = data
    keys = np.array(rows, dtype=np.uint64)
    want = set()
    for band in range(keys.shape[1]):
        buckets: dict[int, list[int]] = {}
        for i in range(len(keys)):
            if not skip[i]:
                buckets.setdefault(int(keys[i, band]), []).append(i)
        for docs in buckets.values():
            for x in range(len(docs)):
                for y in range(x + 1, len(docs)):
                    if y - x <= MAX_BUCKET_PAIRS or x == 0:
                        want.add((docs[x], docs[y]))
    got = {tuple(p) for p in candidate_pairs(keys, np.array(skip)).tolist()}
    assert got == want


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10**6))
def test_lsh_candidates_find_every_close_pair_and_edges_are_true(seed) -> None:
    texts = _corpus(seed, 25, 3)
    sets = [np.unique(features(t, 3).shingles) for t in texts]
    sigs = minhash_many(sets)
    b, r = lsh_params(0.7, 128)
    pairs = {tuple(p) for p in candidate_pairs(band_keys(sigs, b, r)).tolist()}
    for i in range(len(sets)):
        for j in range(i + 1, len(sets)):
            inter = len(np.intersect1d(sets[i], sets[j]))
            jac = inter / (len(sets[i]) + len(sets[j]) - inter)
            # far above the threshold: with 14 bands of 9 rows a pair of Jaccard 0.97 is
            # missed with probability (1 - 0.97**9)**14 < 1e-8
            if jac >= 0.97:
                assert (i, j) in pairs


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10**6), st.sampled_from(["containment", "jaccard", "estimated"]))
def test_prefilter_rejects_only_pairs_that_verification_rejects(seed, verify) -> None:
    texts = _corpus(seed, 20, 3)
    rng = random.Random(seed)
    # trimmed copies (containment) and copies sharing one sentence with another story
    texts += [" ".join(t.split()[: rng.randint(17, 60)]) for t in texts[:10]]
    texts += [" ".join(t.split()[:10]) + " " + story(rng, 80) for t in texts[:10]]
    sets = [np.unique(features(t, 3).shingles) for t in texts]
    sigs = minhash_many(sets)
    sizes = np.array([len(x) for x in sets])
    pairs = np.array([(i, j) for i in range(len(sets)) for j in range(i + 1, len(sets))])
    config = DedupConfig(verify=verify)
    keep = prefilter(pairs, sizes, sigs, config)
    for (i, j), kept in zip(pairs.tolist(), keep.tolist(), strict=True):
        if not kept:
            score = score_pair(sets[i], sets[j], sigs[i], sigs[j])
            assert decide(score, config.threshold, config.containment, verify) is None
    assert not keep.all()  # unrelated stories are filtered out unread


def test_dedup_matches_brute_force_on_a_small_corpus(tmp_path: Path) -> None:
    texts = _corpus(7, 40, 3)
    src = write_jsonl(
        tmp_path / "in.jsonl", [{"id": str(i), "text": t} for i, t in enumerate(texts)]
    )
    config = DedupConfig(threshold=0.7, verify="jaccard")
    stats = run_dedup(
        [str(src)], kept=str(tmp_path / "k.jsonl"), removed=str(tmp_path / "r.jsonl"), config=config
    )
    removed = {r["id"]: r for r in read_jsonl(tmp_path / "r.jsonl")}
    sets = [np.unique(features(t, 3).shingles) for t in texts]

    def jac(i, j):
        inter = len(np.intersect1d(sets[i], sets[j]))
        return inter / (len(sets[i]) + len(sets[j]) - inter)

    # every removal is justified by the true Jaccard with the kept document
    for doc_id, r in removed.items():
        assert jac(int(doc_id), int(r["duplicate_of"])) >= 0.7
        assert r["similarity"] == pytest.approx(jac(int(doc_id), int(r["duplicate_of"])), abs=1e-4)
    # no two kept documents are duplicates by brute force
    kept = [int(r["id"]) for r in read_jsonl(tmp_path / "k.jsonl")]
    for a in range(len(kept)):
        for b in range(a + 1, len(kept)):
            assert (
                jac(kept[a], kept[b]) < 0.7 or jac(kept[a], kept[b]) < 0.8
            )  # LSH may miss 0.7-0.8
            assert jac(kept[a], kept[b]) < 0.9
    assert stats.read == stats.kept + stats.removed


# ------------------------------------------------------------------ behaviour of a run


def run(tmp_path: Path, docs: list[dict], *args: str, runner=None):
    from click.testing import CliRunner

    src = write_jsonl(tmp_path / "in.jsonl", docs)
    out = tmp_path / "out"
    result = (runner or CliRunner()).invoke(main, ["run", str(src), "-o", str(out), *args])
    return result, out


def test_run_writes_every_output_and_counts_add_up(tmp_path: Path) -> None:
    rng = random.Random(1)
    a = story(rng, 80)
    docs = [
        {"id": "a", "text": a, "date": "2026-01-01"},
        {"id": "a-copy", "text": a.upper() + "  ", "date": "2026-01-03"},  # exact after normalising
        {"id": "a-edit", "text": a.replace(a.split()[10], "changed"), "date": "2026-01-02"},
        {"id": "b", "text": story(rng, 80), "date": "2026-01-01"},
    ]
    result, out = run(tmp_path, docs, "-q")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "clusters.jsonl",
        "complete.json",
        "kept.jsonl",
        "pairs.npz",
        "removed.jsonl",
        "repairs.jsonl",
        "report.html",
        "site_boilerplate.jsonl",
        "stats.json",
    ]
    kept = [r["id"] for r in read_jsonl(out / "kept.jsonl")]
    removed = {r["id"]: r for r in read_jsonl(out / "removed.jsonl")}
    assert kept == ["a", "b"]
    assert removed["a-copy"]["reason"] == "exact" and removed["a-copy"]["duplicate_of"] == "a"
    assert removed["a-edit"]["reason"] == "near" and 0.7 <= removed["a-edit"]["similarity"] < 1
    (cluster,) = read_jsonl(out / "clusters.jsonl")
    assert cluster["kept"] == "a" and cluster["size"] == 3
    assert {m["id"]: m["reason"] for m in cluster["members"]} == {
        "a": "kept",
        "a-copy": "exact",
        "a-edit": "near",
    }
    stats = json.loads((out / "stats.json").read_text())["stats"]
    assert stats["read"] == stats["kept"] + stats["removed"] + stats["rejected"] == 4


@pytest.mark.parametrize(
    ("policy", "kept"),
    [("first", "a"), ("longest", "a-long"), ("field:date", "a-new"), ("-field:date", "a-old")],
)
def test_keep_policies(tmp_path: Path, policy: str, kept: str) -> None:
    rng = random.Random(2)
    base = story(rng, 100)
    docs = [
        {"id": "a", "text": base, "date": "2026-02-01"},
        {"id": "a-old", "text": base + " " + "x", "date": "2025-01-01"},
        {"id": "a-long", "text": base + " " + story(rng, 6), "date": "2026-01-15"},
        {"id": "a-new", "text": base + " y", "date": "2026-03-01"},
    ]
    result, out = run(tmp_path, docs, "-q", "--keep", policy)
    assert result.exit_code == 0, result.output
    assert [r["id"] for r in read_jsonl(out / "kept.jsonl")] == [kept]


def test_keep_policy_callable_and_ties_in_input_order() -> None:
    infos = [DocInfo(i, 10, {"n": n}) for i, n in enumerate([3, 5, 5])]
    key = keep_policy("field:n")
    assert min(infos, key=key).index == 1
    assert min(infos, key=keep_policy(lambda d: -d.index)).index == 2
    with pytest.raises(ValueError, match="unknown keep policy"):
        keep_policy("newest")


def test_no_chaining_through_a_neighbour() -> None:
    """A ~ B and B ~ C but A !~ C: C must not be removed as a duplicate of A."""
    from neardup.clusters import cluster
    from neardup.verify import Edge, EdgeTable, score_pair

    a = np.arange(0, 100, dtype=np.uint32)
    b = np.arange(15, 115, dtype=np.uint32)  # Jaccard with a: 85/115 = 0.74
    c = np.arange(30, 130, dtype=np.uint32)  # with b: 0.74; with a: 70/130 = 0.54
    content = [a, b, c]
    sigs = minhash_many(content)
    edges = EdgeTable.from_edges(
        3,
        [
            Edge(0, 1, "near", score_pair(a, b, sigs[0], sigs[1])),
            Edge(1, 2, "near", score_pair(b, c, sigs[1], sigs[2])),
        ],
    )
    infos = [DocInfo(i, 100, {}) for i in range(3)]
    config = DedupConfig(threshold=0.6, verify="jaccard")

    def score(i: int, j: int):
        return score_pair(content[i], content[j], sigs[i], sigs[j])

    clusters, decisions = cluster(3, [1, 2, 3], edges, score, infos, keep_policy("first"), config)
    assert [c.members for c in clusters] == [[0, 1]]
    assert decisions[1].kept == 0 and 2 not in decisions  # C stays
    assert clusters[0].tightness == pytest.approx(85 / 115)


def test_short_stories_sharing_a_site_footer_are_not_merged(tmp_path: Path) -> None:
    rng = random.Random(4)
    footer = story(rng, 150)
    docs = [{"id": f"s{i}", "text": f"{story(rng, 40)}\n\n{footer}"} for i in range(30)]
    long_story = "\n\n".join(story(rng, 60) for _ in range(4))
    docs += [
        {"id": "wire1", "text": long_story},
        {"id": "wire2", "text": "New headline\n\n" + long_story},
    ]
    result, out = run(tmp_path, docs, "-q")
    assert result.exit_code == 0, result.output
    kept = {r["id"] for r in read_jsonl(out / "kept.jsonl")}
    assert {f"s{i}" for i in range(30)} <= kept  # every short story survives
    assert "wire2" not in kept  # the republished copy is still found
    stats = json.loads((out / "stats.json").read_text())["stats"]
    assert stats["boilerplate_paragraphs"] == 1


def test_a_paragraph_of_a_few_republished_stories_is_not_boilerplate(tmp_path: Path) -> None:
    """Boilerplate counts distinct stories: a wire paragraph in three stories, each
    republished four times (15 documents), stays content, and a short story built around
    that paragraph is not absorbed by a longer one as "contained"."""
    rng = random.Random(12)
    wire = story(rng, 60)
    docs = []
    for s in range(3):
        own = [story(rng, 60) for _ in range(4)]
        body = [own[0], wire, *own[1:]] if s else [story(rng, 20), wire]
        for c in range(5):
            head = f"Headline {s} version {c} " + story(rng, 4)
            docs.append({"id": f"s{s}c{c}", "text": "\n\n".join([head, *body])})
    result, out = run(tmp_path, docs, "-q")
    assert result.exit_code == 0, result.output
    stats = json.loads((out / "stats.json").read_text())["stats"]
    assert stats["boilerplate_paragraphs"] == 0
    removed = {r["id"]: r["duplicate_of"] for r in read_jsonl(out / "removed.jsonl")}
    # every copy goes to the first version of its own story, and no story is lost
    assert removed == {f"s{s}c{c}": f"s{s}c0" for s in range(3) for c in range(1, 5)}


def test_trimmed_copy_is_contained(tmp_path: Path) -> None:
    rng = random.Random(5)
    paras = [story(rng, 50) for _ in range(8)]
    docs = [
        {"id": "full", "text": "\n\n".join(paras)},
        {"id": "teaser", "text": "\n\n".join(paras[:3] + ["Read more at example.org"])},
    ]
    result, out = run(tmp_path, docs, "-q")
    assert result.exit_code == 0, result.output
    (r,) = read_jsonl(out / "removed.jsonl")
    assert r["id"] == "teaser" and r["reason"] == "contained" and r["duplicate_of"] == "full"


def test_doubled_body_is_repaired_before_comparison(tmp_path: Path) -> None:
    rng = random.Random(6)
    body = "\n\n".join(story(rng, 40) + "." for _ in range(4))
    docs = [{"id": "clean", "text": body}, {"id": "doubled", "text": body + "\n\n" + body}]
    result, out = run(tmp_path, docs, "-q")
    removed = read_jsonl(out / "removed.jsonl")
    assert [(r["id"], r["reason"]) for r in removed] == [("doubled", "exact")]
    assert len(read_jsonl(out / "repairs.jsonl")) == 1


def test_workers_do_not_change_outputs(tmp_path: Path) -> None:
    texts = _corpus(11, 120, 3)
    docs = [{"id": str(i), "text": t} for i, t in enumerate(texts)]
    outs = []
    for j in ("1", "2"):
        sub = tmp_path / j
        sub.mkdir()
        result, out = run(sub, docs, "-q", "-j", j)
        assert result.exit_code == 0, result.output
        # stats.json and report.html carry the timings
        skip = ("stats.json", "report.html")
        outs.append({p.name: p.read_bytes() for p in out.iterdir() if p.name not in skip})
    assert outs[0] == outs[1]


# ------------------------------------------------------------------------- bad input


def test_empty_short_and_whitespace_documents(tmp_path: Path) -> None:
    docs = [
        {"id": "e1", "text": ""},
        {"id": "e2", "text": "   \n\t "},
        {"id": "s1", "text": "Hi there"},
        {"id": "s2", "text": "Hi there!"},
        {"id": "s3", "text": "Bye now"},
    ]
    result, out = run(tmp_path, docs, "-q")
    assert result.exit_code == 0, result.output
    removed = {r["id"]: r for r in read_jsonl(out / "removed.jsonl")}
    # empty texts are exact duplicates of each other; short texts are compared like any
    assert removed["e2"]["duplicate_of"] == "e1" and removed["e2"]["reason"] == "exact"
    assert removed["s2"]["duplicate_of"] == "s1"
    assert [r["id"] for r in read_jsonl(out / "kept.jsonl")] == ["e1", "s1", "s3"]


def test_duplicate_ids_stop_the_run_or_get_renamed(tmp_path: Path) -> None:
    docs = [
        {"id": "x", "text": "one two three four five"},
        {"id": "x", "text": "six seven eight nine"},
    ]
    result, out = run(tmp_path, docs)
    assert result.exit_code == 1
    assert "duplicate id 'x'" in result.output and ":2:" in result.output and ":1" in result.output
    result, out = run(tmp_path, docs, "-q", "--dedupe-ids")
    assert result.exit_code == 0, result.output
    assert [r["id"] for r in read_jsonl(out / "kept.jsonl")] == ["x", "x#2"]


def test_bad_records_go_to_rejects_and_counts_add_up(tmp_path: Path) -> None:
    from click.testing import CliRunner

    src = tmp_path / "in.jsonl"
    src.write_bytes(
        b'{"id": "a", "text": "alpha beta gamma delta"}\n{broken\n{"id": "b", "text": "caf\xe9"}\n'
        b'{"id": "c", "text": "alpha beta gamma delta"}\n{"id": "d", "body": "x"}\n'
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["run", str(src), "-o", str(out), "--rejects", str(tmp_path / "rej.jsonl")]
    )
    assert result.exit_code == 0, result.output
    assert "read 5 = kept 1 + removed 1 + rejected 3" in result.output
    assert [r["line"] for r in read_jsonl(tmp_path / "rej.jsonl")] == [2, 3, 5]


def test_mixed_schemas_pass_through(tmp_path: Path) -> None:
    docs = [
        {"id": "a", "text": "first document here now", "tags": ["x"]},
        {"text": "second different document", "id": "b", "score": 3},
    ]
    result, out = run(tmp_path, docs, "-q")
    assert result.exit_code == 0, result.output
    kept = read_jsonl(out / "kept.jsonl")
    assert kept[0] == docs[0] and kept[1] == docs[1]


def test_large_document(tmp_path: Path) -> None:
    rng = random.Random(8)
    big = "\n\n".join(story(rng, 150) + "." for _ in range(17_000))  # about 10 MB
    assert len(big) > 9_000_000
    docs = [{"id": "big", "text": big}, {"id": "small", "text": story(rng, 50)}]
    result, out = run(tmp_path, docs, "-q")
    assert result.exit_code == 0, result.output
    assert len(read_jsonl(out / "kept.jsonl")) == 2


def test_dedup_command_keeps_records_as_they_came(tmp_path: Path, runner) -> None:
    rng = random.Random(9)
    body = "\n\n".join(story(rng, 40) + "." for _ in range(4))
    docs = [{"id": "d1", "text": body + "\n\n" + body}, {"id": "d2", "text": story(rng, 60)}]
    src = write_jsonl(tmp_path / "in.jsonl", docs)
    result = runner.invoke(
        main,
        [
            "dedup",
            str(src),
            "-o",
            str(tmp_path / "kept.jsonl"),
            "--removed",
            str(tmp_path / "removed.jsonl"),
            "--clusters",
            str(tmp_path / "clusters.jsonl"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert read_jsonl(tmp_path / "kept.jsonl") == docs  # the doubled text is not rewritten
    assert "read 2 = kept 2 + removed 0 + rejected 0" in result.output


@pytest.mark.parametrize("workers", ["1", "2"])
def test_unchanged_records_are_written_byte_for_byte(tmp_path: Path, runner, workers) -> None:
    """A kept record whose text did not change is copied as its input line (spacing,
    escapes, key order; a CRLF line break becomes LF, a last line gets one); a repaired or
    renamed one is encoded again (both at once too); a line holding a bare CR (JSON
    whitespace) still comes out as one record."""
    rng = random.Random(10)
    body = "\n\n".join(story(rng, 40) + "." for _ in range(4))
    other = "\n\n".join(story(rng, 40) + "." for _ in range(4))
    lines = [
        '{ "text" : "' + story(rng, 30) + ' caf\\u00e9",  "id":"a" }',
        '{"id": "b",\r"text": "' + story(rng, 30) + '"}',
        json.dumps({"id": "c", "text": body + "\n\n" + body}),  # doubled: repaired by run
        json.dumps({"id": "c", "text": story(rng, 30)}),  # renamed by --dedupe-ids
        json.dumps({"id": "c", "text": other + "\n\n" + other}),  # repaired and renamed
        json.dumps({"text": story(rng, 30), "id": "d"}),  # a CRLF line break
        json.dumps({"text": story(rng, 30), "id": "e"}),  # the last line, without one
    ]
    src = tmp_path / "in.jsonl"
    src.write_bytes(("\n".join(lines[:5]) + "\n" + lines[5] + "\r\n\n" + lines[6]).encode())
    out = tmp_path / "out"
    result = runner.invoke(
        main, ["run", str(src), "-o", str(out), "-q", "--dedupe-ids", "-j", workers]
    )
    assert result.exit_code == 0, result.output
    kept = (out / "kept.jsonl").read_bytes().decode("utf-8").split("\n")
    assert kept[-1] == ""  # every record ends with a line break
    kept = kept[:-1]
    assert [kept[0], kept[5], kept[6]] == [lines[0], lines[5], lines[6]]
    assert [json.loads(k) for k in kept[1:5]] == [
        json.loads(lines[1]),
        {"id": "c", "text": body},
        {**json.loads(lines[3]), "id": "c#2"},
        {"id": "c#3", "text": other},
    ]
    assert all(kept[i] != lines[i] for i in range(1, 5))


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(st.text(max_size=8), st.text(max_size=20) | st.integers(), max_size=5),
    st.dictionaries(
        st.text(min_size=1, max_size=8), st.text(max_size=10) | st.floats(0, 1), max_size=4
    ),
)
def test_appended_fields_equal_the_encoded_record(record, fields) -> None:
    """A removed record's line, when written by appending the removal fields as text, is
    the line ``json.dumps`` gives for the record with those fields; a key that may be in
    the line already sends it to the parsing path (None)."""
    from neardup.dedup import _append_fields

    line = json.dumps(record, ensure_ascii=False) + "\n"
    encoded = [
        (json.dumps(k, ensure_ascii=False), json.dumps(v, ensure_ascii=False))
        for k, v in fields.items()
    ]
    got = _append_fields(line.encode("utf-8"), encoded)
    if any(json.dumps(k, ensure_ascii=False) in line for k in fields):
        assert got is None
    else:
        assert got == (json.dumps({**record, **fields}, ensure_ascii=False) + "\n").encode()


def test_removed_records_keep_their_fields_and_gain_the_removal_ones(tmp_path, runner) -> None:
    rng = random.Random(11)
    text = story(rng, 60)
    lines = [
        json.dumps({"id": "a", "text": text}),
        '{"text": "' + text + '",   "cluster": "mine"}',  # no id; a key neardup sets
        '{ "id" : "c", "text": "' + text + '" }',  # spacing of its own
        json.dumps({"text": text}),  # no id
    ]
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    removed = tmp_path / "removed.jsonl"
    result = runner.invoke(
        main, ["dedup", str(src), "-o", str(tmp_path / "k.jsonl"), "--removed", str(removed)]
    )
    assert result.exit_code == 0, result.output
    got = read_jsonl(removed)
    ids = [f"{src}:2", "c", f"{src}:4"]
    assert [r["id"] for r in got] == ids
    for r, original in zip(got, lines[1:], strict=True):
        before = json.loads(original)
        assert {k: v for k, v in r.items() if k not in before or k == "cluster"} == {
            **({"id": r["id"]} if "id" not in before else {}),
            **({"input_cluster": before["cluster"]} if "cluster" in before else {}),
            "duplicate_of": "a",
            "cluster": r["cluster"],
            "similarity": 1.0,
            "reason": "exact",
        }
        assert isinstance(r["cluster"], int)  # the record's own "cluster" is input_cluster
        assert all(r[k] == v for k, v in before.items() if k != "cluster")
    raw = removed.read_text(encoding="utf-8").splitlines()
    assert raw[1].startswith('{ "id" : "c", "text": "')  # the line as it came, fields added


def test_invalid_settings_are_usage_errors(runner, tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", [{"text": "a b c"}])
    result = runner.invoke(main, ["run", str(src), "-o", str(tmp_path / "o"), "--keep", "newest"])
    assert result.exit_code == 2 and "unknown keep policy" in result.output
    result = runner.invoke(main, ["run", str(src), "-o", str(tmp_path / "o"), "--threshold", "1.5"])
    assert result.exit_code == 2


def test_input_error_names_file_and_line(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "ok"}\n[1]\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"in.jsonl:2:"):
        run_dedup([str(src)], kept=str(tmp_path / "k.jsonl"))


def test_fuzzy_verification_scores_the_texts(tmp_path: Path) -> None:
    rng = random.Random(12)
    base = story(rng, 120)
    docs = [{"id": "a", "text": base}, {"id": "b", "text": base.replace(base.split()[5], "zzz")}]
    result, out = run(tmp_path, docs, "-q", "--verify", "fuzzy")
    assert result.exit_code == 0, result.output
    (cluster,) = read_jsonl(out / "clusters.jsonl")
    member = next(m for m in cluster["members"] if m["id"] == "b")
    assert 0.95 < member["scores"]["fuzzy"] < 1.0 and member["reason"] == "near"


def test_exact_key_is_the_hash_of_the_comparison_key() -> None:
    from neardup import comparison_key
    from neardup.signatures import exact_key

    text = "The  Market\u2019s caf\u00e9 &amp; \u201cfish\u201d!\n\nOpen at 7."
    assert features(text, 3).key == exact_key(comparison_key(text))
    assert comparison_key(text) == "the market s caf\u00e9 amp fish open at 7"


def test_workdir_signatures_load_into_datasketch(tmp_path: Path) -> None:
    rng = random.Random(13)
    base = story(rng, 80)
    src = write_jsonl(
        tmp_path / "in.jsonl", [{"id": "a", "text": base}, {"id": "b", "text": base + " extra"}]
    )
    run_dedup([str(src)], kept=str(tmp_path / "k.jsonl"), workdir=str(tmp_path / "work"))
    sigs = np.load(tmp_path / "work" / "signatures.npy")
    a, b = (MinHash(num_perm=128, seed=1, hashvalues=row, scheme="affine32") for row in sigs)
    lsh = MinHashLSH(threshold=0.7, num_perm=128)
    lsh.insert("a", a)
    assert lsh.query(b) == ["a"] and a.jaccard(b) > 0.8


def test_run_resumes_from_the_work_directory(tmp_path: Path) -> None:
    texts = _corpus(21, 60, 2)
    src = write_jsonl(
        tmp_path / "in.jsonl", [{"id": str(i), "text": t} for i, t in enumerate(texts)]
    )
    work = tmp_path / "work"

    def go(tag: str, **kw):
        out = tmp_path / tag
        stats = run_dedup(
            [str(src)],
            kept=str(out / "kept.jsonl"),
            removed=str(out / "removed.jsonl"),
            clusters_out=str(out / "clusters.jsonl"),
            repairs_out=str(out / "repairs.jsonl"),
            workdir=str(work),
            **kw,
        )
        return stats, {p.name: p.read_bytes() for p in out.iterdir()}

    first, out1 = go("one")
    again, out2 = go("two")
    assert not first.resumed and again.resumed
    assert out1 == out2 and again.read == first.read and again.removed == first.removed
    # settings after stage 1 reuse it; settings of stage 1 do not
    assert go("three", config=DedupConfig(threshold=0.8))[0].resumed
    assert not go("four", config=DedupConfig(ngram=4))[0].resumed
    src.write_text(src.read_text() + json.dumps({"id": "new", "text": "a new document"}) + "\n")
    changed, _ = go("five")
    assert not changed.resumed and changed.read == first.read + 1


def test_fewer_collections_restores_the_collector() -> None:
    """The collector runs less often inside the block and as before after it, also when
    the block fails; objects frozen on entry are unfrozen."""
    import gc

    from neardup.engines import fewer_collections

    before = gc.get_threshold()
    with pytest.raises(ValueError), fewer_collections(first_generation=before[0] + 1000):
        assert gc.get_threshold()[0] == before[0] + 1000
        assert gc.get_freeze_count() > 0
        raise ValueError("a failing stage")
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


@pytest.mark.parametrize("workers", ["1", "2"])
def test_csv_and_jsonl_inputs_give_the_same_decisions(tmp_path: Path, runner, workers) -> None:
    """JSONL lines are parsed by the workers, other formats in the main process: the
    same records give the same removals either way, and mixed inputs (a JSONL and a CSV
    file) are read in turn."""
    import csv

    texts = _corpus(5, 40, 3)
    docs = [{"id": f"r{i}", "text": t, "date": f"2026-01-{i % 28 + 1:02d}"}
            for i, t in enumerate(texts)]  # fmt: skip
    write_jsonl(tmp_path / "all.jsonl", docs)
    write_jsonl(tmp_path / "first.jsonl", docs[:20])
    with (tmp_path / "rest.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=["id", "text", "date"])
        w.writeheader()
        w.writerows(docs[20:])
    removed = {}
    for name, inputs in (("jsonl", ["all.jsonl"]), ("mixed", ["first.jsonl", "rest.csv"])):
        out = tmp_path / f"{name}-removed.jsonl"
        args = ["dedup", *[str(tmp_path / i) for i in inputs], "-o", str(tmp_path / f"{name}.jsonl"),
                "--removed", str(out), "--keep", "field:date", "-j", workers, "-q"]  # fmt: skip
        result = runner.invoke(main, args)
        assert result.exit_code == 0, result.output
        removed[name] = [(r["id"], r["duplicate_of"], r["reason"])
                         for r in map(json.loads, out.read_text().splitlines())]  # fmt: skip
    assert removed["jsonl"], "the corpus has duplicates"
    assert removed["jsonl"] == removed["mixed"]


def test_records_read_again_from_the_input_or_the_spool_alike(tmp_path: Path, runner) -> None:
    """Kept and removed records are the same bytes whether the write stage reads them
    again from a plain input file (with blank lines and CRLF line breaks between them)
    or from the spool (the same input gzipped)."""
    import gzip

    texts = _corpus(8, 30, 3)
    lines = [json.dumps({"id": f"r{i}", "text": t}) for i, t in enumerate(texts)]
    data = "".join(
        line + ("\r\n" if i % 5 == 0 else "\n") + ("\n" if i % 7 == 0 else "")
        for i, line in enumerate(lines)
    ).encode()
    (tmp_path / "in.jsonl").write_bytes(data)
    (tmp_path / "in.jsonl.gz").write_bytes(gzip.compress(data))
    outs = []
    for name in ("in.jsonl", "in.jsonl.gz"):
        out = tmp_path / name.replace(".", "-")
        args = ["dedup", str(tmp_path / name), "-o", str(out / "kept.jsonl"),
                "--removed", str(out / "removed.jsonl"), "-q", "-j", "2"]  # fmt: skip
        result = runner.invoke(main, args)
        assert result.exit_code == 0, result.output
        outs.append([(out / f).read_bytes() for f in ("kept.jsonl", "removed.jsonl")])
    assert outs[0] == outs[1]
    kept = outs[0][0].decode().split("\n")[:-1]
    assert set(kept) <= set(lines) and len(kept) < len(lines)


_SCORES = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from(
    [0.0, 1.0, 1e-05, 0.1, 2 / 3, 0.99995]
)


@settings(max_examples=300, deadline=None)
@given(
    ids=st.lists(st.text(max_size=6), min_size=2, max_size=6, unique=True),
    scores=st.lists(
        st.tuples(_SCORES, _SCORES, _SCORES, st.none() | _SCORES), min_size=6, max_size=6
    ),  # fmt: skip
    sizes=st.tuples(st.integers(0, 10**6), st.integers(0, 10**6)),
    kept_at=st.integers(0, 5),
    indexed=st.booleans(),
)
def test_cluster_lines_are_what_json_dumps_writes(ids, scores, sizes, kept_at, indexed) -> None:
    """The clusters file's lines, built from pieces, equal ``json.dumps`` of the dicts."""
    from neardup.clusters import Cluster, Decision
    from neardup.dedup import _cluster_line
    from neardup.verify import PairScore

    members = list(range(len(ids)))
    kept = members[kept_at % len(members)]
    n = len(ids) - 1 if indexed else len(ids)  # the last document from an earlier batch
    decisions = {}
    for m, (j, c, e, f) in zip(members, scores, strict=False):
        if m != kept:
            score = None if m % 3 == 0 else PairScore(j, c, e, sizes, f)
            reason = ("exact", "near", "contained")[m % 3]
            decisions[m] = Decision(7, kept, reason, 1.0 if score is None else j, score)
    c = Cluster(7, kept, members, scores[0][1])
    expected = {
        "cluster": 7, "kept": ids[kept], "size": len(members),
        "tightness": round(c.tightness, 4), "members": [],
    }  # fmt: skip
    for m in members:
        if m == kept:
            entry = {"id": ids[m], "reason": "kept", "similarity": 1.0}
            if m >= n:
                entry["indexed"] = True
        else:
            d = decisions[m]
            entry = {"id": ids[m], "reason": d.reason, "similarity": round(d.similarity, 4)}
            if d.scores is not None:
                entry["scores"] = d.scores.to_dict()
        expected["members"].append(entry)
    line = _cluster_line(c, decisions, ids, n)
    assert line == json.dumps(expected, ensure_ascii=False) + "\n"


def _noisy(rng: random.Random, text: str, rate: float) -> str:
    """Characters substituted, dropped or doubled at ``rate`` (OCR-like noise)."""
    out = []
    for ch in text:
        roll = rng.random()
        if ch.isalpha() and roll < rate / 3:
            out.append(rng.choice("aeiourstln"))
        elif ch.isalpha() and roll < 2 * rate / 3:
            continue
        elif ch.isalpha() and roll < rate:
            out.append(ch + ch)
        else:
            out.append(ch)
    return "".join(out)


def test_second_look_finds_noisy_copies_and_keeps_different_stories(tmp_path: Path) -> None:
    """Character noise (4% here: short words) breaks word 3-grams: the copy is found by the
    texts' second look (reason near, with its aligned ratio as ``fuzzy``); a different
    story that shares two of its five paragraphs, as close by shingles, is not."""
    rng = random.Random(21)
    paras = [story(rng, 50) for _ in range(5)]
    original = "\n\n".join(paras)
    other = "\n\n".join([paras[0], story(rng, 50), paras[2], story(rng, 50), story(rng, 50)])
    docs = [
        {"id": "orig", "text": original},
        {"id": "noisy", "text": _noisy(rng, original, 0.04)},
        {"id": "other", "text": other},
    ]
    result, out = run(tmp_path, docs, "-q")
    assert result.exit_code == 0, result.output
    removed = {r["id"]: r for r in read_jsonl(out / "removed.jsonl")}
    assert set(removed) == {"noisy"} and removed["noisy"]["duplicate_of"] == "orig"
    (c,) = read_jsonl(out / "clusters.jsonl")
    (member,) = [m for m in c["members"] if m["id"] == "noisy"]
    assert member["scores"]["jaccard"] < 0.7 and member["scores"]["fuzzy"] >= 0.85
    # explain and compare say which evidence linked it
    from neardup.explain import compare_texts, explain_document, render_explanation

    assert "second look" in render_explanation(explain_document(out, "noisy"))
    compared = compare_texts(docs[0]["text"], docs[1]["text"])
    assert compared["verdict"] == "near" and compared["scores"]["aligned"] >= 0.85
    assert compare_texts(docs[0]["text"], docs[2]["text"])["verdict"] == "different"
    assert "second look" in (out / "report.html").read_text(encoding="utf-8")


def soft_404(rng: random.Random) -> str:
    """A soft-404 page of one site: only the requested path and the date change."""
    path = "/" + "-".join(rng.choice(WORDS) for _ in range(4)) + f"-{rng.randrange(10**6)}"
    page = [
        "Sorry, this page does not exist",
        "You could try searching for what you need, or return to our homepage.",
        f"We could not find the page you were looking for: {path}",
        f"The page may have been removed on {rng.randrange(1, 28)} March 2024.",
        "News | Sport | Weather | Culture | Home",
    ]
    return "\n\n".join(page)


def test_template_pages_are_one_cluster_and_footer_stories_stay_apart(tmp_path: Path) -> None:
    """Soft-404 pages of one site (only the requested path and the date change) are
    duplicates of each other; short stories under the site's long footer are not, though
    the footer is most of every page."""
    rng = random.Random(22)
    footer = "\n\n".join(story(rng, 60) for _ in range(3))
    docs = [{"id": f"404-{k}", "text": soft_404(rng)} for k in range(60)]
    for k in range(30):
        docs.append({"id": f"short-{k}", "text": story(rng, 25) + "\n\n" + footer})
    result, out = run(tmp_path, docs, "-q")
    assert result.exit_code == 0, result.output
    removed = {r["id"]: r["duplicate_of"] for r in read_jsonl(out / "removed.jsonl")}
    assert removed == {f"404-{k}": "404-0" for k in range(1, 60)}
