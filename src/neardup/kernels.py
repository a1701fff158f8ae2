"""Compiled loops for the per-document hot paths (optional: needs ``numba``,
``pip install neardup[fast]``; the loops themselves are in :mod:`neardup._jit`, imported
on first use).

Each function here computes exactly what a Python function of the package computes:
the test of what each normalisation step could act on (:func:`text_flags`, with
ftfy's own badness expression), whitespace collapsing, cutting and case-folding words
(:func:`token_texts`), word hashes, shingles, paragraphs, comparison keys and the repair
pre-check (:func:`scan`), content signatures, shared shingles of candidate pairs and the
union-find of the clusters. So outputs do not depend on whether numba is installed;
``tests/test_kernels.py`` checks each against the Python path it replaces. Which of the
two runs is chosen in one place, :mod:`neardup.dispatch`, which lists every operation
that has both.

Input of :func:`scan`: the documents' *token texts* (:func:`token_texts`), UTF-8, one
after the other: tokens are the runs of bytes other than space and line break, lines end
at a line break.

Set ``NEARDUP_NO_JIT=1`` to use the Python path even when numba is installed.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np


def available() -> bool:
    """True when the compiled path is used (numba installed, not switched off)."""
    return os.environ.get("NEARDUP_NO_JIT", "") in ("", "0") and _numba_installed()


def path() -> str:
    """Which path runs the per-document loops, in words, for summaries."""
    if available():
        return "compiled loops (numba)"
    if os.environ.get("NEARDUP_NO_JIT", "") not in ("", "0"):
        return "Python path (NEARDUP_NO_JIT is set)"
    return "Python path (numba is not installed here)"


@functools.lru_cache(maxsize=1)
def _numba_installed() -> bool:
    """numba is installed and imports (one that does not, say for a numpy newer than it
    supports, leaves the Python path in charge, with a warning)."""
    import importlib.util

    if importlib.util.find_spec("numba") is None:
        return False
    try:
        import numba  # noqa: F401
    except Exception as exc:  # noqa: BLE001 - any failure means: no compiled loops
        import warnings

        warnings.warn(f"numba does not import ({exc}); neardup runs its Python path",
                      RuntimeWarning, stacklevel=3)  # fmt: skip
        return False
    return True


def _compiled():
    """The module of compiled loops (imports numba on first use)."""
    from . import _jit

    return _jit


def xxh64(buf: np.ndarray, start: int, end: int) -> int:
    """XXH64 with seed 0 of ``buf[start:end]`` (what ``xxhash.xxh64_intdigest`` gives)."""
    return int(_compiled().xxh64(buf, start, end))


class Scan(NamedTuple):
    """What :func:`scan` found, flat over the batch (``*_off`` index it per document)."""

    tokens: np.ndarray  # int64 per document: number of words
    shingles: np.ndarray  # uint32, every document's shingles in text order
    shingle_off: np.ndarray  # int64, len(documents) + 1
    para_words: np.ndarray  # int64 per paragraph (non-empty line)
    para_first: np.ndarray  # int64 per paragraph: first shingle starting in it
    para_start: np.ndarray  # int64 per paragraph: its key's offsets in ``keys``
    para_end: np.ndarray
    para_off: np.ndarray  # int64, len(documents) + 1
    keys: bytes  # every document's comparison key (words joined by single spaces)
    key_off: np.ndarray  # int64, len(documents) + 1
    may_repeat: np.ndarray  # bool per document (False when not asked)


def scan(
    texts: bytes, offsets: np.ndarray, ngram: int, repeat_ngram: int = 0,
    repeat_words: int = 0, repeat_density: float = 0.0,
) -> Scan:  # fmt: skip
    """Words, shingles, paragraphs and comparison keys of the token texts
    ``texts[offsets[i]:offsets[i + 1]]``; with ``repeat_ngram`` > 0, also whether each
    text passes the repeat pre-check of :class:`~neardup.config.RepairConfig`
    (``ngram``, ``min_words``, ``min_density``)."""
    buf = np.frombuffer(texts, dtype=np.uint8)
    out = _compiled()._scan(buf, np.asarray(offsets, dtype=np.int64), ngram, repeat_ngram,
                repeat_words, repeat_density)  # fmt: skip
    (tokens, sh, sh_off, pw, pf, ps, pe, p_off, keys, k_off, rep) = out
    return Scan(tokens, sh, sh_off, pw, pf, ps, pe, p_off, keys.tobytes(), k_off, rep)


def content_signatures(
    flat: np.ndarray, shingle_off: np.ndarray, para_off: np.ndarray, para_first: np.ndarray,
    drop: np.ndarray, lead: int, a: np.ndarray, b: np.ndarray, with_leads: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """The content stage of a block of documents (what
    :func:`neardup.stages.signatures.content_of` and
    :func:`neardup.signatures.minhash_many` compute):
    each document's shingles ``flat[shingle_off[i]:shingle_off[i + 1]]`` without the
    paragraphs marked in ``drop`` (unless that marks none or all of its paragraphs),
    sorted and unique; their MinHash signatures for the permutations ``a``, ``b``; and
    with ``with_leads`` the signatures of the first ``lead`` of them (in text order).
    Returns (contents concatenated, sizes, signatures, lead signatures)."""
    return _compiled()._content(
        flat, shingle_off.astype(np.int64), para_off.astype(np.int64),
        para_first.astype(np.int64), drop, lead, a.ravel(), b.ravel(), with_leads,
    )  # fmt: skip


#: what :func:`text_flags` reports of a text (bits)
FLAG_SPACE = 1  # a control character, tab, CR, BOM or Unicode space
FLAG_LAYOUT = 2  # two spaces, a space at a line break, or three line breaks in a row
FLAG_AMP = 4  # an ampersand (maybe an HTML entity)
FLAG_NONASCII = 8
FLAG_MOJIBAKE = 16  # something ftfy could change (see :func:`badness_tables`)
FLAG_NFC = 32  # a character NFC's quick check does not pass alone (see :func:`nfc_table`)


def utf8(texts: Sequence[str]) -> list[bytes]:
    """``texts`` encoded as the loops here read them (UTF-8, lone surrogates kept)."""
    return [t.encode("utf-8", "surrogatepass") for t in texts]


def _joined(encoded: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    offsets = np.fromiter(itertools.accumulate(map(len, encoded), initial=0), np.int64)
    return np.frombuffer(b"".join(encoded), dtype=np.uint8), offsets


def text_flags(texts: Sequence[str], encoded: list[bytes] | None = None) -> np.ndarray:
    """One pass over each text: the ``FLAG_*`` bits that tell which normalisation steps
    could change it (uint8 per text). ``encoded``: :func:`utf8` of ``texts``, if known."""
    buf, offsets = _joined(utf8(texts) if encoded is None else encoded)
    first, second, third = badness_tables()
    return _compiled()._flags(buf, offsets, first, second, third, _ascii_windows(),
                              nfc_table()[0])  # fmt: skip


def may_be_mojibake(text: str) -> bool:
    """True when ftfy (as :func:`neardup.normalize.fix_mojibake` calls it: on the text
    without C0 controls) could change ``text``: a C1 control, an escape, a surrogate, or
    a sequence of characters that starts a match of ftfy's badness expression (C0
    controls between them are skipped). A superset: ftfy decides."""
    return bool(text_flags([text])[0] & FLAG_MOJIBAKE)


_ASTRAL = 0x10000  # one table row for every character beyond the BMP
_BITS = {1: range(0, 8), 2: range(8, 36), 3: range(36, 64)}  # bits per match length


def _kept_on_disk(key: Callable[[], str]):
    """Keep the tables a function builds (a tuple of arrays) in a file beside numba's
    cache (``__pycache__``), named after ``key()`` (what they are built from) and the
    function's own code. Later processes load them instead of building them again
    (0.12 s for the badness and word tables); where the file cannot be read or written,
    they are built as before."""

    def wrap(build: Callable[[], tuple]) -> Callable[[], tuple]:
        @functools.lru_cache(maxsize=1)
        @functools.wraps(build)
        def cached() -> tuple:
            import hashlib

            digest = hashlib.sha1(_code_bytes(build.__code__) + key().encode()).hexdigest()
            path = Path(__file__).parent / "__pycache__" / f"{build.__name__}-{digest[:16]}.npz"
            try:
                with np.load(path) as data:
                    return tuple(data[f"t{i}"] for i in range(len(data.files)))
            except Exception:  # noqa: BLE001 - missing, unreadable or damaged: build
                pass
            out = build()
            try:
                path.parent.mkdir(exist_ok=True)
                tmp = path.with_name(f"{path.name}.{os.getpid()}.part")
                with tmp.open("wb") as f:
                    np.savez(f, **{f"t{i}": table for i, table in enumerate(out)})
                os.replace(tmp, path)
            except OSError:
                pass
            return out

        return cached

    return wrap


def _code_bytes(code) -> bytes:
    """A function's bytecode, names and constants, nested functions included (what
    tells one version of a table builder from another)."""
    parts = [code.co_code, repr(code.co_names).encode()]
    for const in code.co_consts:
        parts.append(_code_bytes(const) if hasattr(const, "co_code") else repr(const).encode())
    return b"".join(parts)


def _unicode_key() -> str:
    import sys
    import unicodedata

    return f"{sys.version}|{unicodedata.unidata_version}|{_ASTRAL}"


def _badness_key() -> str:
    from importlib.metadata import version  # not ftfy itself: importing it takes 30 ms

    return f"ftfy {version('ftfy')}|{_BITS}|{_unicode_key()}"


def _words_key() -> str:
    from .shingles import _NOSPACE, TOKEN_RE

    return f"{TOKEN_RE.pattern}|{_NOSPACE}|{_unicode_key()}"


@_kept_on_disk(_badness_key)
def badness_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tables of the character sequences that can start a match of ftfy's
    ``BADNESS_RE`` (ftfy changes a text's encoding only where that expression matches).

    Each alternative of the expression is expanded (``x?``, ``x{n}``) into sequences of
    character sets; a sequence gets a bit, and ``first[c]`` (``second``, ``third``)
    holds the bits of the sequences whose first (second, third) set holds ``c``. A text
    with no match of the first three sets of any sequence (or of all of a shorter one)
    has no match of the expression. Built from the installed ftfy, so it follows ftfy's
    own definition; sequences that share a bit, anchors that are ignored and the sets
    beyond the third only make the test looser, never miss a match."""
    from ftfy.badness import BADNESS_RE

    try:
        from re import _constants as C
        from re import _parser as parser
    except ImportError:  # pragma: no cover - Python 3.10
        import sre_constants as C  # type: ignore[no-redef]
        import sre_parse as parser  # type: ignore[no-redef]

    chars = "".join(map(chr, range(_ASTRAL)))
    space = np.array([c.isspace() for c in chars] + [False])
    word = np.array([c.isalnum() or c == "_" for c in chars] + [True])

    def charset(op, av) -> np.ndarray:
        out = np.zeros(_ASTRAL + 1, dtype=bool)
        if op is C.LITERAL:
            out[min(av, _ASTRAL)] = True
        elif op is C.ANY:
            out[:] = True
            out[10] = False
        elif op is C.IN:
            negate = False
            for o, a in av:
                if o is C.NEGATE:
                    negate = True
                elif o is C.LITERAL:
                    out[min(a, _ASTRAL)] = True
                elif o is C.RANGE:
                    out[min(a[0], _ASTRAL) : min(a[1], _ASTRAL) + 1] = True
                elif o is C.CATEGORY and a is C.CATEGORY_SPACE:
                    out |= space
                elif o is C.CATEGORY and a is C.CATEGORY_WORD:
                    out |= word
                else:  # anything else: every character (looser, never wrong)
                    out[:] = True
            if negate:
                out = ~out
                out[_ASTRAL] = True
        else:
            out[:] = True
        return out

    def expand(items) -> list[list[np.ndarray]]:
        seqs: list[list[np.ndarray]] = [[]]
        for op, av in items:
            if op is C.AT:
                continue  # an anchor: ignored (looser)
            if op is C.SUBPATTERN:
                parts = expand(av[3])
            elif op in (C.MAX_REPEAT, C.MIN_REPEAT):
                lo, hi, sub = av
                hi = min(hi, lo + 3)  # beyond three sets nothing is looked at
                one = expand(sub)
                parts = []
                for n in range(lo, hi + 1):
                    reps: list[list[np.ndarray]] = [[]]
                    for _ in range(n):
                        reps = [r + o for r in reps for o in one]
                    parts.extend(reps)
            elif op is C.BRANCH:
                parts = [q for alt in av[1] for q in expand(alt)]
            else:
                parts = [[charset(op, av)]]
            seqs = [(q + part)[:3] for q in seqs for part in parts]
        return seqs

    tables = np.zeros((3, _ASTRAL + 1), dtype=np.uint64)
    used = {1: 0, 2: 0, 3: 0}
    for seq in expand(parser.parse(BADNESS_RE.pattern, BADNESS_RE.flags)):
        if not seq:  # matches the empty string: every text is suspect
            seq = [np.ones(_ASTRAL + 1, dtype=bool)]
        bits = _BITS[len(seq)]
        bit = np.uint64(1 << bits[used[len(seq)] % len(bits)])
        used[len(seq)] += 1
        for j, members in enumerate(seq):
            tables[j, members] |= bit
    return tables[0], tables[1], tables[2]


@_kept_on_disk(_unicode_key)
def nfc_table() -> tuple[np.ndarray]:
    """For every character of the BMP (and one row for all beyond it): whether a text
    holding it may fail NFC's quick check: a combining character (canonical ordering),
    one that NFC replaces (quick check No), or one that may compose with the character
    before it (quick check Maybe: the second character of a canonical decomposition
    pair, Hangul vowel and trailing jamo). A text with none of them is in NFC (its quick
    check says Yes); for one with any, ``unicodedata.is_normalized`` decides."""
    import unicodedata

    table = np.zeros(_ASTRAL + 1, dtype=np.uint8)
    table[_ASTRAL] = 1
    for c in range(_ASTRAL):
        ch = chr(c)
        if unicodedata.combining(ch) or not unicodedata.is_normalized("NFC", ch):
            table[c] = 1
        parts = unicodedata.decomposition(ch).split()
        if len(parts) == 2 and not parts[0].startswith("<"):
            table[int(parts[1], 16)] = 1
    table[0x1161:0x1176] = 1  # Hangul vowel jamo
    table[0x11A8:0x11C3] = 1  # Hangul trailing jamo
    return (table,)


@functools.lru_cache(maxsize=1)
def _ascii_windows() -> bool:
    """True when a sequence of ASCII characters alone can match (then every window is
    looked up; with ftfy's expression none can, so windows of three ASCII characters
    are skipped)."""
    a, b, c = (np.bitwise_or.reduce(t[:128]) for t in badness_tables())
    low = np.uint64
    return bool(a & low(0xFF) or a & b & low(0xFFFFFFF00) or a & b & c & low(0xFFFFFFF000000000))


def token_spans(text: str) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray] | None:
    """:func:`neardup.shingles.words_with_spans` in one compiled pass (None for a text
    with a character beyond the BMP)."""
    kind, fold_off, fold = _word_tables()
    buf = np.frombuffer(text.encode("utf-8", "surrogatepass"), dtype=np.uint8)
    data, starts, ends, hashes, ok = _compiled()._token_spans(buf, kind, fold_off, fold)
    if not ok:
        return None
    toks = data.tobytes().decode("utf-8", "surrogatepass").split(" ") if len(starts) else []
    return toks, starts, ends, hashes


def repeat_chains(
    seq: np.ndarray, k: int, gap: int, max_seeds: int, window: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`neardup.repair._chains` of the word hashes ``seq`` in one compiled pass:
    runs (first, last, offset), best chain and back link per run, count per k-gram."""
    return _compiled()._repeat_chains(np.asarray(seq, dtype=np.uint64), k, gap, max_seeds,
                                      window)  # fmt: skip


def collapse_whitespace(text: str) -> str:
    """:func:`neardup.normalize.collapse_whitespace` in one pass (the same text out)."""
    data = np.frombuffer(text.encode("utf-8", "surrogatepass"), dtype=np.uint8)
    return _compiled()._collapse(data).tobytes().decode("utf-8", "surrogatepass").strip()


def token_texts(
    texts: Sequence[str], encoded: list[bytes] | None = None
) -> tuple[bytes, np.ndarray]:
    """The token texts of ``texts`` in one pass: every word (as
    :func:`neardup.shingles.words` cuts and case-folds it) followed by a space, every line
    break kept (a text with a character beyond the BMP is cut in Python instead:
    :func:`neardup.shingles.token_text`). Returns the token texts one after the other and
    their offsets. ``encoded``: :func:`utf8` of ``texts``, if known."""
    buf, offsets = _joined(utf8(texts) if encoded is None else encoded)
    kind, fold_off, fold = _word_tables()
    out, out_off, ok = _compiled()._tokens(buf, offsets, kind, fold_off, fold)
    data = out.tobytes()
    if not ok.all():
        from .shingles import token_text

        parts = [
            data[a:b] if good else token_text(text).encode("utf-8")
            for text, a, b, good in zip(texts, out_off[:-1], out_off[1:], ok, strict=True)
        ]
        out_off = np.fromiter(itertools.accumulate(map(len, parts), initial=0), np.int64)
        data = b"".join(parts)
    return data, out_off


@_kept_on_disk(_words_key)
def _word_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For every character of the BMP: its kind (0: not in a word, 1: a letter or digit,
    2: a character of a script written without spaces, a word of its own, as
    :data:`neardup.shingles.TOKEN_RE` cuts), and its case folding (UTF-8, by offsets)."""
    from .shingles import _NOSPACE, TOKEN_RE

    chars = "".join(map(chr, range(0x10000)))
    kind = np.zeros(0x10000, dtype=np.uint8)
    for m in TOKEN_RE.finditer(chars):
        kind[m.start() : m.end()] = 1
    for m in re.finditer(f"[{_NOSPACE}]", chars):
        kind[m.start()] = 2
    folded = [chr(c).casefold().encode("utf-8") if kind[c] else b"" for c in range(0x10000)]
    fold_off = np.fromiter(itertools.accumulate(map(len, folded), initial=0), np.int64)
    return kind, fold_off, np.frombuffer(b"".join(folded), dtype=np.uint8)


def shared_counts(
    runs: Sequence[np.ndarray], a: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For each pair (``a[i]``, ``b[i]``) of indexes into ``runs`` (sorted arrays of
    unique uint32 values), the number of values the two share
    (:func:`neardup.verify.shared`); and the length of every run."""
    lens = np.fromiter(map(len, runs), dtype=np.int64, count=len(runs))
    flat = (
        np.concatenate(runs).astype(np.uint32, copy=False) if len(runs) else np.zeros(0, np.uint32)
    )
    return shared_counts_in(flat, np.cumsum(lens) - lens, lens, a, b), lens


def shared_counts_in(
    flat: np.ndarray, start: np.ndarray, size: np.ndarray, a: np.ndarray, b: np.ndarray
) -> np.ndarray:
    """:func:`shared_counts` of runs in place: run j is ``flat[start[j]:start[j] +
    size[j]]`` (uint32, a memory map of a file too)."""
    return _compiled()._shared_counts(
        flat, np.asarray(start, np.int64), np.asarray(size, np.int64),
        np.asarray(a, np.int64), np.asarray(b, np.int64),
    )  # fmt: skip


def equal_values(rows: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """For each pair (``a[i]``, ``b[i]``) of rows of ``rows`` (uint32, a memory map
    too): how many places hold the same value in both (``(rows[a] == rows[b]).sum(1)``
    without copying the rows out)."""
    return _compiled()._equal_values(rows, np.asarray(a, np.int64), np.asarray(b, np.int64))


def union_find(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """For each of ``n`` nodes, the smallest node connected to it by the edges
    (``a[i]``, ``b[i]``): the root :class:`neardup.clusters.UnionFind` gives it."""
    return _compiled()._union_find(n, np.ascontiguousarray(a, dtype=np.int64),
                       np.ascontiguousarray(b, dtype=np.int64))  # fmt: skip


#: set by :func:`skip_blas_check` (the command line does)
_SKIP_BLAS_CHECK = False


def skip_blas_check() -> None:
    """Spare numba its search for BLAS when :func:`warm` loads the loops: numba imports
    ``scipy.linalg`` to find one the first time it loads its numpy support, 0.17 s of
    every run's start here, and none of neardup's loops uses BLAS. numba then cannot
    compile linear algebra (``np.dot`` and the like) in this process, so only the
    command line, a process of neardup's own, turns this on."""
    global _SKIP_BLAS_CHECK
    _SKIP_BLAS_CHECK = True


@contextlib.contextmanager
def _blas_check_skipped():
    """The import numba's BLAS check tries fails at once (see :func:`skip_blas_check`)."""
    name = "scipy.linalg.cython_blas"
    if not _SKIP_BLAS_CHECK or name in sys.modules:
        yield
        return
    sys.modules[name] = None  # type: ignore[assignment]  # an import of it fails
    try:
        yield
    finally:
        if sys.modules.get(name, 0) is None:
            del sys.modules[name]


def warm() -> None:
    """Compile (or load from numba's cache) before worker processes are forked, so that
    each worker does not compile again."""
    if not available():
        return
    with _blas_check_skipped():
        scan(b"warm up the kernel\nwith two lines", np.array([0, 32]), 3, 2, 3, 0.5)
        one = np.array([0, 1], dtype=np.int64)
        ab = np.ones(2, dtype=np.uint32)
        text_flags(["warm up", "the kernel"])
        token_spans("warm up")
        repeat_chains(np.arange(4, dtype=np.uint64), 2, 1, 8, 64)
        collapse_whitespace("warm  up")
        token_texts(["warm up"])
        union_find(2, np.zeros(1, np.int64), np.ones(1, np.int64))
        shared_counts([np.ones(1, np.uint32)], np.zeros(1, np.int64), np.zeros(1, np.int64))
        flat = np.frombuffer(ab.tobytes(), dtype=np.uint32)  # read-only, as read from disk
        shared_counts_in(flat, one[:1], one[1:], one[:1], one[:1])
        equal_values(flat.reshape(1, 2), one[:1], one[:1])  # read-only, as a memory map
        content_signatures(flat, one, one, one[:1], np.zeros(1, bool), 1, ab, ab, True)
