"""core.canonical's fast path gives exactly the bytes of the rfc8785 library (RFC 8785)."""

from __future__ import annotations

import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from core.canonical import canonical_bytes

scalars = st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text()
documents = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=5),
    max_leaves=25,
)


@settings(max_examples=600, deadline=None)
@given(documents)
def test_same_bytes_as_the_library(doc):
    try:
        expected = rfc8785.dumps(doc)
    except rfc8785.CanonicalizationError:
        expected = None
    try:
        got = canonical_bytes(doc)
    except rfc8785.CanonicalizationError:
        got = None
    assert got == expected


def test_escapes_and_key_order():
    doc = {"b": "\x00\x1f\"\\\b\f\n\r\t\x7f\u2028é😀", "a": [1, True, None, -(2**53) + 1], "B": {}}
    assert canonical_bytes(doc) == rfc8785.dumps(doc)
    assert canonical_bytes(doc).startswith(b'{"B":{},"a":[1,true,null,-9007199254740991],"b":"\\u0000\\u001f')
    assert canonical_bytes({"\ue000": 1, "\U0001f600": 2}) == rfc8785.dumps({"\ue000": 1, "\U0001f600": 2})


def test_what_the_fast_path_leaves_to_the_library():
    import pytest

    with pytest.raises(rfc8785.CanonicalizationError):  # a lone surrogate is not UTF-8
        canonical_bytes({"a": "\ud800"})
    with pytest.raises(rfc8785.IntegerDomainError):
        canonical_bytes([2**53])
    assert canonical_bytes({"x": 1.5}) == b'{"x":1.5}'
