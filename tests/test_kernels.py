"""The compiled loops (:mod:`neardup.kernels`) give exactly what the Python path gives.

Outputs must not depend on whether numba is installed: each test runs both paths on
the same input and compares, each path forced (:func:`neardup.dispatch.forced`), so
that the comparison holds under ``NEARDUP_NO_JIT=1`` too. They need numba (installed
with the ``test`` extra)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xxhash
from hypothesis import example, given, settings
from hypothesis import strategies as st

from neardup import dispatch, kernels
from neardup.config import CleanConfig, RepairConfig
from neardup.dedup import content_of, features_batch, run_dedup
from neardup.repair import _may_repeat
from neardup.signatures import minhash_many, permutations

pytest.importorskip("numba", reason="the compiled path needs numba (pip install -e '.[test]')")

# words from a small vocabulary (so that texts repeat themselves), separators, line
# breaks, and characters every path treats differently: curly quotes and dashes (the
# ASCII view), accented letters, Cyrillic and CJK (the regular expression), mojibake,
# entities, controls and odd spaces (normalisation)
_WORDS = ["the", "Minister", "said", "42", "café", "Москва", "東京", "naïve", "x", "AT&T"]
_GLUE = [" ", "  ", "\n", "\n\n", "\n\n\n", ", ", ". ", "\u2019", " \u2014 ", "\t", "\xa0",
         "&amp;", "Ã©", "\x07", "\u2028", "\ufeff", "'"]  # fmt: skip
_piece = st.sampled_from(_WORDS) | st.sampled_from(_GLUE) | st.text(max_size=3)
texts = st.lists(_piece, max_size=120).map("".join)


def _both(func):
    """(compiled result, Python result) of ``func()``, each path forced: whatever
    ``NEARDUP_NO_JIT`` says, the first runs the compiled implementations."""
    with dispatch.forced("compiled"):
        fast = func()
    with dispatch.forced("python"):
        slow = func()
    return fast, slow


def test_both_runs_the_compiled_path_whatever_the_environment(monkeypatch) -> None:
    """A fault of a compiled implementation shows in :func:`_both` in both passes of
    the test suite (with ``NEARDUP_NO_JIT=1`` too, set here)."""
    from neardup import normalize

    monkeypatch.setenv("NEARDUP_NO_JIT", "1")
    monkeypatch.setattr(kernels, "collapse_whitespace", lambda text: "a fault")
    fast, slow = _both(lambda: normalize.collapse_whitespace("a  b"))
    assert (fast, slow) == ("a fault", "a b")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=100), st.integers(0, 5))
def test_xxh64_is_xxhash(data: bytes, pad: int) -> None:
    buf = np.frombuffer(b"\x00" * pad + data + b"\xff" * pad, dtype=np.uint8)
    assert int(kernels.xxh64(buf, pad, pad + len(data))) == xxhash.xxh64_intdigest(data)


@settings(max_examples=150, deadline=None)
@given(st.lists(texts, min_size=1, max_size=6), st.integers(1, 6), st.booleans())
def test_features_equal_the_python_path(batch, ngram, keep_key) -> None:
    # a text repeated (whole or in part) exercises the repair: a second scan
    batch = batch + [t + "\n" + t for t in batch[:2]]
    fast, slow = _both(lambda: features_batch(batch, CleanConfig(), ngram, keep_key))
    assert fast == slow


# entities that decode to what another step acts on: a control character, a combining
# accent (NFC), mojibake, a no-break space, an entity again
_EXPOSED = st.sampled_from(["&#7;", "e&#769;", "&#195;&#169;", "&nbsp;", "&amp;amp;", "&#x9;",
                            "\x07\u00c3\u00a9", "\u00c3\t"]) | _piece  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(st.lists(_EXPOSED, max_size=40).map("".join))
def test_normalization_rounds_equal_python(text) -> None:
    """Normalisation with the flags of each round's text gives what the steps give."""
    from neardup.normalize import normalize_and_explain

    fast, slow = _both(lambda: normalize_and_explain(text))
    assert fast == slow


def _copied_run(n: int, start: int, length: int, tail: int) -> list[int]:
    """``n`` distinct words, then a copy of ``length`` of them, then ``tail`` more."""
    return list(range(n)) + list(range(n))[start : start + length] + list(range(n, n + tail))


_word_ids = st.integers(2, 300).flatmap(
    lambda v: st.lists(st.integers(0, v), max_size=200)
) | st.builds(_copied_run, st.integers(0, 80), st.integers(0, 80), st.integers(0, 60),
              st.integers(0, 30))  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(_word_ids, st.integers(2, 6), st.integers(0, 40), st.floats(0.0, 1.0))
def test_repeat_precheck_equals_python(ids, k, extra, density) -> None:
    """Random vocabularies from 3 words (repeats everywhere) to 300 (few), and texts
    with one copied run of any length."""
    config = RepairConfig(ngram=k, min_words=k + extra, min_density=density)
    text = " ".join(f"w{i}" for i in ids)
    scan = kernels.scan(text.encode(), np.array([0, len(text)]), 3, k, k + extra, density)
    with dispatch.forced("python"):
        assert bool(scan.may_repeat[0]) == _may_repeat(text, config)


# long texts from a tiny vocabulary: k-grams with many copies (beyond the limit of seeds
# per k-gram), runs that start together at several offsets
_tiny_vocab = st.integers(1, 5).flatmap(
    lambda v: st.lists(st.integers(0, v), min_size=20, max_size=200)
)


@settings(max_examples=400, deadline=None)
@given(_word_ids | _tiny_vocab, st.integers(2, 6), st.integers(0, 8))
def test_repeat_chains_equal_python(ids, k, gap) -> None:
    """Seeds, runs, chains and k-gram counts of the repair search."""
    from neardup import repair

    seq = np.array([xxhash.xxh64_intdigest(f"w{i}".encode()) for i in ids], dtype=np.uint64)
    if len(seq) < k:
        return
    fast, slow = _both(lambda: repair._chains(seq, k, gap))
    assert fast[0] == slow[0]
    for got, want in zip(fast[1:], slow[1:], strict=True):
        assert got.tolist() == want.tolist()


@settings(max_examples=300, deadline=None)
@given(texts)
def test_words_with_spans_equal_python(text) -> None:
    from neardup.shingles import words_with_spans

    fast, slow = _both(lambda: words_with_spans(text))
    assert fast[:3] == slow[:3]
    assert fast[3].tolist() == slow[3].tolist()


def test_repeat_precheck_at_its_thresholds() -> None:
    """Every copied-run length around the thresholds of the pre-check (a window of
    ``min_words`` with ``min_density / 2`` of its words covered; ``min_words / k``
    repeated k-grams), on a grid small enough to run whole."""
    for k in range(2, 6):
        for length in range(0, 31):
            text = " ".join(f"w{i}" for i in _copied_run(40, 3, length, 5))
            for words in range(k, 41):
                for density in (0.5, 0.8, 1.0):
                    config = RepairConfig(ngram=k, min_words=words, min_density=density)
                    scan = kernels.scan(
                        text.encode(), np.array([0, len(text)]), 3, k, words, density
                    )
                    with dispatch.forced("python"):
                        assert bool(scan.may_repeat[0]) == _may_repeat(text, config)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.lists(st.lists(st.integers(0, 40), max_size=30), min_size=1, max_size=5),
        min_size=1, max_size=8,
    ),  # documents -> paragraphs -> shingles (a small range: duplicates)
    st.lists(st.booleans(), min_size=40, max_size=40),  # dropped paragraphs
    st.integers(1, 20),
)  # fmt: skip
def test_content_signatures_equal_python(docs, drops, lead) -> None:
    a, b = permutations(16, 3)
    flat, sh_off, p_off, firsts, drop, contents, leads = [], [0], [0], [], [], [], []
    for d, paras in enumerate(docs):
        sh = np.array([v for p in paras for v in p], dtype=np.uint32)
        first = np.cumsum([0] + [len(p) for p in paras[:-1]])
        mask = np.array([drops[(d * 5 + j) % 40] for j in range(len(paras))])
        content, lead_set = content_of(sh, np.arange(len(paras), dtype=np.uint64), first,
                                       set(np.flatnonzero(mask).tolist()), lead)  # fmt: skip
        contents.append(content)
        leads.append(lead_set)
        flat.extend(sh.tolist())
        sh_off.append(len(flat))
        p_off.append(p_off[-1] + len(paras))
        firsts.extend(first.tolist())
        drop.extend(mask.tolist())
    joined, sizes, sigs, lead_sigs = kernels.content_signatures(
        np.array(flat, dtype=np.uint32), np.array(sh_off), np.array(p_off),
        np.array(firsts), np.array(drop, dtype=bool), lead, a, b, True,
    )  # fmt: skip
    assert np.array_equal(joined, np.concatenate(contents))
    assert sizes.tolist() == [len(c) for c in contents]
    assert np.array_equal(sigs, minhash_many(contents, 16, 3))
    assert np.array_equal(lead_sigs, minhash_many(leads, 16, 3))


def test_dedup_outputs_do_not_depend_on_numba(tmp_path) -> None:
    """The whole dedup, with and without the compiled loops: the same bytes out."""
    rng = np.random.default_rng(7)
    words = [f"w{i}" for i in range(300)] + ["naïve", "Москва", "\u2019s"]
    stories = [" ".join(rng.choice(words, 80 + i % 40).tolist()) for i in range(40)]
    lines = []
    for i in range(120):
        story = stories[i // 3]
        if i % 3 == 1:  # a copy with a typo and a line added
            story = story.replace("w1 ", "w2 ", 1) + "\nRead more at example.com"
        if i % 7 == 0:
            story = story + "\n" + story  # scraped twice: repaired
        lines.append(json.dumps({"id": f"d{i}", "text": story}))
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(lines) + "\n")

    def run(name: str) -> list[bytes]:
        out = tmp_path / name
        out.mkdir()
        run_dedup(
            [str(src)], kept=str(out / "kept.jsonl"), removed=str(out / "removed.jsonl"),
            clusters_out=str(out / "clusters.jsonl"), repairs_out=str(out / "repairs.jsonl"),
            pairs_out=str(out / "pairs.npz"), workers=1,
        )  # fmt: skip
        names = ("kept.jsonl", "removed.jsonl", "clusters.jsonl", "repairs.jsonl", "pairs.npz")
        return [(out / f).read_bytes() for f in names]

    fast, slow = _both(lambda: run(f"out{len(list(tmp_path.iterdir()))}"))
    assert fast == slow
    assert fast[1]  # something was removed: the comparison is not vacuous


_ORIGINAL = st.text(
    st.sampled_from("aé€ß ñ—’“”…Ж月😀ü") | st.characters(max_codepoint=0x2FFF), max_size=12
)
_MOJIBAKE = st.builds(
    lambda text, enc: text.encode("utf-8").decode(enc, errors="replace"),
    _ORIGINAL, st.sampled_from(["latin-1", "cp1252", "cp1251", "cp1250", "cp437", "mac_roman"]),
)  # fmt: skip
_SUSPECT = st.lists(
    _MOJIBAKE | _ORIGINAL | st.sampled_from(["\x08", "\x1b[1m", "\x85", " ", "?", "\n"]),
    max_size=8,
).map("".join)


@settings(max_examples=1500, deadline=None)
@given(_SUSPECT)
def test_mojibake_prechecks_never_miss_what_ftfy_fixes(text) -> None:
    """Both quick tests (compiled: ftfy's own expression; Python: the signs) let
    through every text ftfy would change: text that passes neither is left as it is by
    ftfy, so skipping ftfy there changes nothing."""
    import ftfy

    from neardup import normalize

    stripped = normalize._C0_RE.sub("", text)
    if ftfy.fix_text(stripped, normalize._ftfy_config()) != stripped:
        assert kernels.may_be_mojibake(text)
        with dispatch.forced("python"):
            assert normalize._may_be_mojibake(text)


_SPACES = st.text(
    st.sampled_from(" \t\n\r\xa0\u1680\u2003\u200a\u200b\u202f\u205f\u3000\u2028\x1cab\u00e9")
)


@settings(max_examples=1000, deadline=None)
@given(_SPACES)
def test_collapse_whitespace_equals_the_regular_expressions(text) -> None:
    from neardup import normalize

    fast, slow = _both(lambda: normalize.collapse_whitespace(text))
    assert fast == slow


_WORDY = st.text(
    st.sampled_from("aZ9_ \n\t.,'’—éÉßİΣςﬁŉǰΐ東京タワーไทย한국Ж\u0301\u00a0") | st.characters(),
    max_size=40,
)


@settings(max_examples=1000, deadline=None)
@given(st.lists(_WORDY, min_size=1, max_size=4))
def test_token_texts_cut_words_as_python_does(texts) -> None:
    """The compiled word cutter gives every line's words as
    :func:`neardup.shingles.line_words` cuts and case-folds them (a text beyond the BMP
    is cut in Python)."""
    from neardup.shingles import line_words

    data, offsets = kernels.token_texts(texts)
    for text, a, b in zip(texts, offsets[:-1], offsets[1:], strict=True):
        lines = [w for w in (line.split(" ") for line in data[a:b].decode().split("\n"))]
        assert [[t for t in w if t] for w in lines if any(w)] == line_words(text)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 60).flatmap(
    lambda n: st.tuples(st.just(n), st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=80))
))  # fmt: skip
def test_union_find_roots_equal_python(graph) -> None:
    from neardup.clusters import UnionFind

    n, edges = graph
    uf = UnionFind(n)
    for x, y in edges:
        uf.union(x, y)
    a = np.array([x for x, _ in edges], dtype=np.int64)
    b = np.array([y for _, y in edges], dtype=np.int64)
    assert kernels.union_find(n, a, b).tolist() == [uf.find(x) for x in range(n)]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sets(st.integers(0, 50)), min_size=1, max_size=8), st.data())
def test_shared_counts_equal_python(sets, data) -> None:
    from neardup.verify import shared

    runs = [np.array(sorted(x), dtype=np.uint32) for x in sets]
    pairs = data.draw(st.lists(st.tuples(st.integers(0, len(runs) - 1),
                                         st.integers(0, len(runs) - 1)), max_size=20))  # fmt: skip
    a = np.array([x for x, _ in pairs], dtype=np.int64)
    b = np.array([y for _, y in pairs], dtype=np.int64)
    counts, lens = kernels.shared_counts(runs, a, b)
    assert lens.tolist() == [len(r) for r in runs]
    got = counts.tolist()
    assert got == [shared(runs[x], runs[y]) if len(runs[x]) and len(runs[y]) else 0
                   for x, y in pairs]  # fmt: skip


@pytest.mark.parametrize("name", ["badness_tables", "_word_tables"])
def test_tables_kept_on_disk_equal_the_built_ones(name) -> None:
    """The tables a process loads from the file an earlier one wrote are the ones it
    would build; a damaged file is built again (and rewritten)."""
    import os
    from pathlib import Path

    cache = Path(kernels.__file__).parent / "__pycache__"
    if not os.access(cache if cache.exists() else cache.parent, os.W_OK):
        pytest.skip(f"{cache} is read-only here: the tables are built in each process")
    tables = getattr(kernels, name)
    built = tables.__wrapped__()
    for damage in (False, True):
        tables()  # written if it was not there
        files = list(cache.glob(f"{name}-*.npz"))
        assert files
        if damage:
            for f in files:
                f.write_bytes(b"not a zip file")
        tables.cache_clear()
        got = tables()
        assert len(got) == len(built)
        assert all(np.array_equal(a, b) for a, b in zip(got, built, strict=True))
    tables.cache_clear()


# combining marks, Hangul jamo and syllables, precomposed letters, singletons (Angstrom,
# Ohm), composition exclusions, Kannada vowel signs that compose, anything else
_NFC_PIECES = st.sampled_from(["e", "\u0301", "\u0323", "\u00e9", "\u1100", "\u1161",
                               "\u11a8", "\uac00", "\u212b", "\u2126", "\u0958", "\u0cc6",
                               "\u0cc2", "\u0cd5", "A", " "]) | st.characters()  # fmt: skip


@settings(max_examples=2000, deadline=None)
@given(st.lists(_NFC_PIECES, max_size=12).map("".join))
@example("\u0cc6\u0cc2")  # a pair that composes, the second a starter (quick check Maybe)
@example("\u1100\u1161")  # Hangul leading + vowel jamo
@example("\uac00\u11a8")  # Hangul syllable + trailing jamo
@example("e\u0301")  # a combining mark
@example("\u212b")  # a singleton (quick check No)
@example("\u0958")  # a composition exclusion
def test_nfc_flag_never_misses_a_text_nfc_changes(text) -> None:
    """A text without the NFC flag is in NFC (the flag only spares the check)."""
    import unicodedata

    if not kernels.text_flags([text])[0] & kernels.FLAG_NFC:
        assert unicodedata.is_normalized("NFC", text)


def _ascii_flags(text: str) -> int:
    """``kernels.text_flags`` of an ASCII text, a character at a time (what the compiled
    loop did before it learned to skip eight plain characters at once)."""
    flags = p1 = newlines = 0
    for c in map(ord, text):
        if c > 38:
            newlines = 0
            if c == 127:
                flags |= kernels.FLAG_SPACE
                continue
        elif c == 32:
            newlines = 0
            if p1 in (32, 10):
                flags |= kernels.FLAG_LAYOUT
        elif c == 10:
            newlines += 1
            if p1 == 32 or newlines >= 3:
                flags |= kernels.FLAG_LAYOUT
        else:
            newlines = 0
            if c == 38:
                flags |= kernels.FLAG_AMP
            elif c < 32:
                flags |= kernels.FLAG_SPACE | (kernels.FLAG_MOJIBAKE if c == 0x1B else 0)
                if c not in (9, 13):
                    continue
        p1 = c
    return flags


# runs of plain letters long enough for the eight-at-a-time path, and what ends one
_ASCII = st.lists(
    st.sampled_from(
        [
            "abcdefgh",
            "abc",
            "x",
            " ",
            "  ",
            "\n",
            "\n\n\n",
            "&",
            "\t",
            "\r",
            "\x01",
            "\x1b",
            "\x7f",
            "!%'~",
        ]
    ),  # fmt: skip
    max_size=40,
).map("".join)


@settings(max_examples=3000, deadline=None)
@given(_ASCII)
@example("abcdefg  abcdefgh")  # two spaces inside one window of eight
@example("abcdefg abcdefgh")
@example("abcdefgh abcdefgh  x")
@example("abcdefgh\n abcdefgh")  # a space after a line break, at a window's start
@example("abcdefg \nabcdefgh")  # a space before a line break
def test_ascii_flags_equal_a_character_at_a_time(text) -> None:
    assert int(kernels.text_flags([text])[0]) == _ascii_flags(text)


def test_blas_check_skipped_only_inside_and_only_when_asked(monkeypatch) -> None:
    """The command line's start-up shortcut: within the block, the import numba's BLAS
    check tries fails; outside it (and for a library caller that did not ask) imports
    are untouched."""
    import importlib
    import sys

    name = "scipy.linalg.cython_blas"
    monkeypatch.delitem(sys.modules, name, raising=False)
    monkeypatch.setattr(kernels, "_SKIP_BLAS_CHECK", False)
    with kernels._blas_check_skipped():
        assert name not in sys.modules  # not asked: nothing changes
    monkeypatch.setattr(kernels, "_SKIP_BLAS_CHECK", True)
    with kernels._blas_check_skipped(), pytest.raises(ImportError):
        importlib.import_module(name)
    assert name not in sys.modules
    pytest.importorskip("scipy.linalg")  # imports normally again (where scipy is)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 12).flatmap(
        lambda n: st.tuples(
            st.lists(st.lists(st.integers(0, 3), min_size=5, max_size=5), min_size=n, max_size=n),
            st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=20),
        )
    )  # fmt: skip
)
def test_equal_values_count_what_numpy_counts(case) -> None:
    """Equal signature values of pairs (prefilter, verification), read in place."""
    rows, pairs = case
    matrix = np.frombuffer(np.array(rows, dtype=np.uint32).tobytes(), dtype=np.uint32)
    matrix = matrix.reshape(len(rows), 5)  # read-only, as the memory map of a file
    a = np.array([p[0] for p in pairs], dtype=np.int64)
    b = np.array([p[1] for p in pairs], dtype=np.int64)
    expected = (matrix[a] == matrix[b]).sum(axis=1)
    assert kernels.equal_values(matrix, a, b).tolist() == expected.tolist()
