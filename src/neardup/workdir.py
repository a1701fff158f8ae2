"""Files of the work directory read back as arrays: shingles, content shingles and
signatures (memory maps and one ``pread`` a document), and two of them seen as one; and
where each document's record is (written by the read stage, read by the write stage)."""

from __future__ import annotations

import contextlib
import itertools
import os
from array import array
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

import numpy as np


class _Concat(Sequence):
    """Two sequences indexed as one (a batch's documents, then the index's)."""

    def __init__(self, first: Sequence, second: Sequence, width: int = 0):
        self.first, self.second, self.split = first, second, len(first)
        self.width = width  # row length, for signatures

    def __len__(self) -> int:
        return self.split + len(self.second)

    def __getitem__(self, i):  # type: ignore[override]
        return self.first[i] if i < self.split else self.second[i - self.split]


class _ArrayFile:
    """Random access to a file of uint32 values with positioned reads (no memory map:
    the pages stay in the kernel's cache, not in this process)."""

    def __init__(self, path: Path):
        self._fd = os.open(path, os.O_RDONLY)
        self._map = None  # a memory map, made by mapped()

    def read(self, start: int, stop: int) -> np.ndarray:
        if stop <= start:
            return np.zeros(0, dtype=np.uint32)
        data = os.pread(self._fd, 4 * (int(stop) - int(start)), 4 * int(start))
        return np.frombuffer(data, dtype=np.uint32)

    def gather(self, starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
        """The values of several ranges (``sizes[j]`` from ``starts[j]``), one after the
        other."""
        fd, pread = self._fd, os.pread
        data = b"".join([pread(fd, 4 * k, 4 * s)
                         for s, k in zip(starts.tolist(), sizes.tolist(), strict=True)])  # fmt: skip
        return np.frombuffer(data, dtype=np.uint32)

    def mapped(self) -> np.ndarray | None:
        """All values as one array over a memory map of the file (None when the file is
        empty or cannot be mapped). A compiled loop reads the few values each pair needs
        straight from the kernel's cache, with no system call per document; call
        :meth:`release` after each block so the pages read stay out of this process."""
        if self._map is None:
            import mmap

            try:
                self._map = mmap.mmap(self._fd, 0, access=mmap.ACCESS_READ)
            except (ValueError, OSError):  # empty, or not a mappable file
                return None
        return np.frombuffer(self._map, dtype=np.uint32)

    def release(self) -> None:
        """Drop the mapped pages from this process (they stay in the kernel's cache)."""
        import mmap

        if self._map is not None and hasattr(mmap, "MADV_DONTNEED"):
            self._map.madvise(mmap.MADV_DONTNEED)

    def close(self) -> None:
        if self._map is not None:
            with contextlib.suppress(BufferError):  # an array still views it: the GC will
                self._map.close()
            self._map = None
        os.close(self._fd)


class _SignatureFile(Sequence[np.ndarray]):
    """Rows of ``signatures.npy`` read on demand (positioned reads)."""

    def __init__(self, path: Path, header: int, num_perm: int):
        self.path = path
        self._fd = os.open(path, os.O_RDONLY)
        self._header, self._row, self.num_perm = header, 4 * num_perm, num_perm
        self._n = (os.fstat(self._fd).st_size - header) // self._row
        self._matrix: np.ndarray | None = None

    def matrix(self) -> np.ndarray:
        """All rows, memory mapped (pages stay in the kernel's cache)."""
        if self._matrix is None:
            self._matrix = np.memmap(self.path, dtype="<u4", mode="r", offset=self._header,
                                     shape=(self._n, self.num_perm))  # fmt: skip
        return self._matrix

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, i):  # type: ignore[override]
        data = os.pread(self._fd, self._row, self._header + int(i) * self._row)
        return np.frombuffer(data, dtype="<u4")

    def close(self) -> None:
        """Close the file (a Ray verification task opens it for one block of pairs)."""
        os.close(self._fd)
        self._matrix = None


class _ContentStore(Sequence[np.ndarray]):
    """Sorted unique content shingles of every document, in a file on disk, indexed like
    a list: document i has ``sizes[i]`` values from value ``start[i]`` of the file (read
    with positioned reads: the pages stay in the kernel's cache, not in this process)."""

    def __init__(self, path: Path, start: np.ndarray, sizes: np.ndarray):
        self.path, self.start, self.sizes = path, start, sizes
        self._reader = _ArrayFile(path)

    @classmethod
    def one_after_another(cls, path: Path, offsets: np.ndarray) -> _ContentStore:
        """Documents one after the other (``offsets``: len + 1 of them)."""
        return cls(path, offsets[:-1], np.diff(offsets))

    def gather(self, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The content shingles of ``docs`` one after the other, and their sizes."""
        sizes = self.sizes[docs]
        return self._reader.gather(self.start[docs], sizes), sizes

    def mapped(self) -> np.ndarray | None:
        """Every document's shingles as one array over a memory map (see
        :meth:`_ArrayFile.mapped`): document i is ``[start[i], start[i] + sizes[i])``."""
        return self._reader.mapped()

    def release(self) -> None:
        self._reader.release()

    def __len__(self) -> int:
        return len(self.sizes)

    def __getitem__(self, i):  # type: ignore[override]
        start = self.start[i]
        return self._reader.read(start, start + self.sizes[i])

    def close(self) -> None:
        self._reader.close()


class _RecordIndex:
    """Where each document's record (one JSON line) is: bytes ``start`` to ``end`` of
    source ``src`` (0: the spool, the records that had to be encoded again or came
    compressed; 1, 2, ...: the input files, read again by the write stage: the resume
    fingerprint holds their sizes and times)."""

    def __init__(self, sources: list[str]):
        self.sources = sources
        self._src, self._start, self._end = array("b"), array("q"), array("q")

    def add(self, src: int, start: int, end: int) -> None:
        self._src.append(src)
        self._start.append(start)
        self._end.append(end)

    def save(self, path: Path) -> None:
        np.savez(path, src=np.frombuffer(self._src, dtype=np.int8),
                 start=np.frombuffer(self._start, dtype=np.int64),
                 end=np.frombuffer(self._end, dtype=np.int64),
                 sources=np.array(self.sources, dtype=str))  # fmt: skip

    @classmethod
    def load(cls, path: Path) -> _RecordIndex:
        data = np.load(path)
        index = cls(data["sources"].tolist())
        index.src, index.start, index.end = data["src"], data["start"], data["end"]
        return index

    @contextlib.contextmanager
    def reader(self):
        """A function of a block size that gives (lo, hi, bytes) for runs of documents
        whose records follow each other in one source (about that many bytes each)."""
        files: dict[int, BinaryIO] = {}

        def blocks(size: int) -> Iterator[tuple[int, int, memoryview]]:
            src, start, end = self.src, self.start, self.end
            n = len(src)
            # documents that do not continue the previous one's bytes start a segment
            cut = np.flatnonzero((src[1:] != src[:-1]) | (start[1:] != end[:-1])) + 1
            bounds = [0, *cut.tolist(), n] if n else [0]
            for seg_lo, seg_hi in itertools.pairwise(bounds):
                lo = seg_lo
                while lo < seg_hi:
                    limit = int(start[lo]) + size
                    hi = max(lo + 1, int(np.searchsorted(end[lo:seg_hi], limit, "right")) + lo)
                    s = int(src[lo])
                    if s not in files:
                        files[s] = open(self.sources[s], "rb")  # noqa: SIM115
                    f = files[s]
                    f.seek(int(start[lo]))
                    yield lo, hi, memoryview(f.read(int(end[hi - 1]) - int(start[lo])))
                    lo = hi

        try:
            yield blocks
        finally:
            for f in files.values():
                f.close()
