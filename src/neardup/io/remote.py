"""URIs as inputs and outputs: ``s3://``, ``gs://``, ``file://``, ``memory://`` and every
other scheme fsspec knows (extra ``neardup[cloud]``, plus the scheme's own package:
``s3fs``, ``gcsfs``, ...).

* **Inputs** are opened through fsspec and streamed (read in blocks as the records are
  parsed, never downloaded whole); format and compression come from the name as for a
  local file, and rejects name the URI and the line. A folder prefix (a URI ending in
  ``/``, or one without a suffix that the file system says is a folder) stands for the
  files under it whose names neardup reads (sorted; hidden names skipped); a URI with
  ``*``, ``?`` or ``[`` is a pattern (fsspec's glob, ``**`` included).
* **Outputs** are written to a local staging folder (under ``TMPDIR``) and uploaded
  once the run completed; a failed run uploads nothing (:func:`staged`,
  :func:`with_uris`, and :func:`neardup.runfolder.staged` for a run folder).

fsspec is imported only when a URI is seen: plain paths never import it."""

from __future__ import annotations

import contextlib
import functools
import inspect
import io
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import IO, Any

from ..errors import ConfigError, FormatError, InputError, MissingDependencyError
from .paths import _SUFFIXES, _split_compression, is_uri

#: the package of a scheme, for the message when fsspec itself is missing
_PACKAGES = {"s3": "s3fs", "s3a": "s3fs", "gs": "gcsfs", "gcs": "gcsfs", "az": "adlfs",
             "abfs": "adlfs", "abfss": "adlfs", "hf": "huggingface_hub"}  # fmt: skip


class MissingBackendError(MissingDependencyError):
    """fsspec, or the package of a URI's scheme (``s3fs``, ``gcsfs``), is not installed;
    the message says what to install."""

    def __init__(self, message: str):  # not MissingDependencyError's wording
        Exception.__init__(self, message)


def _scheme(uri: str) -> str:
    return uri.split("://", 1)[0].rsplit("::", 1)[-1].lower()


def filesystem(uri: str) -> tuple[Any, str]:
    """fsspec's file system of ``uri`` and the path in it; an error that says which
    package to install when fsspec or the scheme's package is missing."""
    scheme = _scheme(uri)
    try:
        import fsspec.core
    except ImportError:
        extra = f" {_PACKAGES[scheme]}" if scheme in _PACKAGES else ""
        raise MissingBackendError(
            f"{uri}: reading and writing URIs needs fsspec: pip install 'neardup[cloud]'{extra}"
        ) from None
    try:
        return fsspec.core.url_to_fs(uri)
    except ImportError as exc:
        raise MissingBackendError(f"{uri}: {_backend_hint(scheme, exc)}") from None
    except ValueError as exc:
        if "Protocol not known" in str(exc):
            raise FormatError(
                f"{uri}: no file system is known for {scheme}:// (fsspec's schemes: s3, gs, "
                "az, hf, http, file, memory, ...)"
            ) from None
        raise InputError(f"not a usable URI ({exc})", uri) from None


def _backend_hint(scheme: str, exc: ImportError) -> str:
    from fsspec.registry import known_implementations

    impl = known_implementations.get(scheme, {})
    package = impl.get("class", "").split(".", 1)[0] or _PACKAGES.get(scheme, "")
    if package and package != "fsspec":
        return f"{scheme}:// URIs need the package {package}: pip install {package}"
    return f"{scheme}:// URIs need a package that is not installed ({impl.get('err') or exc})"


# ------------------------------------------------------------------------------ inputs


def _is_pattern(uri: str) -> bool:
    if _scheme(uri) in ("http", "https"):  # ? starts a query there
        return "*" in uri
    return any(c in uri for c in "*?[")


def _readable(name: str) -> bool:
    """A file name neardup reads (by its suffix, after any compression suffix)."""
    base = _split_compression(name.rsplit("/", 1)[-1])[0]
    if base.startswith("."):  # hidden: a .part file of a writer, a checksum
        return False
    return os.path.splitext(base)[1].lower() in _SUFFIXES


def expand_inputs(inputs: Sequence[str]) -> Sequence[str]:
    """``inputs`` with each folder prefix or pattern URI replaced by its files (sorted;
    an error when it has none). ``inputs`` itself when it holds no URI: nothing is
    imported, nothing is asked of a file system. A URI that names a file is kept as it
    is, without a request."""
    if not any(is_uri(p) for p in inputs):
        return inputs
    out: list[str] = []
    for p in inputs:
        out.extend(_expand(p) if is_uri(p) else [p])
    return out


def _expand(uri: str) -> list[str]:
    folder = uri.endswith("/")
    pattern = _is_pattern(uri)
    if not folder and not pattern and os.path.splitext(uri.rsplit("/", 1)[-1])[1]:
        return [uri]  # a file's name: no request
    fs, path = filesystem(uri)
    try:
        if pattern:
            found = fs.glob(path, detail=True)
            names = [n for n, info in found.items() if info.get("type") != "directory"]
            cut = min(uri.find(c) for c in "*?[" if c in uri)
            prefix = uri[: uri.rfind("/", 0, cut) + 1]
            what = "no file matches this pattern"
        elif folder or fs.isdir(path):
            names = fs.find(path)
            prefix = uri if folder else uri + "/"
            what = "no file under this prefix has a name neardup reads"
        else:
            return [uri]  # a file without a suffix (--format says what it is)
    except Exception as exc:  # a backend's own errors too: credentials, network
        raise InputError(f"cannot be listed ({type(exc).__name__}: {exc})", uri) from None
    base = fs._strip_protocol(prefix).rstrip("/")
    files = sorted(_rebuild(fs, prefix, base, n) for n in names if _readable(n))
    if not files:
        raise InputError(
            f"{what} (.jsonl, .csv, .parquet, .txt, .html, .warc, .arc; optionally .gz/.zst)",
            uri,
        )
    return files


def _rebuild(fs, prefix: str, base: str, name: str) -> str:
    """The URI of a listed file, spelled as the user spelled the folder or pattern."""
    name = name.rstrip("/")
    if base and name.startswith(base + "/"):
        return prefix.rstrip("/") + "/" + name[len(base) + 1 :]
    if not base:
        return prefix.rstrip("/") + "/" + name.lstrip("/")
    return fs.unstrip_protocol(name)


def open_uri(uri: str) -> IO[bytes]:
    """The bytes of the file at ``uri`` as stored (not decompressed), seekable, read in
    blocks as they are needed; errors name the URI."""
    fs, path = filesystem(uri)
    try:
        return fs.open(path, "rb")
    except FileNotFoundError:
        raise InputError("no such file", uri) from None
    except IsADirectoryError:
        raise InputError(
            "is a folder; end the URI with / to read the files under it", uri
        ) from None
    except PermissionError as exc:
        raise InputError(f"permission denied ({exc})", uri) from None
    except Exception as exc:  # a backend's own errors: credentials, network, a bad bucket
        raise InputError(f"cannot be opened ({type(exc).__name__}: {exc})", uri) from None


class _Raw(io.RawIOBase):
    """An fsspec file as a raw stream (its ``readline`` takes no size limit; a buffered
    reader over this one does)."""

    def __init__(self, file: IO[bytes]):
        self._file = file

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._file.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        return n

    def close(self) -> None:
        if not self.closed:
            self._file.close()
        super().close()


class _Owning(io.BufferedReader):
    """A decompressing stream, buffered, that also closes the file it reads from
    (``gzip``, ``bz2`` and ``lzma`` leave a file object they were given open)."""

    def __init__(self, stream: IO[bytes], source: IO[bytes]):
        super().__init__(stream, buffer_size=1 << 17)  # type: ignore[arg-type]
        self._source = source

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._source.close()


def open_uri_read(uri: str, comp: str | None) -> IO[bytes]:
    """The decompressed bytes of ``uri`` (``comp``: its compression suffix), streamed. A
    compressed file of 0 bytes reads as a damaged stream, as a local one does."""
    from .formats import _EmptyStream, _ZstdRaw

    source = io.BufferedReader(_Raw(open_uri(uri)), buffer_size=1 << 20)
    if comp is None:
        return source
    if not source.peek(1):
        source.close()
        return _EmptyStream()  # type: ignore[return-value]
    if comp in (".zst", ".zstd"):
        return io.BufferedReader(_ZstdRaw(uri, source), buffer_size=1 << 17)
    if comp == ".gz":
        import gzip

        return _Owning(gzip.GzipFile(fileobj=source, mode="rb"), source)  # type: ignore[arg-type]
    if comp == ".bz2":
        import bz2

        return _Owning(bz2.BZ2File(source, "rb"), source)  # type: ignore[arg-type]
    import lzma

    return _Owning(lzma.LZMAFile(source, "rb"), source)  # type: ignore[arg-type]


def stamp(uri: str) -> list:
    """What says a URI's file changed (for resuming from a work directory): the URI, its
    size and the file system's key of its version (an ETag, a modification time)."""
    fs, path = filesystem(uri)
    try:
        info = fs.info(path)
        return [uri, info.get("size"), str(fs.ukey(path))]
    except FileNotFoundError:
        raise InputError("no such file", uri) from None
    except Exception as exc:
        raise InputError(f"cannot be read ({type(exc).__name__}: {exc})", uri) from None


# ----------------------------------------------------------------------------- outputs


def _key(path: str) -> tuple[str, str]:
    """A path or URI as one spelling: a local file (``file://`` too) by its real path,
    any other URI by its scheme and its path in the file system."""
    if not is_uri(path):
        return ("file", os.path.realpath(path))
    fs, inner = filesystem(path)
    protocols = (fs.protocol,) if isinstance(fs.protocol, str) else tuple(fs.protocol)
    if "file" in protocols or "local" in protocols:
        return ("file", os.path.realpath(inner))
    return (protocols[0], inner.rstrip("/"))


def check_uris(inputs: Sequence[str], outputs: Sequence[str | None]) -> None:
    """:func:`~neardup.io.writers.check_paths` where a URI is involved: an output that is
    an input, or two outputs that are one file, by the URIs normalised (``memory://a``
    is ``memory:///a``; ``file:///x`` is the local file ``/x``)."""
    named = [o for o in outputs if o is not None and o != "-"]
    if not any(is_uri(p) for p in (*inputs, *named)):
        return
    ins = {_key(p): p for p in inputs if p != "-"}
    seen: dict[tuple[str, str], str] = {}
    for out in named:
        key = _key(out)
        if key in seen and (is_uri(out) or is_uri(seen[key])):
            raise ConfigError(
                f"{seen[key]} and {out} are the same file: give each output its own path"
            )
        seen[key] = out
        if key in ins and (is_uri(out) or is_uri(ins[key])):
            raise ConfigError(
                f"the output {out} is the input {ins[key]}: writing it would destroy the input; "
                "choose another output path"
            )


def put(local: str, uri: str) -> None:
    """Upload the local file (or folder, file by file) ``local`` to ``uri``. On a local
    file system through a temporary name and a rename, as every output is written; on
    an object store each object appears whole when its upload ends."""
    fs, path = filesystem(uri)
    if os.path.isdir(local):
        for root, _, names in os.walk(local):
            for name in sorted(names):
                full = os.path.join(root, name)
                rel = os.path.relpath(full, local).replace(os.sep, "/")
                _put_file(fs, full, path.rstrip("/") + "/" + rel, uri)
    else:
        _put_file(fs, local, path, uri)


def _put_file(fs, local: str, path: str, uri: str) -> None:
    protocols = (fs.protocol,) if isinstance(fs.protocol, str) else tuple(fs.protocol)
    try:
        if "file" in protocols or "local" in protocols:
            os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
            tmp = os.path.join(
                os.path.dirname(path), f".{os.path.basename(path)}.part-{os.getpid()}"
            )
            shutil.copyfile(local, tmp)
            os.replace(tmp, path)
        else:
            fs.put_file(local, path)
    except Exception as exc:
        raise FormatError(
            f"{uri}: the upload failed ({type(exc).__name__}: {exc}); the run's outputs are "
            "not all at their destination"
        ) from None


def remove(uri: str) -> None:
    """Remove the file at ``uri`` if it is there."""
    fs, path = filesystem(uri)
    try:
        with contextlib.suppress(FileNotFoundError):
            if fs.exists(path):
                fs.rm_file(path)
    except Exception as exc:
        raise FormatError(f"{uri}: cannot be removed ({type(exc).__name__}: {exc})") from None


@contextlib.contextmanager
def staged(outputs: Mapping[str, str | None]) -> Iterator[dict[str, str | None]]:
    """``outputs`` (name -> path or URI) with every URI replaced by a local path (same
    file name, so the same format, in a staging folder under ``TMPDIR``); once the block
    ends without an error, each staged file is uploaded to its URI. The staging folder
    is removed either way: a failed run uploads nothing."""
    remote = {k: v for k, v in outputs.items() if is_uri(v)}
    if not remote:
        yield dict(outputs)
        return
    for uri in remote.values():
        filesystem(uri)  # a missing package is said now, not after the run
    local = dict(outputs)
    tmp = tempfile.mkdtemp(prefix="neardup-staged-")
    try:
        for i, (k, uri) in enumerate(remote.items()):
            name = uri.rstrip("/").rsplit("/", 1)[-1] or "output"
            local[k] = os.path.join(tmp, str(i), name) + ("/" if uri.endswith("/") else "")
        yield local
        for k, uri in remote.items():
            staged_path = str(local[k]).rstrip("/")
            if os.path.exists(staged_path):
                put(staged_path, uri)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def with_uris(outputs: tuple[str, ...], local_only: tuple[str, ...] = ()) -> Callable:
    """Decorate a function that reads ``inputs`` and writes the files named by its
    arguments ``outputs``: folder and pattern URIs among the inputs become their files,
    an output that is an input is refused (URIs compared normalised), and URI outputs
    are staged locally and uploaded when the function returned (:func:`staged`). The
    arguments ``local_only`` (a work folder, an index) must be local paths. A call
    without a URI passes through untouched."""

    def decorate(func: Callable) -> Callable:
        sig = inspect.signature(func)

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            bound = sig.bind(*args, **kwargs)
            bound.apply_defaults()
            a = bound.arguments
            if not isinstance(a["inputs"], list | tuple):  # read once, here and in func
                a["inputs"] = list(a["inputs"])
            named = [a[k] for k in (*outputs, *local_only)]
            if not any(is_uri(p) for p in (*a["inputs"], *named)):
                return func(*bound.args, **bound.kwargs)
            for k in local_only:
                if is_uri(a[k]):
                    raise ConfigError(f"{k} {a[k]}: must be a local path, not a URI")
            a["inputs"] = expand_inputs(list(a["inputs"]))
            from .writers import check_paths

            check_paths(a["inputs"], [a[k] for k in outputs])
            with staged({k: a[k] for k in outputs}) as local:
                a.update(local)
                return func(*bound.args, **bound.kwargs)

        return wrapper

    return decorate
