"""Every kind of bad input: one line naming file and line, exit 2, exports untouched."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cli_helpers import run_ifkg

FACTS = "graph/sources/demo/facts.yaml"
ENTITIES = "graph/entities/demo.yaml"


def _edit(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _line_of(root: Path, rel: str, needle: str) -> int:
    for i, line in enumerate((root / rel).read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            return i
    raise AssertionError(needle)


CASES = [
    # (name, file, old, new, expected message fragment, line marker)
    ("malformed yaml", FACTS, "  - id: bank-launches-loan", "  - id: [bank-launches-loan",
     "invalid YAML", None),
    ("duplicate key", ENTITIES, "  zh: 示例银行\n", "  zh: 示例银行\n  zh: 别的银行\n",
     "duplicate key", "zh: 别的银行"),
    ("unknown entity id", FACTS, "    object: tech-small-firms", "    object: no-such-firms",
     "unknown entity id 'no-such-firms'", "object: no-such-firms"),
    ("unknown class", ENTITIES, "  class: Bank", "  class: Bankk", "unknown class 'Bankk'",
     "class: Bankk"),
    ("unknown property", FACTS, "    predicate: lendsTo", "    predicate: lendTo",
     "unknown property 'lendTo'", "predicate: lendTo"),
    ("duplicate entity id", ENTITIES, "- id: demo-loan", "- id: demo-bank",
     "duplicate entity id 'demo-bank'", "- id: demo-bank\n  class: LoanProduct"),
    ("duplicate fact id", FACTS, "  - id: centre-growth-2024", "  - id: centre-balance-2024",
     "duplicate fact id", None),
    ("quote not in source", FACTS, "quote: 同比增长 3.5%", "quote: 同比增长 4.5%",
     "quote not found", "quote: 同比增长 4.5%"),
    ("figure that does not parse", FACTS, "reported: 3.5%", "reported: 3.5 percent",
     "not a figure", "reported: 3.5 percent"),
    ("date that does not parse", FACTS, "as_of: 2024-12-31", "as_of: 2024-13-45",
     "as_of", "as_of: 2024-13-45"),
    ("reported figure not in quote", FACTS, "reported: 12.5 亿元", "reported: 13.5 亿元",
     "does not occur in the quote", "reported: 13.5 亿元"),
    ("mention without the name", FACTS, "quote: 为科技小微企业提供信用贷款",
     "quote: 提供信用贷款", "does not contain the name", "quote: 提供信用贷款"),
    ("non-ascii id", ENTITIES, "- id: demo-reply", "- id: 示例答复",
     "not an ASCII slug", "- id: 示例答复"),
]


@pytest.mark.parametrize(("name", "rel", "old", "new", "message", "marker"), CASES,
                         ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_exit_2_and_nothing_written(mini, name, rel, old, new, message,
                                                           marker):
    out = mini.root / "exports"
    assert run_ifkg(mini.root, "build").returncode == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    _edit(mini.root, rel, old, new)
    res = run_ifkg(mini.root, "build")
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert message in lines[0]
    assert rel in lines[0]
    if marker is not None:
        line = _line_of(mini.root, rel, marker.split("\n")[0]) if "\n" not in marker else None
        if line is not None:
            assert re.search(rf"{re.escape(rel)}:{line}\b", lines[0]), lines[0]
    else:
        assert re.search(rf"{re.escape(rel)}:\d+", lines[0]), lines[0]
    after = {p.name: p.read_bytes() for p in out.iterdir()}
    assert after == before


def test_validate_lists_every_problem(mini):
    _edit(mini.root, FACTS, "predicate: lendsTo", "predicate: lendTo")
    _edit(mini.root, FACTS, "reported: 3.5%", "reported: 3.5 percent")
    res = run_ifkg(mini.root, "validate")
    assert res.returncode == 2
    assert "unknown property 'lendTo'" in res.stderr
    assert "not a figure" in res.stderr
    assert "2 error(s)" in res.stderr


def test_changed_source_text_is_refused(mini):
    (mini.root / "graph/sources/demo/text.txt").write_text("另一个文本。", encoding="utf-8")
    res = run_ifkg(mini.root, "build")
    assert res.returncode == 2
    assert "sha256" in res.stderr and "source.yaml" in res.stderr


def test_draft_facts_are_refused(mini):
    _edit(mini.root, FACTS, "source: demo", "source: demo\nstatus: draft")
    res = run_ifkg(mini.root, "build")
    assert res.returncode == 2
    assert f"{FACTS}:2" in res.stderr and "draft" in res.stderr


def test_unknown_name_suggests_the_closest(mini):
    assert run_ifkg(mini.root, "build").returncode == 0
    res = run_ifkg(mini.root, "show", "示例银")
    assert res.returncode == 0  # a unique partial match resolves
    res = run_ifkg(mini.root, "show", "Demo Bnak")
    assert res.returncode == 2
    assert "did you mean" in res.stderr and "demo bank" in res.stderr.lower()
