"""The sort-based set operations agree with numpy's own."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from neardup.arrays import sorted_unique, union, unique_groups

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
