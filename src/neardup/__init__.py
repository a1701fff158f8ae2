"""neardup: clean and deduplicate scraped text corpora."""

from __future__ import annotations

from .repair import Repair, RemovedSpan, repair_text

__all__ = ["Repair", "RemovedSpan", "repair_text"]
