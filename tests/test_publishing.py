"""Publishing: the exports read by independent parsers (rapper, serdi, pyld), the DCAT-AP 3 / VoID
description and its shapes, the ontology page, persistent IRIs and the release files.

rapper (raptor2-utils) and serdi (Debian) must be installed: a missing tool fails these tests.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
import tomllib
from collections import Counter, defaultdict
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pyoxigraph as ox
import pyshacl
import pytest
import rdflib
from hypothesis import given, settings
from hypothesis import strategies as st
from pyld import jsonld
from rdflib.namespace import SH
from ruamel.yaml import YAML

import ifkg
from cli_helpers import run_ifkg
from ifkg.build import build
from ifkg.errors import IfkgError
from ifkg.export import EXPORTS
from ifkg.ontodoc import anchor
from ifkg.publish_meta import graph_facts, published_iris, read_published, unpublished

ROOT = Path(__file__).resolve().parents[1]
BASE = "https://w3id.org/ifkg/"
DCAT_SHAPES = ROOT / "ontology" / "dcat-ap-shapes.ttl"
FIXTURES = ROOT / "tests" / "fixtures" / "dcat"
DCATAP = "https://w3id.org/ifkg/shapes/dcat-ap#"
PREFIXES = """
PREFIX dcat: <http://www.w3.org/ns/dcat#> PREFIX dct: <http://purl.org/dc/terms/>
PREFIX void: <http://rdfs.org/ns/void#> PREFIX foaf: <http://xmlns.com/foaf/0.1/>
PREFIX owl: <http://www.w3.org/2002/07/owl#> PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX ifkg: <https://w3id.org/ifkg/def#> PREFIX vcard: <http://www.w3.org/2006/vcard/ns#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#> PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
"""


def _version() -> str:
    return (ROOT / "VERSION").read_text(encoding="utf-8").strip()


@pytest.fixture(scope="module")
def exports(built, tmp_path_factory) -> Path:
    """The real build's exports written to a folder of this module."""
    out = tmp_path_factory.mktemp("publishing")
    for name, data in built.files.items():
        (out / name).write_bytes(data)
    return out


@pytest.fixture(scope="module")
def void(built) -> rdflib.Graph:
    return rdflib.Graph().parse(data=built.files["void.ttl"].decode(), format="turtle")


def _tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed (apt-get install {package}); it must not be skipped")
    return path


def _ask(g: rdflib.Graph, query: str) -> list[tuple]:
    return [tuple(None if v is None else str(v) for v in row) for row in g.query(PREFIXES + query)]


# ------------------------------------------------------------------------------------------
# independent parsers
# ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, fmt, what", [
    ("ifkg.ttl", "turtle", "triples"),
    ("ifkg.nt", "ntriples", "triples"),
    ("ifkg.rdf", "rdfxml", "triples"),
    ("ifkg.trig", "trig", "quads"),
    ("ifkg.nq", "nquads", "quads"),
])
def test_rapper_reads_every_export_with_the_built_count(exports, built, name, fmt, what):
    rapper = _tool("rapper", "raptor2-utils")
    res = subprocess.run([rapper, "-i", fmt, "-c", str(exports / name)], capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    m = re.search(r"Parsing returned (\d+) triples", res.stderr)
    assert m, res.stderr
    want = len(built.compiled.triples()) if what == "triples" else len(built.compiled.quads)
    assert int(m.group(1)) == want
    assert "error" not in res.stderr.lower() and "warning" not in res.stderr.lower()


@pytest.mark.parametrize("name, fmt, out, what", [
    ("ifkg.ttl", "turtle", "ntriples", "triples"),
    ("ifkg.nt", "ntriples", "ntriples", "triples"),
    ("ifkg.trig", "trig", "nquads", "quads"),
    ("ifkg.nq", "nquads", "nquads", "quads"),
])
def test_serdi_reads_every_export_it_knows_with_the_built_count(exports, built, name, fmt, out,
                                                                 what):
    # serdi reads Turtle, N-Triples, TriG and N-Quads; it has no RDF/XML or JSON-LD reader
    serdi = _tool("serdi", "serdi")
    res = subprocess.run([serdi, "-i", fmt, "-o", out, str(exports / name)], capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""
    lines = [ln for ln in res.stdout.splitlines() if ln.strip()]
    want = len(built.compiled.triples()) if what == "triples" else len(built.compiled.quads)
    assert len(lines) == want
    # the reply's guarantee fund is there, with the same number of statements about it
    fund = f"<{BASE}id/entity/shanghai-financing-guarantee-fund> "
    about = [q for q in built.compiled.triples() if str(q.subject) + " " == fund]
    assert len([ln for ln in lines if ln.startswith(fund)]) == len(about) > 5


def _offline_loader(exports: Path, calls: list[str]):
    """A pyld document loader that serves the local context file and refuses the network."""
    context_url = BASE + "exports/context.jsonld"
    document = json.loads((exports / "context.jsonld").read_text(encoding="utf-8"))

    def load(url: str, options: dict | None = None) -> dict:
        calls.append(url)
        if url != context_url:
            raise jsonld.JsonLdError(f"network refused: {url}", "loading document failed")
        return {"contentType": "application/ld+json", "contextUrl": None, "documentUrl": url,
                "document": document}

    return load


def test_pyld_reads_ifkg_jsonld_through_its_context_file(exports, built):
    calls: list[str] = []
    doc = json.loads((exports / "ifkg.jsonld").read_text(encoding="utf-8"))
    assert doc["@context"] == "context.jsonld"
    options = {"base": BASE + "exports/ifkg.jsonld",
               "documentLoader": _offline_loader(exports, calls)}
    expanded = jsonld.expand(doc, options)
    assert calls == [BASE + "exports/context.jsonld"]
    subjects = {node["@id"] for node in expanded if "@id" in node}
    assert BASE + "id/entity/shanghai-financing-guarantee-fund" in subjects
    nquads = jsonld.to_rdf(doc, {**options, "format": "application/n-quads"})
    lines = {ln for ln in nquads.splitlines() if ln.strip()}
    assert len(lines) == len(built.compiled.triples())


def test_context_terms_compact_the_graph(exports):
    """The context's term definitions work: pyld compacts ifkg:about (an object property) to
    the term ``about`` with an IRI value, and the measurement's class to ``Measurement``."""
    context = json.loads((exports / "context.jsonld").read_text(encoding="utf-8"))
    assert context["@context"]["about"] == {"@id": "ifkg:about", "@type": "@id"}
    node = {"@id": BASE + "id/measurement/x/m1",
            "@type": ["https://w3id.org/ifkg/def#Measurement"],
            "https://w3id.org/ifkg/def#about": [{"@id": BASE + "id/entity/a"}]}
    compacted = jsonld.compact(node, context["@context"], {"documentLoader": _refuse})
    assert compacted["about"] == "ent:a"
    assert compacted["@type"] == "Measurement"


def _refuse(url: str, options: dict | None = None) -> dict:
    raise jsonld.JsonLdError(f"network refused: {url}", "loading document failed")


# ------------------------------------------------------------------------------------------
# the dataset description
# ------------------------------------------------------------------------------------------

def _validate(data: rdflib.Graph) -> tuple[bool, rdflib.Graph]:
    shapes = rdflib.Graph().parse(DCAT_SHAPES, format="turtle")
    conforms, report, _ = pyshacl.validate(data, shacl_graph=shapes, inference="none")
    return conforms, report


def test_void_ttl_conforms_to_the_dcat_ap_shapes(void):
    conforms, report = _validate(void)
    assert conforms, report.serialize(format="turtle")


def test_void_statistics_are_counted_from_the_graph(void, built, store):
    triples = built.compiled.triples()
    rows = _ask(void, "SELECT ?t ?e WHERE { ?d a void:Dataset ; void:triples ?t ; "
                      "void:entities ?e }")
    entities = {str(t.subject) for t in triples if str(t.subject).startswith(f"<{BASE}id/")}
    assert rows == [(str(len(triples)), str(len(entities)))]
    # partitions agree with SPARQL on the built store
    n_funds = next(iter(store.query(
        "SELECT (COUNT(DISTINCT ?f) AS ?n) WHERE { "
        "?f a <https://w3id.org/ifkg/def#GuaranteeFund> }",
        use_default_graph_as_union=True)))["n"].value
    assert _ask(void, "SELECT ?n WHERE { ?d void:classPartition ?p . "
                      "?p void:class ifkg:GuaranteeFund ; void:entities ?n }") == [(n_funds,)]
    n_guarantees = next(iter(store.query(
        "SELECT (COUNT(*) AS ?n) WHERE { ?s <https://w3id.org/ifkg/def#guarantees> ?o }",
        use_default_graph_as_union=True)))["n"].value
    assert int(n_guarantees) > 0
    assert _ask(void, "SELECT ?n WHERE { ?d void:propertyPartition ?p . "
                      "?p void:property ifkg:guarantees ; void:triples ?n }") == [(n_guarantees,)]
    total = _ask(void, "SELECT (SUM(?n) AS ?s) WHERE { ?d void:propertyPartition ?p . "
                       "?p void:triples ?n }")
    assert total == [(str(len(triples)),)]


def test_void_names_endpoint_dump_space_vocabularies_and_examples(void):
    rows = _ask(void, "SELECT ?e ?u ?dump WHERE { ?d a void:Dataset ; void:sparqlEndpoint ?e ; "
                      "void:uriSpace ?u ; void:dataDump ?dump }")
    assert rows == [(BASE + "sparql", BASE + "id/", BASE + "exports/ifkg.nt")]
    vocabularies = {r[0] for r in _ask(void, "SELECT ?v WHERE { ?d void:vocabulary ?v }")}
    assert {"https://w3id.org/ifkg/def#", "http://www.w3.org/ns/oa#",
            "http://www.w3.org/ns/prov#", "http://www.w3.org/2004/02/skos/core#"} <= vocabularies
    examples = {r[0] for r in _ask(void, "SELECT ?x WHERE { ?d void:exampleResource ?x }")}
    assert BASE + "id/entity/shanghai-financing-guarantee-fund" in examples
    assert _ask(void, "SELECT ?t WHERE { ?x a void:DatasetDescription ; foaf:primaryTopic ?t }") \
        == [(BASE + "dataset",)]


def test_dataset_metadata_from_the_reply_and_dataset_yaml(void):
    # temporal coverage: 2010 (上海市创业投资引导基金 set up) to the reply's date
    assert _ask(void, "SELECT ?s ?e (DATATYPE(?s) AS ?ts) WHERE { ?d dct:temporal ?t . "
                      "?t dcat:startDate ?s ; dcat:endDate ?e }") == \
        [("2010", "2025-05-19", "http://www.w3.org/2001/XMLSchema#gYear")]
    assert _ask(void, "SELECT ?s WHERE { ?d a dcat:Dataset ; prov:wasDerivedFrom ?s }") == \
        [(BASE + "id/source/shstc-reply-2025-27",)]
    assert _ask(void, "SELECT ?p WHERE { ?d a dcat:Dataset ; dct:spatial ?p }") == \
        [("https://sws.geonames.org/1796236/",)]
    themes = sorted(r[0].rsplit("/", 1)[1]
                    for r in _ask(void, "SELECT ?t WHERE { ?d dcat:theme ?t }"))
    assert themes == ["ECON", "GOVE", "TECH"]
    assert _ask(void, "SELECT DISTINCT ?l WHERE { ?x dct:license ?l }") == \
        [("https://creativecommons.org/licenses/by/4.0/",)]
    titles = sorted(_ask(void, "SELECT (LANG(?t) AS ?l) WHERE { ?d a dcat:Dataset ; "
                               "dct:title ?t }"))
    assert titles == [("en",), ("zh",)]
    meta = YAML(typ="safe").load((ROOT / "graph" / "dataset.yaml").read_text(encoding="utf-8"))
    issued = str(meta["issued"])
    # modified: never the clock, never earlier than the newest source (2025-05-19)
    modified = max(issued, str(meta.get("modified") or issued), "2025-05-19")
    assert _ask(void, "SELECT ?i ?m ?v WHERE { ?d a dcat:Dataset ; dct:issued ?i ; "
                      "dct:modified ?m ; dcat:version ?v }") == [(issued, modified, _version())]
    assert _ask(void, "SELECT ?v WHERE { ?d a dcat:Dataset ; owl:versionIRI ?v }") == \
        [(f"{BASE}dataset/{_version()}",)]
    assert _ask(void, "SELECT ?fn ?u WHERE { ?d dcat:contactPoint ?k . ?k vcard:fn ?fn ; "
                      "vcard:hasURL ?u }") == [("ifkg project", BASE)]


def test_one_distribution_per_format_under_the_public_base(void, built):
    rows = _ask(void, "SELECT ?url ?dl ?mt ?f WHERE { ?d dcat:distribution ?x . "
                      "?x dcat:accessURL ?url ; dcat:downloadURL ?dl ; dcat:mediaType ?mt ; "
                      "dct:format ?f } ORDER BY ?url")
    files = [r[0].rsplit("/", 1)[1] for r in rows]
    assert files == sorted(["ifkg.jsonld", "ifkg.nq", "ifkg.nt", "ifkg.rdf", "ifkg.trig",
                            "ifkg.ttl"])
    for url, download, media, _fmt in rows:
        file = url.rsplit("/", 1)[1]
        assert url == download == BASE + "exports/" + file
        assert file in EXPORTS and file in built.files
        # the media type agrees with pyoxigraph's own idea of the format
        want = ox.RdfFormat.from_extension(file.rsplit(".", 1)[1]).media_type
        assert media == "https://www.iana.org/assignments/media-types/" + want
    text = built.files["void.ttl"].decode()
    assert "localhost" not in text and "127.0.0.1" not in text
    assert "_:" not in text


def test_dataset_yaml_errors_name_file_and_line(mini):
    meta = (ROOT / "graph" / "dataset.yaml").read_text(encoding="utf-8")
    meta = re.sub(r"examples:\n(  - .*\n)+", "examples:\n  - demo-bank\n  - no-such-entity\n", meta)
    (mini.graph_dir / "dataset.yaml").write_text(meta, encoding="utf-8")
    line = meta.splitlines().index("  - no-such-entity") + 1
    with pytest.raises(IfkgError) as exc:
        build(mini, write=False)
    assert exc.value.first.line == line
    assert "no-such-entity" in exc.value.first.message
    assert str(exc.value.first.file).endswith("dataset.yaml")
    res = run_ifkg(mini.root, "build")
    assert res.returncode == 2
    assert f"dataset.yaml:{line}" in res.stderr and "no-such-entity" in res.stderr
    assert not (mini.root / "exports").exists()


def test_a_second_project_gets_a_conforming_description(mini):
    meta = (ROOT / "graph" / "dataset.yaml").read_text(encoding="utf-8")
    meta = re.sub(r"examples:\n(  - .*\n)+", "examples:\n  - demo-bank\n", meta)
    (mini.graph_dir / "dataset.yaml").write_text(meta, encoding="utf-8")
    (mini.root / "VERSION").write_text("2.3.4\n", encoding="utf-8")
    result = build(mini, write=False)
    g = rdflib.Graph().parse(data=result.files["void.ttl"].decode(), format="turtle")
    conforms, report = _validate(g)
    assert conforms, report.serialize(format="turtle")
    assert _ask(g, "SELECT ?v ?t WHERE { ?d a dcat:Dataset ; dcat:version ?v ; void:triples ?t }") \
        == [("2.3.4", str(len(result.compiled.triples())))]
    # the demo source's figures: 2024-12-31 and the year 2024; the source is dated 2025-01-02
    assert _ask(g, "SELECT ?s ?e WHERE { ?t a dct:PeriodOfTime ; dcat:startDate ?s ; "
                   "dcat:endDate ?e }") == [("2024", "2025-01-02")]


# ------------------------------------------------------------------------------------------
# the statistics, against a plain count over the quads
# ------------------------------------------------------------------------------------------

XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
GRAPHS = {n: ox.NamedNode(f"{BASE}graph/{n}") for n in ("ontology", "facts", "provenance")}


@dataclass
class _Dataset:
    """What the description reads of a compiled dataset: its graphs, base, store and N-Quads
    (no ``quads`` or ``triples()``, so a Python loop over every quad would fail here)."""

    data: list[ox.Quad]
    graphs: dict[str, ox.NamedNode]
    base: str = BASE

    def nquads(self) -> bytes:
        return ox.serialize(self.data, format=ox.RdfFormat.N_QUADS)

    def store(self) -> ox.Store:
        s = ox.Store()
        s.bulk_load(input=self.nquads(), format=ox.RdfFormat.N_QUADS)
        return s


def _bounds(lit: ox.Literal) -> tuple[str, str] | None:
    v, t = lit.value, lit.datatype.value
    if t == XSD + "gYear" and re.fullmatch(r"\d{4}", v):
        return f"{v}-01-01", f"{v}-12-31"
    if t in (XSD + "date", XSD + "dateTime") and re.match(r"\d{4}-\d{2}-\d{2}", v):
        return v[:10], v[:10]
    return None


def _counted(quads: list[ox.Quad], base: str, ontology: ox.NamedNode) -> dict:
    """The description's statistics by a plain loop over the quads in canonical order: the
    union's triples, subjects, objects, partitions, sources and the dates outside the
    ontology (of equal days, the first one stated)."""
    quads = sorted(set(quads), key=lambda q: tuple(map(str, (q.graph_name, q.subject,
                                                             q.predicate, q.object))))
    triples = {q.triple for q in quads}
    members = defaultdict(set)
    for t in triples:
        if t.predicate.value == RDF_TYPE and isinstance(t.object, ox.NamedNode):
            members[t.object.value].add(t.subject)
    sources = {s.value for s in members.get(ifkg_ns() + "SourceText", ())
               if isinstance(s, ox.NamedNode)}
    start = end = None
    issued = []
    for q in quads:
        o = q.object
        if q.graph_name == ontology or not isinstance(o, ox.Literal) or \
                o.datatype.value not in (XSD + "date", XSD + "gYear", XSD + "dateTime"):
            continue
        b = _bounds(o)
        if b is None:
            continue
        if start is None or b[0] < start[0]:
            start = (b[0], o)
        if end is None or b[1] > end[0]:
            end = (b[1], o)
        if q.subject.value in sources and q.predicate.value == "http://purl.org/dc/terms/issued":
            issued.append(b[1])
    return {
        "triples": len(triples),
        "entities": len({t.subject for t in triples if isinstance(t.subject, ox.NamedNode)
                         and t.subject.value.startswith(base + "id/")}),
        "distinct_subjects": len({t.subject for t in triples}),
        "distinct_objects": len({t.object for t in triples}),
        "class_entities": {k: len(v) for k, v in sorted(members.items())},
        "property_triples": dict(sorted(Counter(t.predicate.value for t in triples).items())),
        "sources": sorted(sources),
        "latest_source_date": max(issued, default=None),
        "start": start[1] if start else None,
        "end": end[1] if end else None,
    }


def _facts(c) -> dict:
    f = graph_facts(c)
    return {k: getattr(f, k) for k in ("triples", "entities", "distinct_subjects",
                                       "distinct_objects", "class_entities", "property_triples",
                                       "sources", "latest_source_date", "start", "end")}


def test_graph_facts_of_the_real_graph_match_a_plain_count(built):
    c = built.compiled
    assert _facts(c) == _counted(c.quads, c.base, c.graphs["ontology"])


def _q(s: str, p: str, o: ox.Term, g: str) -> ox.Quad:
    subject = ox.BlankNode(s[2:]) if s.startswith("_:") else ox.NamedNode(s)
    return ox.Quad(subject, ox.NamedNode(p), o, GRAPHS[g])


def _date(v: str, t: str = "date") -> ox.Literal:
    return ox.Literal(v, datatype=ox.NamedNode(XSD + t))


def test_graph_facts_count_a_repeated_triple_once_and_skip_the_ontologys_dates():
    a, b, ex = f"{BASE}id/entity/a", f"{BASE}id/entity/b", "http://example.org/"
    when, issued = ex + "when", "http://purl.org/dc/terms/issued"
    source = ox.NamedNode(ifkg_ns() + "SourceText")
    lookalike = ox.Literal('"^^<http://www.w3.org/2001/XMLSchema#date> <x:g> .')
    c = _Dataset([
        _q(a, RDF_TYPE, source, "facts"),
        _q(a, RDF_TYPE, source, "provenance"),             # the same triple in a second graph
        _q(a, issued, _date("2024-05-01"), "provenance"),
        _q(b, when, _date("2010", "gYear"), "facts"),       # the same day as a's, stated later
        _q(a, when, _date("2010-01-01"), "facts"),
        _q(ifkg_ns() + "Thing", when, _date("1990-01-01"), "ontology"),
        _q("_:n1", ex + "label", lookalike, "facts"),
        _q(ex + "other", when, _date("2030", "gYear"), "provenance"),
    ], GRAPHS)
    f = graph_facts(c)
    assert (f.triples, f.distinct_subjects, f.entities, f.distinct_objects) == (7, 5, 2, 7)
    assert f.property_triples[RDF_TYPE] == 1 and f.class_entities == {source.value: 1}
    assert (f.start, f.end) == (_date("2010-01-01"), _date("2030", "gYear"))
    assert (f.sources, f.latest_source_date) == ([a], "2024-05-01")


_SUBJECTS = [f"{BASE}id/entity/a", f"{BASE}id/entity/b", f"{BASE}id/x/c", f"{BASE}idx",
             "http://example.org/s", "_:n1", "_:n2"]
_PREDICATES = [RDF_TYPE, "http://purl.org/dc/terms/issued", "http://example.org/p"]
_OBJECTS = [ox.NamedNode(f"{BASE}id/entity/a"), ox.NamedNode("https://w3id.org/ifkg/def#SourceText"),
            ox.NamedNode("http://example.org/C"), ox.BlankNode("n1"),
            _date("2010", "gYear"), _date("2010-01-01"), _date("2010-12-31T23:00:00", "dateTime"),
            _date("2011-01-01"), _date("20100", "gYear"), _date("2009-xx"),
            ox.Literal("2010-01-01"), ox.Literal("2010", language="en"),
            ox.Literal('x"^^<http://www.w3.org/2001/XMLSchema#gYear> y')]
_quads = st.lists(st.builds(_q, st.sampled_from(_SUBJECTS), st.sampled_from(_PREDICATES),
                            st.sampled_from(_OBJECTS), st.sampled_from(sorted(GRAPHS))),
                  max_size=25)


@settings(max_examples=150, deadline=None)
@given(_quads)
def test_graph_facts_match_a_plain_count_on_any_small_dataset(quads):
    assert _facts(_Dataset(quads, GRAPHS)) == _counted(quads, BASE, GRAPHS["ontology"])


def test_published_iris_match_a_plain_scan(built, project):
    c = built.compiled
    spaces = tuple(f"{BASE}id/{k}/" for k in ("entity", "indicator", "source"))
    onto = c.graphs["ontology"]
    want = {g.value for g in c.graphs.values()} | {BASE + "dataset", BASE + "catalog"}
    for q in c.quads:
        s = q.subject
        if isinstance(s, ox.NamedNode) and (s.value.startswith(spaces) or (
                q.graph_name == onto and (s.value.startswith(ifkg_ns()) or (
                    q.predicate.value == RDF_TYPE
                    and q.object.value == "http://www.w3.org/2002/07/owl#Ontology")))):
            want.add(s.value)
    assert published_iris(c, project) == sorted(want)


def test_without_examples_the_first_three_entities_are_examples(mini):
    meta = (ROOT / "graph" / "dataset.yaml").read_text(encoding="utf-8")
    meta = re.sub(r"examples:\n(  - .*\n)+", "", meta)
    (mini.graph_dir / "dataset.yaml").write_text(meta, encoding="utf-8")
    result = build(mini, write=False)
    g = rdflib.Graph().parse(data=result.files["void.ttl"].decode(), format="turtle")
    entities = sorted({q.subject.value for q in result.compiled.quads
                       if q.subject.value.startswith(BASE + "id/entity/")})
    assert len(entities) > 3
    assert sorted(r[0] for r in _ask(g, "SELECT ?x WHERE { ?d void:exampleResource ?x }")) == \
        entities[:3]


# ------------------------------------------------------------------------------------------
# the DCAT-AP shapes
# ------------------------------------------------------------------------------------------

def _constraint_shapes() -> set[str]:
    shapes = rdflib.Graph().parse(DCAT_SHAPES, format="turtle")
    names = {str(s) for s in shapes.subjects(SH.path, None) if isinstance(s, rdflib.URIRef)}
    names |= {str(s) for s in shapes.subjects(SH["or"], None) if isinstance(s, rdflib.URIRef)
              and (s, SH.targetClass, None) in shapes}
    return {n[len(DCATAP):] for n in names if n.startswith(DCATAP)}


def test_valid_fixture_conforms():
    conforms, report = _validate(rdflib.Graph().parse(FIXTURES / "valid.ttl"))
    assert conforms, report.serialize(format="turtle")


def test_every_dcat_shape_has_a_violating_fixture():
    fixtures = {f.stem for f in FIXTURES.glob("*.ttl")} - {"valid"}
    assert fixtures == _constraint_shapes()
    assert len(fixtures) >= 30


@pytest.mark.parametrize("fixture", sorted(f.name for f in FIXTURES.glob("*.ttl")
                                           if f.name != "valid.ttl"))
def test_each_fixture_fails_only_its_shape(fixture):
    conforms, report = _validate(rdflib.Graph().parse(FIXTURES / fixture))
    assert not conforms
    sources = {str(o) for o in report.objects(None, SH.sourceShape)}
    assert sources == {DCATAP + fixture[:-len(".ttl")]}


# ------------------------------------------------------------------------------------------
# the ontology page
# ------------------------------------------------------------------------------------------

class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.tags: set[str] = set()
        self.srcs: list[str] = []
        self.sections: dict[str, list[str]] = {}
        self._current: str | None = None
        self._depth = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.add(tag)
        if "id" in a:
            self.ids.append(a["id"])
        if "src" in a:
            self.srcs.append(a["src"])
        if tag == "link" and a.get("rel") == "stylesheet":
            self.srcs.append(a.get("href", ""))
        if tag == "section":
            self._current, self._depth = a.get("id"), 1
            self.sections[self._current] = []
        elif self._current and tag not in ("br", "meta"):
            self._depth += 1

    def handle_endtag(self, tag):
        if self._current:
            self._depth -= 1
            if self._depth == 0:
                self._current = None

    def handle_data(self, data):
        if self._current:
            self.sections[self._current].append(data)


def _page(html: bytes) -> _Page:
    p = _Page()
    p.feed(html.decode())
    return p


def _section(page: _Page, anchor_id: str) -> str:
    """The text of a term's section, whitespace folded."""
    return " ".join(" ".join(page.sections[anchor_id]).split())


def _ontology_terms(built) -> set[str]:
    onto = built.compiled.graphs["ontology"]
    kinds = {"http://www.w3.org/2002/07/owl#" + k for k in
             ("Class", "ObjectProperty", "DatatypeProperty", "AnnotationProperty",
              "NamedIndividual")}
    return {q.subject.value[len(ifkg_ns()):] for q in built.compiled.quads
            if q.graph_name == onto and isinstance(q.subject, ox.NamedNode)
            and q.subject.value.startswith(ifkg_ns()) and q.predicate.value.endswith("#type")
            and q.object.value in kinds}


def ifkg_ns() -> str:
    return "https://w3id.org/ifkg/def#"


def test_ontology_page_has_one_ascii_anchor_per_term(built):
    page = _page(built.files["ontology.html"])
    terms = _ontology_terms(built)
    assert len(terms) > 80
    assert len(page.ids) == len(set(page.ids))
    assert {anchor(t) for t in terms} <= set(page.ids)
    assert all(re.fullmatch(r"[A-Za-z][A-Za-z0-9_.-]*", i) for i in page.ids)
    assert "GuaranteeFund" in page.ids


def test_ontology_page_is_bilingual_with_hierarchy_domains_kinds_and_alignments(built):
    page = _page(built.files["ontology.html"])
    fund = _section(page, "GuaranteeFund")
    assert "担保基金" in fund and "Guarantee fund" in fund
    assert "政府出资" in fund and "A government-backed fund" in fund
    assert "Superclasses" in fund and "Fund" in fund
    assert "org:FormalOrganization" in fund and "ge:Instrumentality" in fund
    coop = _section(page, "cooperatesWith")
    assert "Edge kind" in coop and "collaborationRelation" in coop
    assert re.search(r"Domain.*EntityGroup or Fund or Organization or Place", coop)
    assert "org:linkedTo" in coop
    relation = _section(page, "fundingRelation")
    assert "Subproperties" in relation and "guarantees" in relation
    html = built.files["ontology.html"].decode()
    assert 'href="#GuaranteeFund"' in html


def test_ontology_page_is_self_contained(built):
    page = _page(built.files["ontology.html"])
    assert "script" not in page.tags
    assert page.srcs == []
    html = built.files["ontology.html"].decode()
    assert "<style>" in html and "default-src 'none'" in html


def test_ontology_page_escapes_and_marks_deprecated_terms(mini):
    hostile = '<script>alert(1)</script> & <b>'
    with open(mini.ontology_file, "a", encoding="utf-8") as fh:
        fh.write(f"""
ifkg:Bank rdfs:comment "{hostile}"@en .
ifkg:OldBank a owl:Class ; rdfs:label "旧银行"@zh , "Old bank"@en ;
    owl:deprecated true ; dct:isReplacedBy ifkg:Bank .
""")
    result = build(mini, write=False)
    html = result.files["ontology.html"].decode()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "&amp; &lt;b&gt;" in html
    old = _section(_page(result.files["ontology.html"]), "OldBank")
    assert "deprecated" in old and "replaced by" in old and "Bank" in old
    assert 'href="#Bank"' in html
    # a retired term that says what replaces it satisfies the published-IRI check
    listed = [ifkg_ns() + "OldBank", ifkg_ns() + "Bank"]
    assert unpublished(listed, result.compiled, mini) == []


def test_exports_are_byte_identical_across_hash_seeds(mini, tmp_path):
    a = run_ifkg(mini.root, "build", "--out", str(tmp_path / "a"), env={"PYTHONHASHSEED": "3"})
    b = run_ifkg(mini.root, "build", "--out", str(tmp_path / "b"), env={"PYTHONHASHSEED": "4"})
    assert a.returncode == b.returncode == 0, a.stderr + b.stderr
    for name in ("void.ttl", "ontology.html", "context.jsonld", "ifkg.jsonld", "ifkg.rdf"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


# ------------------------------------------------------------------------------------------
# persistent IRIs and releases
# ------------------------------------------------------------------------------------------

def test_published_iris_file_is_sorted_unique_and_public():
    lines = (ROOT / "published-iris.txt").read_text(encoding="utf-8").splitlines()
    assert lines == sorted(set(lines))
    assert len(lines) > 200
    assert all(line.startswith(BASE) for line in lines)
    for iri in (BASE + "id/entity/shanghai-financing-guarantee-fund", ifkg_ns() + "GuaranteeFund",
                BASE + "graph/facts", BASE + "id/source/shstc-reply-2025-27",
                BASE + "def", BASE + "dataset", BASE + "catalog"):
        assert iri in lines, iri


def test_every_published_iri_is_still_in_a_fresh_build(built, project):
    listed = read_published(project)
    assert listed
    assert unpublished(listed, built.compiled, project) == []


def test_a_dropped_or_badly_retired_iri_is_reported(mini):
    result = build(mini, write=False)
    listed = published_iris(result.compiled, mini)
    assert unpublished(listed, result.compiled, mini) == []
    gone = BASE + "id/entity/demo-bank-renamed"
    assert unpublished([*listed, gone], result.compiled, mini) == [
        f"{gone}: published earlier but missing from the build; keep it, marked "
        "owl:deprecated true with dct:isReplacedBy"]
    with open(mini.ontology_file, "a", encoding="utf-8") as fh:
        fh.write("\nifkg:OldBank a owl:Class ; owl:deprecated true .\n"
                 "ifkg:OlderBank a owl:Class ; owl:deprecated true ; "
                 "dct:isReplacedBy ifkg:NoSuchClass .\n")
    result = build(mini, write=False)
    problems = unpublished([ifkg_ns() + "OldBank", ifkg_ns() + "OlderBank"], result.compiled, mini)
    assert problems == [f"{ifkg_ns()}OldBank: owl:deprecated without dct:isReplacedBy",
                        f"{ifkg_ns()}OlderBank: dct:isReplacedBy {ifkg_ns()}NoSuchClass, which "
                        "is not in the build"]


def test_versions_agree_everywhere(built):
    version = _version()
    assert re.fullmatch(r"\d+\.\d+\.\d+", version)
    assert ifkg.__version__ == version
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["version"] == version
    onto = rdflib.Graph().parse(ROOT / "ontology" / "ifkg.ttl", format="turtle")
    rows = _ask(onto, "SELECT ?o ?v ?vi WHERE { ?o a owl:Ontology ; owl:versionIRI ?v ; "
                      "owl:versionInfo ?vi }")
    assert rows == [(BASE + "def", f"{BASE}def/{version}", version)]
    cff = YAML(typ="safe").load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert cff["version"] == version
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    m = re.search(rf"^## \[{re.escape(version)}\] - (\d{{4}}-\d{{2}}-\d{{2}})$", changelog, re.M)
    assert m, "CHANGELOG.md has no entry for " + version
    assert str(cff["date-released"]) == m.group(1)


CFF_KEYS = {"abstract", "authors", "cff-version", "commit", "contact", "date-released", "doi",
            "identifiers", "keywords", "license", "license-url", "message", "preferred-citation",
            "references", "repository", "repository-artifact", "repository-code", "title", "type",
            "url", "version"}


def test_citation_cff_uses_valid_cff_1_2_fields():
    cff = YAML(typ="safe").load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert set(cff) <= CFF_KEYS
    assert {"cff-version", "message", "title", "authors"} <= set(cff)
    assert cff["cff-version"] == "1.2.0"
    assert cff["type"] in ("software", "dataset")
    assert cff["authors"] and all(("name" in a) != ("family-names" in a) for a in cff["authors"])
    dt.date.fromisoformat(str(cff["date-released"]))
    assert cff["license"] == "CC-BY-4.0"
    for ident in cff.get("identifiers", []):
        assert ident["type"] in ("doi", "url", "swh", "other")
        assert ident["value"].startswith(BASE)
    assert re.fullmatch(r"https://\S+", cff["url"])

