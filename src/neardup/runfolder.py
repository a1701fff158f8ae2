"""The output folder of ``neardup run``: which files a run owns, and the marker that says
the run finished. A run clears the files it owns before it writes, removes them when it
fails, and writes the marker last; ``explain``, ``report`` and what-if read only a folder
that has the marker, so a failed, interrupted or foreign folder is never taken for a
finished run. A folder URI (``s3://bucket/out/``) is written locally first and uploaded
when the run finished, the marker last (:func:`staged`). A leaf module."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from .errors import InputError

MARKER = "complete.json"
#: every file a run may write (kept.* by input format), the marker first: a folder
#: being cleared never looks finished
OWNED = (
    MARKER,
    "kept.jsonl",
    "kept.csv",
    "kept.parquet",
    "removed.jsonl",
    "clusters.jsonl",
    "repairs.jsonl",
    "site_boilerplate.jsonl",
    "stats.json",
    "pairs.npz",
    "report.html",
)


def clear(out: Path) -> None:
    """Remove what an earlier run left in ``out``: its marker first (so that a folder
    half cleared never looks finished), then the files a run owns and their unfinished
    ``.part`` files. Other files of the folder are left alone."""
    for name in OWNED:
        path = out / name
        if path.is_file() or path.is_symlink():
            path.unlink()
    for part in out.glob(".*.part-*"):
        if part.is_file() and any(part.name.startswith(f".{n}.part-") for n in OWNED):
            part.unlink()


def mark_complete(out: Path, files: list[str]) -> None:
    """Write the marker: the run finished and wrote ``files`` (names in ``out``)."""
    from . import __version__

    tmp = out / f".{MARKER}.part-{os.getpid()}"
    tmp.write_text(json.dumps({"neardup": __version__, "files": sorted(files)}) + "\n")
    os.replace(tmp, out / MARKER)


def check_complete(out: str | os.PathLike) -> Path:
    """``out`` as a Path when it is the folder of a finished run; else an error that
    says what it is."""
    path = Path(out)
    if not path.is_dir():
        raise InputError("no such folder (pass the output folder of `neardup run`)", str(out))
    marker = path / MARKER
    if not marker.is_file():
        what = (
            "the run that wrote it did not finish (it failed or was interrupted)"
            if (path / "stats.json").exists() or any(path.glob(".*.part-*"))
            else "not an output folder of `neardup run`"
        )
        raise InputError(f"no {MARKER}: {what}; run `neardup run ... -o {out}` again", str(out))
    try:
        files = json.loads(marker.read_text(encoding="utf-8"))["files"]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise InputError(f"{MARKER} is damaged; run `neardup run` again", str(out)) from None
    missing = [f for f in files if not (path / str(f)).is_file()]
    if missing:
        raise InputError(
            f"files of the run are missing ({', '.join(map(str, missing))}); run `neardup run` "
            "again",
            str(out),
        )
    return path


def read_stats(out: str | os.PathLike) -> dict:
    """The run's ``stats.json`` (counters, timings, settings); an error when it is
    missing or damaged."""
    path = Path(out) / "stats.json"
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(
            "no stats.json (not a folder written by `neardup run`)", str(out)
        ) from None
    except (OSError, ValueError) as exc:
        raise InputError(
            f"stats.json cannot be read ({exc}); run `neardup run` again", str(out)
        ) from None
    if not isinstance(meta, dict) or not isinstance(meta.get("settings"), dict):
        raise InputError("stats.json is damaged (no settings); run `neardup run` again", str(out))
    return meta


@contextlib.contextmanager
def staged(output: str, inputs: Sequence[str]) -> Iterator[str]:
    """The local folder a run writes: ``output`` itself, or for a URI a staging folder
    (under ``TMPDIR``) that is uploaded when the block ends without an error
    (:func:`publish`) and removed either way. A failed run leaves nothing at the URI;
    an output that would be an input is refused before anything runs."""
    from .io.paths import is_uri

    if not is_uri(output):
        yield output
        return
    import shutil
    import tempfile

    from .io.remote import filesystem
    from .io.writers import check_paths

    filesystem(output)  # a missing package is said before the run, not after
    check_paths(inputs, [_join(output, name) for name in OWNED])
    tmp = tempfile.mkdtemp(prefix="neardup-run-")
    try:
        local = os.path.join(tmp, "out")
        yield local
        publish(Path(local), output)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _join(uri: str, name: str) -> str:
    return uri.rstrip("/") + "/" + name


def publish(local: Path, uri: str) -> None:
    """Upload the finished run folder ``local`` to the folder URI ``uri``: the marker an
    earlier run left there goes first (a folder half updated never looks finished), then
    the files an earlier run left that this one did not write, then this run's files,
    and its marker last."""
    from .io.remote import put, remove

    files = json.loads((local / MARKER).read_text(encoding="utf-8"))["files"]
    remove(_join(uri, MARKER))
    for name in OWNED[1:]:
        if name not in files:
            remove(_join(uri, name))
    for name in sorted(files):
        put(str(local / name), _join(uri, name))
    put(str(local / MARKER), _join(uri, MARKER))
