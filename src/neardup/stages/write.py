"""Stage 7 of a dedup run: the outputs. Kept records as they came (a JSONL output gets
runs of the input's lines as they are), removed records with the removal fields, one
line per cluster; the work directory's rejects and repairs files put at their outputs."""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..clusters import Cluster, Decision
from ..io import open_writer
from ..io.formats import JsonlWriter, json_number
from ..sites import SiteBoilerplate
from ..verify import REASONS
from ..workdir import _RecordIndex
from .cluster import Clustered

#: bytes of records read at a time by the write stage
_WRITE_BLOCK = 4 << 20


def write_outputs(
    *,
    kept: str,
    removed: str | None,
    clusters_out: str | None,
    site_out: str | None,
    output_format: str | None,
    default_out: str,
    writers: list,
    work: Path,
    n: int,
    doc_ids: Sequence[str],
    clustered: Clustered,
    site_lines: SiteBoilerplate | None,
    site_hit: np.ndarray,
    doc_sites: Sequence[str | None],
    write_repaired: bool,
    no_id: list[int] | None,
    keep_texts: bool,
    id_field: str,
    text_field: str,
    stats,
) -> _BlobFile | None:
    """Stage 7: write the outputs (each writer added to ``writers`` once open: the run
    closes them when it succeeds, aborts them when it fails). With ``keep_texts`` the
    kept texts are kept for the index too (returned). ``stats``: the run's
    :class:`~neardup.dedup.DedupStats` (the kept and removed counts are set here)."""
    clusters, decisions = clustered
    kept_w = open_writer(kept, output_format, default=default_out)
    writers.append(kept_w)
    removed_w = open_writer(removed, "jsonl") if removed else None
    clusters_w = open_writer(clusters_out, "jsonl") if clusters_out else None
    writers += [w for w in (removed_w, clusters_w) if w is not None]
    kept_texts = _BlobFile(work / "kept_texts.bin", n) if keep_texts else None
    # kept records go to a JSONL output as the spooled line itself (same encoding)
    raw = isinstance(kept_w, JsonlWriter) and kept_texts is None
    strip_sites = site_lines is not None and write_repaired
    site_w = open_writer(site_out, "jsonl") if site_out and strip_sites else None
    if site_w is not None:
        writers.append(site_w)
    # removed records go to a JSONL output as the spooled line with the removal
    # fields appended, when the positions of records without an id are known
    lacks_id = set(no_id) if no_id is not None else None
    append = isinstance(removed_w, JsonlWriter) and lacks_id is not None
    where = _RecordIndex.load(work / "records.npz")
    starts, ends = where.start, where.end
    removed_mask = np.zeros(n, dtype=bool)
    removed_mask[[i for i in decisions if i < n]] = True
    # kept records as they came: written a run of lines at a time
    plain = raw and not strip_sites
    removed_by: dict[str, int] = dict.fromkeys(("exact", *REASONS), 0)
    with where.reader() as read:
        for lo, hi, data in read(_WRITE_BLOCK):
            base = int(starts[lo])
            if plain:
                for a, b in (_true_runs(~removed_mask[lo:hi]) + lo).tolist():
                    run = data[int(starts[a]) - base : int(ends[b - 1]) - base]
                    kept_w.write_lines(run, b - a)
                    stats.kept += b - a
                todo = np.flatnonzero(removed_mask[lo:hi]) + lo
            else:
                todo = np.arange(lo, hi)
            for pos, first, last in zip(
                todo.tolist(), (starts[todo] - base).tolist(), (ends[todo] - base).tolist(),
                strict=True,
            ):  # fmt: skip
                line = bytes(data[first:last])
                doc_id = doc_ids[pos]
                d = decisions.get(pos)
                stripped = d is None and strip_sites and site_hit[pos]
                if d is None and raw and not stripped:
                    kept_w.write_line(line)
                    stats.kept += 1
                    continue
                if d is not None:
                    removed_by[d.reason] += 1
                    if removed_w is not None:
                        _write_removed(removed_w, line, pos, doc_id, doc_ids[d.kept], d,
                                       append, lacks_id, id_field, text_field)  # fmt: skip
                    continue
                record = json.loads(line)
                if stripped and isinstance(record.get(text_field), str):
                    assert site_lines is not None
                    text, site_removed = site_lines.strip(record[text_field], doc_sites[pos])
                    record[text_field] = text
                    if site_removed:
                        stats.site_documents += 1
                        stats.site_lines_removed += len(site_removed)
                        if site_w is not None:
                            site_w.write({"id": doc_id, "site": doc_sites[pos],
                                          "removed": site_removed})  # fmt: skip
                kept_w.write(record, text_field, doc_id)
                stats.kept += 1
                if kept_texts is not None and isinstance(record.get(text_field), str):
                    kept_texts.put(pos, record[text_field])
    for reason, count in removed_by.items():
        stats.removed += count
        setattr(stats, f"{reason}_removed", getattr(stats, f"{reason}_removed") + count)
    if clusters_w is not None:
        for c in clusters:
            clusters_w.write_line(_cluster_line(c, decisions, doc_ids, n).encode("utf-8"))
    return kept_texts


class _BlobFile(Sequence[bytes]):
    """zlib-compressed texts of some documents of a batch, in a work file, read back by
    position (b"" for a document without one)."""

    def __init__(self, path: Path, n: int):
        self.path, self._f = path, path.open("wb")
        self._start = np.zeros(n, dtype=np.int64)
        self._end = np.zeros(n, dtype=np.int64)
        self._fd = -1

    def put(self, i: int, text: str) -> None:
        import zlib

        data = zlib.compress(text.encode("utf-8"), 6)
        self._start[i] = self._f.tell()
        self._f.write(data)
        self._end[i] = self._f.tell()

    def finish(self) -> _BlobFile:
        self._f.close()
        self._fd = os.open(self.path, os.O_RDONLY)
        return self

    def __len__(self) -> int:
        return len(self._start)

    def __getitem__(self, i):  # type: ignore[override]
        a, b = int(self._start[i]), int(self._end[i])
        return os.pread(self._fd, b - a, a) if b > a else b""


_json_str = json.JSONEncoder(ensure_ascii=False).encode  # one value as JSON text


def _cluster_line(c: Cluster, decisions: dict[int, Decision], doc_ids, n: int) -> str:
    """The clusters-file line of ``c``, as :func:`~neardup.stages.ingest._jsonl` writes::

        {"cluster": C, "kept": ID, "size": S, "tightness": T, "members": [
          {"id": ID, "reason": "kept", "similarity": 1.0[, "indexed": true]},
          {"id": ID, "reason": R, "similarity": X[, "scores": {...}]}, ...]}

    (``indexed``: kept by an earlier batch of the index), built from pieces: several
    times faster than building the dicts for ``json.dumps``."""
    members = []
    for m in c.members:
        head = f'{{"id": {_json_str(doc_ids[m])}, "reason": '
        if m == c.kept:
            members.append(head + ('"kept", "similarity": 1.0, "indexed": true}' if m >= n
                                   else '"kept", "similarity": 1.0}'))  # fmt: skip
            continue
        d = decisions[m]
        entry = f'{head}"{d.reason}", "similarity": {json_number(round(d.similarity, 4))}'
        if d.scores is not None:
            entry += f', "scores": {d.scores.to_json()}'
        members.append(entry + "}")
    return (
        f'{{"cluster": {c.number}, "kept": {_json_str(doc_ids[c.kept])}, '
        f'"size": {len(c.members)}, "tightness": {json_number(round(c.tightness, 4))}, '
        f'"members": [{", ".join(members)}]}}\n'
    )


def _true_runs(mask: np.ndarray) -> np.ndarray:
    """(start, stop) of each run of True in ``mask``, as rows of an array."""
    edges = np.diff(np.concatenate(([0], mask.view(np.int8), [0])))
    return np.stack([np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)], axis=1)


def _write_removed(out, line: bytes, pos: int, doc_id: str, kept_id: str, d: Decision,
                   append: bool, lacks_id, id_field: str, text_field: str) -> None:  # fmt: skip
    """Write the spooled record ``line`` of a removed document with the removal fields:
    appended to the line itself when ``append`` allows it, re-encoded otherwise."""
    similarity = round(d.similarity, 4)
    if append:
        added = (f'"duplicate_of": {_json_str(kept_id)}, "cluster": {d.cluster}, '
                 f'"similarity": {json_number(similarity)}, "reason": "{d.reason}"')  # fmt: skip
        keys = _REMOVAL_KEYS
        if pos in lacks_id:
            # a record without an id gets the one neardup used (FILE:LINE), so every
            # removed line says which it was
            key = _json_str(id_field)
            added = f"{key}: {_json_str(doc_id)}, {added}"
            keys = _keys_re((*_REMOVAL_PATTERNS, re.escape(key.encode("utf-8"))))
        appended = _append_encoded(line, added.encode("utf-8"), keys)
        if appended is not None:
            out.write_line(appended)
            return
    record = json.loads(line)
    record.setdefault(id_field, doc_id)
    for key in ("duplicate_of", "cluster", "similarity", "reason"):
        if key in record and f"input_{key}" not in record:
            # the record's own field of that name: kept, renamed, not overwritten
            record[f"input_{key}"] = record.pop(key)
    record.update(
        {"duplicate_of": kept_id, "cluster": d.cluster, "similarity": similarity,
         "reason": d.reason}
    )  # fmt: skip
    out.write(record, text_field, doc_id)


@functools.lru_cache(maxsize=8)
def _keys_re(patterns: tuple[bytes, ...]) -> re.Pattern:
    """One scan for any of ``patterns`` (escaped keys; faster than a search for each)."""
    return re.compile(b"|".join(patterns))


_REMOVAL_PATTERNS = tuple(re.escape(f'"{k}"'.encode()) for k in
                          ("duplicate_of", "cluster", "similarity", "reason"))  # fmt: skip
_REMOVAL_KEYS = _keys_re(_REMOVAL_PATTERNS)


def _append_fields(line: bytes, encoded: Sequence[tuple[str, str]]) -> bytes | None:
    """The JSON object ``line`` (UTF-8) with fields added at its end, as bytes (what
    ``json.dumps`` of the parsed record with the fields set gives, for a line that
    ``json.dumps`` wrote); ``encoded``: (key, value) pairs, each already JSON. None when
    that cannot be done safely: the line does not end with ``}`` or one of the keys
    appears in it (it may be a key already)."""
    if not encoded:
        body = line.rstrip()
        return body + b"\n" if body.endswith(b"}") else None
    added = ", ".join(f"{k}: {v}" for k, v in encoded).encode("utf-8")
    keys = _keys_re(tuple(re.escape(k.encode("utf-8")) for k, _ in encoded))
    return _append_encoded(line, added, keys)


def _append_encoded(line: bytes, added: bytes, keys: re.Pattern) -> bytes | None:
    """:func:`_append_fields` with the fields already joined (``"k": v, "k2": v2``) and
    their keys as one pattern."""
    body = line.rstrip()
    if not body.endswith(b"}") or keys.search(body):
        return None
    body = body[:-1].rstrip()
    return b"".join((body, b"" if body.endswith(b"{") else b", ", added, b"}\n"))


class _CopyWriter:
    """Puts a finished work-directory file at its output path when the run succeeds
    (same temporary-name-then-rename rule as the other outputs)."""

    def __init__(self, target: str, source: Path):
        self.target, self.source = target, source

    def close(self) -> None:
        target = Path(self.target)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.part-{os.getpid()}")
        shutil.copyfile(self.source, tmp)
        os.replace(tmp, target)

    def abort(self) -> None:
        pass
