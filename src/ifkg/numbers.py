"""Parse figures as the text writes them (``994.5 亿元``, ``27.35%``, ``6500 余户``, ``五类``) into
exact decimal values with a unit, in decimal arithmetic: 128.14亿元 is 12814000000, not a float."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

# Multipliers of Chinese amount words, in yuan.
CURRENCY_SCALE = {"亿元": 10**8, "亿": 10**8, "万元": 10**4, "万": 10**4, "元": 1}
# Measure words that make a figure a count.
COUNT_WORDS = "家户笔场个类项只人次件所期批款"
PREFIX_QUALIFIERS = {
    "不超过": "at-most",
    "最高": "at-most",
    "上限": "at-most",
    "超过": "more-than",
    "超": "more-than",
    "逾": "more-than",
    "近": "about",
    "约": "about",
}
SUFFIX_QUALIFIERS = {"余": "more-than", "以上": "more-than", "多": "more-than",
                     "以下": "below", "以内": "at-most", "左右": "about"}
HANZI_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
                "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}

UNITS = ("CNY", "PERCENT", "NUM", "UNITLESS")
QUALIFIERS = ("exact", "more-than", "about", "at-most", "below")

_NUMBER = r"(?P<num>\d+(?:\.\d+)?|[零一二两三四五六七八九十]+)"
_PATTERN = re.compile(
    r"^(?P<pre>不超过|最高|上限|超过|超|逾|近|约)?"
    + _NUMBER
    + r"(?P<mid>余|多)?"
    + r"(?P<unit>亿元|亿|万元|万|元|%|[" + COUNT_WORDS + r"])?"
    + r"(?P<rate>/年)?"
    + r"(?P<post>余|以上|以下|以内|左右)?$"
)


@dataclass(frozen=True)
class Figure:
    """A parsed figure: ``value`` in yuan, percent points, a count or a plain ratio."""

    value: Decimal
    unit: str
    qualifier: str | None
    rate_period: str | None

    @property
    def lexical(self) -> str:
        """The canonical xsd:decimal form of ``value``."""
        return decimal_lexical(self.value)


def decimal_lexical(value: Decimal) -> str:
    """``Decimal('99450000000.0')`` → ``'99450000000'``; ``Decimal('27.350')`` → ``'27.35'``."""
    text = format(value.normalize(), "f")
    return text


def _hanzi_number(s: str) -> int:
    if s == "十":
        return 10
    if len(s) == 1:
        return HANZI_DIGITS[s]
    if len(s) == 2 and s[0] == "十":
        return 10 + HANZI_DIGITS[s[1]]
    if len(s) == 2 and s[1] == "十":
        return HANZI_DIGITS[s[0]] * 10
    if len(s) == 3 and s[1] == "十":
        return HANZI_DIGITS[s[0]] * 10 + HANZI_DIGITS[s[2]]
    raise ValueError(s)


def parse_figure(reported: str) -> Figure:
    """Parse ``reported``; raise ValueError with a readable reason when it is not a figure.

    >>> parse_figure("994.5 亿元").lexical
    '99450000000'
    >>> parse_figure("0.5%/年")
    Figure(value=Decimal('0.5'), unit='PERCENT', qualifier=None, rate_period='P1Y')
    >>> parse_figure("6500 余户").qualifier
    'more-than'
    """
    s = re.sub(r"\s+", "", str(reported)).replace("％", "%")
    m = _PATTERN.match(s)
    if not m:
        raise ValueError(f"not a figure this build can read: {reported!r}")
    num = m.group("num")
    try:
        value = Decimal(num) if num[0].isdigit() else Decimal(_hanzi_number(num))
    except (InvalidOperation, KeyError, ValueError):
        raise ValueError(f"not a number: {num!r} in {reported!r}") from None
    word = m.group("unit")
    if word in CURRENCY_SCALE:
        unit = "CNY"
        value = value * CURRENCY_SCALE[word]
    elif word == "%":
        unit = "PERCENT"
    elif word:
        unit = "NUM"
    else:
        unit = "UNITLESS"
    rate = "P1Y" if m.group("rate") else None
    if rate and unit != "PERCENT":
        raise ValueError(f"'/年' rate on a figure that is not a percentage: {reported!r}")
    quals = {PREFIX_QUALIFIERS[m.group("pre")]} if m.group("pre") else set()
    for g in ("mid", "post"):
        if m.group(g):
            quals.add(SUFFIX_QUALIFIERS[m.group(g)])
    if len(quals) > 1:
        raise ValueError(f"contradictory qualifiers in {reported!r}")
    return Figure(value=value, unit=unit, qualifier=quals.pop() if quals else None,
                  rate_period=rate)
