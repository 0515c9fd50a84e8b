"""Text normalisation: the vectorised column functions equal the per-value reference."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from weiwen.core.text import (clean, clean_column, clean_texts, header_key, normalize_name, normalize_name_texts,
                         normalize_names)

tricky = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("张三李四 \u3000\u00a0\u200b\ufeff\t\n\x07·•．・１２ＡａX-=+@")),
        # Code points unassigned in Python's Unicode tables may be assigned in Arrow's newer ones.
        st.characters(codec="utf-8", exclude_categories=("Cn", "Cs")),
    ),
    max_size=12,
)


@settings(max_examples=400)
@given(st.lists(tricky, max_size=20))
def test_clean_column_equals_clean(values: list[str]) -> None:
    assert clean_column(values) == [clean(v) for v in values]
    both = clean_texts(values)
    assert both.arrow.to_pylist() == both.values  # the frame's Arrow column says the same


@settings(max_examples=300)
@given(st.lists(tricky, max_size=20))
def test_normalize_names_equals_normalize_name(values: list[str]) -> None:
    assert normalize_names(values) == [normalize_name(v) for v in values]
    both = normalize_name_texts(values)
    assert both.arrow.to_pylist() == both.values


def test_examples() -> None:
    assert clean("  王\u3000 建国\u200b ") == "王 建国"
    assert normalize_name("王 建国") == "王建国"
    assert normalize_name("阿卜杜•热合曼") == "阿卜杜·热合曼"
    assert normalize_name("𠮷田") == "𠮷田"  # rare characters survive untouched
    assert header_key("身份证号（18位）") == header_key("身份证号(18位)") == header_key("身份证 号\n(18位)")
