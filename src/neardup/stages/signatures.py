"""Stage 3 of a dedup run: each document's content shingles (its shingles outside
boilerplate), their MinHash signatures and LSH band keys, and the band keys of its lead
(the start a trimmed copy keeps), a block of documents per worker task. The content
shingles and the signatures go to files in the work directory."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .. import dispatch, kernels
from ..arrays import sorted_unique
from ..candidates import band_keys
from ..config import DedupConfig
from ..engines import map_ordered
from ..signatures import minhash_many, permutations
from ..sites import SiteBoilerplate
from ..stagerun import Stage
from ..workdir import _ContentStore, _SignatureFile
from .ingest import FeatureStore

#: shingles at the start of a document that a trimmed copy is expected to keep
LEAD_SHINGLES = 48
#: documents per worker task of the content and signature stage (bounds its memory: at
#: 4,096 the two workers and the results in flight added 80 MB at 100k documents)
_SIG_CHUNK = 1024
#: stage 3's outputs in the work directory (its marker: ``signatures.done.json``): the
#: content shingles and signatures (written by the workers), where each document's
#: content shingles are and which documents lost site lines, and the band keys
OUTPUTS = ("content.u32", "signatures.npy", "content_index.npz", "band_keys.npy",
           "lead_band_keys.npy")  # fmt: skip


class BandKeys:
    """The band keys of every document's content and lead (n x bands uint64 each, the
    biggest arrays of a run): the candidate stage takes them, and they go as soon as it
    lets them go. Resumed, they stay in their files until taken (a resumed candidate
    stage does not read them)."""

    def __init__(self, content: np.ndarray | None, leads: np.ndarray | None,
                 files: tuple[Path, Path] | None = None):  # fmt: skip
        self._keys: tuple | None = (content, leads)
        self._files = files

    def take(self) -> tuple[np.ndarray, np.ndarray]:
        """(content band keys, lead band keys), once."""
        keys, self._keys = self._keys, None
        if keys is None:  # pragma: no cover
            raise RuntimeError("the band keys were taken already")
        if self._files is not None:
            keys = (np.load(self._files[0]), np.load(self._files[1]))
        return keys

    def save(self, work: Path) -> None:
        """The keys to ``work`` (``band_keys.npy``, ``lead_band_keys.npy``)."""
        for name, keys in zip(OUTPUTS[3:], self._keys or (), strict=True):
            np.save(work / name, keys)

    @classmethod
    def saved(cls, work: Path, shapes: tuple[tuple[int, int], tuple[int, int]]) -> BandKeys | None:
        """The keys :meth:`save` left in ``work``, read when taken (None: not of these
        ``shapes``, or unreadable: a header read checks them)."""
        files = (work / OUTPUTS[3], work / OUTPUTS[4])
        for path, shape in zip(files, shapes, strict=True):
            if np.load(path, mmap_mode="r").shape != shape:
                return None
        return cls(None, None, files)


class Signatures(NamedTuple):
    """What stage 3 gives the later stages."""

    content: _ContentStore  # each document's content shingles
    sigs: _SignatureFile  # and their signatures
    band_keys: BandKeys
    site_hit: np.ndarray  # documents compared without some site boilerplate lines


def content_signatures(
    store: FeatureStore,
    boiler: set[int],
    site_lines: SiteBoilerplate | None,
    doc_sites: Sequence[str | None],
    config: DedupConfig,
    bands: int,
    rows: int,
    lead_on: bool,
    work: Path,
    workers: int,
    pool,
    shared: bool = True,
    *,
    stage: Stage,
) -> Signatures:
    """Stage 3: content shingles and signatures (to ``work``), band keys of the content
    and, with ``lead_on``, of the leads, a block of documents per worker task; or all
    that read back from ``work`` when ``stage`` resumes.
    ``shared``: the workers see ``work`` (they read and write its files themselves);
    otherwise (a Ray cluster's other machines) each task takes its block's shingles
    along and gives its rows back, and this process writes them."""
    n = len(store)
    settings = {"num_perm": config.num_perm, "seed": config.seed, "bands": bands, "rows": rows,
                "lead": lead_on, "lead_shingles": LEAD_SHINGLES}  # fmt: skip
    resumed = stage.resume(settings, lambda info: _load(work, info, n, config.num_perm, bands))
    if resumed is not None:
        return resumed
    site_hit = np.zeros(n, dtype=bool)
    boiler_set = frozenset(boiler)

    def jobs() -> Iterator[ContentJob]:
        for start in range(0, n, _SIG_CHUNK):
            stop = min(n, start + _SIG_CHUNK)
            also: list[np.ndarray | None] = [None] * (stop - start)
            if site_lines is not None:
                for i in range(start, stop):
                    if doc_sites[i] is None:
                        continue
                    mask = site_lines.lookup(doc_sites[i], store.doc_paras(i)[0]) > 0
                    if mask.any() and not mask.all():  # all: compared whole
                        also[i - start] = mask
                        site_hit[i] = True
            pa, pb = store.para_off[start], store.para_off[stop]
            carried = None if shared else _read_u32(
                store.path, int(store.shingle_off[start]), int(store.shingle_off[stop])
            )  # fmt: skip
            yield ContentJob(
                store.path, store.shingle_off[start : stop + 1],
                store.para_off[start : stop + 1], store.para_hash[pa:pb],
                store.para_first[pa:pb], also, boiler_set, config.num_perm, config.seed,
                bands, rows, lead_on, content_path, sig_path,
                header + 4 * config.num_perm * start, carried,
            )  # fmt: skip

    # the workers write the content shingles and the signatures themselves, into
    # files made at their full size here (the content file as long as the shingles
    # file: each block's content from where its shingles start; the rest holes)
    content_path = work / "content.u32"
    with content_path.open("wb") as cf:
        cf.truncate(4 * int(store.shingle_off[-1]))
    sig_path = work / "signatures.npy"
    with sig_path.open("wb") as sf:
        np.lib.format.write_array_header_1_0(
            sf, {"descr": "<u4", "fortran_order": False, "shape": (n, config.num_perm)}
        )
        header = sf.tell()
        sf.truncate(header + 4 * config.num_perm * n)
    content_start = np.zeros(n, dtype=np.int64)
    content_size = np.zeros(n, dtype=np.int64)
    keys_all = np.zeros((n, bands), dtype=np.uint64)
    lead_keys = np.zeros((n if lead_on else 0, bands), dtype=np.uint64)
    start = 0
    for sizes, block_keys, block_leads, *rows_back in map_ordered(
        content_block, jobs(), workers, pending=2 * max(workers, 1), pool=pool
    ):
        if rows_back:  # not shared: the task gave its rows back
            _write_rows(content_path, sig_path, store.shingle_off[start],
                        header + 4 * config.num_perm * start, *rows_back)  # fmt: skip
        stop = start + len(sizes)
        content_start[start:stop] = store.shingle_off[start] + np.cumsum(sizes) - sizes
        content_size[start:stop] = sizes
        keys_all[start:stop] = block_keys
        if lead_on:
            lead_keys[start:stop] = block_leads
        start = stop
    got = Signatures(
        _ContentStore(content_path, content_start, content_size),
        _SignatureFile(sig_path, header, config.num_perm),
        BandKeys(keys_all, lead_keys),
        site_hit,
    )
    if stage.fingerprint is not None:
        np.savez(work / OUTPUTS[2], content_start=content_start, content_size=content_size,
                 site_hit=site_hit)  # fmt: skip
        got.band_keys.save(work)
        stage.done(OUTPUTS, {"header": header, "leads": len(lead_keys)})
    return got


def _load(work: Path, info: dict, n: int, num_perm: int, bands: int) -> Signatures | None:
    """Stage 3's results as a run left them in ``work`` (None: not for ``n`` documents)."""
    with np.load(work / OUTPUTS[2]) as data:
        start, sizes, site_hit = data["content_start"], data["content_size"], data["site_hit"]
    keys = BandKeys.saved(work, ((n, bands), (info["leads"], bands)))
    if keys is None or not len(start) == len(sizes) == len(site_hit) == n:
        return None
    sigs = _SignatureFile(work / OUTPUTS[1], info["header"], num_perm)
    if len(sigs) != n:
        sigs.close()
        return None
    return Signatures(_ContentStore(work / OUTPUTS[0], start, sizes), sigs, keys, site_hit)


def content_of(
    shingles: np.ndarray,
    para_hash: np.ndarray,
    para_first: np.ndarray,
    boilerplate: set[int],
    lead: int,
    also: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Sorted unique shingles of one document outside boilerplate paragraphs (all of them
    when the document is nothing but boilerplate), and the same for its first ``lead``
    content shingles (the lead a trimmed copy keeps). ``also``: a mask of more paragraphs
    to leave out (its site's boilerplate lines)."""
    if boilerplate or also is not None:
        mask = np.fromiter(
            (h in boilerplate for h in para_hash.tolist()), dtype=bool, count=len(para_hash)
        )
        if also is not None:
            mask |= also
        if mask.any() and not mask.all():
            keep = np.ones(len(shingles), dtype=bool)
            ends = np.append(para_first[1:], len(shingles))
            for j in np.flatnonzero(mask).tolist():
                keep[para_first[j] : ends[j]] = False
            shingles = shingles[keep]
    return sorted_unique(shingles), sorted_unique(shingles[:lead])


@dataclass
class ContentJob:
    """One block of documents for :func:`content_block` (what a worker needs of the
    store: the shingles file is read by the worker itself)."""

    shingles_path: Path
    shingle_off: np.ndarray  # stop - start + 1 offsets into the shingles file
    para_off: np.ndarray  # the same for the paragraph arrays below
    para_hash: np.ndarray
    para_first: np.ndarray
    also: list[np.ndarray | None]  # per document: more paragraphs to leave out (its site's)
    boilerplate: frozenset[int]
    num_perm: int
    seed: int
    bands: int
    rows: int
    lead: bool  # also band keys of the leads
    content: Path  # the content shingles file (as many values as the shingles file) ...
    signatures: Path  # ... and the signatures file (.npy), both at their full size already
    sig_offset: int  # the byte offset of this block's first signature
    # the block's shingles, when the worker cannot read the shingles file (then the
    # content shingles and signatures go back, for the caller to write)
    shingles: np.ndarray | None = None


def content_block(job: ContentJob) -> tuple[np.ndarray, ...]:
    """Stages 2-3 over a block of documents: content shingles (sorted, unique, outside
    boilerplate paragraphs), their signatures and band keys, and the band keys of the
    leads. The content shingles and signatures are written to their files here (the
    process that runs the block writes them, nothing big travels back): the block's
    content shingles one document after the other from where its shingles start in the
    shingles file (a document has no more content shingles than shingles), its
    signatures at their rows. Returns (content sizes, band keys, lead band keys), and
    the content shingles and signatures when the job carried its shingles."""
    joined, sizes, sigs, keys, lead_keys = _content_block(job)
    if job.shingles is not None:
        return sizes, keys, lead_keys, joined, sigs
    _write_rows(job.content, job.signatures, job.shingle_off[0], job.sig_offset, joined, sigs)
    return sizes, keys, lead_keys


def _write_rows(
    content: Path, signatures: Path, first: int, sig_offset: int, joined: np.ndarray,
    sigs: np.ndarray,
) -> None:  # fmt: skip
    """A block's content shingles (from where its shingles start, ``first``) and
    signatures (at byte ``sig_offset``) into their files, at their full size already."""
    for path, data, offset in (
        (content, joined.astype("<u4", copy=False), 4 * int(first)),
        (signatures, sigs.astype("<u4", copy=False), sig_offset),
    ):
        fd = os.open(path, os.O_WRONLY)
        try:
            os.pwrite(fd, data.tobytes(), offset)
        finally:
            os.close(fd)


def _read_u32(path: Path, first: int, last: int) -> np.ndarray:
    """Values ``first`` to ``last`` of a file of uint32."""
    with path.open("rb") as fh:
        fh.seek(4 * first)
        return np.frombuffer(fh.read(4 * (last - first)), dtype=np.uint32)


def _content_block(
    job: ContentJob,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(content shingles concatenated, content sizes, signatures, band keys, lead band
    keys) of a block (:func:`content_block`)."""
    first, last = int(job.shingle_off[0]), int(job.shingle_off[-1])
    flat = job.shingles if job.shingles is not None else _read_u32(job.shingles_path, first, last)
    sh_off = job.shingle_off - first
    p_off = job.para_off - job.para_off[0]
    return dispatch.call("content_block", job, flat, sh_off, p_off)


def _content_block_compiled(
    job: ContentJob, flat: np.ndarray, sh_off: np.ndarray, p_off: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_content_block` by one compiled pass (the compiled path): the block's
    shingles ``flat``, each document's ``sh_off`` and ``p_off`` counted from 0."""
    drop = np.isin(job.para_hash, np.fromiter(job.boilerplate, np.uint64))
    for j, mask in enumerate(job.also):
        if mask is not None:
            drop[p_off[j] : p_off[j + 1]] |= mask
    a, b = permutations(job.num_perm, job.seed)
    joined, sizes, sigs, lead_sigs = kernels.content_signatures(
        flat, sh_off, p_off, job.para_first, drop, LEAD_SHINGLES, a, b, job.lead
    )
    return joined, sizes, sigs, band_keys(sigs, job.bands, job.rows), (
        band_keys(lead_sigs, job.bands, job.rows) if job.lead
        else np.zeros((0, job.bands), dtype=np.uint64)
    )  # fmt: skip


def _content_block_python(
    job: ContentJob, flat: np.ndarray, sh_off: np.ndarray, p_off: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_content_block_compiled` a document at a time (the Python path)."""
    contents, leads = [], []
    for j in range(len(sh_off) - 1):
        pa, pb = p_off[j], p_off[j + 1]
        content, lead = content_of(
            flat[sh_off[j] : sh_off[j + 1]], job.para_hash[pa:pb], job.para_first[pa:pb],
            job.boilerplate, LEAD_SHINGLES, job.also[j],
        )  # fmt: skip
        contents.append(content)
        leads.append(lead)
    sigs = minhash_many(contents, job.num_perm, job.seed)
    keys = band_keys(sigs, job.bands, job.rows)
    lead_keys = (
        band_keys(minhash_many(leads, job.num_perm, job.seed), job.bands, job.rows)
        if job.lead
        else np.zeros((0, job.bands), dtype=np.uint64)
    )
    sizes = np.fromiter(map(len, contents), dtype=np.int64, count=len(contents))
    joined = np.concatenate(contents) if contents else np.zeros(0, np.uint32)
    return joined, sizes, sigs, keys, lead_keys
