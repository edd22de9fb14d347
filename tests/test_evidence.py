import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import ROOT
from ifkg.evidence import FOLDED, QuoteError, SourceIndex, fold

TEXT = (ROOT / "graph/sources/shstc-reply-2025-27/text.txt").read_text(encoding="utf-8")
INDEX = SourceIndex(TEXT)


def test_quote_across_a_page_break_keeps_original_offsets():
    span = INDEX.find("市担保基金在保余额 994.5 亿元")
    assert span.exact == "市担保基金在\n\n保余额 994.5 亿元"
    assert TEXT[span.start : span.end] == span.exact
    assert span.sentence.startswith("截至2024年底，市担保基金在保余额994.5亿元，放大倍数为4.71")


def test_spaces_around_numbers_and_markdown_are_folded():
    span = INDEX.find("三是打造创新策源生态体系")
    assert span.exact == "三是**打造创新策源生态体系"
    assert INDEX.find("科技类融资担保余额为128.14亿元").exact == "科技类融资担保余额为 128.14 亿元"


def test_quote_not_in_source_is_refused():
    with pytest.raises(QuoteError, match="not found"):
        INDEX.find("市担保基金在保余额 995 亿元")


def test_ambiguous_quote_is_refused():
    with pytest.raises(QuoteError, match="occurs .* times"):
        INDEX.find("市担保基金")


def test_quote_over_two_sentences_is_refused():
    with pytest.raises(QuoteError, match="sentence"):
        INDEX.find("收悉。该项建议")


def test_sentence_of_a_heading_does_not_swallow_the_next_paragraph():
    span = INDEX.find("张蕴代表")
    assert span.sentence == "张蕴代表："


@settings(max_examples=200, deadline=None)
@given(st.integers(0, len(TEXT) - 1), st.integers(2, 30))
def test_any_unique_span_is_found_where_it_stands(start, length):
    quote = TEXT[start : start + length]
    q = fold(quote)
    if not q or INDEX.folded.count(q) != 1 or any(c in q[:-1] for c in "。！？"):
        return
    span = INDEX.find(quote)
    assert fold(span.exact) == q
    assert TEXT[span.start : span.end] == span.exact
    assert start <= span.start and span.end <= start + length


@settings(max_examples=100, deadline=None)
@given(st.text(min_size=1, max_size=40))
def test_arbitrary_user_text_never_crashes(quote):
    try:
        span = INDEX.find(quote)
    except QuoteError:
        return
    assert fold(span.exact) == fold(quote)


def _naive_index(text: str) -> tuple[str, list[int], list[int]]:
    """Folded text, positions and sentence starts, one character at a time (as the index
    was first written)."""
    kept = [(i, ch) for i, ch in enumerate(text) if not FOLDED.fullmatch(ch)]
    starts = {0} | {i + 1 for i, ch in enumerate(text) if ch in "。！？"}
    starts |= {i + 1 for i, ch in enumerate(text) if ch == "\n" and text[i + 1 : i + 2] in ("#", "-")}
    for m in re.finditer(r"\n[ \t]*\n", text):
        line = text[text.rfind("\n", 0, m.start()) + 1 : m.start()].rstrip()
        if len(line) < 60 or line[-1:] in "。！？：:”**":
            starts.add(m.end())
    return "".join(ch for _, ch in kept), [i for i, _ in kept], sorted(starts)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["甲", "乙", "a", " ", "\t", "\n", "\n\n", "\n \n", "#", "*", "-", "。",
                                 "！", "：", "\u3000", "x" * 61]), max_size=40).map("".join))
def test_index_matches_a_character_by_character_reading(text):
    index = SourceIndex(text)
    folded, positions, starts = _naive_index(text)
    assert index.folded == folded
    assert index.positions == positions
    assert index._boundaries == starts


def test_repeated_quotes_give_the_same_answer():
    index = SourceIndex(TEXT)
    first = index.find("科技类融资担保余额为128.14亿元")
    assert index.find("科技类融资担保余额为128.14亿元") == first
    for _ in range(2):
        with pytest.raises(QuoteError, match="occurs .* times"):
            index.find("市担保基金")
