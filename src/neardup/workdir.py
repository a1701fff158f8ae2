"""Files of the work directory read back as arrays: shingles, content shingles and
signatures (memory maps and one ``pread`` a document), and two of them seen as one."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

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

    def close(self) -> None:
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


class _ContentStore(Sequence[np.ndarray]):
    """Sorted unique content shingles of every document, in a file on disk, indexed like
    a list: document i has ``sizes[i]`` values from value ``start[i]`` of the file (read
    with positioned reads: the pages stay in the kernel's cache, not in this process)."""

    def __init__(self, path: Path, start: np.ndarray, sizes: np.ndarray):
        self.start, self.sizes = start, sizes
        self._reader = _ArrayFile(path)

    @classmethod
    def one_after_another(cls, path: Path, offsets: np.ndarray) -> _ContentStore:
        """Documents one after the other (``offsets``: len + 1 of them)."""
        return cls(path, offsets[:-1], np.diff(offsets))

    def gather(self, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The content shingles of ``docs`` one after the other, and their sizes."""
        sizes = self.sizes[docs]
        return self._reader.gather(self.start[docs], sizes), sizes

    def __len__(self) -> int:
        return len(self.sizes)

    def __getitem__(self, i):  # type: ignore[override]
        start = self.start[i]
        return self._reader.read(start, start + self.sizes[i])
