"""ifkg.yamlio: values and line numbers as ruamel.yaml's round-trip loader gives them, every file
error as an IfkgError with file, line and column, and the parse cache."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from conftest import ROOT
from ifkg.errors import IfkgError
from ifkg.yamlio import MAX_DEPTH, line_of, load_yaml, parse_cache


def _ruamel(path: Path) -> Any:
    """The loader ifkg used before: YAML 1.2, round trip, dates kept as text."""
    y = YAML(typ="rt")
    y.allow_duplicate_keys = False
    y.constructor.add_constructor("tag:yaml.org,2002:timestamp",
                                  lambda c, node: c.construct_scalar(node))
    return y.load(path.read_text(encoding="utf-8"))


def _ruamel_line(node: Any, key: Any = None) -> int | None:
    try:
        if key is None:
            return node.lc.line + 1
        if isinstance(node, CommentedMap):
            return node.lc.key(key)[0] + 1
        if isinstance(node, CommentedSeq):
            return node.lc.item(key)[0] + 1
    except (AttributeError, KeyError, IndexError, TypeError):
        return None
    return None


def _differences(expected: Any, got: Any, where: str = "") -> list[str]:
    """Where ``got`` (load_yaml) differs from ``expected`` (ruamel) in a value, its type or a line."""
    out: list[str] = []
    if isinstance(expected, dict):
        if not isinstance(got, dict) or list(expected) != list(got):
            return [f"{where}: keys {list(expected)} != {got!r}"]
        if _ruamel_line(expected) != line_of(got):
            out.append(f"{where}: mapping line {_ruamel_line(expected)} != {line_of(got)}")
        for k in expected:
            if _ruamel_line(expected, k) != line_of(got, k):
                out.append(f"{where}/{k}: key line {_ruamel_line(expected, k)} != {line_of(got, k)}")
            out += _differences(expected[k], got[k], f"{where}/{k}")
    elif isinstance(expected, list):
        if not isinstance(got, list) or len(expected) != len(got):
            return [f"{where}: {expected!r} != {got!r}"]
        if _ruamel_line(expected) != line_of(got):
            out.append(f"{where}: list line {_ruamel_line(expected)} != {line_of(got)}")
        for i, (a, b) in enumerate(zip(expected, got, strict=True)):
            if _ruamel_line(expected, i) != line_of(got, i):
                out.append(f"{where}[{i}]: item line {_ruamel_line(expected, i)} != {line_of(got, i)}")
            out += _differences(a, b, f"{where}[{i}]")
    else:
        both_nan = isinstance(expected, float) and isinstance(got, float) and math.isnan(expected) \
            and math.isnan(got)
        kinds = [(isinstance(v, bool), isinstance(v, int), isinstance(v, float), isinstance(v, str))
                 for v in (expected, got)]
        if not both_nan and (expected != got or str(expected) != str(got) or kinds[0] != kinds[1]):
            out.append(f"{where}: {expected!r} != {got!r}")
    return out


def test_every_yaml_file_of_the_repository_reads_as_ruamel_read_it():
    files = sorted(p for d in ("graph", "tests/fixtures", "src/ifkg") for p in (ROOT / d).rglob("*.yaml"))
    assert len(files) > 10
    for path in files:
        assert _differences(_ruamel(path), load_yaml(path), str(path)) == []


# plain scalars whose type depends on the schema: YAML 1.2 core as ruamel resolves it
PLAIN = ["true", "False", "TRUE", "yes", "No", "on", "OFF", "y", "~", "null", "Null", "NULL", "0", "-0",
         "+12", "012", "0o17", "0x1F", "0xff", "0b101", "1_000", "3.5", "12.50", "1.", ".5", "-.5",
         "1e3", "1.5E+3", ".5e-2", "1_0.5_0", ".inf", "-.Inf", "+.INF", ".nan", ".NaN", "1:20",
         "12:30:00", "2024-12-31", "2024-1-2 3:04:05", "2024-12-31T10:00:00Z", ".", "e3",
         "0o", "0x", "nan", "inf", "tRUE", "n", "994.5 亿元", "27.35%", "示例银行", "a b", "a-b"]
SCALAR = st.one_of(
    st.sampled_from(PLAIN).map(lambda s: ("plain", s)),
    st.text(st.characters(max_codepoint=0xFFFF, exclude_categories=("Cs",)), max_size=12)
    .map(lambda s: ("quoted", s)),
    st.sampled_from(PLAIN).map(lambda s: ("quoted", s)),
)
KEY = st.one_of(st.sampled_from(["id", "zh", "quote", "1", "2024", "true", "null", "值", "a b"]),
                st.from_regex(r"[a-z][a-z_]{0,6}", fullmatch=True))
TREE = st.recursive(
    SCALAR,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4).map(lambda v: ("list", v)),
        st.dictionaries(KEY, inner, max_size=4).map(lambda v: ("map", v)),
    ),
    max_leaves=25,
)


def _scalar(kind: str, text: str) -> str:
    return text if kind == "plain" else json.dumps(text, ensure_ascii=True)


def _emit(node: tuple[str, Any], indent: int, flow: bool) -> list[str] | str:
    """Block YAML lines for a collection (a flow string when ``flow``), or a scalar."""
    kind, value = node
    if kind in ("plain", "quoted"):
        return _scalar(kind, value)
    if flow or not value:
        if kind == "list":
            return "[" + ", ".join(str(_emit(v, 0, True)) for v in value) + "]"
        return "{" + ", ".join(f"{_scalar('quoted', k)}: {_emit(v, 0, True)}"
                               for k, v in value.items()) + "}"
    pad = " " * indent
    lines: list[str] = []
    items = value if kind == "list" else list(value.items())
    for i, item in enumerate(items):
        head, child = (f"{pad}- ", item) if kind == "list" else (f"{pad}{item[0]}:", item[1])
        if kind == "map" and item[0] in ("true", "null", "1", "2024"):
            head = f"{pad}{_scalar('quoted', item[0])}:"
        nested_flow = (i % 2 == 1)
        out = _emit(child, indent + 2, nested_flow)
        if isinstance(out, str):
            lines.append(f"{head} {out}" if kind == "map" else head + out)
        else:
            lines.append(head)
            lines.extend(out)
    return lines


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TREE, st.integers(0, 3))
def test_values_types_and_lines_match_ruamel(tmp_path_factory, tree, blank_lines):
    out = _emit(tree, 0, False)
    text = ("# curated\n" + "\n" * blank_lines
            + (out if isinstance(out, str) else "\n".join(out)) + "\n")
    path = tmp_path_factory.mktemp("y") / "doc.yaml"
    path.write_text(text, encoding="utf-8")
    assert _differences(_ruamel(path), load_yaml(path)) == [], text


def _write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "doc.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def _error(tmp_path: Path, text: str | bytes) -> IfkgError:
    with pytest.raises(IfkgError) as info:
        load_yaml(_write(tmp_path, text))
    assert info.value.first.file == tmp_path / "doc.yaml"
    return info.value


def test_duplicate_key_names_the_key_at_its_second_line(tmp_path):
    err = _error(tmp_path, "- id: a\n  zh: 示例银行\n  zh: 别的银行\n")
    assert err.first.message == 'invalid YAML: duplicate key "zh" with value "别的银行" (original value: "示例银行")'
    assert (err.first.line, err.first.column) == (3, 3)


def test_keys_equal_as_values_are_duplicates_and_text_is_not_a_number(tmp_path):
    assert _error(tmp_path, "1: a\n0o1: b\n").first.line == 2
    assert load_yaml(_write(tmp_path, "1: a\n'1': b\n")) == {1: "a", "1": "b"}


@pytest.mark.parametrize(("text", "line", "column", "fragment"), [
    ("- id: [a\n  zh: b\n", 2, 5, "expected ',' or ']'"),
    ("a: b: c\n", 1, 5, "mapping values are not allowed"),
    ("a:\n\tb: 1\n", 2, 1, "cannot start any token"),
    ("a: 1\n---\nb: 2\n", 2, 1, "single document"),
    ("a: *x\n", 1, 4, "undefined alias 'x'"),
    ("a: 中文\nb: 中\x07\n", 2, 5, "#x0007"),
    ("a: !!binary aGVsbG8=\n", 1, 4, "!!binary is not supported"),
    ("a: !!int x1\n", 1, 4, "not a valid !!int"),
    ("? [a, b]\n: c\n", 1, 3, "cannot be a key"),
])
def test_bad_syntax_is_invalid_yaml_with_line_and_column(tmp_path, text, line, column, fragment):
    err = _error(tmp_path, text)
    assert err.first.message.startswith("invalid YAML: ")
    assert fragment in err.first.message
    assert (err.first.line, err.first.column) == (line, column)


def test_deep_nesting_is_refused_not_a_crash(tmp_path):
    # PyYAML's own C composer recurses and kills the process on input like this
    assert "nested more than" in _error(tmp_path, "a: " + "[" * 100_000).first.message
    ok = "a: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n"
    assert isinstance(load_yaml(_write(tmp_path, ok))["a"], list)


def test_not_utf8_and_unreadable(tmp_path):
    assert _error(tmp_path, b"zh: \xff\n").first.message == "not UTF-8 text (invalid start byte at byte 4)"
    with pytest.raises(IfkgError, match="cannot read"):
        load_yaml(tmp_path / "missing.yaml")


def test_dates_and_yaml_1_1_words_stay_text(tmp_path):
    doc = load_yaml(_write(tmp_path, "date: 2024-12-31\nen: No\nflag: yes\nt: 12:30\nv: 0o17\n"
                                     "n:\ndraft: true\neq: =\n"))
    # ruamel made "=" a TaggedScalar (YAML 1.1's value tag); it is plain text here
    assert doc == {"date": "2024-12-31", "en": "No", "flag": "yes", "t": "12:30", "v": 15,
                   "n": None, "draft": True, "eq": "="}


def test_anchors_aliases_and_merge_keys(tmp_path):
    doc = load_yaml(_write(tmp_path, "x: &x {a: 1, b: 2}\ny:\n  <<: *x\n  b: 3\nz: *x\n"))
    assert doc["y"] == {"b": 3, "a": 1} and list(doc["y"]) == ["b", "a"]
    assert doc["z"] is doc["x"]


def test_line_of_places_keys_and_items_and_nothing_else(tmp_path):
    doc = load_yaml(_write(tmp_path, "# header\n\nitems:\n  - id: a\n\n    zh: 甲\n  - b\n"))
    assert line_of(doc) == 3 and line_of(doc, "items") == 3
    items = doc["items"]
    assert (line_of(items), line_of(items, 0), line_of(items, 1)) == (4, 4, 7)
    assert (line_of(items[0]), line_of(items[0], "zh")) == (4, 6)
    assert line_of(doc, "missing") is None and line_of(items, 2) is None and line_of(items, -1) is None
    assert line_of(items[1]) is None and line_of("text", 0) is None and line_of(doc, ["x"]) is None  # type: ignore[arg-type]


def test_parse_cache_gives_the_same_tree_and_survives_a_bad_entry(tmp_path):
    path = _write(tmp_path, "- id: a\n  zh: 甲\n- id: b\n")
    cache = tmp_path / "cache"
    with parse_cache(cache):
        first = load_yaml(path)
        entries = list(cache.glob("*.pickle"))
        assert len(entries) == 1
        again = load_yaml(path)
        assert again == first and line_of(again, 1) == 3 and line_of(again[0], "zh") == 2
        entries[0].write_bytes(b"not a pickle")
        assert load_yaml(path) == first
        path.write_text("- id: c\n", encoding="utf-8")
        assert load_yaml(path) == [{"id": "c"}]
    assert len(list(cache.glob("*.pickle"))) == 2
    assert list(cache.glob(".tmp-*")) == []
