"""The sort-based set operations agree with numpy's own."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from neardup.arrays import sorted_unique, union, unique_groups
from neardup.verify import score_pair

values = st.lists(st.integers(0, 2**63 - 1) | st.integers(0, 20), max_size=200).map(
    lambda v: np.array(v, dtype=np.int64)
)


@settings(max_examples=200, deadline=None)
@given(values, values)
def test_set_operations_equal_numpys(a, b) -> None:
    assert np.array_equal(sorted_unique(a), np.unique(a))
    assert np.array_equal(union(a, b), np.union1d(a, b))
    uniq, first, inverse = unique_groups(a)
    expected = np.unique(a, return_index=True, return_inverse=True)
    assert np.array_equal(uniq, expected[0])
    assert np.array_equal(first, expected[1])  # the first occurrence, as numpy gives it
    assert np.array_equal(inverse, expected[2].ravel())


@settings(max_examples=200, deadline=None)
@given(st.sets(st.integers(0, 60)), st.sets(st.integers(0, 60)))
def test_pair_scores_are_the_set_ratios(a, b) -> None:
    arr_a = np.array(sorted(a), dtype=np.uint32)
    arr_b = np.array(sorted(b), dtype=np.uint32)
    sig = np.zeros(4, dtype=np.uint32)
    score = score_pair(arr_a, arr_b, sig, sig)
    if a and b:
        assert score.jaccard == len(a & b) / len(a | b)
        assert score.containment == len(a & b) / min(len(a), len(b))
    else:
        assert score.jaccard == score.containment == 0.0
