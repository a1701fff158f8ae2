"""Tokenisation: the only place where text is cut into words.

Words are runs of letters and digits (Unicode aware, case-folded). Scripts written
without spaces between words (Han, Hiragana, Katakana, Thai, Lao, Khmer, Myanmar) are
cut into single characters, so that a Chinese or Thai text still has many tokens.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

import numpy as np
import xxhash

from . import dispatch, kernels

_NOSPACE = (
    "\u0e00-\u0e7f"  # Thai
    "\u0e80-\u0eff"  # Lao
    "\u1000-\u109f"  # Myanmar
    "\u1780-\u17ff"  # Khmer
    "\u3040-\u30ff"  # Hiragana, Katakana
    "\u3400-\u4dbf"  # CJK ext A
    "\u4e00-\u9fff"  # CJK unified
    "\uf900-\ufaff"  # CJK compatibility
)
# one no-space character, or a run of word characters that are not no-space characters
TOKEN_RE = re.compile(rf"[{_NOSPACE}]|[^\W_{_NOSPACE}]+")
_SPLIT_RE = re.compile(rf"([{_NOSPACE}]|[^\W_{_NOSPACE}]+)")
_ASCII_SPLIT_RE = re.compile(r"([A-Za-z0-9]+)")


# ASCII letters and digits folded to lower case, every other ASCII character but the
# line break to a space: after it, ``str.split`` gives the tokens of an ASCII text
_ASCII_FOLD = str.maketrans(
    {i: (chr(i).lower() if chr(i).isalnum() else " ") for i in range(128) if i != 10}
)
# the non-ASCII characters most frequent in web text that are never part of a word (so
# never part of a token): curly quotes, dashes, the pound sign, no-break space, ellipsis
SEPARATORS = "\u2019\u201c\u201d\u2014\u2013\u00a3\u2018\u00a0\u2026"


def without_separators(text: str, mark: str) -> str | None:
    """``text`` with each of the common separators replaced by ``mark`` (one character
    for one: offsets stay), when they are its only non-ASCII characters; None when others
    remain (letters, or rarer separators). Most web text qualifies: its non-ASCII
    characters are curly quotes, dashes and pound signs."""
    if text.isascii():
        return text
    for ch in SEPARATORS:  # the common ones first, stopping once the text is ASCII
        changed = text.replace(ch, mark)
        if changed is not text:
            text = changed
            if text.isascii():
                return text
    return None


def _ascii_view(text: str) -> str | None:
    """``text`` with its separators as spaces and its letters folded, when its only
    non-ASCII characters are the common separators (then ``split`` gives the tokens);
    None otherwise (the regular expression cuts its non-ASCII lines then)."""
    view = without_separators(text, " ")
    return view.translate(_ASCII_FOLD) if view is not None else None


def words(text: str) -> list[str]:
    """The comparison tokens of ``text``: case-folded words (see module doc)."""
    view = _ascii_view(text)
    return view.split() if view is not None else _regex_words(text)


def _regex_words(text: str) -> list[str]:
    """:func:`words` by the regular expression (any text)."""
    toks = TOKEN_RE.findall(text)
    if not toks:
        return toks
    # one casefold call for all tokens (fast); NUL is never inside a token
    return "\x00".join(toks).casefold().split("\x00")


def line_words(text: str) -> list[list[str]]:
    """:func:`words` of every non-empty line of ``text`` (words never span a line break,
    so their concatenation is ``words(text)``)."""
    view = _ascii_view(text)
    if view is not None:
        return [w for w in map(str.split, view.split("\n")) if w]
    return [w for w in map(_line_words_any, text.split("\n")) if w]


def token_text(text: str) -> str:
    """``text`` as :func:`neardup.kernels.scan` reads it: its ASCII view when it has one,
    otherwise the words of each line (:func:`line_words`) joined by spaces."""
    view = _ascii_view(text)
    return view if view is not None else "\n".join(map(" ".join, line_words(text)))


def _line_words_any(line: str) -> list[str]:
    """:func:`words` of one line of a text with other non-ASCII characters than the common
    separators (many of its lines may still be ASCII)."""
    return line.translate(_ASCII_FOLD).split() if line.isascii() else _regex_words(line)


def line_words_with_spans(text: str) -> Iterator[tuple[int, int, list[str]]]:
    """(start, end, words) of every line of ``text`` that has words."""
    view = _ascii_view(text)  # the same length as ``text``: every change is 1 -> 1
    cut = str.split if view is not None else _line_words_any
    pos = 0
    for line in (view if view is not None else text).split("\n"):
        w = cut(line)
        if w:
            yield pos, pos + len(line), w
        pos += len(line) + 1


def words_with_spans(text: str) -> tuple[list[str], list[int], list[int], np.ndarray]:
    """Tokens of ``text`` (as :func:`words` gives them) with the start and end offset of
    each in ``text``, and their :func:`token_hashes`."""
    return dispatch.call("words_with_spans", text)


def _words_with_spans_compiled(text: str) -> tuple[list[str], list[int], list[int], np.ndarray]:
    """:func:`words_with_spans` in one compiled pass (the compiled path; a text beyond
    the BMP goes to the Python path)."""
    found = kernels.token_spans(text)
    if found is None:
        return _words_with_spans_regex(text)
    toks, starts, ends, hashes = found
    return toks, starts.tolist(), ends.tolist(), hashes


def _words_with_spans_regex(text: str) -> tuple[list[str], list[int], list[int], np.ndarray]:
    """:func:`words_with_spans` by the regular expression (the Python path)."""
    ascii_text = text.isascii()
    parts = (_ASCII_SPLIT_RE if ascii_text else _SPLIT_RE).split(text)
    # parts alternates separator, token, separator, ..., separator
    toks = parts[1::2]
    if not toks:
        return [], [], [], np.zeros(0, dtype=np.uint64)
    bounds = list(itertools.accumulate(map(len, parts)))
    starts = bounds[0::2][: len(toks)]
    ends = bounds[1::2]
    if ascii_text:
        folded = "\x00".join(toks).lower().split("\x00")
    else:
        folded = "\x00".join(toks).casefold().split("\x00")
    return folded, starts, ends, token_hashes(folded)


# --------------------------------------------------------------------------- shingles

_TOKEN_HASHES: dict[str, int] = {}
_TOKEN_CACHE_MAX = 2_000_000
_MIX1 = np.uint64(0xFF51AFD7ED558CCD)
_MIX2 = np.uint64(0xC4CEB9FE1A85EC53)
_PRIME = np.uint64(0x100000001B3)


def token_hashes(toks: list[str]) -> np.ndarray:
    """Stable 64-bit hashes (xxh64) of tokens, cached per process."""
    cache = _TOKEN_HASHES
    if len(cache) > _TOKEN_CACHE_MAX:
        cache.clear()
    # one pass over the cache; tokens not in it come back as 0 and are hashed then (a
    # token whose hash is 0 is simply hashed again each time)
    h = np.fromiter(map(cache.get, toks, itertools.repeat(0)), dtype=np.uint64, count=len(toks))
    for i in np.flatnonzero(h == 0).tolist():
        tok = toks[i]
        value = cache.get(tok)
        if value is None:
            value = cache[tok] = xxhash.xxh64_intdigest(tok.encode("utf-8"))
        h[i] = value
    return h


def _fmix64(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> np.uint64(33))
    h = h * _MIX1
    h = h ^ (h >> np.uint64(33))
    h = h * _MIX2
    return h ^ (h >> np.uint64(33))


def ngram_keys(h: np.ndarray, n: int) -> np.ndarray:
    """64-bit keys of the ``n``-grams of the token hashes ``h`` (``len(h) - n + 1`` of
    them; ``h`` holds at least ``n`` values)."""
    m = len(h) - n + 1
    with np.errstate(over="ignore"):
        acc = h[:m].copy()
        for j in range(1, n):
            acc = acc * _PRIME + h[j : j + m]
    return acc


def shingle_hashes(toks: list[str], n: int, hashes: np.ndarray | None = None) -> np.ndarray:
    """32-bit hashes of the word ``n``-grams of ``toks`` (in text order, duplicates kept).

    A text shorter than ``n`` words gives one shingle made of all its words; an empty
    text gives none. These are the values neardup feeds to MinHash: ``datasketch.MinHash``
    updated with the same values (identity ``hashfunc``) has the same signature.
    ``hashes``: :func:`token_hashes` of ``toks`` when already computed.
    """
    if not toks:
        return np.zeros(0, dtype=np.uint32)
    h = token_hashes(toks) if hashes is None else hashes
    acc = ngram_keys(h, min(n, len(h)))
    with np.errstate(over="ignore"):
        return (_fmix64(acc) & np.uint64(0xFFFFFFFF)).astype(np.uint32)
