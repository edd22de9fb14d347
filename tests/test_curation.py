"""ifkg.curation: checks that need no build (disagreeing sources)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from ifkg.curation import Measurement, Source, Where, conflicts
from ifkg.evidence import SourceIndex, Span
from ifkg.numbers import Figure

SPAN = Span(0, 1, "x", "", "", "x")


def _measurement(n: int, about: str, when: str, value: str, unit: str) -> Measurement:
    figure = Figure(Decimal(value), unit, None, None)
    as_of, period = (when, None) if "-" in when else (None, when)
    return Measurement(f"m{n}", about, "fund-size", f"{value} {unit}", figure, unit, "exact", as_of,
                       period, None, None, None, "x", SPAN, None, Where(Path("facts.yaml"), n))


def _source(sid: str, date: str, measurements: list[Measurement]) -> Source:
    return Source(sid, Path(sid), Path(sid, "text.txt"), "x", "", {"date": date},
                  Where(Path(sid, "source.yaml"), 1), SourceIndex("x"), measurements=measurements)


def _pairwise(sources: dict[str, Source]) -> list[tuple[str, Where]]:
    """Every earlier measurement compared with every later one, as conflicts was first written."""
    seen: dict[tuple, list[tuple[Source, Measurement]]] = {}
    out = []
    for src in sorted(sources.values(), key=lambda s: (s.date or "", s.id)):
        for m in src.measurements:
            when = m.as_of or m.period
            if when is None:
                continue
            key = (m.about, m.indicator, when)
            for other_src, other in seen.get(key, []):
                if other_src.id == src.id or (other.value, other.unit) == (m.value, m.unit):
                    continue
                out.append((f"sources disagree: '{m.id}' gives {m.reported} for {m.about} "
                            f"{m.indicator} at {when}, source '{other_src.id}' gives "
                            f"{other.reported} ({other.where.file}:{other.where.line}); both are "
                            f"kept", m.where))
            seen.setdefault(key, []).append((src, m))
    return out


FACT = st.tuples(st.sampled_from(["e1", "e2"]), st.sampled_from(["2020", "2020-12-31"]),
                 st.sampled_from(["1", "1.0", "2", "30"]), st.sampled_from(["CNY", "NUM"]))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["2023-01-01", "2024-01-01", ""]),
                          st.lists(FACT, max_size=5)), max_size=6))
def test_disagreements_are_every_pair_of_different_values_in_order(docs):
    sources, n = {}, 0
    for i, (date, facts) in enumerate(docs):
        ms = []
        for about, when, value, unit in facts:
            ms.append(_measurement(n, about, when, value, unit))
            n += 1
        sources[f"s{i}"] = _source(f"s{i}", date or None, ms)
    assert conflicts(sources) == _pairwise(sources)


def test_equal_decimals_agree_and_the_same_source_is_not_compared_with_itself():
    a = _source("a", "2023-01-01", [_measurement(0, "e1", "2020", "1.0", "CNY"),
                                    _measurement(1, "e1", "2020", "5", "CNY")])
    b = _source("b", "2024-01-01", [_measurement(2, "e1", "2020", "1", "CNY"),
                                    _measurement(3, "e1", "2020", "1", "NUM")])
    found = conflicts({"a": a, "b": b})
    assert [(m.split("'")[1], m.split("source '")[1][0], w.line) for m, w in found] == [
        ("m2", "a", 2), ("m3", "a", 3), ("m3", "a", 3)]
