"""Tokenisation: the only place where text is cut into words.

Words are runs of letters and digits (Unicode aware, case-folded). Scripts written
without spaces between words (Han, Hiragana, Katakana, Thai, Lao, Khmer, Myanmar) are
cut into single characters, so that a Chinese or Thai text still has many tokens.
"""

from __future__ import annotations

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
    """Tokens of ``text`` with the start and end offset of each in ``text``.

    The token strings equal :func:`words` of the same text except where case folding
    changes a word's length (``ß`` -> ``ss``), which does not matter for comparison.
    """
    toks: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for m in TOKEN_RE.finditer(text):
        toks.append(m.group().casefold())
        starts.append(m.start())
        ends.append(m.end())
    return toks, starts, ends
