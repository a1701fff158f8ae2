"""Real articles from ../shared/data, read in place (never copied into the repo).

``load_articles()`` yields ``Article(source_id, paragraphs)`` for

* the 2,225 BBC News articles (headline as the first paragraph),
* the gold article bodies of the Scrapinghub article-extraction benchmark (181),
* the expected texts of newspaper's test fixtures (157).

Paragraphs are the non-empty lines of the text, whitespace-trimmed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

#: where the shared data lives; override with NEARDUP_SHARED_DATA
SHARED_DATA = Path(
    os.environ.get(
        "NEARDUP_SHARED_DATA", Path(__file__).resolve().parent.parent.parent / "shared" / "data"
    )
)

#: where the benchmarks write corpora and outputs built from the shared data: beside the
#: checkout, never inside it, so that no article text sits in the repository's tree;
#: override with NEARDUP_BENCH_DATA
BENCH_DATA = Path(
    os.environ.get(
        "NEARDUP_BENCH_DATA", Path(__file__).resolve().parent.parent.parent / "neardup-bench-data"
    )
)


@dataclass(frozen=True)
class Article:
    source_id: str
    paragraphs: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


def _paragraphs(text: str) -> tuple[str, ...]:
    return tuple(" ".join(line.split()) for line in text.splitlines() if line.strip())


def available() -> bool:
    return (SHARED_DATA / "bbc-news" / "bbc").is_dir()


def load_articles(
    sources: tuple[str, ...] = ("bbc", "scrapinghub", "newspaper"),
) -> Iterator[Article]:
    if "bbc" in sources:
        for path in sorted((SHARED_DATA / "bbc-news" / "bbc").glob("*/*.txt")):
            text = path.read_text(encoding="utf-8", errors="replace")
            yield Article(f"bbc/{path.parent.name}/{path.stem}", _paragraphs(text))
    if "scrapinghub" in sources:
        gold = SHARED_DATA / "web-pages" / "scrapinghub-articles" / "ground-truth.json"
        if gold.exists():
            for key, value in sorted(json.loads(gold.read_text(encoding="utf-8")).items()):
                yield Article(f"scrapinghub/{key[:12]}", _paragraphs(value["articleBody"]))
    if "newspaper" in sources:
        for path in sorted(
            (SHARED_DATA / "web-pages" / "newspaper" / "data" / "text").glob("*.txt")
        ):
            text = path.read_text(encoding="utf-8", errors="replace")
            yield Article(f"newspaper/{path.stem}", _paragraphs(text))
