"""Stages wired together. Each stage is a function over batches, so the local engine and
a distributed engine can both call it."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass

from .config import CleanConfig
from .document import Document
from .engines import map_ordered
from .errors import NeardupError
from .io import Reject, detect_format, open_writer, read_documents
from .repair import Repair, repair_text

#: documents per batch sent to a worker process
BATCH_SIZE = 256


def clean_batch(texts: Sequence[str], config: CleanConfig) -> list[Repair]:
    """The clean stage over one batch of texts: normalise, then repair repeats."""
    return [repair_text(text, config) for text in texts]


def clean_documents(
    items: Iterable[Document | Reject],
    config: CleanConfig | None = None,
    workers: int = 1,
    batch_size: int = BATCH_SIZE,
) -> Iterator[tuple[Document | Reject, Repair | None]]:
    """Stream ``(item, repair)`` pairs in input order; ``repair`` is None for rejects.

    Memory stays flat: at most a few batches per worker are in flight.
    """
    config = config or CleanConfig()
    batches = _batched(items, batch_size)
    func = functools.partial(clean_batch, config=config)
    for batch, repairs in map_ordered(func, batches, workers, with_input=True, arg=_texts):
        it = iter(repairs)
        for item in batch:
            yield item, (None if isinstance(item, Reject) else next(it))


def _texts(batch: list[Document | Reject]) -> list[str]:
    return [i.text for i in batch if isinstance(i, Document)]


def _batched(items: Iterable, size: int) -> Iterator[list]:
    it = iter(items)
    while batch := list(itertools.islice(it, size)):
        yield batch


@dataclass
class CleanStats:
    """Counters of a clean run. ``read == written + rejected`` always holds."""

    read: int = 0
    written: int = 0
    rejected: int = 0
    repaired: int = 0
    normalized: int = 0
    spans_removed: int = 0
    chars_removed: int = 0

    def check(self) -> None:
        if self.read != self.written + self.rejected:  # pragma: no cover - a bug if it fires
            raise NeardupError(
                f"internal error: read {self.read} != written {self.written} + rejected "
                f"{self.rejected}; please report this"
            )

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


def run_clean(
    inputs: Sequence[str],
    output: str,
    config: CleanConfig | None = None,
    *,
    input_format: str | None = None,
    output_format: str | None = None,
    text_field: str = "text",
    id_field: str = "id",
    workers: int = 1,
    rejects: str | None = None,
    audit: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> CleanStats:
    """Read ``inputs``, clean every document and write ``output``.

    Bad records stop the run with :class:`~neardup.errors.InputError` (naming file and
    line) unless ``rejects`` names a JSONL file to set them aside in. ``audit`` names a
    JSONL file that gets one line per repaired document with the removed spans. Outputs
    appear only when complete (written under a temporary name, then renamed).
    """
    config = config or CleanConfig()
    formats = {detect_format(p, input_format) for p in inputs}
    default_out = formats.pop() if len(formats) == 1 else "jsonl"
    stats = CleanStats()
    items = itertools.chain.from_iterable(
        read_documents(p, input_format, text_field, id_field) for p in inputs
    )
    writers = []
    try:
        out = open_writer(output, output_format, default=default_out)
        writers.append(out)
        reject_out = open_writer(rejects, "jsonl") if rejects else None
        audit_out = open_writer(audit, "jsonl") if audit else None
        writers += [w for w in (reject_out, audit_out) if w is not None]
        for item, rep in clean_documents(items, config, workers):
            stats.read += 1
            if isinstance(item, Reject):
                if reject_out is None:
                    raise item.error()
                reject_out.write(item.to_dict())
                stats.rejected += 1
            else:
                assert rep is not None
                record = item.record
                record[text_field] = rep.text
                out.write(record, text_field, item.id)
                stats.written += 1
                if rep.normalized:
                    stats.normalized += 1
                if rep.removed:
                    stats.repaired += 1
                    stats.spans_removed += len(rep.removed)
                    stats.chars_removed += sum(s.end - s.start for s in rep.removed)
                    if audit_out is not None:
                        audit_out.write(audit_record(item, rep))
            if progress is not None:
                progress(1)
        stats.check()
    except BaseException:
        for w in writers:
            w.abort()
        raise
    for w in writers:
        w.close()
    return stats


def audit_record(doc: Document, rep: Repair, doc_id: str | None = None) -> dict:
    """The audit line of one repaired document (``doc_id`` when it was renamed)."""
    return {
        "id": doc_id or doc.id,
        "file": doc.path,
        "line": doc.line,
        "removed": [s.to_dict() for s in rep.removed],
        "normalized": list(rep.normalized),
    }
