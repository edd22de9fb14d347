from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ifkg.numbers import parse_figure


@pytest.mark.parametrize(
    ("reported", "value", "unit", "qualifier"),
    [
        ("994.5 亿元", "99450000000", "CNY", None),
        ("128.14 亿元", "12814000000", "CNY", None),
        ("1212.56 亿元", "121256000000", "CNY", None),
        ("2000 万元", "20000000", "CNY", None),
        ("27.35%", "27.35", "PERCENT", None),
        ("4.71", "4.71", "UNITLESS", None),
        ("42766 笔", "42766", "NUM", None),
        ("超 500 亿元", "50000000000", "CNY", "more-than"),
        ("6500 余户", "6500", "NUM", "more-than"),
        ("不超过 3000 万元", "30000000", "CNY", "at-most"),
        ("1%以下", "1", "PERCENT", "below"),
        ("近 10 亿元", "1000000000", "CNY", "about"),
        ("五类", "5", "NUM", None),
        ("100 亿", "10000000000", "CNY", None),
    ],
)
def test_figures_of_the_reply(reported, value, unit, qualifier):
    f = parse_figure(reported)
    assert (f.lexical, f.unit, f.qualifier) == (value, unit, qualifier)


def test_annual_rate():
    f = parse_figure("0.5%/年")
    assert (f.lexical, f.unit, f.rate_period) == ("0.5", "PERCENT", "P1Y")


@pytest.mark.parametrize("bad", ["", "亿元", "12.3.4 亿元", "约 超 5 亿元", "3 亿/年", "abc", "5 亿元 左右 以上"])
def test_what_is_not_a_figure_is_refused(bad):
    with pytest.raises(ValueError):
        parse_figure(bad)


@given(st.decimals(min_value=0, max_value=10**6, places=2, allow_nan=False, allow_infinity=False))
def test_yi_yuan_is_exact_decimal_arithmetic(d):
    f = parse_figure(f"{d} 亿元")
    assert f.value == Decimal(str(d)) * 100_000_000
    assert Decimal(f.lexical) == f.value
    assert "E" not in f.lexical
