"""Clusters from verified edges, keep policies, and the guard against chaining: every
member must itself be close to the document its cluster keeps.

How clusters are made
---------------------
Exact copies and verified edges make connected components. In each component the
document the keep policy ranks first is kept, and the members that are duplicates of it
join its cluster; the others are clustered again among themselves the same way.

* A component of at most :data:`PEEL_MAX` documents: a member joins when it is an exact
  copy of the kept document, shares a verified edge with it, or passes a direct check of
  the pair (a member LSH did not pair with the kept document still joins).
* A larger component (the versions of a live blog, one template on thousands of pages):
  the same rule over exact copies and verified edges, as star clustering in keep order
  (each document not yet placed keeps itself and takes its unplaced duplicates), so its
  cost grows with its edges, not with the square of its size. A document whose
  duplicates were all taken before its turn is checked directly against the kept
  documents of their clusters (a few), and joins the first it is a duplicate of.

Clusters are numbered by the smallest member of the component (or, for a small one, of
the part of it) they were made from, then in keep order: the same numbers whatever the
worker count.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from . import dispatch, kernels
from .arrays import sorted_unique, union, unique_groups
from .errors import ConfigError
from .verify import PairScore, decide

if TYPE_CHECKING:
    from .config import DedupConfig
    from .verify import EdgeTable

#: components of at most this many documents are peeled with direct checks of the kept
#: document against every member (see the module doc); the checks of one component cost
#: at most PEEL_MAX**2 / 2 pair scores
PEEL_MAX = 48


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
                return (0, _Desc(_comparable(value)), d.index)
            return (0, _comparable(value), d.index)

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
        return other.v < self.v

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Desc) and self.v == other.v


def _comparable(value) -> tuple:
    """A field's value in one total order over the types a record holds: numbers (and
    booleans) by value, then strings, then lists and objects by their JSON text; so a
    field with mixed types still sorts, the same way every run."""
    if isinstance(value, bool | int | float):
        return (0, value, "")
    if isinstance(value, str):
        return (1, 0, value)
    import json

    return (2, 0, json.dumps(value, sort_keys=True, ensure_ascii=False, default=str))


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


@dataclass
class Decision:
    """Why a document was removed: the cluster, the document kept, the scores."""

    cluster: int
    kept: int
    reason: str  # exact | near | contained
    similarity: float
    scores: PairScore | None = None


@dataclass
class Cluster:
    number: int
    kept: int
    members: list[int]  # including kept, input order
    tightness: float  # lowest similarity of a member to the kept document


#: (reason, similarity, scores) of a member's link to its kept document
Link = tuple[str, float, "PairScore | None"]
#: a cluster before numbering: (order key, kept document, its members' links)
_Found = tuple[tuple[int, int], int, dict[int, Link]]


def cluster(
    n: int,
    keys: Sequence[int],
    edges: EdgeTable,
    score: Callable[[int, int], PairScore | None],
    infos: Sequence[DocInfo],
    policy: KeyFunc,
    config: DedupConfig,
    pinned: Sequence[bool] | None = None,
) -> tuple[list[Cluster], dict[int, Decision]]:
    """Clusters from exact and verified edges; one document kept per cluster (see the
    module doc). ``score(a, b)`` is the direct check of a pair, None when it cannot be
    scored.

    ``pinned`` documents (those of a persistent index, kept by earlier runs) are never
    removed: a cluster holding one keeps it (the lowest-numbered, when several), whatever
    the keep policy says.
    """
    rank = keep_rank(infos, policy, pinned)
    # exact copies: an edge from the first document of each key to each later one
    first = first_copies(keys)
    later = np.flatnonzero(first != np.arange(len(first)))
    ea = np.concatenate([first[later], edges.a])
    eb = np.concatenate([later, edges.b])
    # every member's place in keep order, ranked once (the policy is a Python callable);
    # a document found inside a larger one comes after every document that is not: the
    # kept document then holds the text of the members removed for being inside it (the
    # full story, not its trimmed copy; a live page's crawl that holds an earlier one)
    inside = set(edges.contained_documents().tolist())

    def order(m: int) -> tuple:
        r = rank(m)
        return (r[0], m in inside, r)

    place = {m: i for i, m in enumerate(sorted(union(ea, eb).tolist(), key=order))}
    found: list[_Found] = []
    for members, (ca, cb) in _components(n, ea, eb):
        if len(members) <= PEEL_MAX:
            found += _peel(n, members, ca, cb, place, keys, edges, score, config, pinned)
        else:
            found += _star(members, ca, cb, place, keys, edges, pinned, score, config)
    found.sort(key=lambda f: f[0])
    clusters: list[Cluster] = []
    decisions: dict[int, Decision] = {}
    for number, (_, kept, links) in enumerate(found):
        for m, (reason, similarity, scores) in links.items():
            decisions[m] = Decision(number, kept, reason, similarity, scores)
        tightness = min(link[1] for link in links.values())
        clusters.append(Cluster(number, kept, sorted([kept, *links]), tightness))
    return clusters, decisions


def _peel(n, members, ca, cb, place, keys, edges, score, config, pinned) -> list[_Found]:
    """A small component: the kept document checked against every member; the members
    that do not join are components again among themselves."""
    out: list[_Found] = []
    pending = [(members, ca, cb)]
    while pending:
        members, sa, sb = pending.pop()
        kept = min(members, key=place.__getitem__)
        links: dict[int, Link] = {}
        detached = []
        for m in members:
            if m == kept:
                continue
            link = None if pinned is not None and pinned[m] else (
                _link(kept, m, keys, edges, score, config)
            )  # fmt: skip
            if link is None:
                detached.append(m)
            else:
                links[m] = link
        if links:
            out.append(((members[0], place[kept]), kept, links))
        if len(detached) > 1:
            inside = np.isin(sa, detached) & np.isin(sb, detached)
            for c, (da, db) in _components(n, sa[inside], sb[inside]):
                pending.append((c, da, db))
    return out


#: how many clusters a document whose duplicates were all taken tries to join (the
#: clusters of its first neighbours, in keep order of their kept documents)
RESCUE_TRIES = 8


def _star(members, ca, cb, place, keys, edges, pinned, score=None, config=None) -> list[_Found]:
    """A large component: in keep order, each document not yet placed keeps itself and
    takes the unplaced documents it has an exact copy or a verified edge with. Verified
    edges join first copies only (later copies are not compared), so a document reached
    through one brings its exact copies with it, with the same scores. A document whose
    duplicates were all taken first tries the clusters they joined (at most
    :data:`RESCUE_TRIES`): it joins one whose kept document it is itself a duplicate of
    (``score``, the direct check the peel makes), instead of staying alone."""
    nodes = np.asarray(members, dtype=np.int64)
    la, lb = nodes.searchsorted(ca), nodes.searchsorted(cb)
    src, dst = np.concatenate([la, lb]), np.concatenate([lb, la])
    order = np.argsort(src, kind="stable")
    adj = dst[order].tolist()
    start = np.searchsorted(src[order], np.arange(len(nodes) + 1)).tolist()
    # exact-copy groups, in local numbers, members ascending
    _, _, group = unique_groups(np.array([keys[x] for x in members], dtype=np.uint64))
    by_group = np.argsort(group, kind="stable")
    bounds = np.searchsorted(group[by_group], np.arange(int(group.max()) + 2)).tolist()
    group_of, by_group = group.tolist(), by_group.tolist()
    locked = [bool(pinned[x]) for x in members] if pinned is not None else [False] * len(members)
    placed = [False] * len(members)
    kept_of = [-1] * len(members)  # local number of the kept document of each placed one
    links_of: dict[int, dict[int, Link]] = {}
    out: list[_Found] = []

    def copies(j: int) -> list[int]:
        g = group_of[j]
        return by_group[bounds[g] : bounds[g + 1]]

    def take(c: int, j: int, link: Link) -> None:
        """j and its unplaced exact copies join the cluster kept by c."""
        for k in copies(j):
            if not placed[k] and not locked[k]:
                placed[k], kept_of[k] = True, c
                links_of[c][members[k]] = link

    def rescue(c: int) -> bool:
        tried: set[int] = set()
        for j in adj[start[c] : start[c + 1]]:
            k = kept_of[j]
            if k < 0 or k in tried or len(tried) >= RESCUE_TRIES:
                continue
            tried.add(k)
            link = _link(members[k], members[c], keys, edges, score, config)
            if link is not None:
                take(k, c, link)
                return True
        return False

    for c in sorted(range(len(members)), key=lambda i: place[members[i]]):
        if placed[c] or (score is not None and not locked[c] and rescue(c)):
            continue
        placed[c], kept_of[c] = True, c
        links = links_of[c] = {}
        mine = copies(c)
        for j in mine:
            if not placed[j] and not locked[j]:
                placed[j], kept_of[j] = True, c
                links[members[j]] = ("exact", 1.0, None)
        for g in mine:
            for j in adj[start[g] : start[g + 1]]:
                if placed[j] or locked[j]:
                    continue
                edge = edges.get(members[g], members[j])
                if edge is None:  # an exact-copy edge: j is in c's group, placed above
                    continue
                take(c, j, (edge.reason, _similarity(edge.reason, edge.score), edge.score))
    for c, links in links_of.items():
        if links:
            out.append(((members[0], place[members[c]]), members[c], links))
    return out


def first_copies(keys: Sequence[int]) -> np.ndarray:
    """For each document, the first document with its exact key (itself, for most)."""
    if not len(keys):
        return np.zeros(0, dtype=np.int64)
    _, first, inverse = unique_groups(np.array(keys, dtype=np.uint64))
    return first[inverse]


def keep_rank(
    infos: Sequence[DocInfo], policy: KeyFunc, pinned: Sequence[bool] | None = None
) -> Callable[[int], tuple]:
    """Sort key of document i in a cluster: pinned documents first (by number), then the
    keep policy, ties in input order."""

    def rank(i: int) -> tuple:
        if pinned is not None and pinned[i]:
            return (0, i)
        info = infos[i]
        return (1, policy(info), info.index)

    return rank


def _roots_compiled(
    n: int, nodes: np.ndarray, ea: np.ndarray, eb: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The root (smallest connected node) of each of ``nodes`` and of each edge's
    ``ea``, by the compiled union-find (the compiled path)."""
    root = kernels.union_find(n, ea, eb)  # each node's smallest connected node
    return root[nodes], root[ea]


def _roots_python(
    n: int, nodes: np.ndarray, ea: np.ndarray, eb: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_roots_compiled` by :class:`UnionFind` (the Python path)."""
    uf = UnionFind(n)
    for start in range(0, len(ea), 65536):
        for a, b in zip(
            ea[start : start + 65536].tolist(), eb[start : start + 65536].tolist(),
            strict=True,
        ):  # fmt: skip
            uf.union(a, b)
    roots = np.array([uf.find(x) for x in nodes.tolist()], dtype=np.int64)
    root_of = dict(zip(nodes.tolist(), roots.tolist(), strict=True))
    return roots, np.array([root_of[a] for a in ea.tolist()], dtype=np.int64)


def _components(n: int, ea: np.ndarray, eb: np.ndarray):
    """Connected components (two or more members) of the edges (ea[i], eb[i]), each as
    (sorted members, (its edges' a, its edges' b)), in order of their smallest member."""
    if not len(ea):
        return []
    nodes = union(ea, eb)
    roots, edge_root = dispatch.call("component_roots", n, nodes, ea, eb)
    order = np.argsort(edge_root, kind="stable")
    edge_root, ea, eb = edge_root[order], ea[order], eb[order]
    out = []
    node_order = np.argsort(roots, kind="stable")
    node_roots, nodes_sorted = roots[node_order], nodes[node_order]
    found = sorted_unique(roots)
    nlo, nhi = node_roots.searchsorted(found), node_roots.searchsorted(found, side="right")
    elo, ehi = edge_root.searchsorted(found), edge_root.searchsorted(found, side="right")
    for i in range(len(found)):
        members = sorted(nodes_sorted[nlo[i] : nhi[i]].tolist())
        out.append((members, (ea[elo[i] : ehi[i]], eb[elo[i] : ehi[i]])))
    out.sort(key=lambda item: item[0])
    return out


def _link(kept, m, keys, edges: EdgeTable, score_of, config) -> Link | None:
    if keys[kept] == keys[m]:
        return "exact", 1.0, None
    edge = edges.get(kept, m)
    if edge is not None:
        return edge.reason, _similarity(edge.reason, edge.score), edge.score
    score = score_of(min(kept, m), max(kept, m))
    if score is None:
        return None
    reason = decide(score, config.threshold, config.containment, config.verify, config.aligned)
    if reason is None:
        return None
    return reason, _similarity(reason, score), score


def _similarity(reason: str, score: PairScore) -> float:
    if reason == "contained":
        return score.containment
    return score.jaccard
