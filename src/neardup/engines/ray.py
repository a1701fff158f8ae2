"""Ray engine: the stages' per-batch functions run as Ray tasks, on a local Ray started
here or on the cluster a job is submitted to (``ray job submit -- neardup run ...``).

The mapped work moves (stage 1: parse, repair and features of each batch of lines;
stage 3: content shingles, signatures and band keys of each block of documents;
``clean``: the repair of each batch): :func:`~neardup.engines.map_ordered` still
submits, bounds what is in flight and yields in input order, so the outputs are the
local engine's, byte for byte. So do stages 4 and 5 (:mod:`.ray_stages`: the band keys
grouped by a shuffle, the pairs verified a block at a time), through
:meth:`RayEngine.group_bands`. A task whose worker dies (killed, out of memory, a lost
node) is run again by Ray (``max_retries``): every task is a pure function of its
arguments, or writes the same bytes at the same offsets, so running it twice changes
nothing.

Imported only when ``--engine ray`` is chosen (:func:`neardup.engines.open_engine`)."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from ..errors import NeardupError
from .local import keep_freed_memory
from .ray_stages import SpreadPairs, group_bands

#: times Ray runs a task again after its worker died (Ray's own default is 3; an
#: exception raised by the task itself is never retried: bad input stays bad)
RETRIES = 4

_worker_ready = False


@ray.remote(max_retries=RETRIES, retry_exceptions=False)
def _run_batch(func: Callable, *args: Any) -> Any:
    """One batch in a Ray worker (a long-lived process that runs many tasks)."""
    global _worker_ready
    if not _worker_ready:
        # as the local engine's workers do (see keep_freed_memory): batch after batch
        # allocates and frees buffers of the same sizes
        keep_freed_memory()
        _worker_ready = True
    return func(*args)


@ray.remote(max_retries=RETRIES)
def _finds(marker: str) -> bool:
    """Whether this node sees the marker file of :meth:`RayEngine.sees`."""
    path = Path(marker)
    return path.is_file() and path.read_text(encoding="utf-8") == path.name


class _Task:
    """What :class:`RayPool.submit` returns: the part of a future that
    :func:`~neardup.engines.map_ordered` uses."""

    __slots__ = ("_ref",)

    def __init__(self, ref: ray.ObjectRef):
        self._ref = ref

    def result(self) -> Any:
        try:
            return ray.get(self._ref)
        except ray.exceptions.RayTaskError as exc:
            # the task's own exception (an InputError naming file and line, say), as the
            # local engine raises it, not Ray's wrapper with the worker's traceback
            cause = exc.cause
            raise (cause if isinstance(cause, BaseException) else exc) from None
        except ray.exceptions.RayError as exc:
            raise NeardupError(
                f"a Ray task failed and was not recovered after {RETRIES} retries: {exc}"
            ) from None

    def cancel(self) -> bool:
        ray.cancel(self._ref)
        return True


class RayPool:
    """An executor-like front to Ray: ``submit(func, *args)`` starts a task; stages 4
    and 5 (:mod:`.ray_stages`) chain tasks by their refs with :meth:`launch` and
    :meth:`fetch`."""

    def submit(self, func: Callable, *args: Any) -> _Task:
        return _Task(self.launch(func, *args)[0])

    def launch(self, func: Callable, *args: Any, returns: int = 1) -> list[ray.ObjectRef]:
        """Start a task ``func(*args)`` that gives ``returns`` objects (a tuple of them
        when more than one); their refs. A ref among ``args`` reaches ``func`` as its
        value (once the task that makes it is done: tasks chain without the driver)."""
        task = _run_batch if returns == 1 else _run_batch.options(num_returns=returns)
        refs = task.remote(func, *args)
        return [refs] if returns == 1 else list(refs)

    @staticmethod
    def put(value: Any) -> ray.ObjectRef:
        """``value`` in Ray's object store, for many tasks to take by its ref."""
        return ray.put(value)

    @staticmethod
    def fetch(ref: ray.ObjectRef) -> Any:
        """The value of ``ref``; a task's failure raised as :meth:`_Task.result` raises it."""
        return _Task(ref).result()


class RayEngine:
    """The ``ray`` engine (see the module doc); :meth:`start` connects or starts Ray."""

    name = "ray"

    def __init__(self, workers: int, owned: bool, shared: bool):
        self.workers = workers  # CPUs of the Ray cluster: batches in flight are 3x that
        self.pool = RayPool()
        self._owned = owned  # Ray was started or joined here (and is shut down here)
        # the workers see this machine's files (the work directory): a Ray started
        # here has no other machine. A cluster's workers may be elsewhere (and an
        # autoscaler can add machines mid-run): stage 3 then carries its data along
        self.shared = shared

    @classmethod
    def start(cls, workers: int, address: str | None = None) -> RayEngine:
        """Join the cluster at ``address`` (or ``RAY_ADDRESS``, which ``ray job submit``
        sets), else start a local Ray on ``workers`` CPUs. A Ray this process had
        started already (a notebook, a test suite) is used as it is, and left running."""
        owned = not ray.is_initialized()
        address = address or os.environ.get("RAY_ADDRESS") or None
        if owned:
            quiet = dict(logging_level=logging.WARNING, include_dashboard=False)
            if address:
                ray.init(address=address, **quiet)
            else:
                ray.init(num_cpus=max(1, workers), **quiet)
        cpus = int(ray.cluster_resources().get("CPU", 0))
        return cls(max(1, cpus), owned, shared=owned and not address)

    def group_bands(
        self, keys: np.ndarray, lead_keys: np.ndarray | None, skip: np.ndarray, work: Path
    ) -> SpreadPairs | None:
        """Stage 4's grouping of the band keys by a shuffle over Ray tasks, started now
        (:func:`.ray_stages.group_bands`); None under two documents (no pairs)."""
        return group_bands(self.pool, self.workers, keys, lead_keys, skip, work, self.sees)

    def sees(self, folder: Path) -> bool:
        """Whether the tasks on every node read ``folder`` as this process does (stage 5
        reads the work directory there): yes on a Ray started here (one machine); on a
        cluster, when a task on each live node finds the marker written here (storage
        that every node mounts at the same path)."""
        if self.shared:
            return True
        marker = folder / f".ray-sees-{uuid.uuid4().hex}"
        marker.write_text(marker.name, encoding="utf-8")
        try:
            nodes = [node["NodeID"] for node in ray.nodes()
                     if node.get("Alive") and node.get("Resources", {}).get("CPU")]  # fmt: skip
            probes = [
                _finds.options(scheduling_strategy=NodeAffinitySchedulingStrategy(node, soft=False))
                .remote(str(marker))
                for node in nodes
            ]  # fmt: skip
            return bool(nodes) and all(ray.get(probes, timeout=120))
        except (ray.exceptions.RayError, TimeoutError):
            return False
        finally:
            marker.unlink(missing_ok=True)

    def close(self, cancel: bool = False) -> None:
        """Stop (or leave) a Ray started (or joined) by :meth:`start`; tasks still
        running are cancelled with it. Again: nothing."""
        if self._owned and ray.is_initialized():
            ray.shutdown()
        self._owned = False
