"""Stages wired together. Each stage is a function over batches, so the local engine and
a distributed engine can both call it."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from . import kernels
from .config import CleanConfig, SiteConfig
from .document import Document
from .engines import fewer_collections, map_ordered, open_engine
from .errors import NeardupError
from .io import Reject, default_output_format, open_writer, read_texts
from .io.formats import check_paths
from .io.remote import with_uris
from .repair import Repair, repair_text

if TYPE_CHECKING:
    from .sites import LineTable

#: documents per batch sent to a worker process
BATCH_SIZE = 256


def clean_batch(texts: Sequence[str], config: CleanConfig) -> list[Repair]:
    """The clean stage over one batch of texts: normalise, then repair repeats."""
    return [repair_text(text, config) for text in texts]


def clean_batch_lines(texts: Sequence[str], config: CleanConfig) -> list[tuple[Repair, LineTable]]:
    """:func:`clean_batch`, each repair with the lines of its text (for site learning,
    computed in the worker)."""
    from .sites import line_table

    return [(rep, line_table(rep.text)) for rep in clean_batch(texts, config)]


def clean_documents(
    items: Iterable[Document | Reject],
    config: CleanConfig | None = None,
    workers: int = 1,
    batch_size: int = BATCH_SIZE,
    func: Callable | None = None,
    pool=None,
) -> Iterator[tuple[Document | Reject, Repair | None]]:
    """Stream ``(item, repair)`` pairs in input order; ``repair`` is None for rejects.

    Memory stays flat: at most a few batches per worker are in flight. ``func``: another
    batch function than :func:`clean_batch` (same arguments). ``pool``: an engine's pool
    to run on (:func:`~neardup.engines.open_engine`).
    """
    config = config or CleanConfig()
    batches = _batched(items, batch_size)
    func = functools.partial(func or clean_batch, config=config)
    for batch, repairs in map_ordered(
        func, batches, workers, with_input=True, arg=_texts, pool=pool
    ):
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
    """Counters of a clean run. ``read == written + rejected`` always holds; ``skipped``
    of the rejected are crawl records that are not pages, counted by reason."""

    read: int = 0
    written: int = 0
    rejected: int = 0
    skipped: int = 0
    skipped_reasons: dict[str, int] = field(default_factory=dict)
    site_documents: int = 0  # documents that lost site boilerplate lines
    site_lines_removed: int = 0
    site_boilerplate: dict = field(default_factory=dict)  # what was learned (summary)
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

    def to_dict(self) -> dict:
        return asdict(self)


def count_reject(stats, item: Reject, write: Callable[[dict], object] | None) -> None:
    """Count a rejected record (and a skip by its reason) and set it aside with
    ``write`` (the rejects file); without one, a bad record stops the run (a skip never
    does)."""
    if write is None and not item.skipped:
        raise item.error()
    if write is not None:
        write(item.to_dict())
    stats.rejected += 1
    if item.skipped:
        stats.skipped += 1
        stats.skipped_reasons[item.kind] = stats.skipped_reasons.get(item.kind, 0) + 1


@with_uris(("output", "rejects", "audit"))
@fewer_collections()
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
    site: SiteConfig | None = None,
    engine: str = "local",
    ray_address: str | None = None,
) -> CleanStats:
    """Read ``inputs``, clean every document and write ``output``.

    Bad records stop the run with :class:`~neardup.errors.InputError` (naming file and
    line) unless ``rejects`` names a JSONL file to set them aside in. ``audit`` names a
    JSONL file that gets one line per changed document with the removed spans. Outputs
    appear only when complete (written under a temporary name, then renamed).

    ``site``: also learn each site's boilerplate lines (:mod:`neardup.sites`) and remove
    them. That takes two passes: the repaired documents wait in a temporary file while
    the lines are counted.

    ``engine``, ``ray_address``: where the batches are repaired, as for
    :func:`~neardup.dedup.run_dedup` (the output is the same).
    """
    config = config or CleanConfig()
    check_paths(inputs, [output, rejects, audit])
    default_out = default_output_format(inputs, input_format)
    stats = CleanStats()
    if workers > 1:
        kernels.warm()  # compiled before the workers are forked, which then share it
    # pages are extracted by ``workers`` local processes (the engine's workers can be
    # a Ray cluster's CPUs, more than this machine has)
    items = read_texts(inputs, input_format, text_field, id_field, workers)
    writers = []
    workers_of = open_engine(engine, workers, ray_address)
    workers, pool = workers_of.workers, workers_of.pool
    try:
        out = open_writer(output, output_format, default=default_out)
        writers.append(out)
        reject_out = open_writer(rejects, "jsonl") if rejects else None
        audit_out = open_writer(audit, "jsonl") if audit else None
        writers += [w for w in (reject_out, audit_out) if w is not None]

        def emit(doc: Document, rep: Repair, text: str, site_removed: list[dict]) -> None:
            record = doc.record
            record[text_field] = text
            out.write(record, text_field, doc.id)
            stats.written += 1
            if rep.normalized:
                stats.normalized += 1
            if rep.removed:
                stats.repaired += 1
                stats.spans_removed += len(rep.removed)
                stats.chars_removed += sum(s.end - s.start for s in rep.removed)
            if site_removed:
                stats.site_documents += 1
                stats.site_lines_removed += len(site_removed)
            if audit_out is not None and (rep.removed or site_removed or rep.skipped):
                line = audit_record(doc, rep)
                line["removed"] += site_removed
                audit_out.write(line)

        if site is not None:
            with_lines = clean_documents(items, config, workers, func=clean_batch_lines,
                                         pool=pool)  # fmt: skip
            cleaned = _with_site_boilerplate(with_lines, site, stats)
        else:
            cleaned = clean_documents(items, config, workers, pool=pool)
        for item, rep, *rest in cleaned:
            stats.read += 1
            if isinstance(item, Reject):
                count_reject(stats, item, reject_out.write if reject_out else None)
            else:
                assert rep is not None
                text, site_removed = rest if rest else (rep.text, [])
                emit(item, rep, text, site_removed)
            if progress is not None:
                progress(1)
        stats.check()
    except BaseException:
        workers_of.close(cancel=True)
        for w in writers:
            w.abort()
        raise
    workers_of.close()
    for w in writers:
        w.close()
    return stats


def _with_site_boilerplate(cleaned, site: SiteConfig, stats: CleanStats):
    """Pass 1: spool every cleaned item with its lines and count the lines of each site;
    pass 2: yield ``(item, repair, text without the site's boilerplate lines, removed
    lines)``."""
    import pickle
    import tempfile

    import numpy as np

    from .sites import SiteCounter, site_of

    counter = SiteCounter(site)
    with tempfile.TemporaryFile(prefix="neardup-sites-") as spool:

        def dump(entry: tuple) -> None:
            pickle.dump(entry, spool, pickle.HIGHEST_PROTOCOL)

        # plain tuples and bytes: pickling dataclasses and small arrays costs ~50 us/doc
        for item, got in cleaned:
            if isinstance(item, Reject):
                dump((item,))
                continue
            rep, (spans, hashes) = got
            where = site_of(item.record, site.field)
            counter.add(where, hashes)
            entry = (item.id, item.record, item.path, item.line, where, rep.text,
                     rep.removed, rep.normalized, rep.skipped, spans.tobytes(),
                     hashes.tobytes())  # fmt: skip
            dump(entry)
        learned = counter.finish()
        stats.site_boilerplate = learned.summary()
        spool.seek(0)
        while True:
            try:
                entry = pickle.load(spool)
            except EOFError:
                return
            if len(entry) == 1:
                yield entry[0], None
                continue
            doc_id, record, path, line, where, text, removed, normalized, skipped, spans, hashes = (
                entry
            )
            doc = Document(doc_id, text, record, path, line)
            rep = Repair(text, removed, normalized, skipped)
            lines = (
                np.frombuffer(spans, dtype=np.int64).reshape(-1, 2),
                np.frombuffer(hashes, dtype=np.uint64),
            )
            out, cut = learned.strip(text, where, lines)
            yield doc, rep, out, cut


def audit_record(doc: Document, rep: Repair, doc_id: str | None = None) -> dict:
    """The audit line of one repaired document, or of one repair passed over (with
    ``repair_skipped``: why), ``doc_id`` when it was renamed."""
    return {
        "id": doc_id or doc.id,
        "file": doc.path,
        "line": doc.line,
        "removed": [s.to_dict() for s in rep.removed],
        "normalized": list(rep.normalized),
    } | ({"repair_skipped": rep.skipped} if rep.skipped else {})
