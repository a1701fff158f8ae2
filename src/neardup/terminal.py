"""What reaches a terminal: text from the input (ids, field values, file names) with its
control characters made visible, so that a record cannot move the cursor, retitle the
window or hide text (OSC and CSI sequences, bidirectional overrides). A leaf module."""

from __future__ import annotations

import re

# C0 and C1 controls, DEL, and the bidirectional formatting characters (U+200E/F,
# U+202A-E, U+2066-9) that reorder what a terminal shows
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_CONTROL_BUT_LINES = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)


def _escape(match: re.Match) -> str:
    c = match.group()
    return f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}"


def safe(text: str) -> str:
    """``text`` on one line with every control character escaped (``\\x1b``): for ids,
    file names and field values."""
    text = _CONTROL.sub(_escape, text)
    # a lone surrogate cannot be printed: its escape, as repr() writes it
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
