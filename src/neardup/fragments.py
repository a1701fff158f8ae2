"""Lazy-loaded fragments: a paragraph's start, cut off, right before the whole paragraph.

A page that loads lazily can leave the first words of a paragraph ("...deal to import mil")
in front of the complete paragraph, on a line of its own, on the same line, or marked as
cut by an ellipsis (a teaser). Such a fragment is no repeat of ``min_words`` words, so
:mod:`neardup.repair` asks this module for it before its own search, and removes it as a
"truncated-copy".
"""

from __future__ import annotations

import itertools
import re

# a line that ends without closing a sentence (or a quote, a bracket): where a truncated
# first copy of the next paragraph can end
_OPEN_LINE_END_RE = re.compile(r"[^.!?\u2026\"'\u201d\u2019)\]\u00bb\s][ \t]*\n")
#: a line cut at a word boundary is taken for a truncated copy of the paragraph it begins
#: only from this many words (a headline that is the first words of its lead is shorter)
FRAGMENT_MIN_WORDS = 20
#: ... and a line cut inside a word from this many ("Keyboard" before "Keyboards are
#: highly subjective" is a subheading)
FRAGMENT_MIN_WORDS_IN_WORD = 4
#: ... and one below the text's first line, or glued to its paragraph on the same line,
#: where no headline stands, from this many (a short line sung twice, "Let it be, let it
#: be", is shorter)
FRAGMENT_MIN_WORDS_BELOW_TOP = 8


def truncated_line(text: str):
    """A paragraph's start, cut off, right before the whole paragraph: on a line of its
    own (the lazy-loaded "...deal to import mil" before the full paragraph), on the same
    line, or marked as cut by an ellipsis ("...deal to import\u2026", a teaser); in a
    hard-wrapped text, the same over paragraphs of several lines. It must end inside a
    word or carry the mark, after at least :data:`FRAGMENT_MIN_WORDS_IN_WORD` words, or
    end at a word boundary inside a sentence after at least :data:`FRAGMENT_MIN_WORDS`
    words (below the text's first line, or on the same line as its paragraph:
    :data:`FRAGMENT_MIN_WORDS_BELOW_TOP`). As :func:`neardup.repair._find_best_repeat`
    gives a repeat, or None. A headline made of the first words of its lead stands at
    the top, ends on a word and is shorter: it stays."""
    lines = text.split("\n")
    stripped = list(map(str.strip, lines))
    found = _first_fragment(text, lines, stripped, itertools.repeat(1))
    if found is not None or "\n\n" not in text:
        return found
    # paragraphs of several lines (hard-wrapped) need a pass of their own: two lines
    # with no blank line between them (the test in C)
    sizes = list(map(len, stripped))
    if any(map(min, sizes[1:], sizes[:-1])):
        parts = BLANK_LINE_RE.split(text)  # paragraphs, and the blank lines between them
        blocks = parts[::2]
        seps = [len(sep) for sep in parts[1::2]] + [0]
        found = _first_fragment(text, blocks, list(map(str.strip, blocks)), seps)
    return found


BLANK_LINE_RE = re.compile(r"(\n[ \t]*\n(?:[ \t]*\n)*)")


def _first_fragment(text: str, raw: list[str], pieces: list[str], seps):
    """:func:`truncated_line` over the pieces ``raw`` of ``text`` (``pieces``: stripped),
    each followed by a separator of the length ``seps`` gives."""
    nonblank = list(filter(None, pieces))
    # the usual answer, with the comparisons in C: no piece is the start of the next one,
    # none ends in a cut mark, none starts again inside itself
    marked = any(map(str.endswith, nonblank[:-1], itertools.repeat(_CUT_MARKS)))
    if not (
        marked
        or any(map(str.startswith, nonblank[1:], nonblank[:-1]))
        or max(map(str.count, nonblank, [p[:_PROBE] for p in nonblank]), default=0) > 1
    ):  # (the last: a piece's first characters occur again in it)
        return None
    prev, prev_start, pos, prev_on_top = "", 0, 0, True
    for r, piece, sep in zip(raw, pieces, seps, strict=False):  # seps may be endless
        start, pos = pos, pos + len(r) + sep
        if not piece:
            continue
        at = start + r.index(piece[0])
        if prev and (piece.startswith(prev) or (marked and prev.endswith(_CUT_MARKS))):
            # a headline made of the lead's first words stands at the top; below another
            # line, a start of the next paragraph is a fragment from fewer words
            found = _cut_copy(text, prev, prev_start, at, piece, below_top=not prev_on_top)
            if found:
                return found
        found = _same_line_copy(text, piece, at)
        if found:
            return found
        prev_on_top = not prev  # the piece becoming ``prev`` is the first one
        prev, prev_start = piece, start
    return None


# what a title with the site's name appended goes on with ("... | BBC News")
_SITE_SUFFIX_RE = re.compile(r"\s+[-\u2013\u2014|\u00b7\u2022:]+\s")
#: what a scraper leaves where it cut a teaser short
_CUT_MARKS = ("\u2026", "...", "[\u2026]", "[...]", "(\u2026)", "(...)")
#: characters of a line's start looked for again in the line (a fragment of
#: FRAGMENT_MIN_WORDS_IN_WORD words is longer)
_PROBE = 12


def _starts_again(line: str) -> bool:
    """Whether the first characters of ``line`` occur again in it (a quick test)."""
    return len(line) > 2 * _PROBE and line.find(line[:_PROBE], 1) > 0


def _same_line_copy(text: str, line: str, at: int):
    """A start of ``line`` (at offset ``at`` of ``text``) that the rest of the line
    begins with again: a fragment glued to its whole paragraph by a space."""
    if not _starts_again(line):
        return None
    # only where the start first occurs again: a text that repeats itself all along ("ha
    # ha ha ...") has no fragment, and the test costs one pass over the line
    p = line.find(line[:_PROBE], 1)
    if line[p - 1] not in " \t":  # after a line break it is a line said again (a refrain)
        return None
    return _cut_copy(text, line[:p].rstrip(), at, at + p, line[p:])


def _cut_copy(
    text: str, line: str, line_start: int, next_start: int, following: str, below_top=True
):
    """Whether ``line`` (starting at ``line_start``) is a cut-off start of ``following``
    (starting at ``next_start``), as :func:`truncated_line` gives it, or None.
    ``below_top``: not the first line of the text (where a headline stands)."""
    marked = line.endswith(_CUT_MARKS)
    stem = line.rstrip(".\u2026[]() \t") if marked else line
    if not stem or len(stem) >= len(following) or not following.startswith(stem):
        return None
    if _OPEN_LINE_END_RE.match(stem[-1] + "\n") is None:  # it ends a sentence
        return None
    n_words = len(stem.split())
    # inside a word: letters on both sides ("...import mil" / "milk"); a number that goes
    # on ("release 2.1" / "2.10", a score "1" / "12") is another value, not a cut
    in_word = marked or (following[len(stem)].isalpha() and stem[-1].isalpha())
    if not in_word and _SITE_SUFFIX_RE.match(following, len(stem)):
        return None  # a title, then the title with the site's name ("... - Reuters")
    least = FRAGMENT_MIN_WORDS_IN_WORD if in_word else FRAGMENT_MIN_WORDS
    if n_words < (min(least, FRAGMENT_MIN_WORDS_BELOW_TOP) if below_top else least):
        return None
    return (
        (line_start, next_start),
        (next_start, next_start + len(stem)),
        1.0,
        n_words,
        ("truncated-copy"),
    )
