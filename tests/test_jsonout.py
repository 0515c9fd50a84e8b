"""weiwen.core.jsonout writes what json.dumps(ensure_ascii=False, indent=2) writes, only faster."""

from __future__ import annotations

import json
import math

from hypothesis import given
from hypothesis import strategies as st

from weiwen.core import jsonout

# What weiwen's JSON documents hold: text (Chinese included), integers, booleans, null, and
# money as decimal strings, nested in objects and lists.
scalars = st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**63 - 1) | st.text()
documents = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner,
                                                                                             max_size=4),
                         max_leaves=30)


@given(documents)
def test_same_text_as_the_standard_library(doc: object) -> None:
    assert jsonout.dumps(doc) == json.dumps(doc, ensure_ascii=False, indent=2)


@given(st.lists(st.floats(allow_nan=False, allow_infinity=False), max_size=5))
def test_floats_keep_their_value(values: list[float]) -> None:
    # Small exponents are spelled out (0.00001 where the standard library writes 1e-05): same value.
    assert json.loads(jsonout.dumps(values)) == values


def test_what_orjson_refuses_still_comes_out_as_before() -> None:
    # A lone surrogate (text decoded with surrogateescape) and integer keys.
    for doc in ({"名字": "张\udce9"}, {1: "一"}):
        assert jsonout.dumps(doc) == json.dumps(doc, ensure_ascii=False, indent=2)


def test_nan_is_null() -> None:
    # The standard library would write NaN, which is not JSON and which JSON readers refuse.
    assert json.loads(jsonout.dumps({"x": math.nan, "y": math.inf})) == {"x": None, "y": None}


def test_a_summary_sized_document() -> None:
    doc = {"households": 3, "excluded": [{"village": "东关村", "row": i, "reason": "身份证号校验位错误"}
                                         for i in range(2_000)], "by_village": {}, "outputs": []}
    text = jsonout.dumps(doc)
    assert text == json.dumps(doc, ensure_ascii=False, indent=2)
    assert json.loads(text) == doc
