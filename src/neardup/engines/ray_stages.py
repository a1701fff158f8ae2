"""Stages 4 and 5 of a dedup run as Ray tasks (``--engine ray``): the band keys grouped
into candidate pairs by a shuffle, and the pairs scored a block at a time, so that this
process (the driver) neither sorts band keys nor scores pairs.

1. **scatter** (a task per :data:`SCATTER_DOCS` documents): each (band, key, document)
   of the slice's content and lead band keys goes to partition ``key % P``;
2. **partition** (a task per partition): a partition's share from every scatter task,
   grouped by band, gives its buckets' pairs by the local engine's rule
   (:func:`~neardup.candidates.bucket_codes`): every member of a bucket lands in the same
   partition, and the pairs of a bucket depend on its members only, so the union of
   the partitions' pairs is the local engine's set of pairs. Each partition splits its
   pairs by block of the first document;
3. **verify** (a task per block, :func:`_verify_block`): a block's pairs from every
   partition and the driver's pairs of the block (template pages) united, then scored by
   :func:`~neardup.stages.verify.verify_pairs`, the very function of the local engine,
   reading content shingles, signatures and texts from the work directory (memory
   mapped). The blocks are ranges of first documents, so their verified edges and
   logged pairs, joined in block order, are the local engine's in its order (its pairs
   are sorted by first document, then second): the outputs are byte-identical.

Nothing crosses the driver between the steps: a task takes the refs of the objects the
tasks before it made. The driver ships the band keys (scatter inputs) and takes back
each block's verified edges and logged pairs (what the cluster stage needs, about as
much as it holds with the local engine).

Step 3 needs the work directory on the workers: a Ray started by neardup shares its
machine; a cluster's nodes must mount it at the same path (:meth:`RayEngine.sees
<neardup.engines.ray.RayEngine.sees>` checks). Where they do not, and with an index (its
documents' shingles were fetched by this process), the partitions' pairs come back and
are scored here, as the local engine scores them."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..arrays import sorted_unique
from ..candidates import bucket_codes, merged_codes
from ..config import DedupConfig
from ..stages.verify import PairLog, _SecondLook, verify_pairs
from ..verify import EdgeTable
from ..workdir import _ArrayFile, _ContentStore, _SignatureFile

#: documents per scatter task: its memory is about 26 bytes a (band, document) for
#: content and lead keys (25 bands each at the default settings: 85 MB at 2^16)
SCATTER_DOCS = 1 << 16
#: at most this many first documents per verification block (bounds a task's pairs:
#: about 12 a document on the benchmark corpora, 1.6M here); there are at least four
#: blocks a CPU, so that a slow block does not leave CPUs idle at the end
BLOCK_DOCS = 1 << 17
#: the feature store's arrays a verification task maps (the second look reads texts,
#: paragraphs and shingles of the documents of its pairs)
_STORE_ARRAYS = ("shingle_off", "para_off", "para_hash", "para_words", "para_first", "key_off")


def group_bands(
    pool,
    cpus: int,
    keys: np.ndarray,
    lead_keys: np.ndarray | None,
    skip: np.ndarray,
    work: Path,
    sees: Callable[[Path], bool],
) -> SpreadPairs | None:
    """Start steps 1 and 2 on ``pool`` (a :class:`~neardup.engines.ray.RayPool`) for
    the band keys ``keys`` and ``lead_keys`` (n x bands) of the documents not ``skip``;
    they run while the driver goes on. ``sees(work)``: whether the tasks read the work
    directory (step 3 there or here). None under two documents."""
    n = len(keys)
    if n < 2:
        return None
    parts = max(1, min(2 * cpus, 65535))  # a partition number fits 16 bits
    blocks = max(4 * cpus, math.ceil(n / BLOCK_DOCS))
    block_docs = math.ceil(n / blocks)
    blocks = math.ceil(n / block_docs)
    scattered = []
    for lo in range(0, n, SCATTER_DOCS):
        hi = min(n, lo + SCATTER_DOCS)
        slices = [keys[lo:hi]] + ([lead_keys[lo:hi]] if lead_keys is not None else [])
        scattered.append(pool.launch(_scatter, parts, lo, skip[lo:hi], *slices, returns=parts))
    by_partition = [
        pool.launch(_partition_pairs, n, block_docs, blocks, *[s[p] for s in scattered],
                    returns=blocks)
        for p in range(parts)
    ]  # fmt: skip
    return SpreadPairs(pool, n, block_docs, by_partition, work, sees)


class SpreadPairs:
    """Stage 4's candidate pairs from the band keys, held by Ray: for each partition,
    one object per block of first documents (sorted codes ``a * n + b``).
    :meth:`verify` scores them with the other pairs (``verify_pairs``' arguments);
    ``count`` is then the number of distinct candidate pairs."""

    def __init__(self, pool, n: int, block_docs: int, by_partition: list, work: Path,
                 sees: Callable[[Path], bool]):  # fmt: skip
        self.pool, self.n, self.block_docs, self.work, self._sees = pool, n, block_docs, work, sees
        self._by_partition: list[list[Any]] | None = by_partition  # let go once verified
        self.count = 0

    def verify(
        self, pairs: np.ndarray, content: Sequence[np.ndarray], sigs: Sequence[np.ndarray],
        config: DedupConfig, **options: Any,
    ) -> tuple[EdgeTable, int, int]:  # fmt: skip
        """:func:`~neardup.stages.verify.verify_pairs` of these pairs and ``pairs`` (the
        other candidates: template pages, an index's), the same arguments (the optional
        ones by keyword), the same results. Blocks are scored by Ray tasks where they can
        read what the arguments read (see the module doc), else here."""
        key_text, log, sizes, look, template = (
            options.get(name) for name in ("key_text", "log", "sizes", "look", "template")
        )
        n_all = len(content)
        extra = pairs[:, 0] * n_all + pairs[:, 1]  # sorted: pairs come sorted
        spread = (
            n_all == self.n and isinstance(content, _ContentStore) and look is not None
            and isinstance(sigs, _SignatureFile) and sizes is not None and self._sees(self.work)
        )  # fmt: skip
        if not spread:
            codes = self.codes(extra, n_all)
            pairs = np.stack([codes // n_all, codes % n_all], axis=1)
            del codes
            self.count = len(pairs)
            np.save(self.work / "candidate_pairs.npy", pairs)
            return verify_pairs(pairs, content, sigs, config, **options)
        by_partition = self._take()
        # put once, shared by the tasks (it holds the second look's boilerplate and sites)
        job = self.pool.put(self._job(content, sigs, config, key_text, log, sizes, look, template))
        cuts = np.searchsorted(extra, np.arange(1, len(by_partition[0])) * self.block_docs * n_all)
        results = [
            self.pool.launch(_verify_block, job, j, mine, *[p[j] for p in by_partition])[0]
            for j, mine in enumerate(np.split(extra, cuts))
        ]
        del by_partition  # the blocks' tasks hold what they read now
        return self._joined(results, n_all, log)

    def codes(self, extra: np.ndarray | None = None, n_all: int = 0) -> np.ndarray:
        """Every partition's pairs brought here (instead of :meth:`verify`), as sorted
        codes ``a * n_all + b`` (``n_all`` at least the documents grouped), united with
        ``extra`` (such codes already)."""
        n, n_all = self.n, max(n_all, self.n)
        by_partition = self._take()

        def parts():
            if extra is not None:
                yield extra
            for blocks in by_partition:
                for ref in blocks:
                    codes = self.pool.fetch(ref)
                    yield codes // n * n_all + codes % n

        return merged_codes(parts())

    def _take(self) -> list[list[Any]]:
        """The partitions' refs, once (Ray frees their objects when nothing holds them)."""
        by_partition, self._by_partition = self._by_partition, None
        if by_partition is None:  # pragma: no cover
            raise RuntimeError("the spread pairs were taken already")
        return by_partition

    def _job(self, content, sigs, config, key_text, log, sizes, look, template) -> _BlockJob:
        """What every verification task reads: the per-document arrays saved to the work
        directory (mapped by the tasks), the rest in the task's argument (put into Ray's
        object store once, shared by all of them)."""
        folder = self.work / "verify"
        folder.mkdir(exist_ok=True)
        store = look.store
        arrays = {name: getattr(store, name) for name in _STORE_ARRAYS}
        arrays |= {"content_start": content.start, "content_size": content.sizes,
                   "sizes": sizes, "template": template if template is not None else look.template}  # fmt: skip
        for name, values in arrays.items():
            np.save(folder / f"{name}.npy", np.asarray(values))
        return _BlockJob(
            folder, type(store), store.path, content.path, sigs.path, sigs._header,
            config.num_perm, config, self.n, key_text is not None,
            log is not None and log.path is not None, look.boiler, look.site_lines,
            look.doc_sites, look.enabled,
        )  # fmt: skip

    def _joined(self, results: list, n_all: int, log: PairLog | None) -> tuple[EdgeTable, int, int]:
        """The blocks' verified edges as one table, their logged pairs into ``log``, in
        block order (which is the local engine's order), and the counts."""
        columns: list[tuple[np.ndarray, ...]] = []
        rejected = prefiltered = 0
        for ref in results:
            count, block_rejected, block_prefiltered, edges, logged = self.pool.fetch(ref)
            self.count += count
            rejected += block_rejected
            prefiltered += block_prefiltered
            columns.append(edges)  # Ray's (read-only, shared memory) until joined below
            if log is not None and len(logged):
                # the rows the block's log kept (scored at least PAIR_LOG_FLOOR
                # somewhere): all of them go in, in order
                log.add_many(logged, np.ones(len(logged)))
        joined = [np.concatenate(parts) for parts in zip(*columns, strict=True)]
        return EdgeTable.from_arrays(n_all, *joined), rejected, prefiltered


@dataclass
class _BlockJob:
    """What :func:`_verify_block` needs besides its pairs (see ``SpreadPairs._job``)."""

    arrays: Path  # the folder of the per-document arrays (.npy, memory mapped)
    store_class: type  # FeatureStore (named here, not imported: it imports the engines)
    shingles: Path
    content: Path
    signatures: Path
    sig_header: int
    num_perm: int
    config: DedupConfig
    n: int
    fuzzy: bool  # scored by the comparison keys' ratio too (verify="fuzzy")
    logged: bool  # the scored pairs are logged (for pairs.npz)
    boiler: np.ndarray  # the second look's (see _SecondLook)
    site_lines: Any
    doc_sites: Sequence[str | None]
    look: bool


def _returned(out: list) -> Any:
    """A task's ``len(out)`` objects as Ray takes them (one object: itself)."""
    return out[0] if len(out) == 1 else tuple(out)


def _scatter(parts: int, lo: int, skip: np.ndarray, *keys: np.ndarray) -> Any:
    """Step 1 on the documents from ``lo``: every (group, key, document) of ``keys``
    (content band keys, then lead band keys: groups 0 .. bands - 1, then bands ..) whose
    document is not ``skip``ped, to partition ``key % parts``. Per partition: (keys,
    documents, groups)."""
    keep = np.flatnonzero(~skip)
    # group-major: a band's keys of every document (in document order), then the next's
    flat = np.concatenate([k[keep].T.ravel() for k in keys])
    n_groups = sum(k.shape[1] for k in keys)
    groups = np.repeat(np.arange(n_groups, dtype=np.uint16), len(keep))
    docs = np.tile(lo + keep, n_groups)
    where = (flat % np.uint64(parts)).astype(np.uint16)
    order = np.argsort(where, kind="stable")  # a radix sort of 16-bit values
    bounds = np.searchsorted(where[order], np.arange(1, parts))
    return _returned([(flat[o], docs[o], groups[o]) for o in np.split(order, bounds)])


def _partition_pairs(n: int, block_docs: int, blocks: int, *shares: tuple) -> Any:
    """Step 2 on one partition: its ``shares`` (keys, documents, groups) from every
    scatter task, each band's buckets paired by the local rule, as sorted codes
    ``a * n + b`` split by block of ``a`` (``block_docs`` documents a block)."""
    keys = np.concatenate([s[0] for s in shares])
    docs = np.concatenate([s[1] for s in shares])
    groups = np.concatenate([s[2] for s in shares])
    order = np.argsort(groups, kind="stable")
    keys, docs, groups = keys[order], docs[order], groups[order]
    bounds = np.flatnonzero(np.diff(groups)) + 1
    edges = [0, *bounds.tolist(), len(groups)]
    codes = merged_codes(
        bucket_codes(keys[a:b], docs[a:b], n) for a, b in zip(edges[:-1], edges[1:], strict=True)
    )
    cuts = np.searchsorted(codes, np.arange(1, blocks) * block_docs * n)
    return _returned(np.split(codes, cuts))


def _verify_block(job: _BlockJob, block: int, extra: np.ndarray, *parts: np.ndarray) -> tuple:
    """Step 3 on one block: its pairs (codes ``a * n + b`` from every partition, and
    ``extra``, the driver's), scored by ``verify_pairs`` over the work directory's files.
    Returns (pairs, rejected, prefiltered, the verified edges' columns, logged rows).
    Run again after a lost worker, it writes the same files again."""
    n = job.n
    codes = sorted_unique(np.concatenate([*parts, extra]))
    pairs = np.stack([codes // n, codes % n], axis=1)
    del codes
    np.save(job.arrays / f"candidate_pairs-{block:05d}.npy", pairs)
    opened, log = _Opened(job), None
    try:
        if job.logged:  # a log of its own, so that the floors are the logging run's
            log = PairLog(job.arrays / f"pairs-{block:05d}.bin", job.num_perm)
        edges, rejected, prefiltered = verify_pairs(
            pairs, opened.content, opened.sigs, job.config,
            opened.store.key_text if job.fuzzy else None, log, sizes=opened.sizes,
            look=opened.look, template=opened.template,
        )  # fmt: skip
        logged = log.read() if log is not None else np.zeros(0)
    finally:
        opened.close()
        if log is not None:
            log.close()
            os.remove(log.path)  # type: ignore[arg-type]
    return len(pairs), rejected, prefiltered, edges.columns(), logged


class _Opened:
    """The work directory's files as a verification task reads them (opened for one
    block: nothing stays open in a worker between tasks or runs)."""

    def __init__(self, job: _BlockJob):
        def mapped(name: str) -> np.ndarray:
            return np.load(job.arrays / f"{name}.npy", mmap_mode="r")

        # a FeatureStore over mapped arrays (FeatureStore.load would read its whole
        # npz into memory: about 230 bytes a document in every worker)
        store = job.store_class.__new__(job.store_class)
        store.__dict__.update({name: mapped(name) for name in _STORE_ARRAYS})
        store.path, store._key_off = job.shingles, store.key_off
        store.keys = range(job.n)  # len(store) counts them; nothing here reads them
        store._reader = _ArrayFile(job.shingles)
        keys_path = job.shingles.with_suffix(".keys")
        store._keys_fd = os.open(keys_path, os.O_RDONLY) if keys_path.exists() else -1
        self.store = store
        self.content = _ContentStore(job.content, mapped("content_start"), mapped("content_size"))
        self.sigs = _SignatureFile(job.signatures, job.sig_header, job.num_perm)
        self.sizes, self.template = mapped("sizes"), mapped("template")
        self.look = _SecondLook(store, job.boiler, job.site_lines, job.doc_sites,
                                self.template, job.look)  # fmt: skip

    def close(self) -> None:
        self.store._reader.close()
        if self.store._keys_fd >= 0:
            os.close(self.store._keys_fd)
        self.content.close()
        self.sigs.close()
