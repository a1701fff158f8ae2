"""Where stages run. The stages map their per-batch functions with :func:`map_ordered`
over the ``pool`` of an engine; :func:`open_engine` is the one place that picks it:

- ``local``: this process, or a pool of forked local processes (:mod:`.local`);
- ``ray``: Ray tasks on a local Ray or a Ray cluster (:mod:`.ray`, imported only here,
  so neardup runs without Ray installed).

Both give the same results: :func:`map_ordered` yields in input order, whatever runs
where."""

from __future__ import annotations

import importlib.util

from ..errors import ConfigError, MissingDependencyError
from .local import LocalEngine, fewer_collections, keep_freed_memory, map_ordered, worker_pool

#: the names ``--engine`` takes
ENGINES = ("local", "ray")

__all__ = [
    "ENGINES",
    "LocalEngine",
    "fewer_collections",
    "keep_freed_memory",
    "map_ordered",
    "open_engine",
    "worker_pool",
]


def open_engine(name: str, workers: int, address: str | None = None):
    """The engine ``name`` with ``workers`` parallel workers (``ray``: a local Ray on
    ``workers`` cores, or the cluster at ``address`` / ``RAY_ADDRESS``, with the cluster's
    CPUs). It has ``workers`` (how many batches run at once), ``pool`` (what
    :func:`map_ordered` submits to; None: this process), ``shared`` (the workers see
    this machine's files) and ``close(cancel=False)``."""
    if name == "local":
        if address:
            raise ConfigError("--ray-address needs --engine ray")
        return LocalEngine(workers)
    if name == "ray":
        if importlib.util.find_spec("ray") is None:
            raise MissingDependencyError("ray", "ray", "--engine ray")
        from .ray import RayEngine

        return RayEngine.start(workers, address)
    raise ConfigError(f"unknown engine {name!r}: choose one of {', '.join(ENGINES)}")
