"""ifkg.shacl: the build's SHACL check reports what plain pyshacl reports, group by group.

tests/test_shapes.py checks the shapes themselves (one violation fixture per constraint);
tests/test_synth.py checks that validating in parts finds the problems of the whole graph.
Here: the faster pyshacl gives the report of plain pyshacl on every fixture, the byte-level
grouping follows the ownership rule, and cached results follow changes in other groups.
"""

from __future__ import annotations

import types
from pathlib import Path

import pyoxigraph as ox
import pyshacl
import pytest
import rdflib
from rdflib.namespace import SH

import ifkg.shacl as shacl
from ifkg.ontology import parse_ontology

ROOT = Path(__file__).resolve().parents[1]
SHAPES = ROOT / "ontology" / "shapes.ttl"
FIXTURES = sorted((ROOT / "tests" / "fixtures" / "shacl").glob("*.ttl"))
BASE = "https://w3id.org/ifkg/"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
INDICATOR = ox.NamedNode("https://w3id.org/ifkg/def#Indicator")


@pytest.fixture(scope="module")
def onto() -> list[ox.Triple]:
    return parse_ontology(ROOT / "ontology" / "ifkg.ttl")


def _triples(path: Path) -> list[ox.Triple]:
    return [q.triple for q in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE)]


def _plain_pyshacl(triples: list[ox.Triple]) -> list[tuple[str, str, str]]:
    """The reference: pyshacl as documented in shapes.ttl, nothing patched, the results
    written as the build writes them."""
    _, report, _ = pyshacl.validate(shacl.to_rdflib(triples),
                                    shacl_graph=rdflib.Graph().parse(SHAPES, format="turtle"),
                                    inference="none", advanced=True)
    out = []
    for result in report.subjects(rdflib.RDF.type, SH.ValidationResult):
        focus = report.value(result, SH.focusNode)
        path = report.value(result, SH.resultPath)
        text = f"SHACL: {focus}" + (f" {path}" if path is not None else "")
        text += f": {report.value(result, SH.resultMessage)}"
        severity = report.value(result, SH.resultSeverity)
        out.append((str(focus), text, "warning" if severity in (SH.Warning, SH.Info) else "error"))
    return sorted(out)


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f.stem for f in FIXTURES])
def test_faster_pyshacl_reports_what_plain_pyshacl_reports(fixture: Path, onto) -> None:
    triples = _triples(fixture) + onto      # one parse: blank nodes keep their labels
    expected = _plain_pyshacl(triples)
    assert shacl._results(triples, SHAPES) == expected
    assert (expected == []) == (fixture.name == "valid.ttl")


def test_pyshacl_is_restored_after_a_check(onto) -> None:
    from pyshacl.constraints.constraint_component import ConstraintComponent
    from pyshacl.helper.sparql_query_helper import SPARQLQueryHelper
    from pyshacl.shape import Shape

    before = (ConstraintComponent.make_v_result, Shape.focus_nodes,
              SPARQLQueryHelper.check_invalid_sparql)
    shacl._results(_triples(FIXTURES[0]) + onto, SHAPES, keep_focus=lambda node: True)
    assert (ConstraintComponent.make_v_result, Shape.focus_nodes,
            SPARQLQueryHelper.check_invalid_sparql) == before


def test_only_kept_focus_nodes_are_checked(onto) -> None:
    fixture = ROOT / "tests" / "fixtures" / "shacl" / "RepliesToShape-violation.ttl"
    triples = _triples(fixture) + onto
    everything = shacl._results(triples, SHAPES)
    assert everything
    focus = everything[0][0]
    kept = shacl._results(triples, SHAPES, keep_focus=lambda node: str(node) == focus)
    assert kept == [r for r in everything if r[0] == focus]
    assert shacl._results(triples, SHAPES, keep_focus=lambda node: False) == []


def test_groups_of_lines_follow_the_ownership_rule() -> None:
    """Bisection over sorted lines gives each line the group `_owner` gives its subject,
    also for source ids that prefix one another and for the source node itself."""
    iri = BASE + "id/"
    subjects = [f"{iri}source/s", f"{iri}source/s-a", f"{iri}source/s2", f"{iri}source/s0x",
                f"{iri}statement/s/r1", f"{iri}statement/s-a/r1", f"{iri}statement/s/r1/x",
                f"{iri}evidence/s2/e1/quote", f"{iri}measurement/s/m1", f"{iri}entity/a",
                f"{iri}entity/a-b", f"{iri}entity/a/b", "https://w3id.org/ifkg/def#Bank",
                f"{iri}statement/s", f"{iri}statement/s0/r2"]
    p = ox.NamedNode("http://example.org/p")
    triples = [ox.Triple(ox.NamedNode(s), p, ox.Literal(str(i))) for i, s in enumerate(subjects)]
    triples.append(ox.Triple(ox.BlankNode("b1"), p, ox.Literal("x")))
    context = frozenset({"https://w3id.org/ifkg/def#Bank"})
    owners = shacl._Owners(BASE, context)
    groups = shacl._split_lines(ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES), owners)
    expected: dict[str, list[bytes]] = {}
    for t in triples:
        value = t.subject.value
        key = shacl._owner(value, shacl.owned_prefixes(BASE), context)
        expected.setdefault(key, []).append(ox.serialize([t], format=ox.RdfFormat.N_TRIPLES))
    assert groups == {k: b"".join(sorted(v)) for k, v in expected.items()}
    assert set(groups) >= {"source:s", "source:s-a", "source:s2", "source:s0x", "ontology",
                           "b1", f"{iri}entity/a"}


def test_closure_is_the_types_of_nodes_in_other_groups(onto) -> None:
    valid = _triples(ROOT / "tests" / "fixtures" / "shacl" / "valid.ttl")
    owners = shacl._Owners(BASE, frozenset(t.subject.value for t in onto))
    groups = shacl._split_lines(ox.serialize(valid + onto, format=ox.RdfFormat.N_TRIPLES),
                                owners)
    closures = shacl._Closures(groups, owners)
    refs = closures.refs("source:shstc-reply-2025-27")
    lines = [line for o, terms in refs.items() for line in closures.part(o, terms)]
    indicator = BASE + "id/indicator/policy-guaranteed-loans"
    assert f"<{indicator}> <{RDF_TYPE.value}> <{INDICATOR.value}> .\n".encode() in lines
    assert all(line.split(b" ")[1] == f"<{RDF_TYPE.value}>".encode() for line in lines)
    assert refs[indicator] == [f"<{indicator}>".encode()]
    assert not any(o.startswith("source:") or o == "ontology" for o in refs)


def test_cached_results_follow_a_type_change_in_another_group(tmp_path: Path, onto) -> None:
    """The source's own lines stay the same; its measurement's indicator loses its type."""
    valid = _triples(ROOT / "tests" / "fixtures" / "shacl" / "valid.ttl")
    assert shacl.validate_parts(valid, onto, SHAPES, BASE, tmp_path) == []
    untyped = [t for t in valid if not (t.predicate == RDF_TYPE and t.object == INDICATOR)]
    problems = [str(p) for p in shacl.validate_parts(untyped, onto, SHAPES, BASE, tmp_path)]
    assert problems == [str(p) for p in shacl.validate(untyped + onto, SHAPES)]
    assert len(problems) == 1 and "ifkg:indicator, an ifkg:Indicator" in problems[0]
    assert shacl.validate_parts(valid, onto, SHAPES, BASE, tmp_path) == []


def test_a_change_outside_the_closure_checks_only_its_group(tmp_path: Path, onto,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    """The indicator gets another label: its own group is checked again, the source that
    points to it is not (the indicator's type, all the source takes from it, is the same)."""
    valid = _triples(ROOT / "tests" / "fixtures" / "shacl" / "valid.ttl")
    assert shacl.validate_parts(valid, onto, SHAPES, BASE, tmp_path) == []
    checked: list[str] = []
    check_chunk = shacl._check_chunk

    def spy(data, fmt, shapes_file, groups, *args):
        checked.extend(groups)
        return check_chunk(data, fmt, shapes_file, groups, *args)

    monkeypatch.setattr(shacl, "_check_chunk", spy)
    indicator = ox.NamedNode(BASE + "id/indicator/policy-guaranteed-loans")
    label = ox.Triple(indicator, ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label"),
                      ox.Literal("another label", language="en"))
    assert shacl.validate_parts(valid + [label], onto, SHAPES, BASE, tmp_path) == []
    assert checked == [indicator.value]
    checked.clear()
    untyped = [t for t in valid if not (t.predicate == RDF_TYPE and t.object == INDICATOR)]
    assert len(shacl.validate_parts(untyped, onto, SHAPES, BASE, tmp_path)) == 1
    assert sorted(checked) == [indicator.value, "source:shstc-reply-2025-27"]


def test_a_cache_entry_of_another_form_is_checked_again(tmp_path: Path, onto) -> None:
    import json

    broken = _triples(ROOT / "tests" / "fixtures" / "shacl" / "StatementShape-violation.ttl")
    first = shacl.validate_parts(broken, onto, SHAPES, BASE, tmp_path)
    [cache] = tmp_path.glob("shacl-*.json")
    entries = json.loads(cache.read_text(encoding="utf-8"))
    cache.write_text(json.dumps({k: {"deps": "?", "results": []} for k in entries}),
                     encoding="utf-8")
    assert shacl.validate_parts(broken, onto, SHAPES, BASE, tmp_path) == first != []


def test_compiled_groups_and_quads_give_the_same_problems(tmp_path: Path, onto) -> None:
    """validate_compiled reads `Compiled.groups` (N-Quads by group) when there are, else its
    quads; the rule for the ontology's subjects holds either way."""
    broken = ROOT / "tests" / "fixtures" / "shacl" / "MeasurementShape-violation-unit.ttl"
    graphs = {g: ox.NamedNode(BASE + "graph/" + g) for g in ("ontology", "facts", "provenance")}
    quads = [ox.Quad(t.subject, t.predicate, t.object, graphs["ontology"]) for t in onto]
    quads += [ox.Quad(t.subject, t.predicate, t.object, graphs["facts"]) for t in _triples(broken)]
    lines = ox.serialize(quads, format=ox.RdfFormat.N_QUADS).splitlines(keepends=True)
    in_ontology = b" <" + graphs["ontology"].value.encode() + b"> .\n"
    context = b"".join(sorted(line for line in lines if line.endswith(in_ontology)))
    rest = b"".join(line for line in lines if not line.endswith(in_ontology))
    # grouped as Compiled groups them: subjects of the ontology outside it are groups too
    by_groups = types.SimpleNamespace(
        groups={"ontology": context, **shacl._split_lines(rest, shacl._Owners(BASE, frozenset()))},
        graphs=graphs, base=BASE)
    by_quads = types.SimpleNamespace(quads=quads, graphs=graphs, base=BASE)
    found = []
    for i, compiled in enumerate((by_groups, by_quads)):
        project = types.SimpleNamespace(shapes_file=SHAPES, root=tmp_path / str(i))
        found.append([str(p) for p in shacl.validate_compiled(compiled, project)])
    whole = [str(p) for p in shacl.validate([q.triple for q in quads], SHAPES)]
    assert found[0] == found[1] == whole
    assert len(whole) == 1


def test_a_failing_worker_stops_the_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          onto) -> None:
    """Shapes the worker cannot parse: the check fails with the worker's own message."""
    broken = tmp_path / "shapes.ttl"
    broken.write_text("this is not turtle", encoding="utf-8")
    monkeypatch.setattr(shacl, "PARALLEL_MIN_TRIPLES", 1)
    monkeypatch.setattr(shacl, "CHUNK_TRIPLES", 1)
    valid = _triples(ROOT / "tests" / "fixtures" / "shacl" / "valid.ttl")
    with pytest.raises(RuntimeError, match="invalid SHACL shapes"):
        shacl.validate_parts(valid, onto, broken, BASE, workers=2)
