"""Clustering: the star rule of large components against the peel of small ones, and
the guard against chaining in both."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from neardup import clusters
from neardup.clusters import DocInfo, _components, _peel, _star, cluster, keep_policy
from neardup.config import DedupConfig
from neardup.verify import Edge, EdgeTable, PairScore


def _table(n: int, pairs: set[tuple[int, int]]) -> EdgeTable:
    score = PairScore(0.8, 0.9, 0.8, (20, 20))
    return EdgeTable.from_edges(n, [Edge(a, b, "near", score) for a, b in pairs])


def _no_direct(a: int, b: int):
    return None


@settings(max_examples=200, deadline=None)
@given(
    st.integers(2, 30).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.sets(
                st.tuples(st.integers(0, n - 1), st.integers(0, n - 1))
                .filter(lambda p: p[0] != p[1])
                .map(lambda p: (min(p), max(p))),
                max_size=3 * n,
            ),
            st.permutations(list(range(n))),
        )
    )
)
def test_star_equals_the_peel_without_direct_checks(case) -> None:
    """With distinct keys and no direct checks, both rules keep the best-ranked document
    of each (remaining) component and join its neighbours: the same clusters."""
    n, pairs, order = case
    edges = _table(n, pairs)
    keys = list(range(100, 100 + n))
    place = {m: order.index(m) for m in range(n)}
    config = DedupConfig()
    for members, (ca, cb) in _components(n, edges.a, edges.b):
        peeled = _peel(n, members, ca, cb, place, keys, edges, _no_direct, config, None)
        starred = _star(members, ca, cb, place, keys, edges, None)
        # the same clusters (numbered by the part of the component, or by the component)
        assert sorted(f[1:] for f in peeled) == sorted(f[1:] for f in starred)
        # every member joined is linked to its kept document by an edge: no chaining
        for _, kept, links in starred:
            assert all((min(kept, m), max(kept, m)) in pairs for m in links)


def test_large_components_keep_exact_copies_together(monkeypatch) -> None:
    """Above PEEL_MAX, a document reached through a verified edge brings its exact copies
    (which have no edges of their own) into the same cluster, as the peel's direct
    checks do."""
    monkeypatch.setattr(clusters, "PEEL_MAX", 2)
    # 0 ~ 1 verified; 2 and 3 exact copies of 1; 4 an exact copy of 0
    keys = [7, 8, 8, 8, 7]
    edges = _table(5, {(0, 1)})
    infos = [DocInfo(i, 10, {}) for i in range(5)]
    found, decisions = cluster(
        5, keys, edges, _no_direct, infos, keep_policy("first"), DedupConfig()
    )
    assert [c.members for c in found] == [[0, 1, 2, 3, 4]]
    assert {m: d.reason for m, d in decisions.items()} == {
        1: "near",
        2: "near",
        3: "near",
        4: "exact",
    }


def test_a_chain_is_cut_into_stars(monkeypatch) -> None:
    """A live blog: each version close to the next only. Every removed version is a
    neighbour of the version it was removed for."""
    monkeypatch.setattr(clusters, "PEEL_MAX", 4)
    n = 50
    pairs = {(i, i + 1) for i in range(n - 1)}
    edges = _table(n, pairs)
    infos = [DocInfo(i, 10, {}) for i in range(n)]
    found, decisions = cluster(
        n, list(range(n)), edges, _no_direct, infos, keep_policy("first"), DedupConfig()
    )
    assert [c.kept for c in found] == list(range(0, n, 2))
    assert all(abs(d.kept - m) == 1 for m, d in decisions.items())
    assert len(decisions) + len(found) == n
    assert [c.number for c in found] == list(range(len(found)))


def test_pinned_documents_are_never_removed_in_a_star(monkeypatch) -> None:
    monkeypatch.setattr(clusters, "PEEL_MAX", 2)
    edges = _table(4, {(0, 1), (1, 2), (2, 3), (0, 2)})
    infos = [DocInfo(i, 10, {}) for i in range(4)]
    pinned = np.array([False, False, True, False])
    found, decisions = cluster(
        4, [1, 2, 3, 4], edges, _no_direct, infos, keep_policy("first"), DedupConfig(), pinned
    )
    assert 2 not in decisions
    assert found[0].kept == 2 and sorted(decisions) == [0, 1, 3]


def test_a_document_inside_a_larger_one_is_not_kept_in_its_place() -> None:
    """A trimmed copy that comes first does not stand for the full story it is contained
    in: the full one is kept, whatever the policy, in a small and in a large component;
    a pinned document is still kept."""
    inside = PairScore(0.5, 0.95, 0.5, (40, 80))  # document 0 (40 shingles) inside 1 (80)
    near = PairScore(0.9, 0.95, 0.9, (80, 82))
    edges = EdgeTable.from_edges(3, [Edge(0, 1, "contained", inside), Edge(1, 2, "near", near)])
    infos = [DocInfo(i, 10, {}) for i in range(3)]
    for peel_max in (48, 1):
        clusters.PEEL_MAX, old = peel_max, clusters.PEEL_MAX
        try:
            found, decisions = cluster(
                3, [1, 2, 3], edges, _no_direct, infos, keep_policy("first"), DedupConfig()
            )
        finally:
            clusters.PEEL_MAX = old
        assert [c.kept for c in found] == [1] and decisions[0].reason == "contained"
    pinned = np.array([True, False, False])
    found, decisions = cluster(
        3, [1, 2, 3], edges, _no_direct, infos, keep_policy("first"), DedupConfig(), pinned
    )
    assert found[0].kept == 0 and 0 not in decisions
