"""The build on the small project: exports, determinism, atomicity, --check, round trips."""

from __future__ import annotations

import rdflib
from rdflib.compare import isomorphic

from cli_helpers import run_ifkg
from conftest import sparql_values
from ifkg.build import build

EXPORTS = ["ifkg.ttl", "ifkg.trig", "ifkg.nq", "ifkg.nt", "ifkg.jsonld", "ontology.ttl",
           "build-info.json"]


def test_build_writes_every_export_and_prints_where(mini):
    res = run_ifkg(mini.root, "build")
    assert res.returncode == 0, res.stderr
    assert "5 entities, 3 relations, 4 measurements" in res.stdout
    for name in EXPORTS:
        assert (mini.root / "exports" / name).stat().st_size > 0
        assert str(mini.root / "exports" / name) in res.stdout


def test_rebuild_is_byte_identical_across_hash_seeds(mini, tmp_path):
    a = run_ifkg(mini.root, "build", "--out", str(tmp_path / "a"), env={"PYTHONHASHSEED": "1"})
    b = run_ifkg(mini.root, "build", "--out", str(tmp_path / "b"), env={"PYTHONHASHSEED": "2"})
    assert a.returncode == b.returncode == 0
    for name in EXPORTS:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_check_detects_stale_exports(mini):
    assert run_ifkg(mini.root, "build").returncode == 0
    assert run_ifkg(mini.root, "build", "--check").returncode == 0
    facts = mini.root / "graph/sources/demo/facts.yaml"
    facts.write_text(facts.read_text(encoding="utf-8").replace("compared_to: previous year",
                                                               "compared_to: 2023"),
                     encoding="utf-8")
    res = run_ifkg(mini.root, "build", "--check")
    assert res.returncode == 1
    assert "ifkg.ttl" in res.stderr


def test_base_iri_is_configurable(mini, tmp_path):
    res = run_ifkg(mini.root, "build", "--out", str(tmp_path), "--base", "https://example.org/kg/")
    assert res.returncode == 0, res.stderr
    ttl = (tmp_path / "ifkg.ttl").read_text(encoding="utf-8")
    assert "https://example.org/kg/id/entity/" in ttl
    assert "w3id.org/ifkg/id/" not in ttl


def test_every_export_parses_back_isomorphic(mini, tmp_path):
    result = build(mini, tmp_path)
    expected = rdflib.Graph()
    expected.parse(data=(tmp_path / "ifkg.nt").read_text(encoding="utf-8"), format="nt")
    assert len(expected) == len(result.compiled.triples())
    for name, fmt in [("ifkg.ttl", "turtle"), ("ifkg.jsonld", "json-ld")]:
        g = rdflib.Graph().parse(tmp_path / name, format=fmt)
        assert isomorphic(g, expected), name
    reference = rdflib.Dataset()
    reference.parse(data=ox_nquads(result.compiled.quads), format="nquads")
    trig = rdflib.Dataset()
    trig.parse(tmp_path / "ifkg.trig", format="trig")
    assert len(list(trig.quads())) == len(result.compiled.quads)
    for iri in result.compiled.graphs.values():
        g = rdflib.URIRef(iri.value)
        assert isomorphic(trig.graph(g), reference.graph(g)), iri


def ox_nquads(quads) -> str:
    import pyoxigraph as ox

    return ox.serialize(quads, format=ox.RdfFormat.N_QUADS).decode()


def test_joint_product_is_one_node_with_one_edge_per_launcher(mini, tmp_path):
    store = build(mini, tmp_path).compiled.store()
    rows = sparql_values(store, "SELECT ?who WHERE { ?who ifkg:launches ent:demo-loan } ORDER BY ?who")
    assert [r[0].rsplit("/", 1)[1] for r in rows] == ["demo-bank", "demo-centre"]


def test_cap_raised_is_a_before_after_pair(mini, tmp_path):
    store = build(mini, tmp_path).compiled.store()
    rows = sparql_values(store, """SELECT ?before ?after WHERE {
        ?a prov:wasRevisionOf ?b . ?a schema:value ?after . ?b schema:value ?before }""")
    assert rows == [("20000000", "30000000")]


def test_sentence_behind_an_edge(mini, tmp_path):
    store = build(mini, tmp_path).compiled.store()
    rows = sparql_values(store, """SELECT ?start ?end ?exact WHERE {
        ?st rdf:subject ent:demo-loan ; rdf:predicate ifkg:lendsTo ; ifkg:evidence ?ev .
        ?ev oa:hasSelector ?q, ?p . ?q oa:exact ?exact . ?p oa:start ?start ; oa:end ?end }""")
    text = (mini.root / "graph/sources/demo/text.txt").read_text(encoding="utf-8")
    (start, end, exact), = rows
    assert text[int(start):int(end)] == exact == "“示例贷”产品，为科技小微企业提供信用贷款"
