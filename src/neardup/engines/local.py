"""Local engine: ordered, bounded parallel map over batches with a process pool."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def map_ordered(
    func: Callable[[Any], R],
    items: Iterable[T],
    workers: int = 1,
    pending: int = 0,
    with_input: bool = False,
    arg: Callable[[T], Any] | None = None,
) -> Iterator:
    """``map(func, items)`` on ``workers`` processes, results in input order (as
    ``(item, result)`` pairs with ``with_input``). With ``arg``, ``func`` is called on
    ``arg(item)`` instead of ``item`` (send workers only what they need).

    At most ``pending`` items (default ``3 * workers``) are in flight, so memory stays flat
    however long ``items`` is. With ``workers <= 1`` everything runs in this process.
    ``func`` must be picklable (a module-level function or a ``functools.partial`` of one).
    """
    if workers <= 1:
        for item in items:
            result = func(arg(item) if arg else item)
            yield (item, result) if with_input else result
        return
    limit = pending or 3 * workers
    with ProcessPoolExecutor(max_workers=workers) as pool:
        queue: deque[tuple[T, Future[R]]] = deque()

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
