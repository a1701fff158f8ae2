"""Repair inside one document: find runs of text that the scraper captured twice and keep
one complete copy.

How it decides
--------------
A scrape fault (a lazy-loaded page, an AMP and a canonical copy glued together) repeats a
*run* of text long enough that it cannot be a choice of the author. A short line repeated
alone (an interview question, "Winners meet in final match", a photo credit) is not one.

1. The text is cut into case-folded words (:mod:`neardup.shingles`); punctuation, quotes
   and whitespace are ignored, so a second copy with curly quotes or reflowed paragraphs
   still matches.
2. Every word ``ngram``-gram that occurred earlier seeds a match at offset ``d`` (the
   distance back to the earlier occurrence). Consecutive seeds at one offset form a run.
3. Runs are chained when the gap between them is at most ``max_gap`` words and their
   offsets differ by at most ``max_gap`` (a typo breaks a run for a few words; an
   inserted "Advertisement" line shifts the offset by a word or two).
4. The best chain is a repeat when it covers at least ``min_words`` matching words, at
   least ``min_density`` of its span matches, and rapidfuzz's ratio between the two
   copies is at least ``min_similarity``. Text found more than ``max_copies`` times is a
   template; text found three times or more with other text between the copies (a
   question put to each candidate) is the author's structure; a run that goes on over
   its own copy with copies under half ``min_words`` (lines of a share bar that differ
   by a word) is neither: all three stay.
5. The later copy is removed, snapped to sentence or paragraph boundaries, together with
   a short line (up to ``max_gap`` words) between two adjacent copies; the copies grow
   over neighbouring units that match, either one skipping one or two short units (up
   to ``max_gap`` words, or lines of their own up to twice that: an ad). When the earlier
   copy was cut off mid-sentence and runs straight into the later copy (lazy loading),
   the earlier copy is removed instead, so the complete one is kept; so is it when both
   have the same words and the later copy has more paragraph breaks. When the later copy
   starts inside the earlier one (a body that ends with its headline, three copies one
   after another), only what follows the earlier copy is cut. Short lines of the kept
   copy that the other copy lacks (ads put between paragraphs) go too, as
   "inserted-line" (:func:`_inserted_lines`).
6. Steps 1-5 repeat on the result until no repeat is left (three copies take two rounds).

Every removal is recorded as a :class:`RemovedSpan`.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from rapidfuzz.distance import Indel, Levenshtein

from . import dispatch, kernels
from .config import CleanConfig, RepairConfig
from .fragments import BLANK_LINE_RE, truncated_line
from .normalize import collapse_whitespace, normalize_and_explain
from .shingles import line_words, ngram_keys, token_hashes, words, words_with_spans

# a sentence ends at one of these, possibly followed by closing quotes or brackets
_SENTENCE_END_RE = re.compile(
    r"[.!?\u2026\u3002\uff01\uff1f][\"'\u201d\u2019\u00bb)\]]*\s|[\u3002\uff01\uff1f]"
)
# at most this many earlier occurrences of one n-gram seed matches (bounds the work on
# texts made of one phrase repeated thousands of times)
_MAX_SEEDS_PER_GRAM = 8
# chains are built from at most this many nearest earlier runs
_CHAIN_WINDOW = 64
# at most this many chains are tested per round, best first (a text of a few words
# repeated at random has thousands of chains, all of them templates)
_MAX_TRIED = 32


# "not computed yet" for an argument whose computed value may be None
_UNKNOWN = object()

#: the reason of a short line removed from the kept copy because the other copy lacks it
INSERTED_LINE = "inserted-line"

# what the other copy holds in an inserted run's place, this similar (Indel) to the run
# or holding a digit on either side, is the run edited, not another ad
_EDITED = 0.75
_DIGIT_RE = re.compile(r"\d")
# a line that ends like a sentence (closing quotes and brackets after the mark allowed)
_ENDS_SENTENCE_RE = re.compile(r"[.!?\u2026\u3002\uff01\uff1f][\"'\u201d\u2019\u00bb)\]]*$")
_NEWLINE_RE = re.compile("\n")
# two copies are aligned word by word only up to this product of their lengths in words
# (the alignment costs about that over 64 steps); longer ones keep their lines
_MAX_ALIGN = 50_000_000

#: the reason a text longer than ``RepairConfig.max_chars`` is passed through unrepaired
TOO_LARGE = "too-large"


@dataclass(frozen=True, slots=True)
class RemovedSpan:
    """One span removed by repair.

    Offsets are character offsets into the normalised input text (the text after the
    conservative normalisation, before repair). ``repeats_start``/``repeats_end`` locate
    the copy that was kept.
    """

    start: int
    end: int
    text: str
    repeats_start: int
    repeats_end: int
    similarity: float
    words: int
    # "repeat" (a later copy, or an earlier one that lost its paragraph breaks),
    # "truncated-copy" (an earlier, cut-off copy) or "inserted-line" (a short line of the
    # kept copy that the other copy lacks: an ad; ``repeats_*`` locate that other copy)
    reason: str

    def to_dict(self) -> dict:
        return {
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "repeats": [self.repeats_start, self.repeats_end],
            "similarity": round(self.similarity, 4),
            "words": self.words,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class Repair:
    """The result of :func:`repair_text`.

    ``text`` is the repaired text; ``removed`` the spans removed (empty when nothing
    repeated); ``normalized`` the names of the normalisation steps that changed the text.
    """

    text: str
    removed: tuple[RemovedSpan, ...] = ()
    normalized: tuple[str, ...] = ()
    skipped: str | None = None  # why repair was not tried ("too-large"), None: it was

    @property
    def repaired(self) -> bool:
        """True when at least one repeated span was removed."""
        return bool(self.removed)

    @property
    def changed(self) -> bool:
        """True when normalisation or repair changed the text."""
        return bool(self.removed or self.normalized)


def repair_text(text: str, config: CleanConfig | None = None) -> Repair:
    """Normalise ``text`` conservatively, then remove repeated runs (see module doc).

    >>> r = repair_text("Lead.\\n" + "A paragraph that was scraped twice. " * 1 + "\\n")
    >>> r.text
    'Lead.\\nA paragraph that was scraped twice.'
    """
    config = config or CleanConfig()
    normalized, steps = normalize_and_explain(text, config.normalize)
    if not config.repair.enabled:
        return Repair(normalized, (), tuple(steps))
    return _repair_normalized(normalized, steps, config, None)


def _repair_normalized(
    normalized: str,
    steps: list[str],
    config: CleanConfig,
    toks: list[str] | None,
    hashes: np.ndarray | None = None,
    may_repeat: bool | None = None,
    fragment=_UNKNOWN,
) -> Repair:
    if len(normalized) > config.repair.max_chars:
        return Repair(normalized, (), tuple(steps), TOO_LARGE)
    out, removed = remove_repeats(normalized, config.repair, toks, hashes, may_repeat, fragment)
    if not removed:
        return Repair(normalized, (), tuple(steps))
    # a cut of whole lines (a truncated short paragraph: from its start to the start of
    # the next line) leaves collapsed whitespace as it was
    whole_lines = all(s.words < config.repair.min_words and s.text.endswith("\n")
                      for s in removed)  # fmt: skip
    if config.normalize.collapse_whitespace and not whole_lines:
        out = collapse_whitespace(out)
    return Repair(out, tuple(removed), tuple(steps))


class TextWords(NamedTuple):
    """The words of each line of a text, and the token hashes of all of them in order."""

    lines: list[list[str]]
    hashes: np.ndarray


def repair_with_words(
    text: str, config: CleanConfig | None = None
) -> tuple[Repair, TextWords | None]:
    """:func:`repair_text`, also returning the words of the result (per line, and their
    token hashes) when they were computed on the way (the text needed no repair), so
    that a later stage need not cut and hash the text again; None otherwise."""
    config = config or CleanConfig()
    normalized, steps = normalize_and_explain(text, config.normalize)
    if not config.repair.enabled:
        return Repair(normalized, (), tuple(steps)), None
    if len(normalized) > config.repair.max_chars:
        return Repair(normalized, (), tuple(steps), TOO_LARGE), None
    lines = line_words(normalized)
    toks = [w for ws in lines for w in ws]
    hashes = token_hashes(toks)
    rep = _repair_normalized(normalized, steps, config, toks, hashes)
    return rep, (None if rep.removed else TextWords(lines, hashes))


def remove_repeats(
    text: str,
    config: RepairConfig | None = None,
    toks: list[str] | None = None,
    hashes: np.ndarray | None = None,
    may_repeat: bool | None = None,
    fragment=_UNKNOWN,
) -> tuple[str, list[RemovedSpan]]:
    """Remove repeated runs from ``text`` (no normalisation). Returns the text with the
    spans cut out (whitespace at the cuts left as it is) and the removed spans, with
    offsets into ``text``. ``toks`` may pass ``words(text)`` when already known, and
    ``hashes`` their :func:`~neardup.shingles.token_hashes`; ``may_repeat`` the answer
    of the quick pre-check when already known (:func:`neardup.kernels.scan`), and
    ``fragment`` what :func:`truncated_line` gives for ``text``."""
    config = config or RepairConfig()
    if may_repeat is None:
        may_repeat = _may_repeat(text, config, toks, hashes)
    if fragment is _UNKNOWN:
        fragment = truncated_line(text)
    if not may_repeat and fragment is None:
        return text, []
    removed: list[RemovedSpan] = []
    cuts: list[tuple[int, int]] = []  # removed intervals, in coordinates of ``text``
    current = text
    for _ in range(config.max_rounds):
        tokens = words_with_spans(current) if may_repeat and not fragment else None
        found = fragment or (_find_best_repeat(current, config, tokens) if may_repeat else None)
        if found is None:
            break
        (cs, ce), (ks, ke), sim, nwords, reason = found
        # the copy cut, and the lines of the kept copy that it lacks (ads): offsets in
        # ``current``, mapped back through the earlier rounds' cuts before any is made
        spans = [(cs, ce, ks, ke, nwords, reason)]
        lacking = _inserted_lines(current, tokens, (ks, ke), (cs, ce), 2 * config.max_gap)
        for ls, le, lw in lacking:
            spans.append((ls, le, cs, ce, lw, INSERTED_LINE))
        for s, e, rs, re_, nw, why in spans:
            start, end = _to_original(s, cuts), _to_original(e, cuts, end=True)
            removed.append(
                RemovedSpan(
                    start=start,
                    end=end,
                    # the input's text there: a span around an earlier round's cut (the
                    # second of three copies, whose ad went first) holds that cut's text too
                    text=text[start:end],
                    repeats_start=_to_original(rs, cuts),
                    repeats_end=_to_original(re_, cuts, end=True),
                    similarity=sim,
                    words=nw,
                    reason=why,
                )
            )
        cuts.extend((r.start, r.end) for r in removed[-len(spans) :])
        cuts.sort()
        for s, e, *_ in sorted(spans, reverse=True):  # the last first: offsets stay valid
            current = current[:s] + current[e:]
        # cutting a line out of a text that could hold no repeat leaves none to find
        may_repeat = may_repeat and _may_repeat(current, config)
        fragment = truncated_line(current)
    return current, removed


def _inserted_lines(text: str, tokens, keep, other, max_words: int) -> list[tuple[int, int, int]]:
    """Lines of the copy ``keep`` (a character span of ``text``) that the copy ``other``
    lacks: an ad or a newsletter line put between two paragraphs of one copy. The copies
    are aligned word by word, so reflowed lines and edited words do not matter. A run of
    lines is taken when at most a third of its words align, it holds at most
    ``max_words`` words, words on both sides of it align (where the other copy ends
    early, the rest is not "lacking"), what the other copy holds in its place is
    nothing, or text of no digits and Indel similarity under 0.75 (its own ad, not this
    line edited: a price, a typo in a name), it holds the run's words nowhere else (a
    line moved), and no line of it ends like a sentence (ads are labels: a one-line
    paragraph that the other copy dropped stays). Returns (start, end, words) per line,
    the end at the start of the next line of the copy. ``tokens``:
    ``words_with_spans(text)``, or None to cut it here."""
    if text.count("\n", *keep) < 2:  # no line between two others (a fragment's repeat)
        return []
    tokens = tokens or words_with_spans(text)
    mine_words, mine_hashes, bounds, offsets = _lines(text, tokens, *keep)
    theirs_words, theirs_hashes, _, _ = _lines(text, tokens, *other)
    if len(offsets) < 3 or len(mine_words) * len(theirs_words) > _MAX_ALIGN:
        return []
    partner = np.full(len(mine_words), -1, dtype=np.int64)  # the word it aligns with
    for op in Indel.opcodes(mine_hashes, theirs_hashes):
        if op.tag == "equal":
            partner[op.src_start : op.src_end] = np.arange(op.dest_start, op.dest_end)
    aligned = np.concatenate(([0], np.cumsum(partner >= 0)))
    out, run = [], []
    theirs_text = f" {' '.join(theirs_words)} "

    def take() -> None:
        """Take the lines of ``run``, one after another, when they pass (see above)."""
        if not run:
            return
        lo, hi = bounds[run[0]], bounds[run[-1] + 1]
        if hi - lo > max_words or aligned[lo] == 0 or aligned[hi] == aligned[-1]:
            return
        # what the other copy holds in their place besides the run's words: nothing, or
        # its own ad; this line edited stays ("$45" for "$49", a typo in a name)
        before = partner[:lo][partner[:lo] >= 0][-1]
        after = partner[hi:][partner[hi:] >= 0][0]
        here = " ".join(mine_words[lo:hi])
        if after - before - 1 > aligned[hi] - aligned[lo]:
            there = " ".join(theirs_words[before + 1 : after])
            if (
                _DIGIT_RE.search(here + there)
                or Indel.normalized_similarity(here, there) >= _EDITED
            ):
                return
        if f" {here} " in theirs_text:
            return  # the other copy holds it elsewhere: moved, not lacking
        lines = [text[offsets[i] : offsets[i + 1]].strip() for i in run]
        if any(_ENDS_SENTENCE_RE.search(line) for line in lines):
            return  # a sentence (a one-line paragraph the other copy dropped), no ad
        out.extend((offsets[i], offsets[i + 1], bounds[i + 1] - bounds[i]) for i in run)

    for i in range(1, len(offsets) - 1):
        lo, hi = bounds[i], bounds[i + 1]
        if 3 * (aligned[hi] - aligned[lo]) <= hi - lo:
            run.append(i)
            continue
        take()
        run = []
    take()
    # never a line of the other copy (the spans are disjoint; this keeps it so if not)
    return [o for o in out if o[1] <= other[0] or o[0] >= other[1]]


def _lines(text: str, tokens, start: int, end: int):
    """The words of ``text[start:end]`` and their hashes (from ``tokens``, which is
    ``words_with_spans(text)``), and per line that holds words: the index of its first
    word (and one more: the number of words) and its offset."""
    toks, starts, _, hashes = tokens
    lo, hi = bisect.bisect_left(starts, start), bisect.bisect_left(starts, end)
    if lo == hi:
        return [], [], [0], []
    begins = [start, *(m.end() for m in _NEWLINE_RE.finditer(text, start, end))]
    at = [bisect.bisect_left(starts, b, lo, hi) for b in begins] + [hi]  # first word per line
    held = [k for k in range(len(begins)) if at[k] < at[k + 1]]  # lines that hold words
    first = [at[k] - lo for k in held]
    offsets = [begins[k] for k in held]
    return toks[lo:hi], hashes[lo:hi].tolist(), [*first, hi - lo], offsets


def _to_original(pos: int, cuts: list[tuple[int, int]], end: bool = False) -> int:
    """Map an offset in the text after ``cuts`` back to the text before them."""
    for s, e in cuts:  # sorted, disjoint, original coordinates
        if s < pos or (s == pos and not end):
            pos += e - s
        else:
            break
    return pos


def _may_repeat(
    text: str,
    config: RepairConfig,
    toks: list[str] | None = None,
    hashes: np.ndarray | None = None,
) -> bool:
    """Cheap test: can ``text`` hold a repeat of ``min_words`` words at all?

    A repeat needs a span of at least ``min_words`` words of which ``min_density`` are
    matched, and a matched word lies in a word ``ngram``-gram seen earlier in the text.
    So some window of ``min_words`` words must have at least ``min_density * min_words
    / 2`` words covered by such repeated n-grams (any span long enough, with that
    density overall, holds such a window). Repeated phrases scattered through a text
    (names, "the prime minister said") do not pass; most texts are decided here without
    the full search. ``hashes``: the token hashes of ``toks`` when already computed.
    """
    return dispatch.call("may_repeat", text, config, toks, hashes)


def _may_repeat_compiled(
    text: str, config: RepairConfig, toks: list[str] | None, hashes: np.ndarray | None
) -> bool:
    """:func:`_may_repeat` by the compiled scan of ``text`` (the compiled path; words
    already cut go to the Python path, which starts from them)."""
    if toks is not None:
        return _may_repeat_python(text, config, toks, hashes)
    data, offsets = kernels.token_texts([text])
    scan = kernels.scan(data, offsets, 1, config.ngram, config.min_words, config.min_density)
    return bool(scan.may_repeat[0])


def _may_repeat_python(
    text: str, config: RepairConfig, toks: list[str] | None, hashes: np.ndarray | None
) -> bool:
    """:func:`_may_repeat` on the words of ``text`` (the Python path)."""
    if toks is None:
        toks = words(text)
    k = config.ngram
    n = len(toks)
    if n < config.min_words + k:
        return False
    if hashes is None:
        hashes = token_hashes(toks)
    # k-grams hashed from the token hashes (a collision can only make repeats look more
    # likely, never hide one)
    keys = ngram_keys(hashes, k)
    ranked = np.sort(keys)
    repeated = int(np.count_nonzero(ranked[1:] == ranked[:-1]))
    # a chain of runs covering m words needs at least m / k repeated positions
    if repeated * k < config.min_words:
        return False
    # positions whose k-gram was seen earlier (a stable sort keeps the first in front)
    order = np.argsort(keys, kind="stable")
    later = np.empty(len(keys), dtype=bool)
    later[order[0]] = False
    later[order[1:]] = ranked[1:] == ranked[:-1]
    starts = np.flatnonzero(later)
    edges = np.bincount(starts, minlength=n + 1) - np.bincount(starts + k, minlength=n + 1)
    covered = np.cumsum(edges[:n]) > 0
    sums = np.concatenate(([0], np.cumsum(covered)))
    width = config.min_words
    need = config.min_density * width / 2
    return bool((sums[width:] - sums[:-width]).max() >= need)


def _seeds(seq: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Repeated k-grams of the word sequence ``seq`` (a hash or an id per word).

    Returns (p, d, count): for every position p whose k-gram occurred earlier, one entry
    per earlier occurrence q (at most the ``_MAX_SEEDS_PER_GRAM`` nearest) with offset
    d = p - q; and for every position the number of occurrences of its k-gram in the text.
    """
    m = len(seq) - k + 1
    gram = np.zeros(m, dtype=np.uint64)
    for j in range(k):  # polynomial hash of the k word ids (wraps modulo 2**64)
        gram = gram * np.uint64(1_000_003) + seq[j : j + m]
    order = np.argsort(gram, kind="stable")  # equal grams grouped, positions ascending
    sorted_gram = gram[order]
    ps, ds = [], []
    for lag in range(1, _MAX_SEEDS_PER_GRAM + 1):
        if lag >= m:
            break
        same = sorted_gram[lag:] == sorted_gram[:-lag]
        if not same.any():
            break
        p = order[lag:][same]
        ps.append(p)
        ds.append(p - order[:-lag][same])
    starts = np.flatnonzero(np.concatenate(([True], sorted_gram[1:] != sorted_gram[:-1])))
    sizes = np.diff(np.append(starts, m))
    count = np.empty(m, dtype=np.int64)
    count[order] = np.repeat(sizes, sizes)
    if not ps:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, count
    return np.concatenate(ps), np.concatenate(ds), count


def _runs(p: np.ndarray, d: np.ndarray) -> list[tuple[int, int, int]]:
    """Runs of consecutive seed positions at one offset: (first p, last p, d), sorted."""
    order = np.lexsort((p, d))
    p, d = p[order], d[order]
    breaks = np.flatnonzero((np.diff(p) != 1) | (np.diff(d) != 0)) + 1
    first = np.concatenate(([0], breaks))
    last = np.append(breaks - 1, len(p) - 1)
    return sorted(zip(p[first].tolist(), p[last].tolist(), d[first].tolist(), strict=True))


def _chains(
    seq: np.ndarray, k: int, gap: int
) -> tuple[list[tuple[int, int, int]], np.ndarray, np.ndarray, np.ndarray]:
    """Steps 2 and 3 of the module doc on the word hashes ``seq`` (at least ``k``):
    the runs (first p, last p, d) sorted; for each run the matched words of the best
    chain ending with it and the run before it in that chain (-1: none); for every
    position the number of occurrences of its k-gram (with the compiled loops:
    :func:`neardup.kernels.repeat_chains`, the same values)."""
    return dispatch.call("repeat_chains", seq, k, gap)


def _chains_compiled(
    seq: np.ndarray, k: int, gap: int
) -> tuple[list[tuple[int, int, int]], np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_chains` in one compiled pass (the compiled path)."""
    r0, r1, rd, best_a, back_a, count = kernels.repeat_chains(
        seq, k, gap, _MAX_SEEDS_PER_GRAM, _CHAIN_WINDOW
    )
    return list(zip(r0.tolist(), r1.tolist(), rd.tolist(), strict=True)), best_a, back_a, count


def _chains_python(
    seq: np.ndarray, k: int, gap: int
) -> tuple[list[tuple[int, int, int]], np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_chains` by numpy and a loop over the runs (the Python path)."""
    seed_p, seed_d, count = _seeds(seq, k)
    if not len(seed_p):
        empty = np.zeros(0, dtype=np.int64)
        return [], empty, empty, count
    runs = _runs(seed_p, seed_d)
    # best[i] = matched words of the best chain ending with run i
    best: list[int] = []
    back: list[int] = []
    for i, (p0, p1, d) in enumerate(runs):
        length = p1 - p0 + k
        score, prev_i = length, -1
        for j in range(i - 1, max(-1, i - _CHAIN_WINDOW), -1):
            q0, q1, e = runs[j]
            q_end = q1 + k  # exclusive word end of run j
            if q_end < p0 - gap or abs(d - e) > gap or p1 + k <= q_end:
                continue
            overlap = max(0, q_end - p0)
            if best[j] + length - overlap > score:
                score, prev_i = best[j] + length - overlap, j
        best.append(score)
        back.append(prev_i)
    return runs, np.array(best, dtype=np.int64), np.array(back, dtype=np.int64), count


def _find_best_repeat(text: str, config: RepairConfig, tokens=None):
    """The best acceptable repeat in ``text``: ((cut start, cut end), (kept start, kept end),
    similarity, matched words, reason), or None. ``tokens``: ``words_with_spans(text)`` when
    already known."""
    toks, starts, ends, seq = tokens or words_with_spans(text)  # a word's hash stands for it
    n = len(toks)
    k = config.ngram
    if n < 2 * k:
        return None
    # 1. seeds: (position, offset back to an earlier occurrence); 2. runs of them;
    # 3. chains of runs
    runs, best_a, back_a, count = _chains(seq, k, config.max_gap)
    best, back = best_a.tolist(), back_a.tolist()
    # only chains of min_words or more can pass: best first, then by position
    order = sorted(np.flatnonzero(best_a >= config.min_words).tolist(),
                   key=lambda i: (-best[i], runs[i][0]))  # fmt: skip

    # 4. accept the best chain that passes the tests
    for i in order[:_MAX_TRIED]:
        matched = best[i]
        last = runs[i]
        j = i
        while back[j] != -1:
            j = back[j]
        first = runs[j]
        a, b = first[0], last[1] + k  # later copy, words [a, b)
        sa, sb = a - first[2], b - last[2]  # earlier copy
        if matched < config.min_density * (b - a):
            continue
        # text that occurs more than max_copies times is the author's template (a menu,
        # a table, a list of offers), not a scrape fault: look at the typical word
        typical = np.median(count[a : b - k + 1]) if b - k + 1 > a else 1
        if typical > config.max_copies:
            continue
        # ... and so is text found three times or more with other text between the copies
        # (a question put to each candidate, a recurring standfirst): a body scraped three
        # times is one copy after another
        if typical >= 3 and a - sb > config.max_gap:
            continue
        # a run that goes on over its own copy repeats a unit as long as its offset: lines
        # of a share bar that differ by a word ("Klicken, um auf Facebook zu teilen") make
        # one of copies so short that min_words of them are four or more near-copies
        if sb > a and 2 * (b - sb) < config.min_words:
            continue
        sim = Indel.normalized_similarity(" ".join(toks[sa:sb]), " ".join(toks[a:b]))
        if sim < config.min_similarity:
            continue
        if _same_substitution_again(toks[sa:sb], toks[a:b]):
            continue
        decided = _decide(text, toks, starts, ends, a, b, sa, sb, matched, sim, config)
        if decided is not None:
            return decided
    return None


def _same_substitution_again(first: list[str], second: list[str]) -> bool:
    """Whether ``second`` differs from ``first`` by one substitution made again and again
    (a settings table for the user, then the same table for the computer: "User" ->
    "CPU" on every row). That is a second instance of the author's template, not a second
    capture: a scraped copy differs by typos (each different) and inserted lines (ads)."""
    subs = [
        (tuple(first[i1:i2]), tuple(second[j1:j2]))
        for tag, i1, i2, j1, j2 in Levenshtein.opcodes(first, second)
        if tag == "replace"
    ]
    if len(subs) < 3:
        return False
    top = max(subs.count(x) for x in set(subs))
    return top >= 3 and 2 * top >= len(subs)


def _decide(text, toks, starts, ends, a, b, sa, sb, matched, sim, config):
    """Snap a found repeat to sentence/paragraph boundaries, grow it over the neighbouring
    units that match fuzzily, and choose which copy to cut. Returns None when the repeat
    does not align with boundaries (then it is a part of longer units, not a scraped copy).
    """
    n = len(toks)
    gap = config.max_gap
    cache: dict[int, bool] = {}

    def boundary(i: int) -> bool:
        if i <= 0 or i >= n:
            return True
        got = cache.get(i)
        if got is None:
            between = text[ends[i - 1] : starts[i]]
            # a paragraph break, or a sentence end before a word that is not lower case
            got = "\n" in between or (
                _SENTENCE_END_RE.search(between + " ") is not None and not text[starts[i]].islower()
            )
            cache[i] = got
        return got

    def snap(i: int, lo: int, hi: int, back_first: bool) -> int | None:
        """The boundary nearest to word ``i`` within ``gap`` words, inside [lo, hi]."""
        for step in range(gap + 1):
            for j in (i - step, i + step) if back_first else (i + step, i - step):
                if lo <= j <= hi and boundary(j):
                    return j
        return None

    def unit_before(i: int, lo: int) -> int | None:
        """Start of the unit that ends at ``i`` (a boundary), if it starts at or after lo."""
        j = i - 1
        while j > lo and not boundary(j):
            j -= 1
        return j if j >= lo and j < i and boundary(j) else None

    def unit_after(i: int, hi: int) -> int | None:
        j = i + 1
        while j < hi and not boundary(j):
            j += 1
        return j if i < j <= hi and boundary(j) else None

    def skippable(x: int, y: int) -> bool:
        """Whether words [x, y) are a line a copy may hold that the other lacks (an ad): up
        to ``gap`` words, or a line of its own up to twice that ("Sign up to our free
        daily newsletter for the latest headlines")."""
        own_line = all(0 < i < n and "\n" in text[ends[i - 1] : starts[i]] for i in (x, y))
        return y - x <= gap or (y - x <= 2 * gap and own_line)

    def similar(x1: int, y1: int, x2: int, y2: int) -> bool:
        one, two = " ".join(toks[x1:y1]), " ".join(toks[x2:y2])
        return Indel.normalized_similarity(one, two) >= config.min_similarity

    def skips(i: int, step, bound: int) -> list[int]:
        """``i``, and where the copy is after skipping one or two units from ``i`` with
        ``step`` (:func:`unit_before` or :func:`unit_after`) that are skippable."""
        out, x = [i], i
        for _ in range(2):
            x = step(x, bound)
            if x is None or not skippable(min(x, i), max(x, i)):
                break
            out.append(x)
        return out

    def grow(s: int, d: int, step, bound_s: int, bound_d: int) -> tuple[int, int] | None:
        """One more unit of each copy that matches, from ``s`` (the earlier copy's edge)
        and ``d`` (the later one's) with ``step`` (:func:`unit_before`: their starts,
        :func:`unit_after`: their ends), either copy first skipping short units: the
        new (s, d), or None."""
        tries = [(s, x) for x in skips(d, step, bound_d)]
        for xs, xd in tries + [(x, d) for x in skips(s, step, bound_s)[1:]]:
            us, ud = step(xs, bound_s), step(xd, bound_d)
            if us is not None and ud is not None and similar(*sorted((us, xs)), *sorted((ud, xd))):
                return us, ud
        return None

    separate = sb <= a  # the earlier copy ends before the later one starts
    a2 = snap(a, sb if separate else 0, b, True)
    sa2 = snap(sa, 0, sb, True)
    b2 = snap(b, a, n, False)
    sb2 = snap(sb, sa, a if separate else n, False)
    if not separate and None not in (b2, sb2) and b2 - sb2 >= config.min_words:
        # the later copy starts inside the earlier one: a body that ends with its headline
        # ("...Tragweite" twice, then the body again), or three copies one after another.
        # What follows the earlier copy is a copy of its end: cut that (the rest of three
        # copies goes in the next round)
        a2, separate = max(a2 or 0, sb2), True
        sa2 = snap(max(0, a2 - (b - sb)), 0, sb2, True)  # where the earlier copy starts then
    if separate and sa2 is not None and a2 is not None:
        # grow both copies backwards over units that match (a typo in a headline), letting
        # either copy skip short lines (an ad between its paragraphs)
        lo = sb2 if sb2 is not None else sb
        while (grown := grow(sa2, a2, unit_before, 0, lo)) is not None:
            sa2, a2 = grown
    if separate and sb2 is not None and b2 is not None and a2 is not None:
        while (grown := grow(sb2, b2, unit_after, a2, n)) is not None:  # ... and forwards
            sb2, b2 = grown
    s_end = sb2 if sb2 is not None else sb
    adjacent = separate and a2 is not None and 0 <= a2 - s_end <= gap
    if a2 is None:
        # a copy glued straight onto the end of another needs no boundary of its own
        if not (separate and sb == a and sa2 is not None):
            return None
        a2 = a
        adjacent = True

    # The earlier copy was cut off (lazy loading) when it stops inside a unit that the later
    # copy goes on with: either exactly at a word, or with the first letters of the next one.
    truncated = False
    if adjacent:
        tail = toks[sb:a2]
        if not tail:
            truncated = not boundary(b)
        elif b + len(tail) < n:
            cont = toks[b : b + len(tail)]
            truncated = (
                cont[:-1] == tail[:-1]
                and cont[-1].startswith(tail[-1])
                and (cont[-1] != tail[-1] or not boundary(b + len(tail)))
            )
    if truncated:
        # the earlier copy was cut off and runs straight into the later, complete copy
        if sa2 is None:
            return None
        cut, keep, reason = (sa2, a2), (a2, b2 if b2 is not None else b), "truncated-copy"
    else:
        if b2 is None:
            return None  # ... and ends at one: this run is part of a longer unit
        start = s_end if adjacent and boundary(s_end) else a2  # take the seam line along
        cut = (start, b2)
        keep = (sa2 if sa2 is not None else sa, s_end)
        reason = "repeat"
        if toks[keep[0] : keep[1]] == toks[a2:b2] and _more_breaks(
            text[starts[keep[0]] : ends[keep[1] - 1]], text[starts[a2] : ends[b2 - 1]]
        ):  # the same words, the later copy with its paragraphs: keep that one
            cut, keep = (keep[0], a2 if start == s_end else s_end), (a2, b2)
    if cut[1] <= cut[0]:
        return None
    cs, ce = _char_span(text, starts, ends, *cut)
    ks = starts[keep[0]]
    ke = ends[max(keep[1], keep[0] + 1) - 1]
    return (cs, ce), (ks, ke), sim, cut[1] - cut[0], reason


def _more_breaks(one: str, two: str) -> bool:
    """Whether ``two`` has more paragraph breaks than ``one``: blank lines, or lines
    where neither has a blank line."""
    blank_one, blank_two = len(BLANK_LINE_RE.findall(one)), len(BLANK_LINE_RE.findall(two))
    if blank_one or blank_two:
        return blank_two > blank_one
    return two.count("\n") > one.count("\n")


def _char_span(text: str, starts: list[int], ends: list[int], x: int, y: int) -> tuple[int, int]:
    """Character span of words [x, y) with their punctuation, and the whitespace after
    them when the span starts a line."""
    n = len(starts)
    cs = starts[x]
    floor = ends[x - 1] if x > 0 else 0
    while cs > floor and not text[cs - 1].isspace():
        cs -= 1  # opening quotes and brackets
    line = text.rfind("\n", floor, cs) + 1
    if line:  # signs that start the line, before its first word ("© Provided by", "• Share")
        cs = line
    if y >= n:
        return cs, len(text)
    ce = ends[y - 1]
    nxt = starts[y]
    while ce < nxt and not text[ce].isspace():
        ce += 1  # closing punctuation
    eol = text.find("\n", ce, nxt)
    if eol > 0:  # signs that end the line, after its last word ("...below :)")
        ce = eol
    line_start = cs == 0 or text[cs - 1] == "\n"
    while ce < nxt and text[ce].isspace() and (line_start or text[ce] in " \t"):
        ce += 1
    return cs, ce
