"""Local engine: ordered, bounded parallel map over batches with a process pool.
:func:`map_ordered` is every engine's map: it takes any pool whose ``submit`` returns
an object with ``result()`` and ``cancel()`` (:mod:`.ray`'s too)."""

from __future__ import annotations

import contextlib
import gc
import os
import signal
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class LocalEngine:
    """The ``local`` engine: a :func:`worker_pool` of ``workers`` processes (none for one
    worker), shared by the stages that map over batches."""

    name = "local"
    shared = True  # the workers see this machine's files
    # stage 4 groups the band keys in this process (RayEngine.group_bands: in its tasks)
    group_bands = None

    def __init__(self, workers: int):
        self.workers = workers
        self.pool = worker_pool(workers)

    def close(self, cancel: bool = False) -> None:
        """Stop the workers (again: nothing); ``cancel``: drop the batches not started."""
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=cancel)


def worker_pool(workers: int) -> ProcessPoolExecutor | None:
    """A pool of ``workers`` processes that several :func:`map_ordered` calls can share
    (None for one worker: everything runs in this process). Each worker is a fork of
    this process, so start the pool early, while this process is small: a worker forked
    late maps all of this process's memory, which counts again in its resident size.
    The workers start now."""
    if workers <= 1:
        return None
    # objects alive now are left alone by the collector (which would otherwise write to
    # their pages in each worker, and copy them)
    gc.freeze()
    pool = ProcessPoolExecutor(
        max_workers=workers, initializer=_start_worker, initargs=(os.getpid(),)
    )
    pool.submit(int).result()  # forks every worker (a fork pool starts them all at once)
    return pool


def _start_worker(parent: int) -> None:
    """Set up a worker: it dies with its parent (killed or crashed parents must not
    leave workers blocked on a queue, holding memory), it leaves SIGTERM to its default
    (the parent's handler is for the parent), and it keeps freed memory."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    _die_with_parent(parent)
    keep_freed_memory()


def _die_with_parent(parent: int) -> None:
    """Linux: the kernel sends SIGKILL to this process when its parent ends (prctl
    PR_SET_PDEATHSIG). Elsewhere a thread checks every second that the parent lives."""
    import ctypes
    import threading

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        armed = libc.prctl(1, signal.SIGKILL, 0, 0, 0) == 0  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        armed = False
    if os.getppid() != parent:  # the parent ended before the signal was armed
        os._exit(1)
    if armed:
        return

    def watch() -> None:
        import time

        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


#: glibc malloc settings of :func:`keep_freed_memory` (mallopt's M_MMAP_THRESHOLD and
#: M_TRIM_THRESHOLD)
_MALLOPT = ((-3, 32 << 20), (-1, 64 << 20))


def keep_freed_memory() -> bool:
    """Have glibc's malloc keep the memory this process frees for its next allocations:
    blocks up to 32 MB come from the heap instead of fresh mappings, and up to 64 MB
    free at the top of the heap stay there. A batch job allocates and frees buffers of
    the same sizes batch after batch; by default the large ones are mapped afresh each
    time, and every page of a fresh mapping costs a page fault (at 100k documents about
    100,000 faults per worker, 0.2 s of system time each on the 2-core VM of the
    benchmarks). Workers of :func:`worker_pool` call it; the command line calls it for
    its own process. False where the C library has no ``mallopt`` (not glibc)."""
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return all([mallopt(option, value) == 1 for option, value in _MALLOPT])


@contextlib.contextmanager
def fewer_collections(first_generation: int = 50_000) -> Iterator[None]:
    """Run Python's cyclic garbage collector less often inside the block (and in workers
    forked inside it), as it was afterwards. A batch job allocates millions of
    short-lived objects that form no cycles, and each full collection walks every object
    alive (at 100k documents: 0.4 s of a dedup). Objects alive on entry are frozen
    (never collected: the modules, the compiled loops)."""
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(threshold[0], first_generation), *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def map_ordered(
    func: Callable[[Any], R],
    items: Iterable[T],
    workers: int = 1,
    pending: int = 0,
    with_input: bool = False,
    arg: Callable[[T], Any] | None = None,
    pool=None,
) -> Iterator:
    """``map(func, items)`` on ``workers`` processes, results in input order (as
    ``(item, result)`` pairs with ``with_input``). With ``arg``, ``func`` is called on
    ``arg(item)`` instead of ``item`` (send workers only what they need).

    At most ``pending`` items (default ``3 * workers``) are in flight, so memory stays flat
    however long ``items`` is. With ``workers <= 1`` everything runs in this process.
    ``func`` must be picklable (a module-level function or a ``functools.partial`` of one).
    ``pool``: a :func:`worker_pool` (or an engine's pool) to run on, left open; otherwise
    one is started for this call.
    """
    if pool is not None:
        yield from _map_on(pool, func, items, pending or 3 * workers, with_input, arg)
    elif workers <= 1:
        for item in items:
            result = func(arg(item) if arg else item)
            yield (item, result) if with_input else result
    else:
        with ProcessPoolExecutor(max_workers=workers) as own:
            yield from _map_on(own, func, items, pending or 3 * workers, with_input, arg)


def _map_on(pool, func, items, limit, with_input, arg) -> Iterator:
    queue: deque[tuple[Any, Any]] = deque()  # (item, a future of the pool)

    def pop():
        item, future = queue.popleft()
        return (item, future.result()) if with_input else future.result()

    try:
        for item in items:
            queue.append((item, pool.submit(func, arg(item) if arg else item)))
            if len(queue) >= limit:
                yield pop()
        while queue:
            yield pop()
    finally:
        for _, future in queue:
            future.cancel()
