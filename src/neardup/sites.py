"""Site boilerplate: lines a site adds to many of its pages, learned from the corpus.

How it decides
--------------
1. Each document belongs to a site: the host of its URL (``www.`` dropped), or the value
   of another field (:class:`~neardup.config.SiteConfig`). Documents with no site are
   left alone.
2. Its lines are the non-empty lines of the (repaired) text, each hashed after
   normalisation (case-folded words; punctuation and spacing ignored), the same line
   hash the dedup stage uses for paragraphs.
3. Copies count once. A document whose set of lines resembles an earlier document of its
   site (a MinHash of the line hashes, 16 values in 4 bands of 4: two documents sharing
   90% of their lines collide with probability 0.98, 30% with 0.03) is a copy: its lines
   are not counted. So a story republished with a new headline or a few typos, many times
   on one site, does not make its own lines "frequent".
4. A line is boilerplate of its site when at least ``min_docs`` counted documents of the
   site carry it, and at least ``min_share`` of the site's counted documents.
5. Removal drops those lines from every document of the site, unless every line of a
   document is boilerplate (such a page is left as it is). Each removal is recorded with
   the line's frequency on its site.

Counting is streaming and bounded: documents are processed in chunks, in numpy, and the
table of (site, line) counts holds hashes only; past ``max_lines`` entries the lines
seen once are dropped from it, so counts can only come out low.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import numpy as np

from .arrays import sorted_unique, unique_groups
from .config import SiteConfig
from .shingles import line_words_with_spans
from .signatures import exact_key, paragraph_hash

_MASK = 0x7FFFFFFFFFFFFFFF
_PERMS = 16
_BAND_ROWS = 4
_CHUNK = 4096
_rng = np.random.RandomState(20261125)
_A = _rng.randint(1, 2**62, size=_PERMS, dtype=np.int64).astype(np.uint64) * 2 + 1
_B = _rng.randint(0, 2**62, size=_PERMS, dtype=np.int64).astype(np.uint64)
_ROW_MIX = np.array(
    [0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x27D4EB2F165667C5],
    dtype=np.uint64,
)


def site_of(record: dict, field: str = "url") -> str | None:
    """The site of a record: the host of a URL field (``www.`` dropped), any other
    value as it is, None when the field is missing or empty."""
    value = record.get(field)
    if value is None or value == "":
        return None
    value = str(value)
    if "://" in value or field == "url":
        try:
            host = urlsplit(value if "://" in value else "//" + value).hostname
        except ValueError:
            host = None
        if host:
            return host[4:] if host.startswith("www.") else host
        return None
    return value


def site_key(site: str) -> int:
    return exact_key("site\x00" + site) & _MASK


def text_lines(text: str) -> Iterator[tuple[int, int, int]]:
    """(start, end, hash) of every line of ``text`` that has words."""
    for start, end, w in line_words_with_spans(text):
        yield start, end, paragraph_hash(w)


#: a text's lines with words: (start, end) offsets (int64, k x 2) and hashes (uint64, k)
LineTable = tuple[np.ndarray, np.ndarray]


def line_table(text: str) -> LineTable:
    """:func:`text_lines` as arrays: (start, end) offsets (int64, k x 2) and hashes
    (uint64, k)."""
    rows = list(text_lines(text))
    spans = np.array([(a, b) for a, b, _ in rows], dtype=np.int64).reshape(-1, 2)
    return spans, np.array([h for _, _, h in rows], dtype=np.uint64)


def _mix(site: np.ndarray, hashes: np.ndarray) -> np.ndarray:
    """Table keys of (site, line) pairs."""
    with np.errstate(over="ignore"):
        return (hashes * np.uint64(0x9E3779B97F4A7C15)) ^ site


class CopyFinder:
    """Which documents copy an earlier one, by their sets of lines: a MinHash of the line
    hashes (16 values in 4 bands of 4; two documents sharing 90% of their lines collide
    with probability 0.98, 30% with 0.03). Fed a chunk of documents at a time; remembers
    the band keys of every document seen (32 bytes a document)."""

    def __init__(self) -> None:
        self._seen = _Runs()

    def of(self, flat: np.ndarray, lengths: np.ndarray, salt: np.ndarray) -> np.ndarray:
        """For a chunk of documents (line hashes ``flat``, ``lengths`` lines each, at
        least one; ``salt`` per document: only documents of one salt, a site, are
        compared): True where the document copies an earlier one (of an earlier chunk or
        of this one)."""
        n = len(lengths)
        starts = np.zeros(n, dtype=np.int64)
        np.cumsum(lengths[:-1], out=starts[1:])
        with np.errstate(over="ignore"):
            perm = flat[:, None] * _A[None, :] + _B[None, :]
            mins = np.minimum.reduceat(perm, starts, axis=0)  # (n, perms)
            bands = mins.reshape(n, _PERMS // _BAND_ROWS, _BAND_ROWS)
            bkeys = (bands * _ROW_MIX[None, None, :]).sum(axis=2, dtype=np.uint64)
            bkeys ^= np.arange(1, bkeys.shape[1] + 1, dtype=np.uint64)[None, :] * np.uint64(
                0xD6E8FEB86659FD93
            )
            bkeys ^= salt[:, None]
        # a copy: a band key met in an earlier document (earlier chunks or this one)
        flat_b = bkeys.ravel()
        owner = np.repeat(np.arange(n), bkeys.shape[1])
        order = np.argsort(flat_b, kind="stable")
        sorted_b = flat_b[order]
        first = np.ones(len(sorted_b), dtype=bool)
        first[1:] = sorted_b[1:] != sorted_b[:-1]
        first_owner = np.maximum.accumulate(np.where(first, np.arange(len(order)), 0))
        earlier = owner[order][first_owner] < owner[order]
        copy = np.zeros(n, dtype=bool)
        np.logical_or.at(copy, owner[order], earlier)
        copy |= self._seen.contains(flat_b).reshape(n, -1).any(axis=1)
        self._seen.add(flat_b, np.ones(len(flat_b), np.uint32), np.zeros(len(flat_b), np.uint32))
        return copy


class SiteCounter:
    """Counts, per site, the documents carrying each line (copies once); see the
    module doc. :meth:`add` one document at a time, then :meth:`finish`."""

    def __init__(self, config: SiteConfig | None = None):
        self.config = config or SiteConfig()
        self.sites: dict[str, int] = {}  # site -> index
        self._site_keys = array("Q")  # site_key of each site, by index
        self.site_docs: list[int] = []  # counted documents per site
        self.site_all: list[int] = []  # all documents per site
        self.copies = 0
        self.pruned = 0  # entries dropped to bound memory
        self._lines = _Runs()  # (site, line) key -> documents, site index
        self._copies = CopyFinder()
        self._buf_site: list[int] = []
        self._buf_hashes: list[np.ndarray] = []

    def add(self, site: str | None, hashes: np.ndarray) -> None:
        """One document: its site and its line hashes (uint64, any order)."""
        if site is None or not len(hashes):
            return
        idx = self.sites.get(site)
        if idx is None:
            idx = self.sites[site] = len(self.sites)
            self._site_keys.append(site_key(site))
            self.site_docs.append(0)
            self.site_all.append(0)
        self.site_all[idx] += 1
        self._buf_site.append(idx)
        self._buf_hashes.append(sorted_unique(np.asarray(hashes, dtype=np.uint64)))
        if len(self._buf_site) >= _CHUNK:
            self._flush()

    def _flush(self) -> None:
        if not self._buf_site:
            return
        sites = np.array(self._buf_site, dtype=np.uint32)
        lengths = np.array([len(h) for h in self._buf_hashes], dtype=np.int64)
        flat = np.concatenate(self._buf_hashes)
        self._buf_site, self._buf_hashes = [], []
        n = len(sites)
        skeys = np.frombuffer(self._site_keys, dtype=np.uint64)[sites]
        copy = self._copies.of(flat, lengths, skeys)
        self.copies += int(copy.sum())
        counted = ~copy
        for s in sites[counted].tolist():
            self.site_docs[s] += 1
        # count the lines of counted documents
        line_doc = np.repeat(np.arange(n), lengths)
        take = counted[line_doc]
        if take.any():
            keys = _mix(skeys[line_doc[take]], flat[take])
            site_idx = sites[line_doc[take]]
            self._lines.add(keys, np.ones(len(keys), np.uint32), site_idx)
            if self._lines.size > self.config.max_lines:
                self.pruned += self._lines.prune()

    def finish(self) -> SiteBoilerplate:
        self._flush()
        self._keys, self._counts, self._site_of = self._lines.merged()
        site_docs = np.array(self.site_docs, dtype=np.int64)
        need = np.maximum(
            self.config.min_docs,
            np.ceil(self.config.min_share * site_docs - 1e-9).astype(np.int64),
        )
        ok = self._counts.astype(np.int64) >= need[self._site_of] if len(self._keys) else []
        return SiteBoilerplate(
            keys=self._keys[ok],
            counts=self._counts[ok],
            sites=dict(self.sites),
            site_docs=self.site_docs,
            copies=self.copies,
            pruned=self.pruned,
        )


def _combine(keys, counts, sites):
    uniq, first, inverse = unique_groups(keys)
    summed = np.bincount(inverse.ravel(), weights=counts, minlength=len(uniq))
    return uniq, summed.astype(np.uint32), sites[first]


class _Runs:
    """A multiset of uint64 keys (with a uint32 tag each) as sorted runs merged
    geometrically, so adding n keys costs O(n log n) in all, not a re-sort per chunk."""

    def __init__(self) -> None:
        self.runs: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    @property
    def size(self) -> int:
        return sum(len(r[0]) for r in self.runs)

    def add(self, keys: np.ndarray, counts: np.ndarray, tags: np.ndarray) -> None:
        self.runs.append(_combine(keys, counts, tags))
        while len(self.runs) > 1 and 2 * len(self.runs[-1][0]) >= len(self.runs[-2][0]):
            b, a = self.runs.pop(), self.runs.pop()
            self.runs.append(_combine(*(np.concatenate(x) for x in zip(a, b, strict=True))))

    def contains(self, keys: np.ndarray) -> np.ndarray:
        found = np.zeros(len(keys), dtype=bool)
        for run, _, _ in self.runs:
            pos = np.searchsorted(run, keys)
            pos[pos == len(run)] = 0
            found |= run[pos] == keys
        return found

    def merged(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if not self.runs:
            return np.zeros(0, np.uint64), np.zeros(0, np.uint32), np.zeros(0, np.uint32)
        self.runs = [_combine(*(np.concatenate(x) for x in zip(*self.runs, strict=True)))]
        return self.runs[0]

    def prune(self) -> int:
        """Drop the keys counted once; the number dropped."""
        keys, counts, tags = self.merged()
        keep = counts > 1
        self.runs = [(keys[keep], counts[keep], tags[keep])]
        return int((~keep).sum())


@dataclass
class SiteBoilerplate:
    """The learned boilerplate lines: (site, line) keys and their document counts."""

    keys: np.ndarray
    counts: np.ndarray
    sites: dict[str, int]
    site_docs: list[int]
    copies: int = 0
    pruned: int = 0

    def __len__(self) -> int:
        return len(self.keys)

    def lookup(self, site: str | None, hashes: np.ndarray) -> np.ndarray:
        """The document count of each line of ``hashes`` when it is boilerplate of
        ``site``, else 0."""
        hashes = np.asarray(hashes, dtype=np.uint64)
        if site is None or site not in self.sites or not len(self.keys) or not len(hashes):
            return np.zeros(len(hashes), dtype=np.int64)
        keys = _mix(np.full(len(hashes), site_key(site), dtype=np.uint64), hashes)
        pos = np.searchsorted(self.keys, keys)
        pos[pos == len(self.keys)] = 0
        hit = self.keys[pos] == keys
        return np.where(hit, self.counts[pos], 0).astype(np.int64)

    def strip(
        self, text: str, site: str | None, lines: LineTable | None = None
    ) -> tuple[str, list[dict]]:
        """``text`` without the boilerplate lines of ``site``, and one record per removed
        line (offsets into ``text``, the line, its site, the number of documents of the
        site carrying it and their share). A text that is all boilerplate stays whole.
        ``lines``: :func:`line_table` of ``text`` when already computed."""
        if site is None or site not in self.sites:
            return text, []
        spans, hashes = line_table(text) if lines is None else lines
        if not len(hashes):
            return text, []
        counts = self.lookup(site, hashes)
        if not counts.any() or counts.all():
            return text, []
        total = self.site_docs[self.sites[site]]
        removed = []
        cuts = []
        for (start, end), count in zip(spans.tolist(), counts.tolist(), strict=True):
            if count:
                removed.append(
                    {
                        "start": start,
                        "end": end,
                        "text": text[start:end],
                        "reason": "site-boilerplate",
                        "site": site,
                        "frequency": count,
                        "share": round(count / total, 4),
                    }
                )
                cuts.append((start, min(end + 1, len(text))))
        out = []
        pos = 0
        for a, b in cuts:
            out.append(text[pos:a])
            pos = b
        out.append(text[pos:])
        return "".join(out).strip("\n"), removed

    def summary(self) -> dict:
        return {
            "sites": len(self.sites),
            "lines": len(self.keys),
            "copies_not_counted": self.copies,
            "pruned": self.pruned,
        }
