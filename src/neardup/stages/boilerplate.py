"""Stage 2 of a dedup run: what is left out of the comparison. Paragraphs that many
documents carry around different text (site footers, disclaimers) are corpus boilerplate;
with site boilerplate on, so are the lines each site repeats on many of its pages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..clusters import first_copies
from ..config import DedupConfig, SiteConfig
from ..sites import CopyFinder, SiteBoilerplate, SiteCounter
from ..stagerun import Stage
from .ingest import FeatureStore

#: documents a :class:`~neardup.sites.CopyFinder` is fed at a time
_COPY_CHUNK = 4096
#: stage 2's outputs in the work directory (its marker: ``boilerplate.done.json``)
OUTPUTS = ("boilerplate.npz",)


class Boilerplate(NamedTuple):
    """What stage 2 gives the later stages."""

    active: np.ndarray  # the first document of each exact key (the others are copies)
    learned: set[int]  # boilerplate paragraphs learned from this batch
    paragraphs: set[int]  # those and the index's: left out of the comparison
    site_lines: SiteBoilerplate | None  # each site's boilerplate lines (site boilerplate on)


def find_boilerplate(
    store: FeatureStore,
    config: DedupConfig,
    index,
    site: SiteConfig | None,
    doc_sites: Sequence[str | None],
    stats,
    stage: Stage,
) -> Boilerplate:
    """Stage 2: exact keys, boilerplate paragraphs (and the index's) and site lines
    learned, or read back from the work directory when ``stage`` resumes (never with an
    index: its boilerplate may have changed). ``stats``: the run's
    :class:`~neardup.dedup.DedupStats`."""
    n = len(store)
    settings = None if index is not None else {
        "min_docs": config.boilerplate_min_docs, "min_share": config.boilerplate_min_share,
        "min_rest_words": config.boilerplate_min_rest_words,
        "site": asdict(site) if site is not None else None,
    }  # fmt: skip
    got = stage.run(
        settings, lambda: _find(store, config, index, site, doc_sites),
        lambda boiler: _save(stage.work, boiler), lambda info: _load(stage.work, info, n),
        OUTPUTS,
    )  # fmt: skip
    stats.boilerplate_paragraphs = len(got.paragraphs)
    if got.site_lines is not None:
        stats.site_boilerplate = got.site_lines.summary()
    return got


def _find(
    store: FeatureStore,
    config: DedupConfig,
    index,
    site: SiteConfig | None,
    doc_sites: Sequence[str | None],
) -> Boilerplate:
    """:func:`find_boilerplate`'s work."""
    n = len(store)
    active = first_copies(store.keys) == np.arange(n)  # the first document of each key
    learned = boilerplate_paragraphs(store, active, config)
    boiler = learned | index.boilerplate() if index is not None else learned
    site_lines = None
    if site is not None and len(doc_sites) == n:
        counter = SiteCounter(site)
        for i in range(n):
            counter.add(doc_sites[i], store.doc_paras(i)[0])
        site_lines = counter.finish()
    return Boilerplate(active, learned, boiler, site_lines)


def _save(work: Path, boiler: Boilerplate) -> dict:
    """Stage 2's results to ``boilerplate.npz``; what else its marker holds."""
    lines = boiler.site_lines

    def hashes(values: set[int]) -> np.ndarray:
        return np.array(sorted(values), dtype=np.uint64)

    np.savez(
        work / OUTPUTS[0], active=boiler.active, learned=hashes(boiler.learned),
        paragraphs=hashes(boiler.paragraphs),
        site_keys=lines.keys if lines is not None else np.zeros(0, np.uint64),
        site_counts=lines.counts if lines is not None else np.zeros(0, np.int64),
    )  # fmt: skip
    if lines is None:
        return {"site": None}
    return {"site": {"sites": lines.sites, "site_docs": list(lines.site_docs),
                     "copies": lines.copies, "pruned": lines.pruned}}  # fmt: skip


def _load(work: Path, info: dict, n: int) -> Boilerplate | None:
    """Stage 2's results as :func:`_save` left them (None: not for ``n`` documents)."""
    with np.load(work / OUTPUTS[0]) as data:
        active = data["active"]
        if active.shape != (n,) or active.dtype != bool:
            return None
        site, lines = info["site"], None
        if site is not None:
            lines = SiteBoilerplate(data["site_keys"], data["site_counts"], site["sites"],
                                    site["site_docs"], site["copies"], site["pruned"])  # fmt: skip
        learned = set(data["learned"].tolist())
        return Boilerplate(active, learned, set(data["paragraphs"].tolist()), lines)


def boilerplate_paragraphs(
    store: FeatureStore, active: np.ndarray, config: DedupConfig
) -> set[int]:
    """Hashes of paragraphs that are corpus boilerplate (see :class:`DedupConfig`).

    Counted over the ``active`` documents (exact duplicates count once), in distinct
    stories: a document whose set of rarer paragraphs resembles an earlier one's
    (:class:`~neardup.sites.CopyFinder`) is a republished copy and counts nothing, so a
    paragraph that three stories and their copies share is not taken for boilerplate.
    """
    active_docs = np.flatnonzero(active)
    if not len(active_docs):
        return set()
    # (document, paragraph hash) of every paragraph of the active documents
    off = np.asarray(store.para_off)
    starts, sizes = off[active_docs], off[active_docs + 1] - off[active_docs]
    rows = np.repeat(starts - np.cumsum(sizes) + sizes, sizes) + np.arange(int(sizes.sum()))
    flat = np.asarray(store.para_hash)[rows]
    owner = np.repeat(active_docs, sizes)
    if not len(flat):
        return set()
    # copies are found by their rarer paragraphs (in fewer than min_docs documents): two
    # short stories under one long multi-paragraph footer are not copies of each other;
    # a document with no rarer paragraph (a live blog's version) by all of its own
    doc_of_row = np.repeat(np.arange(len(active_docs)), sizes)
    order = np.lexsort((owner, flat))
    once = np.ones(len(flat), dtype=bool)
    once[1:] = (flat[order][1:] != flat[order][:-1]) | (owner[order][1:] != owner[order][:-1])
    seen, seen_counts = np.unique(flat[order][once], return_counts=True)
    rare = ~np.isin(flat, seen[seen_counts >= config.boilerplate_min_docs])
    has_rare = np.bincount(doc_of_row[rare], minlength=len(active_docs)) > 0
    use = rare | ~has_rare[doc_of_row]
    used_flat, used_sizes = flat[use], np.bincount(doc_of_row[use], minlength=len(active_docs))
    copy = np.zeros(len(active_docs), dtype=bool)
    finder = CopyFinder()
    bounds = np.concatenate(([0], np.cumsum(used_sizes)))
    with_paras = np.flatnonzero(used_sizes > 0)
    for lo in range(0, len(with_paras), _COPY_CHUNK):
        sel = with_paras[lo : lo + _COPY_CHUNK]
        chunk = used_flat[bounds[sel[0]] : bounds[sel[-1] + 1]]
        copy[sel] = finder.of(chunk, used_sizes[sel], np.zeros(len(sel), dtype=np.uint64))
    # a paragraph's count: the counted documents (not copies) that hold it, once each
    counted = ~np.repeat(copy, sizes)
    c_flat, c_owner = flat[counted], owner[counted]
    order = np.lexsort((c_owner, c_flat))
    c_flat, c_owner = c_flat[order], c_owner[order]
    first = np.ones(len(c_flat), dtype=bool)
    first[1:] = (c_flat[1:] != c_flat[:-1]) | (c_owner[1:] != c_owner[:-1])
    uniq, counts = np.unique(c_flat[first], return_counts=True)
    min_docs = max(
        config.boilerplate_min_docs,
        int(np.ceil(config.boilerplate_min_share * int((~copy).sum()))),
    )
    common_hashes = uniq[counts >= min_docs]
    if not len(common_hashes):
        return set()
    # for every document holding a common paragraph: its words outside all its common
    # paragraphs (a page that is a template with a path and a date filled in has few);
    # a common paragraph is boilerplate when the median of its documents' is high enough
    in_common = np.isin(flat, common_hashes)
    doc_i = np.repeat(np.arange(len(active_docs)), sizes)
    row_words = np.asarray(store.para_words)[rows].astype(np.float64)
    common_words = np.bincount(doc_i, weights=row_words * in_common, minlength=len(active_docs))
    outside = np.asarray(store.words)[active_docs] - common_words
    h, d = flat[in_common], doc_i[in_common]
    order = np.lexsort((d, h))
    h, d = h[order], d[order]
    once = np.ones(len(h), dtype=bool)
    once[1:] = (h[1:] != h[:-1]) | (d[1:] != d[:-1])
    h, values = h[once], outside[d[once]]
    order = np.lexsort((values, h))
    h, values = h[order], values[order]
    starts = np.flatnonzero(np.concatenate(([True], h[1:] != h[:-1])))
    counts = np.diff(np.append(starts, len(h)))
    median = (values[starts + (counts - 1) // 2] + values[starts + counts // 2]) / 2
    return set(h[starts][median >= config.boilerplate_min_rest_words].tolist())
