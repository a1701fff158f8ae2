"""Where stages run. ``local`` runs them in this process or a pool of local processes;
a distributed engine can call the same batch functions later."""

from .local import fewer_collections, keep_freed_memory, map_ordered, worker_pool

__all__ = ["fewer_collections", "keep_freed_memory", "map_ordered", "worker_pool"]
