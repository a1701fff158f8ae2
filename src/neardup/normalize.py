"""Pure text -> text normalisers.

Two kinds of normalisation live here:

* the conservative steps applied to the text that is written out
  (:func:`normalize_text`, configured by :class:`~neardup.config.NormalizeConfig`),
  each of which keeps the author's characters;
* the aggressive comparison key (:func:`comparison_key`), used only to compare texts:
  case, punctuation, quote style and whitespace are ignored.
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from collections.abc import Callable

from . import dispatch, kernels
from .config import NormalizeConfig
from .shingles import without_separators, words

# C0 and C1 control characters except tab and newline, plus DEL and the BOM
_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufeff]")
# What every fix ftfy applies here needs: UTF-8 decoded as a single-byte encoding turns
# each multi-byte sequence into two or more non-ASCII characters in a row (or a lead
# character then a space or '?' where a byte was lost); C1 controls, terminal escapes and
# surrogates. Text without any of these is returned as it is, without calling ftfy.
# (Three simple patterns scan faster than one alternation.)
_MOJIBAKE_SIGNS = (
    re.compile("[^\x00-\x7f]{2}"),
    re.compile("[\u00c2-\u00f4\u0402-\u045f][ ?]|\ufffd"),
    re.compile("[\x1b\x80-\x9f\ud800-\udfff]"),
)
# every run of non-ASCII characters with the space or '?' after it: the signs above
# all lie inside such runs (or are ESC), so they are searched in the runs only
_NONASCII_RUN_RE = re.compile("[^\x00-\x7f]+[ ?]?")
_C0_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_HSPACE_RE = re.compile("[ \t\xa0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
_SPACE_AROUND_NL_RE = re.compile(" ?\n ?")
_BLANK_LINES_RE = re.compile("\n{3,}")
_UNICODE_SPACE_RE = re.compile("[\xa0\u1680\u2000-\u200a\u202f\u205f\u3000]")
_ENTITY_RE = re.compile(r"&(#\d+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);?")


def fix_mojibake(text: str) -> str:
    """Repair text that was decoded with the wrong encoding (ftfy), keeping quotes,
    ligatures, widths and line breaks as the author wrote them."""
    if not _may_be_mojibake(text):
        return text  # nothing ftfy could fix
    # C0 controls between mojibake bytes hide the mojibake from ftfy, so ftfy reads the
    # text without them (they go with the fix; strip_control removes them otherwise);
    # C1 controls stay, ftfy reads them as the Windows-1252 characters they usually were
    stripped = _C0_RE.sub("", text)
    fixed = dispatch.call("ftfy_fix", stripped)
    return text if fixed == stripped else fixed


def _ftfy_flagged_lines(stripped: str) -> str:
    """ftfy on the lines of ``stripped`` the compiled test flags (the compiled path)."""
    import ftfy

    # ftfy fixes each line on its own (a segment up to and with its line break): only
    # the lines the compiled test flags can change, the others are left as they are
    parts = stripped.split("\n")
    lines = [p + "\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])
    flags = kernels.text_flags(lines).tolist()
    return "".join(
        ftfy.fix_text(line, _ftfy_config()) if f & kernels.FLAG_MOJIBAKE else line
        for line, f in zip(lines, flags, strict=True)
    )


def _ftfy_whole_text(stripped: str) -> str:
    """ftfy on the whole of ``stripped`` (the Python path)."""
    import ftfy

    return ftfy.fix_text(stripped, _ftfy_config())


def _may_be_mojibake(text: str) -> bool:
    """False when ftfy would leave ``text`` as it is: with the compiled loops, exactly
    where ftfy looks (:func:`neardup.kernels.may_be_mojibake`); otherwise when the text
    holds none of the signs of ``_MOJIBAKE_SIGNS``."""
    return dispatch.call("may_be_mojibake", text)


def _mojibake_signs(text: str) -> bool:
    """:func:`_may_be_mojibake` by the signs of ``_MOJIBAKE_SIGNS`` (the Python path)."""
    if "\x1b" in text:
        return True
    if text.isascii():
        return False  # pure ASCII cannot be mojibake
    text = _C0_RE.sub("", text)  # as ftfy will read it
    if _only_lone_separators(text):
        return False  # no sign can be in it
    # one scan for the non-ASCII runs, then the signs in them (joined by NUL, which no
    # sign matches, so no sign spans two runs)
    runs = "\x00".join(_NONASCII_RUN_RE.findall(text))
    return any(sign.search(runs) for sign in _MOJIBAKE_SIGNS)


def _only_lone_separators(text: str) -> bool:
    """True when every non-ASCII character of ``text`` is one of the common separators
    (curly quotes, dashes, pound sign, no-break space, ellipsis) and no two of them are
    next to each other: then none of the mojibake signs can match (none of those
    characters is a lead character, a C1 control, a surrogate or U+FFFD, and two
    non-ASCII characters in a row are what the first sign looks for). Each separator is
    marked with a NUL (one character for one: a NUL already there can only make two
    marks look adjacent, which sends the text to the full check). Never with an ESC."""
    if "\x1b" in text:
        return False
    marked = without_separators(text, "\x00")
    return marked is not None and "\x00\x00" not in marked


def unescape_html(text: str) -> str:
    """Replace HTML entities (``&amp;``, ``&#8217;``) by their characters, repeatedly, so
    that double-escaped scrapes (``&amp;quot;``) come out clean too."""
    if "&" not in text:
        return text
    for _ in range(8):  # each pass that changes anything shortens the text
        if not _ENTITY_RE.search(text):
            break
        new = html.unescape(text)
        if new == text:
            break
        text = new
    return text


def strip_control(text: str) -> str:
    """Remove control characters (except tab and newline) and byte-order marks."""
    return _CONTROL_RE.sub("", text)


def nfc(text: str) -> str:
    """Unicode NFC composition (``e`` + combining acute -> ``é``)."""
    if text.isascii():
        return text
    return unicodedata.normalize("NFC", text)


def collapse_whitespace(text: str) -> str:
    """Unify line breaks, collapse runs of spaces to one, drop spaces at line ends, keep
    at most one blank line between paragraphs, and strip the ends of the text."""
    return dispatch.call("collapse_whitespace", text)


def _collapse_regex(text: str) -> str:
    """:func:`collapse_whitespace` by substring tests and regular expressions (the
    Python path)."""
    if (
        "  " in text
        or " \n" in text
        or "\n " in text
        or "\n\n\n" in text
        or "\t" in text
        or "\r" in text
        or (not text.isascii() and _UNICODE_SPACE_RE.search(text))
    ):
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        text = _HSPACE_RE.sub(" ", text)
        text = _SPACE_AROUND_NL_RE.sub("\n", text)
        text = _BLANK_LINES_RE.sub("\n\n", text)
    return text.strip()


#: Normalisers by name, in the order :func:`normalize_text` applies them.
NORMALIZERS: dict[str, Callable[[str], str]] = {
    "fix_mojibake": fix_mojibake,
    "unescape_html": unescape_html,
    "strip_control": strip_control,
    "nfc": nfc,
    "collapse_whitespace": collapse_whitespace,
}


def normalize_text(text: str, config: NormalizeConfig | None = None) -> str:
    """Apply the enabled conservative normalisers of ``config`` to ``text``."""
    return normalize_and_explain(text, config)[0]


def normalize_and_explain(
    text: str, config: NormalizeConfig | None = None, flags: int | None = None
) -> tuple[str, list[str]]:
    """Like :func:`normalize_text`, also returning the names of the steps that changed
    the text. ``flags``: :func:`neardup.kernels.text_flags` of ``text``, when known."""
    config = config or NormalizeConfig()
    if flags is None:
        flags = dispatch.call("text_flags", text)
    if is_normal(text, config, flags):
        return text, []  # most texts: checked at once instead of step by step
    changed: list[str] = []
    steps = [(name, func) for name, func in NORMALIZERS.items() if getattr(config, name)]
    flagged = text  # the text ``flags`` describe
    # a step can expose work for an earlier one (an entity that decodes to mojibake, a
    # control character removed from between mojibake bytes, a tab after a mojibake lead
    # character turned into the space ftfy reads as a lost byte), so the steps repeat
    # while one of those changes the text (at most three rounds)
    for round_ in range(3):
        if round_ and flags is not None:
            # the flags of the text as the last round left it
            flags, flagged = int(kernels.text_flags([text])[0]), text
            if _normal_by_flags(text, config, flags):
                break  # no step would change it
        again = False
        for name, func in steps:
            quick = _STEP_FLAGS.get(name)
            if quick is not None and flags is not None and text is flagged and not flags & quick:
                continue  # the flags of the text as it is say this step has nothing to do
            new = func(text)
            if new != text:
                if name not in changed:
                    changed.append(name)
                again = again or name in _EXPOSING
                text = new
        if not again:
            break
    return text, changed


def is_normal(text: str, config: NormalizeConfig | None = None, flags: int | None = None) -> bool:
    """True when no enabled step of ``config`` would change ``text`` (a quick test over
    the whole text; False may still turn out to be a text the steps leave as it is).

    With the compiled loops, one pass (:func:`neardup.kernels.text_flags`, or its
    ``flags`` for this text when already computed) tells what each step could act on.
    Otherwise one ``isprintable`` pass (with line breaks read as spaces) rules out what
    ``strip_control`` removes and every whitespace but the space and the line break;
    what ``collapse_whitespace`` does with those two is then plain substring tests."""
    config = config or NormalizeConfig()
    if flags is None:
        flags = dispatch.call("text_flags", text)
    if flags is not None:
        return _normal_by_flags(text, config, flags)
    if not text.replace("\n", " ").isprintable():
        # a control character, a tab, a no-break or other Unicode space, a BOM: the full
        # steps decide (only the enabled steps that deal with those could leave it)
        return False
    if config.unescape_html and "&" in text and _ENTITY_RE.search(text):
        return False
    if config.collapse_whitespace and (
        "  " in text or " \n" in text or "\n " in text or "\n\n\n" in text
        or text.strip() != text
    ):  # fmt: skip
        return False
    if text.isascii():
        return True  # no mojibake (no ESC: it is a control character), already NFC
    if config.nfc and not unicodedata.is_normalized("NFC", text):
        return False
    return not (config.fix_mojibake and _may_be_mojibake(text))


def _flags_compiled(text: str) -> int:
    """:func:`neardup.kernels.text_flags` of ``text`` (the compiled path)."""
    return int(kernels.text_flags([text])[0])


def _no_flags(text: str) -> None:
    """The Python path computes no flags: :func:`is_normal` and the steps test the
    text themselves."""
    return None


def _normal_by_flags(text: str, config: NormalizeConfig, flags: int) -> bool:
    """:func:`is_normal` from the :func:`neardup.kernels.text_flags` of ``text``."""
    if flags & kernels.FLAG_SPACE:
        return False  # what strip_control or collapse_whitespace act on: the steps decide
    if config.unescape_html and flags & kernels.FLAG_AMP and _ENTITY_RE.search(text):
        return False
    if config.collapse_whitespace and (flags & kernels.FLAG_LAYOUT or text.strip() != text):
        return False
    if not flags & kernels.FLAG_NONASCII:
        return True  # no mojibake (no escape: it is flagged above), already NFC
    if config.nfc and flags & kernels.FLAG_NFC and not unicodedata.is_normalized("NFC", text):
        return False
    return not (config.fix_mojibake and flags & kernels.FLAG_MOJIBAKE)


#: what a step acts on, as :func:`neardup.kernels.text_flags` reports it
_STEP_FLAGS = {
    "fix_mojibake": kernels.FLAG_MOJIBAKE,
    "unescape_html": kernels.FLAG_AMP,
    "strip_control": kernels.FLAG_SPACE,
    "nfc": kernels.FLAG_NFC,
}

#: steps whose changes can give an earlier step new work
_EXPOSING = frozenset({"unescape_html", "strip_control", "collapse_whitespace"})


def comparison_key(text: str) -> str:
    """The aggressive key two texts are compared on: case-folded words joined by single
    spaces (punctuation, quotes and whitespace ignored). Repair and dedup compare these
    words; dedup's exact-duplicate key is a hash of this string."""
    return " ".join(words(text))


@functools.lru_cache(maxsize=1)
def _ftfy_config():  # built lazily: importing ftfy costs tens of milliseconds
    import ftfy

    return ftfy.TextFixerConfig(
        unescape_html=False,
        fix_latin_ligatures=False,
        fix_character_width=False,
        uncurl_quotes=False,
        fix_line_breaks=False,
        remove_control_chars=False,
        normalization=None,
        explain=False,
    )
