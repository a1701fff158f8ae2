"""Where the compiled and the Python implementations of an operation meet.

Every operation that has two implementations (compiled loops of :mod:`neardup.kernels`,
and the Python and numpy code they replace) is listed once in :data:`OPERATIONS`, and
:func:`implementation` alone chooses which one runs. The modules that need an operation
call it through :func:`call` and do not test :func:`neardup.kernels.available`
themselves. Both implementations give the same values (``tests/test_kernels.py`` runs
each pair on the same inputs); the compiled one is faster.

The table names its functions as ``"module:function"`` under ``neardup``, resolved on
first use: the modules that hold them import this one, and this one imports none of
them (no import cycle).

:func:`forced` runs a block on one path whatever ``NEARDUP_NO_JIT`` says, so that tests
can compare the two in one process.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

from . import kernels

#: name -> (compiled implementation, Python implementation). A compiled implementation
#: may hand some inputs to the Python one (a text beyond the BMP, words already cut,
#: the fuzzy score that needs each pair's texts), never the other way round.
OPERATIONS: dict[str, tuple[str, str]] = {
    # normalisation: what each step could act on, ftfy, whitespace
    "text_flags": ("normalize:_flags_compiled", "normalize:_no_flags"),
    "ftfy_fix": ("normalize:_ftfy_flagged_lines", "normalize:_ftfy_whole_text"),
    "may_be_mojibake": ("kernels:may_be_mojibake", "normalize:_mojibake_signs"),
    "collapse_whitespace": ("kernels:collapse_whitespace", "normalize:_collapse_regex"),
    # words with their offsets and hashes (the repair search)
    "words_with_spans": ("shingles:_words_with_spans_compiled", "shingles:_words_with_spans_regex"),
    # the repair: its pre-check, and seeds, runs and chains of the search
    "may_repeat": ("repair:_may_repeat_compiled", "repair:_may_repeat_python"),
    "repeat_chains": ("repair:_chains_compiled", "repair:_chains_python"),
    # stage 1: repair and features of a batch of texts
    "features_batch": (
        "stages.ingest:_features_batch_compiled",
        "stages.ingest:_features_batch_python",
    ),
    # stage 2: content shingles and signatures of a block of documents
    "content_block": (
        "stages.signatures:_content_block_compiled",
        "stages.signatures:_content_block_python",
    ),
    # verification: equal signature values, shared shingles of candidate pairs
    "signature_matches": ("stages.verify:_matches_compiled", "stages.verify:_matches_numpy"),
    "pair_overlaps": ("stages.verify:_overlaps_compiled", "stages.verify:_overlaps_python"),
    # clusters: the connected components of the verified edges
    "component_roots": ("clusters:_roots_compiled", "clusters:_roots_python"),
}

PATHS = ("compiled", "python")


def compiled() -> bool:
    """True when operations run their compiled implementation (numba installed, and
    ``NEARDUP_NO_JIT`` not set, or set by :func:`forced`)."""
    return kernels.available()


def implementation(name: str) -> Callable[..., Any]:
    """The function that runs operation ``name`` now."""
    compiled_ref, python_ref = OPERATIONS[name]
    return _resolve(compiled_ref if compiled() else python_ref)


def call(name: str, *args: Any) -> Any:
    """Run operation ``name`` on ``args`` (see :data:`OPERATIONS`)."""
    return implementation(name)(*args)


def _resolve(ref: str) -> Callable[..., Any]:
    module, _, attr = ref.partition(":")
    # looked up on each call, not kept, so that a function replaced in its module
    # (a test's monkeypatch) is the one that runs
    return getattr(_module(module), attr)


@functools.cache
def _module(name: str) -> ModuleType:
    return importlib.import_module(f"{__package__}.{name}")


@contextlib.contextmanager
def forced(path: str) -> Iterator[None]:
    """Run the block on ``path`` ("compiled" or "python") whatever ``NEARDUP_NO_JIT``
    says; the variable is set for the block (and restored after it), so that
    :func:`neardup.kernels.path`, :func:`neardup.kernels.warm` and worker processes
    started in the block follow the same path. "compiled" needs numba (RuntimeError
    otherwise). For tests: a process of its own sets ``NEARDUP_NO_JIT`` instead."""
    import os

    if path not in PATHS:
        raise ValueError(f"path must be one of {PATHS}, not {path!r}")
    name = "NEARDUP_NO_JIT"
    before = os.environ.get(name)
    os.environ[name] = "1" if path == "python" else "0"
    try:
        if path == "compiled" and not compiled():
            raise RuntimeError("the compiled path needs numba (pip install 'neardup[fast]')")
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before
