"""The frame every stage of a dedup run runs in (:func:`neardup.dedup.run_dedup`): one
context that times it into ``stats.seconds``, and the marker that lets a later run with
the same work directory (``--workdir``) resume it instead of running it again.

A stage that resumes declares its outputs, files of the work directory, and writes them,
then its marker ``<stage>.done.json`` last (to a temporary name, then renamed). The
marker holds the stage's *fingerprint*, the size of each output, and the little else
the later stages take from it (counters, a few values). The fingerprint is a digest of
the stage's own settings and of the fingerprint of the stage it reads, which holds the
one before it in turn: a chain from stage 1's (the inputs' paths, sizes and times, the
reading, repair and shingle settings, the neardup version), so a change upstream
invalidates every stage below it and none above. A stage resumes when its marker holds
the fingerprint this run computes, every output is there at the size the marker says
and the outputs load (their bytes are not checksummed: a file rewritten in place at its
size is taken as it is); otherwise (no marker, other settings, a file missing, cut short or
unreadable) it runs, and its marker is removed before it writes anything, so a marker
never vouches for files that a failed or different run left behind.

=============  ==========  =================================================================
stage          resumes     outputs in the work directory
=============  ==========  =================================================================
ingest         yes         records.jsonl, records.npz, shingles.u32 (.keys), stage1.npz,
                           rejects.jsonl, repairs.jsonl; its own marker, ``stage1.json``
boilerplate    yes         boilerplate.npz (exact-key firsts, the paragraphs left out, the
                           sites' boilerplate lines)
signatures     yes         content.u32, signatures.npy, content_index.npz (where each
                           document's content shingles are, site hits), band_keys.npy,
                           lead_band_keys.npy (the band keys: loaded only if stage 4 runs)
candidates     yes (a)     candidate_pairs.npy
verify         yes (a)     verified_edges.npz, and pairs.bin when the scored pairs are
                           kept (``pairs.npz``): the marker says how many bytes of it are
                           verify's (the cluster stage appends its direct checks; a
                           resumed run cuts them off and appends them again)
cluster        no          nothing: it reruns (8 s at 1M documents against verify's 34 s,
                           benchmarks/README.md); it is where the keep policy acts, the
                           setting most often changed, and only the write stage reads it
write          no          the outputs themselves (what every run is for)
=============  ==========  =================================================================

A run without a work directory of its own (a temporary one) writes no markers, and none
of the files that only resuming needs (boilerplate.npz, content_index.npz, the band keys,
verified_edges.npz).

(a) Not with the Ray engine's grouping (``--engine ray``): its candidate pairs live in
Ray's object store, grouped by a shuffle and taken by the verification tasks directly,
never one file the driver could load; so stages 4 and 5 rerun (stages 1 to 3 resume).
With an index (``--index``) only stage 1 resumes: the later stages read the index, which
a run with ``--update`` changes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
import zipfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

#: the markers' format (a marker of another format is not resumed from)
MARKER_FORMAT = 1

#: what a damaged output raises as it loads: the stage then runs instead
_UNREADABLE = (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile)


class Stage:
    """One stage of a run, as :meth:`Stages.__call__` opens it: its fingerprint once
    :meth:`resume` knows its settings, and whether it was resumed."""

    def __init__(self, name: str, work: Path, resumable: bool, after: str | None):
        self.name = name
        self.work = work
        self._resumable = resumable  # the caller's work directory, and nothing against it
        self._after = after  # the fingerprint of the stage it reads (None: not resumable)
        self.fingerprint: str | None = None  # None: this stage does not resume in this run
        self.resumed = False

    @property
    def marker(self) -> Path:
        return self.work / f"{self.name}.done.json"

    def run(
        self,
        settings: dict | None,
        compute: Callable[[], T],
        save: Callable[[T], dict],
        load: Callable[[dict], T],
        outputs: Sequence[str],
    ) -> T:
        """The stage's result: ``load(info)`` of the ``outputs`` an earlier run left
        (see :meth:`resume`), else ``compute()``, then (when it resumes at all)
        ``save(result)``, which writes the ``outputs`` and gives what else the marker
        holds, and the marker. ``settings``: the stage's own (JSON values); None: the
        stage does not resume in this run."""
        got = self.resume(settings, load)
        if got is not None:
            return got
        result = compute()
        if self.fingerprint is not None:
            self.done(outputs, save(result))
        return result

    def resume(self, settings: dict | None, load: Callable[[dict], T]) -> T | None:
        """``load(info)`` when the marker holds this run's fingerprint and its outputs
        are as it says (``info``: what :meth:`done` was given); None when the stage must
        run: then its marker is gone (before the stage writes anything)."""
        if settings is not None and self._resumable and self._after is not None:
            self.fingerprint = _digest(self.name, settings, self._after)
        info = self._matching()
        if info is not None:
            try:
                got = load(info)
            except _UNREADABLE:
                got = None
            if got is not None:
                self.resumed = True
                return got
        self.marker.unlink(missing_ok=True)
        return None

    def done(self, outputs: Sequence[str], info: dict) -> None:
        """Mark the stage done: its ``outputs`` are written (their sizes are noted), and
        ``info`` is what :meth:`resume` gives its loader. The marker is written last."""
        if self.fingerprint is None:
            return
        sizes = {name: os.path.getsize(self.work / name) for name in outputs}
        marker = {"format": MARKER_FORMAT, "stage": self.name, "fingerprint": self.fingerprint,
                  "outputs": sizes, "info": info}  # fmt: skip
        tmp = self.marker.with_name(self.marker.name + ".part")
        tmp.write_text(json.dumps(marker, ensure_ascii=False, default=_plain), encoding="utf-8")
        os.replace(tmp, self.marker)

    def _matching(self) -> dict | None:
        """The marker's ``info`` when it holds this fingerprint and every output is there
        at its size, else None."""
        if self.fingerprint is None:
            return None
        try:
            marker = json.loads(self.marker.read_text(encoding="utf-8"))
            if (
                marker.get("format") != MARKER_FORMAT
                or marker.get("fingerprint") != self.fingerprint
            ):
                return None
            for name, size in marker["outputs"].items():
                if os.path.getsize(self.work / name) != size:
                    return None
            return marker["info"]
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None


class Stages:
    """The stages of one run: ``with stages(name) as stage:`` times the block into
    ``stats.seconds`` (under ``seconds``, the name by default; from ``start``, a
    ``time.perf_counter()`` value, when the stage's time began before the block) and
    notes in ``stats.resumed_stages`` the stages that resumed. ``after``: the stage it
    reads, whose fingerprint starts its own. ``resumable``: the work directory is the
    caller's (a temporary one is never resumed from, and nothing is, with an index)."""

    def __init__(self, stats, work: Path, resumable: bool):
        self.stats, self.work, self.resumable = stats, work, resumable
        self.fingerprints: dict[str, str | None] = {}

    @contextlib.contextmanager
    def __call__(
        self,
        name: str,
        *,
        after: str | None = None,
        seconds: str | None = None,
        start: float | None = None,
    ) -> Iterator[Stage]:
        t = time.perf_counter() if start is None else start
        stage = Stage(name, self.work, self.resumable, self.fingerprints.get(after or ""))
        yield stage
        self.stats.seconds[seconds or name] = round(time.perf_counter() - t, 3)
        self.fingerprints[name] = stage.fingerprint
        if stage.resumed:
            self.stats.resumed_stages.append(name)


def _digest(name: str, settings: dict, after: str) -> str:
    text = json.dumps([MARKER_FORMAT, name, settings, after], sort_keys=True, default=_plain)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _plain(value: Any) -> Any:
    """A setting that JSON has no type for (a numpy number, a tuple's items)."""
    return value.item() if hasattr(value, "item") else str(value)
