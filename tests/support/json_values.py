"""Hypothesis strategies for garbage JSON: awkward scalars (NUL, huge numbers, long text, dates) nested in lists
and objects, for property tests that whatever a client sends, nothing fails or is half written."""

from __future__ import annotations

from hypothesis import strategies as st

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(["", " ", "2030-01-01", "2030-01-01T00:00:00Z", "a@b.cz", "\x00", "ü" * 300, "-1", "1e400"])
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
