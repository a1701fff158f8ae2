"""Tokenisation: the only place where text is cut into words.

Words are runs of letters and digits (Unicode aware, case-folded). Scripts written
without spaces between words (Han, Hiragana, Katakana, Thai, Lao, Khmer, Myanmar) are
cut into single characters, so that a Chinese or Thai text still has many tokens.
"""

from __future__ import annotations

import itertools
import re

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
_ASCII_TOKEN_RE = re.compile(r"[a-z0-9]+")
_SPLIT_RE = re.compile(rf"([{_NOSPACE}]|[^\W_{_NOSPACE}]+)")
_ASCII_SPLIT_RE = re.compile(r"([A-Za-z0-9]+)")


def words(text: str) -> list[str]:
    """The comparison tokens of ``text``: case-folded words (see module doc)."""
    if text.isascii():  # the same tokens, faster
        return _ASCII_TOKEN_RE.findall(text.lower())
    toks = TOKEN_RE.findall(text)
    if not toks:
        return toks
    # one casefold call for all tokens (fast); NUL is never inside a token
    return "\x00".join(toks).casefold().split("\x00")


def words_with_spans(text: str) -> tuple[list[str], list[int], list[int]]:
    """Tokens of ``text`` (as :func:`words` gives them) with the start and end offset of
    each in ``text``."""
    ascii_text = text.isascii()
    parts = (_ASCII_SPLIT_RE if ascii_text else _SPLIT_RE).split(text)
    # parts alternates separator, token, separator, ..., separator
    toks = parts[1::2]
    if not toks:
        return [], [], []
    bounds = list(itertools.accumulate(map(len, parts)))
    starts = bounds[0::2][: len(toks)]
    ends = bounds[1::2]
    if ascii_text:
        folded = "\x00".join(toks).lower().split("\x00")
    else:
        folded = "\x00".join(toks).casefold().split("\x00")
    return folded, starts, ends
