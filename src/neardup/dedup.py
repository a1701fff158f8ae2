"""Corpus deduplication: exact and near-duplicate clusters, one kept per cluster.

:func:`run_dedup` runs the stages in order, each a module of :mod:`neardup.stages`:

1. :mod:`~neardup.stages.ingest` (workers): repair each text, cut it into words and
   paragraphs, hash the exact key, the paragraphs and the word n-gram shingles
   (``stage1_lines`` parses the lines of JSONL input first, in the workers too).
2. :mod:`~neardup.stages.boilerplate`: paragraphs that many documents carry around
   different text (site footers, disclaimers) are left out of the comparison.
3. :mod:`~neardup.stages.signatures` (workers, a block of documents each): content
   shingles outside boilerplate, ``signatures.minhash_many`` -> ``candidates.band_keys``.
4. :mod:`~neardup.stages.candidates`: ``candidates.candidate_codes``: pairs that share a
   band (and pairs with the documents of an index).
5. :mod:`~neardup.stages.verify`: true Jaccard / containment on the content shingles of
   every pair, and the second look on the texts of the near misses.
6. :mod:`~neardup.stages.cluster`: union-find over exact and verified edges
   (:mod:`neardup.clusters`), keep policy, and the guard against chaining (each member
   must be close to the kept document itself).
7. :mod:`~neardup.stages.write`: kept and removed records, clusters.

Each stage runs in one context (:mod:`neardup.stagerun`) that times it and, with a
``workdir`` of the caller's, reads it back from its marker there instead of running it
when its inputs and settings are those of the run that left it.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from . import kernels
from .candidates import lsh_params
from .clusters import Decision, KeyFunc, keep_policy
from .config import CleanConfig, DedupConfig, SiteConfig
from .engines import fewer_collections, open_engine
from .errors import ConfigError, NeardupError
from .index import Index
from .io import default_output_format, open_writer
from .io.formats import check_paths
from .io.paths import is_uri
from .io.remote import with_uris
from .stagerun import Stages
from .stages.boilerplate import boilerplate_paragraphs, find_boilerplate
from .stages.candidates import Candidates, candidate_pairs
from .stages.cluster import decide_clusters
from .stages.ingest import (
    BATCH_SIZE,
    DocMeta,
    FeatureBatch,
    Features,
    FeatureStore,
    _Stage1,
    features,
    features_batch,
    ingest,
    stage1_lines,
)
from .stages.signatures import (
    LEAD_SHINGLES,
    ContentJob,
    content_block,
    content_of,
    content_signatures,
)
from .stages.verify import verify_stage
from .stages.write import _append_fields, _BlobFile, _cluster_line, _CopyWriter, write_outputs

if TYPE_CHECKING:
    from .engines import LocalEngine
    from .engines.ray import RayEngine

# this module's names, and the stages' names that callers, tests and scripts import from here
__all__ = [
    "BATCH_SIZE",
    "LEAD_SHINGLES",
    "ContentJob",
    "DedupStats",
    "DocMeta",
    "FeatureBatch",
    "FeatureStore",
    "Features",
    "_append_fields",
    "_cluster_line",
    "boilerplate_paragraphs",
    "content_block",
    "content_of",
    "features",
    "features_batch",
    "run_dedup",
    "stage1_lines",
]


@dataclass
class DedupStats:
    """Counters of a dedup run: ``read == kept + removed + rejected``."""

    read: int = 0
    kept: int = 0
    removed: int = 0
    rejected: int = 0
    skipped: int = 0  # of the rejected: crawl records that are not pages
    skipped_reasons: dict[str, int] = field(default_factory=dict)
    exact_removed: int = 0
    near_removed: int = 0
    contained_removed: int = 0
    clusters: int = 0
    repaired: int = 0
    candidate_pairs: int = 0
    verified_pairs: int = 0
    rejected_pairs: int = 0
    prefiltered_pairs: int = 0  # of the rejected: by MinHash estimate, unread (prefilter)
    boilerplate_paragraphs: int = 0
    resumed: bool = False  # stage 1 was read back from the work directory
    resumed_stages: list[str] = field(default_factory=list)  # all those read back (stagerun)
    index_documents: int = 0  # documents of the persistent index compared with this batch
    index_removed: int = 0  # documents removed as duplicates of an index document
    index_batch: int = 0  # the batch number this run added to the index (0: none)
    site_documents: int = 0  # kept documents that lost site boilerplate lines
    site_lines_removed: int = 0
    site_boilerplate: dict = field(default_factory=dict)  # what was learned (summary)
    bands: int = 0
    rows: int = 0
    keep_field_records: int | None = None  # with keep field:NAME: records that have NAME
    seconds: dict[str, float] = field(default_factory=dict)

    def check(self) -> None:
        if self.read != self.kept + self.removed + self.rejected:  # pragma: no cover
            raise NeardupError(
                f"internal error: read {self.read} != kept {self.kept} + removed "
                f"{self.removed} + rejected {self.rejected}; please report this"
            )

    def to_dict(self) -> dict:
        return asdict(self)


@with_uris(("kept", "removed", "clusters_out", "repairs_out", "stats_out", "pairs_out", "rejects",
            "site_out"), local_only=("workdir", "index"))  # fmt: skip
@fewer_collections()
def run_dedup(
    inputs: Sequence[str],
    *,
    kept: str,
    removed: str | None = None,
    clusters_out: str | None = None,
    repairs_out: str | None = None,
    stats_out: str | None = None,
    pairs_out: str | None = None,
    config: DedupConfig | None = None,
    clean: CleanConfig | None = None,
    write_repaired: bool = False,
    input_format: str | None = None,
    output_format: str | None = None,
    text_field: str = "text",
    id_field: str = "id",
    workers: int = 1,
    rejects: str | None = None,
    dedupe_ids: bool = False,
    workdir: str | None = None,
    keep: str | KeyFunc | None = None,
    progress: Callable[[int], None] | None = None,
    index: str | os.PathLike | None = None,
    update: bool = False,
    lock_timeout: float = 30.0,
    site: SiteConfig | None = None,
    site_out: str | None = None,
    engine: str = "local",
    ray_address: str | None = None,
) -> DedupStats:
    """Deduplicate the documents of ``inputs``; see the module doc for the stages.

    ``kept`` receives the kept records (as they came, or with the repaired text when
    ``write_repaired``); ``removed`` the removed records with ``duplicate_of``,
    ``cluster``, ``similarity`` and ``reason``; ``clusters_out`` one line per cluster;
    ``pairs_out`` every scored pair (``.npz``, for what-if reports). The records travel
    through a spool file in ``workdir`` (a temporary directory by default), so standard
    input works and memory holds only per-document features. A later run with the same
    ``workdir`` resumes every stage whose inputs and settings are unchanged
    (:mod:`neardup.stagerun`; ``stats.resumed_stages`` names them).

    ``index`` (a file made by :meth:`neardup.index.Index.create`): also compare with the
    documents kept before; a document that duplicates one of them is removed with
    ``duplicate_of`` its id (index documents are never removed, whatever the keep
    policy). ``update`` adds this batch's kept documents to the index, in one
    transaction, once the outputs are written (waiting up to ``lock_timeout`` seconds
    for another writer).

    ``site``: learn each site's boilerplate lines (:mod:`neardup.sites`) and compare
    documents without them; with ``write_repaired`` the kept texts lose them too, and
    ``site_out`` (JSONL) gets one line per such document with the lines removed and their
    frequency on the site.

    ``engine``: where the per-batch work of stages 1 and 3 runs (:func:`~neardup.engines.
    open_engine`): ``local`` (``workers`` processes) or ``ray`` (a local Ray on
    ``workers`` cores, or the cluster at ``ray_address`` / ``RAY_ADDRESS``). The outputs
    are the same.

    Inputs and outputs may be URIs (``s3://``, ``gs://``, ...; :mod:`neardup.io.remote`):
    URI outputs are written locally and uploaded once the run finished.
    """
    config = config or DedupConfig()
    clean = clean or CleanConfig()
    check_paths(inputs, [kept, removed, clusters_out, repairs_out, stats_out, pairs_out,
                         rejects, site_out], workdir)  # fmt: skip
    keep_spec = keep if keep is not None else config.keep
    policy = keep_policy(keep_spec)
    fields_spec = _policy_fields(keep_spec)
    if update and index is None:
        raise ConfigError("update needs an index (pass --index FILE)")
    stats = DedupStats()
    with _resources(inputs, input_format, index, update, lock_timeout, config, clean, workdir,
                    workers, engine, ray_address) as run:  # fmt: skip
        workers, pool = run.engine.workers, run.engine.pool
        # each stage timed, and resumed from its marker where it can (neardup.stagerun)
        stages = Stages(stats, run.work, run.resumable and run.idx is None)
        # the comparison keys are kept for the texts' second look at near misses
        settings = _Stage1(
            clean, config.ngram, config.verify in ("fuzzy", "containment"), text_field,
            id_field, fields_spec, site.field if site is not None else None, write_repaired,
        )  # fmt: skip
        with stages("ingest", seconds="read_clean_features", start=run.t0) as stage:
            docs = ingest(
                inputs, settings, input_format=input_format, dedupe_ids=dedupe_ids,
                with_sites=site is not None, work=run.work, resumable=run.resumable,
                index=run.idx, update=update, workers=workers, pool=pool, rejects=rejects,
                progress=progress, stats=stats,
            )  # fmt: skip
            stage.fingerprint, stage.resumed = docs.fingerprint, stats.resumed
            for target, source in ((rejects, "rejects.jsonl"), (repairs_out, "repairs.jsonl")):
                if target:
                    run.writers.append(_CopyWriter(target, run.work / source))
        with stages("boilerplate", after="ingest") as stage:
            boiler = find_boilerplate(docs.store, config, run.idx, site, docs.doc_sites, stats,
                                      stage)  # fmt: skip
            bands, rows = lsh_params(config.candidate_threshold, config.num_perm)
            stats.bands, stats.rows = bands, rows
            lead_on = config.verify in ("containment", "fuzzy")
        with stages("signatures", after="boilerplate", seconds="content_signatures") as stage:
            signatures = content_signatures(
                docs.store, boiler.paragraphs, boiler.site_lines, docs.doc_sites, config,
                bands, rows, lead_on, run.work, workers, pool, run.engine.shared, stage=stage,
            )  # fmt: skip
            if run.engine.group_bands is None:  # stages 4-5 run here: the workers' memory goes
                run.engine.close()
        with stages("candidates", after="signatures") as stage:
            cands = candidate_pairs(
                docs.store, boiler.active, signatures, docs.doc_ids, config, bands, rows,
                lead_on, run.idx, run.work, bool(pairs_out), stats, run.engine.group_bands,
                stage=stage,
            )  # fmt: skip
        with stages("verify", after="candidates") as stage:
            edges, log, look = verify_stage(docs.store, boiler, docs.doc_sites, cands, config,
                settings.keep_key, run.work, bool(pairs_out), stats, stage)  # fmt: skip
        run.engine.close()  # the later stages run here: the workers' memory goes
        if fields_spec not in (None, "*") and docs.policy_records is not None:
            # a field no record has (a typo) leaves every cluster to input order: counted,
            # so that the summary can say so
            stats.keep_field_records = sum(1 for r in docs.policy_records if r)
        with stages("cluster"):  # cluster and write always run (see neardup.stagerun)
            clustered = decide_clusters(cands, edges, log, look, policy, docs.policy_records,
                                        config, pairs_out, stats)  # fmt: skip
        with stages("write"):
            kept_texts = write_outputs(
                kept=kept, removed=removed, clusters_out=clusters_out, site_out=site_out,
                output_format=output_format, default_out=run.default_out,
                writers=run.writers, work=run.work, n=cands.n, doc_ids=cands.doc_ids,
                clustered=clustered, site_lines=boiler.site_lines,
                site_hit=signatures.site_hit, doc_sites=docs.doc_sites,
                write_repaired=write_repaired, no_id=docs.no_id,
                keep_texts=run.idx is not None and update and run.idx.store_text,
                id_field=id_field, text_field=text_field, stats=stats,
            )  # fmt: skip
        if run.idx is not None and update:
            # written now, made visible by the commit once every output is in place
            with stages("index_add"):
                stats.index_batch = _add_to_index(run.idx, inputs, cands, clustered.decisions,
                                                  boiler.learned, kept_texts)  # fmt: skip
        stats.seconds["total"] = round(time.perf_counter() - run.t0, 3)
        stats.check()
        if stats_out:
            _write_stats(stats_out, stats, config, index)
    return stats


def _policy_fields(keep_spec: str | KeyFunc) -> str | None:
    """What of each record the keep policy may look at (records are not kept in memory):
    "*" every field but the text (a callable policy), a field name, or nothing."""
    if callable(keep_spec):
        return "*"
    return keep_spec.split(":", 1)[1] if ":" in keep_spec else None


def _write_stats(
    stats_out: str, stats: DedupStats, config: DedupConfig, index: str | os.PathLike | None
) -> None:
    """The run's counters, timings and settings (and its index) to ``stats_out``."""
    with open_writer(stats_out, "jsonl") as sw:
        run_info = {"stats": stats.to_dict(), "settings": asdict(config)}
        if index is not None:
            run_info["index"] = os.path.abspath(index)
        sw.write(run_info)


class _Run(NamedTuple):
    """What a run holds while its stages run (:func:`_resources`)."""

    idx: Index | None
    work: Path  # the work directory
    resumable: bool  # the work directory is the caller's (not a temporary one)
    default_out: str  # the kept records' format unless the caller names one
    t0: float  # when the run started
    engine: LocalEngine | RayEngine  # the workers, shared by stages 1 and 3
    writers: list  # the outputs opened so far: closed on success, aborted on failure


@contextlib.contextmanager
def _resources(
    inputs: Sequence[str],
    input_format: str | None,
    index: str | os.PathLike | None,
    update: bool,
    lock_timeout: float,
    config: DedupConfig,
    clean: CleanConfig,
    workdir: str | None,
    workers: int,
    engine: str,
    ray_address: str | None,
) -> Iterator[_Run]:
    """The index (opened and checked against the settings), the work directory (a
    temporary one without ``workdir``), the engine's workers and the writers of a run. If
    the run fails, the workers are stopped, the writers aborted, the index closed and a
    temporary work directory removed; if it succeeds, the writers are closed and the
    index committed first."""
    idx = None
    if index is not None:
        idx = Index.open(index, write=update, lock_timeout=lock_timeout)
        try:
            idx.check(config, clean)
        except BaseException:
            idx.close()
            raise
    tmp_ctx = tempfile.TemporaryDirectory(prefix="neardup-") if workdir is None else None
    work = Path(tmp_ctx.name if tmp_ctx else workdir)  # type: ignore[arg-type]
    work.mkdir(parents=True, exist_ok=True)
    default_out = default_output_format(inputs, input_format)
    if default_out in ("txt", "txtdir"):
        default_out = "jsonl"
    t0 = time.perf_counter()
    writers: list = []
    kernels.warm()  # compiled before the workers are forked, which then have it
    workers_of = None
    try:
        # shared by stages 1 and 3; local workers are forked now, while this is small
        workers_of = open_engine(engine, workers, ray_address)
        yield _Run(idx, work, tmp_ctx is None, default_out, t0, workers_of, writers)
    except BaseException:
        if workers_of is not None:
            workers_of.close(cancel=True)
        for w in writers:
            w.abort()
        if idx is not None:
            idx.close()
        if tmp_ctx is not None:
            tmp_ctx.cleanup()
        raise
    workers_of.close()
    try:
        for w in writers:
            w.close()
        if idx is not None:
            idx.commit()
    finally:
        if idx is not None:
            idx.close()
        if tmp_ctx is not None:
            tmp_ctx.cleanup()


def _add_to_index(
    idx: Index,
    inputs: Sequence[str],
    cands: Candidates,
    decisions: dict[int, Decision],
    learned: set[int],
    kept_texts: _BlobFile | None,
) -> int:
    """Add this batch to the index (made visible by the commit); its batch number."""
    n = cands.n
    kept_mask = np.ones(n, dtype=bool)
    kept_mask[[i for i in decisions if i < n]] = False
    return idx.add_batch(
        inputs=[os.path.abspath(p) if p != "-" and not is_uri(p) else p for p in inputs],
        ids=cands.doc_ids[:n], keys=cands.keys[:n], lengths=cands.lengths[:n], kept=kept_mask,
        content=cands.content, signatures=cands.sigs, bands=cands.mixed,
        no_bands=cands.empty_content,
        alias_of={i: d.kept for i, d in decisions.items() if d.reason != "exact"},
        index_rows=cands.found.rows, boilerplate=learned,
        texts=kept_texts.finish() if kept_texts is not None else None,
    )  # fmt: skip
