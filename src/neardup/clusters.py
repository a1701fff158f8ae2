"""Clusters from verified edges (union-find), keep policies, and the guard against
chaining: every member must itself be close to the document its cluster keeps."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import ConfigError


class UnionFind:
    def __init__(self, n: int):
        self.parent = list(range(n))

    def find(self, x: int) -> int:
        parent = self.parent
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            # the smaller index becomes the root: deterministic
            if ra < rb:
                self.parent[rb] = ra
            else:
                self.parent[ra] = rb


@dataclass(frozen=True)
class DocInfo:
    """What a keep policy may look at: input position, text length, the record."""

    index: int
    length: int
    record: dict[str, Any]


KeyFunc = Callable[[DocInfo], Any]


def keep_policy(spec: str | KeyFunc) -> KeyFunc:
    """A sort key: the document with the *smallest* key is kept; ties go to input order.

    ``first``: the earliest document; ``longest``: the longest repaired text;
    ``field:NAME``: the largest value of field NAME (e.g. the newest date);
    ``-field:NAME``: the smallest. Documents without the field lose to those with it.
    A callable is used as it is.
    """
    if callable(spec):
        return spec
    if spec == "first":
        return lambda d: d.index
    if spec == "longest":
        return lambda d: (-d.length, d.index)
    if spec.startswith(("field:", "-field:")):
        descending = not spec.startswith("-")
        name = spec.split(":", 1)[1]
        if not name:
            raise ConfigError(f"keep policy {spec!r} names no field; use field:NAME")

        def key(d: DocInfo):
            value = d.record.get(name)
            if value is None:
                return (1, 0, d.index)
            if descending:
                return (0, _Desc(value), d.index)
            return (0, value, d.index)

        return key
    raise ConfigError(
        f"unknown keep policy {spec!r}; use first, longest, field:NAME or -field:NAME"
    )


class _Desc:
    """Reverses the order of a value inside a sort key."""

    __slots__ = ("v",)

    def __init__(self, v):
        self.v = v

    def __lt__(self, other: _Desc) -> bool:
        return _compare(other.v, self.v)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Desc) and self.v == other.v


def _compare(a, b) -> bool:
    try:
        return a < b
    except TypeError:  # mixed types in a field: compare their text
        return str(a) < str(b)


def components(n: int, edges: Sequence[tuple[int, int]]) -> list[list[int]]:
    """Connected components with two or more members, each sorted, in order of their
    smallest member."""
    uf = UnionFind(n)
    for a, b in edges:
        uf.union(a, b)
    groups: dict[int, list[int]] = {}
    for a, b in edges:
        for x in (a, b):
            groups.setdefault(uf.find(x), []).append(x)
    return sorted(sorted(set(members)) for members in groups.values())
