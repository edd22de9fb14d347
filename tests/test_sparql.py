"""The SPARQL engine: parsing and refusals on every path, execution, timeouts, output formats."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib.plugins.sparql import prepareQuery

import ifkg
from cli_helpers import run_ifkg
from ifkg import sparql
from ifkg.errors import IfkgError
from ifkg.project import Project

BASE = "https://w3id.org/ifkg/"
ENT = BASE + "id/entity/"
FACTS = BASE + "graph/facts"

# rdflib's Dataset warns on every lookup (DeprecationWarning); it is not what these tests check
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

# Each of these must be refused on every path (prepare/execute, CLI, ifkg.load()).
SERVICE_QUERIES = [
    "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
    "SELECT * WHERE { ?s ?p ?o OPTIONAL { SERVICE SILENT <http://127.0.0.1:9/> { ?s ?q ?x } } }",
    "SELECT * WHERE { ?s ?p ?o FILTER NOT EXISTS { SERVICE ?endpoint { ?s ?q ?x } } }",
    "SELECT * WHERE { { SELECT ?s WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } } } }",
    "ASK { { ?s ?p ?o } UNION { GRAPH ?g { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } } } }",
    r"SELECT * WHERE { \u0053ERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }",
    "# SERVICE in a comment is fine, but not here:\nCONSTRUCT { ?s ?p ?o } WHERE { "
    "SERVICE <http://x/> { ?s ?p ?o } }",
]
FROM_QUERIES = [
    "SELECT * FROM <file:///etc/passwd> WHERE { ?s ?p ?o }",
    "SELECT * FROM NAMED <file:///etc/hostname> WHERE { GRAPH ?g { ?s ?p ?o } }",
    "SELECT * FROM <https://example.org/data.ttl> WHERE { ?s ?p ?o }",
    "SELECT * FROM <graph/facts> FROM <../../../etc/passwd> WHERE { ?s ?p ?o }",
]
UPDATE_QUERIES = [
    "LOAD <file:///etc/passwd>",
    "LOAD SILENT <https://example.org/x.ttl> INTO GRAPH <https://example.org/g>",
    "INSERT DATA { <http://a> <http://b> <http://c> }",
    "DELETE WHERE { ?s ?p ?o }",
    "CLEAR ALL",
    "DROP GRAPH <https://w3id.org/ifkg/graph/facts>",
    "PREFIX x: <http://x/> WITH <http://g> DELETE { ?s ?p ?o } INSERT { ?s ?p 1 } "
    "WHERE { ?s ?p ?o }",
]
ALL_REFUSED = SERVICE_QUERIES + FROM_QUERIES + UPDATE_QUERIES


@pytest.fixture(scope="module")
def tiny() -> ox.Store:
    """A small hand-made store in the shape of the built graph (three named graphs)."""
    s = ox.Store()
    g = {n: ox.NamedNode(BASE + "graph/" + n) for n in ("ontology", "facts", "provenance")}
    lab = ox.NamedNode("http://www.w3.org/2004/02/skos/core#prefLabel")
    launches = ox.NamedNode("https://w3id.org/ifkg/def#launches")
    for i in range(60):
        e = ox.NamedNode(f"{ENT}e{i}")
        s.add(ox.Quad(e, lab, ox.Literal(f"实体{i}", language="zh"), g["facts"]))
        s.add(ox.Quad(e, lab, ox.Literal(f"Entity {i}", language="en"), g["facts"]))
        s.add(ox.Quad(e, launches, ox.NamedNode(f"{ENT}e{(i + 1) % 60}"), g["facts"]))
    s.add(ox.Quad(launches, ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label"),
                  ox.Literal("推出", language="zh"), g["ontology"]))
    s.add(ox.Quad(ox.NamedNode(BASE + "id/measurement/x"),
                  ox.NamedNode("https://schema.org/value"),
                  ox.Literal("99450000000", datatype=ox.NamedNode(
                      "http://www.w3.org/2001/XMLSchema#decimal")), g["provenance"]))
    return s


@pytest.fixture(scope="module")
def mini_built(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """The mini project with current exports, so the CLI and ifkg.load() read them."""
    import shutil

    from conftest import MINI, ROOT
    from ifkg.build import build, is_current

    root = tmp_path_factory.mktemp("built") / "mini"
    shutil.copytree(MINI, root)
    shutil.copytree(ROOT / "ontology", root / "ontology")
    project = Project(root)
    build(project)
    assert is_current(project)
    return project



# ---------------------------------------------------------------------------------------------
# prepare: forms and refusals decided by parsing


@pytest.mark.parametrize("text,form", [
    ("SELECT * WHERE { ?s ?p ?o }", "SELECT"),
    ("ask { ?s ifkg:launches ?o }", "ASK"),
    ("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", "CONSTRUCT"),
    ("DESCRIBE ent:e1", "DESCRIBE"),
    ("# a comment that says INSERT DATA and SERVICE\nSELECT ?x WHERE { BIND('SERVICE' AS ?x) }",
     "SELECT"),
])
def test_prepare_decides_the_form_by_parsing(text: str, form: str) -> None:
    assert sparql.prepare(text, base=BASE).form == form


@pytest.mark.parametrize("text", ALL_REFUSED)
def test_prepare_refuses(text: str) -> None:
    with pytest.raises(IfkgError) as err:
        sparql.prepare(text, base=BASE)
    msg = str(err.value)
    assert "refused" in msg
    word = "SERVICE" if text in SERVICE_QUERIES else ("FROM" if text in FROM_QUERIES else
                                                      ("LOAD" if "LOAD" in text else "UPDATE"))
    assert word in msg


def test_from_naming_a_dataset_graph_is_allowed_and_selects_it(tiny: ox.Store) -> None:
    p = sparql.prepare("SELECT (COUNT(*) AS ?n) FROM graph:provenance WHERE { ?s ?p ?o }",
                       base=BASE)
    assert p.from_default == (BASE + "graph/provenance",)
    assert sparql.execute(tiny, p).rows()[0][0].value == "1"
    union = sparql.query(tiny, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", base=BASE)
    assert union.rows()[0][0].value == str(60 * 3 + 2)


def test_syntax_error_reports_line_and_column_of_the_users_text() -> None:
    text = "SELECT ?s\nWHERE {\n  ?s ?p ?o\n  FILTER( }\n"
    with pytest.raises(IfkgError) as err:
        sparql.prepare(text, base=BASE, name="q.rq")
    p = err.value.first
    assert (p.file, p.line, p.column) == ("q.rq", 4, 3)
    assert "FILTER( }" in p.message
    with pytest.raises(IfkgError) as err:
        sparql.prepare("SELECT * WHERE { ?s nope:x ?o }", base=BASE)
    assert "nope" in str(err.value)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.sampled_from(list("SELCTWHR{}?spo.<>:\"'#\n ()*ASKINFOMD")),
               max_size=60))
def test_prepare_never_fails_with_anything_but_ifkg_error(text: str) -> None:
    try:
        p = sparql.prepare(text, base=BASE)
    except IfkgError as exc:
        assert exc.first.message
    else:
        assert p.form in sparql.FORMS


# ---------------------------------------------------------------------------------------------
# execute: refusals, dataset selection, substitution, limits, timeouts


@pytest.mark.parametrize("text", ALL_REFUSED)
def test_execute_refuses_text_and_hand_made_prepared(tiny: ox.Store, text: str) -> None:
    with pytest.raises(IfkgError, match="refused"):
        sparql.execute(tiny, text, timeout=None)
    forged = sparql.Prepared(text, "<forged>", "SELECT", BASE, {})
    with pytest.raises(IfkgError, match="refused"):
        sparql.execute(tiny, forged)


def test_execute_refuses_default_graph_outside_the_dataset(tiny: ox.Store) -> None:
    p = sparql.prepare("SELECT * WHERE { ?s ?p ?o }", base=BASE)
    with pytest.raises(IfkgError, match="file:///etc/passwd"):
        sparql.execute(tiny, p, default_graph=["file:///etc/passwd"])
    with pytest.raises(IfkgError, match="refused"):
        sparql.execute(tiny, p, named_graphs=["http://example.org/g"])
    r = sparql.execute(tiny, p, default_graph=[BASE + "graph/ontology"])
    assert len(r) == 1


def test_bindings_are_terms_not_text(tiny: ox.Store) -> None:
    p = sparql.prepare("SELECT ?label ?e WHERE { ?e skos:prefLabel ?l FILTER(STR(?l) = ?label) }",
                       base=BASE)
    hit = sparql.execute(tiny, p, bindings={"label": ox.Literal("实体7")})
    assert [r[1].value for r in hit.rows()] == [ENT + "e7"]
    hostile = ox.Literal('x" ) } } DELETE WHERE { ?s ?p ?o } #')
    assert sparql.execute(tiny, p, bindings={"label": hostile}).rows() == []


def test_row_limit_marks_truncation(tiny: ox.Store) -> None:
    p = sparql.prepare("SELECT ?s WHERE { ?s ifkg:launches ?o }", base=BASE)
    r = sparql.execute(tiny, p, row_limit=5)
    assert len(r.rows()) == 5 and r.truncated
    r = sparql.execute(tiny, p, row_limit=500)
    assert len(r.rows()) == 60 and not r.truncated
    g = sparql.execute(tiny, "CONSTRUCT WHERE { ?s ifkg:launches ?o }", row_limit=7)
    assert len(g.triples()) == 7 and g.truncated


def test_forked_and_inline_answers_are_identical(tiny: ox.Store) -> None:
    p = sparql.prepare("SELECT ?s ?o WHERE { ?s ifkg:launches ?o } ORDER BY ?s", base=BASE)
    forked = sparql.execute(tiny, p, timeout=10)
    inline = sparql.execute(tiny, p, timeout=None)
    assert forked.forked and not inline.forked
    assert forked.data == inline.data and forked.variables == inline.variables == ["s", "o"]


def _children() -> set[int]:
    me = str(os.getpid())
    out = set()
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[1] == me:
                out.add(int(d.name))
    return out


def test_timeout_kills_a_runaway_query(mini_built: Project) -> None:
    from ifkg.build import open_store

    store = open_store(mini_built)
    before = _children()
    runaway = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    start = time.monotonic()
    with pytest.raises(IfkgError, match=r"timed out after 0\.5 s"):
        sparql.execute(store, sparql.prepare(runaway, base=BASE), timeout=0.5)
    assert time.monotonic() - start < 3
    assert _children() <= before  # the worker was killed and reaped


def test_errors_inside_the_worker_come_back_as_ifkg_errors(tiny: ox.Store) -> None:
    p = sparql.prepare("SELECT ?x WHERE { BIND(1 AS ?x) }", base=BASE)
    with pytest.raises(IfkgError, match="projection"):
        sparql.execute(tiny, p, bindings={"missing": ox.Literal("x")})


def test_prepare_remembers_its_verdict_but_refuses_every_time() -> None:
    text = "SELECT ?s WHERE { ?s ifkg:launches ?o }"
    assert sparql.prepare(text, base=BASE) is sparql.prepare(text, base=BASE)
    assert sparql.prepare(text, base=BASE, name="b.rq").name == "b.rq"
    for _ in range(2):
        with pytest.raises(IfkgError, match="refused"):
            sparql.prepare(SERVICE_QUERIES[0], base=BASE)


@pytest.fixture(scope="module")
def awkward() -> ox.Store:
    """Literals with newlines, tabs, quotes and a language tag: one TSV row each all the same."""
    s = ox.Store()
    p = ox.NamedNode("http://example.org/p")
    texts = ["a\nb", "tab\there", 'quote " and \\', "行一\n行二\r\n", "plain"]
    for i, t in enumerate(texts):
        s.add(ox.Quad(ox.NamedNode(f"{ENT}x{i}"), p, ox.Literal(t, language="zh" if i % 2 else None),
                      ox.NamedNode(FACTS)))
    return s


@pytest.mark.parametrize("timeout", [None, 10])
def test_row_limit_keeps_the_first_rows_whatever_they_hold(awkward: ox.Store,
                                                           timeout: float | None) -> None:
    q = sparql.prepare("SELECT ?s ?o WHERE { ?s ?p ?o } ORDER BY ?s", base=BASE)
    every = sparql.execute(awkward, q, timeout=timeout)
    assert len(every.rows()) == 5 and not every.truncated
    for n in range(6):
        cut = sparql.execute(awkward, q, timeout=timeout, row_limit=n)
        assert cut.rows() == every.rows()[:n]
        assert cut.truncated == (n < 5)
        csv = sparql.execute(awkward, q, timeout=timeout, row_limit=n, output="csv")
        assert csv.payload == sparql.to_bytes(cut, "csv") and csv.truncated == (n < 5)
    g = sparql.execute(awkward, "CONSTRUCT WHERE { ?s ?p ?o }", timeout=timeout, row_limit=3,
                       output="turtle")
    assert g.truncated and len(rdflib.Graph().parse(data=g.payload, format="turtle")) == 3


def test_output_is_serialized_once_in_the_format_asked(tiny: ox.Store) -> None:
    p = sparql.prepare("SELECT ?s ?o WHERE { ?s ifkg:launches ?o } ORDER BY ?s", base=BASE)
    canonical = sparql.execute(tiny, p)
    assert canonical.encoding == "tsv"
    for fmt in ("csv", "tsv", "json", "xml"):
        direct = sparql.execute(tiny, p, output=fmt)
        assert direct.encoding == fmt
        assert direct.payload == sparql.to_bytes(canonical, fmt)
        assert sparql.to_bytes(direct, fmt) == direct.payload
    csv = sparql.execute(tiny, p, output="csv")
    with pytest.raises(IfkgError, match="cannot be read back"):
        csv.rows()
    assert sparql.execute(tiny, p, output="json").rows() == canonical.rows()
    with pytest.raises(IfkgError, match="does not fit a SELECT"):
        sparql.execute(tiny, p, output="turtle")


def _wait_for_no_children(before: set[int]) -> set[int]:
    from ifkg import workers

    for _ in range(100):
        workers.reap()
        left = _children() - before
        if not left:
            break
        time.sleep(0.05)
    return left


def test_one_off_workers_from_many_threads_all_exit(tiny: ox.Store) -> None:
    """Workers forked at the same time by several threads (a server) each answer once and
    exit: none waits for a pipe that another one inherited."""
    from concurrent.futures import ThreadPoolExecutor

    before = _children()
    p = sparql.prepare("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", base=BASE)
    with ThreadPoolExecutor(8) as pool:
        counts = list(pool.map(lambda _: sparql.execute(tiny, p, timeout=10).rows()[0][0].value,
                               range(40)))
    assert counts == [str(60 * 3 + 2)] * 40
    assert _wait_for_no_children(before) == set()


def test_reused_workers_are_kept_and_released() -> None:
    store = ox.Store()
    launches = ox.NamedNode("https://w3id.org/ifkg/def#launches")
    for i in range(100):
        store.add(ox.Quad(ox.NamedNode(f"{ENT}e{i}"), launches, ox.NamedNode(f"{ENT}e{i + 1}"),
                          ox.NamedNode(FACTS)))
    before = _children()
    count = sparql.prepare("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", base=BASE)
    assert sparql.reuse_workers(store) is store
    try:
        first = sparql.execute(store, count, timeout=10)
        kept = _children() - before
        assert len(kept) == 1  # the worker stays for the next query
        assert sparql.execute(store, count, timeout=10).data == first.data
        assert _children() - before == kept
        # a kept worker is a snapshot: a change is seen only once the workers are released
        store.add(ox.Quad(ox.NamedNode(ENT + "x"), launches, ox.NamedNode(ENT + "y"),
                          ox.NamedNode(FACTS)))
        assert sparql.execute(store, count, timeout=10).rows()[0][0].value == "100"
        sparql.release_workers(store)
        assert sparql.execute(store, count, timeout=10).rows()[0][0].value == "101"
        # a runaway query kills its worker; the next query gets a fresh one
        sparql.reuse_workers(store)
        runaway = sparql.prepare("SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . "
                                 "?g ?h ?i . ?j ?k ?l . ?m ?n2 ?o }", base=BASE)
        with pytest.raises(IfkgError, match="timed out"):
            sparql.execute(store, runaway, timeout=0.3)
        assert sparql.execute(store, count, timeout=10).rows()[0][0].value == "101"
    finally:
        sparql.release_workers(store)
    assert _wait_for_no_children(before) == set()


# ---------------------------------------------------------------------------------------------
# output formats, parsed back with rdflib's SPARQL result parsers


@pytest.fixture(scope="module")
def mixed(tiny: ox.Store) -> sparql.Result:
    """A result with an IRI, a language-tagged literal, a decimal and an unbound cell."""
    return sparql.query(tiny, """
        SELECT ?e ?label ?value ?missing WHERE {
          ?e skos:prefLabel ?label FILTER(LANG(?label) = "zh")
          OPTIONAL { ?e schema:value ?value }
          OPTIONAL { ?e ifkg:nothing ?missing }
          FILTER(?e IN (ent:e1, ent:e2))
        } ORDER BY ?e""")


def _expected(result: sparql.Result) -> list[dict]:
    return [{v: t for v, t in zip(result.variables, row, strict=True) if t is not None}
            for row in result.rows()]


def _rdflib_term(t: ox.NamedNode | ox.Literal) -> rdflib.term.Identifier:
    if isinstance(t, ox.NamedNode):
        return rdflib.URIRef(t.value)
    if t.language:
        return rdflib.Literal(t.value, lang=t.language)
    dt = t.datatype.value
    return rdflib.Literal(t.value, datatype=None if dt.endswith("#string") else dt)


@pytest.mark.parametrize("fmt", ["json", "xml", "tsv"])
def test_typed_formats_parse_back_to_the_same_terms(mixed: sparql.Result, fmt: str) -> None:
    data = sparql.to_bytes(mixed, fmt)
    parsed = rdflib.query.Result.parse(io.BytesIO(data), format=fmt)
    assert [str(v) for v in parsed.vars] == mixed.variables == ["e", "label", "value", "missing"]
    got = [{str(k): v for k, v in b.items()} for b in parsed.bindings]
    want = [{k: _rdflib_term(t) for k, t in row.items()} for row in _expected(mixed)]
    assert got == want
    assert got[0]["label"] == rdflib.Literal("实体1", lang="zh")


def test_csv_parses_back_to_the_same_values(mixed: sparql.Result) -> None:
    data = sparql.to_bytes(mixed, "csv")
    parsed = rdflib.query.Result.parse(io.BytesIO(data), format="csv")
    got = [{str(k): str(v) for k, v in b.items()} for b in parsed.bindings]
    assert got == [{k: t.value for k, t in row.items()} for row in _expected(mixed)]


def test_ask_formats(tiny: ox.Store) -> None:
    yes = sparql.query(tiny, "ASK { ent:e1 ifkg:launches ent:e2 }")
    no = sparql.query(tiny, "ASK { ent:e2 ifkg:launches ent:e1 }")
    for fmt in ("json", "xml"):
        assert rdflib.query.Result.parse(io.BytesIO(sparql.to_bytes(yes, fmt)),
                                         format=fmt).askAnswer is True
        assert rdflib.query.Result.parse(io.BytesIO(sparql.to_bytes(no, fmt)),
                                         format=fmt).askAnswer is False
    assert sparql.to_bytes(yes, "table") == b"true\n"


@pytest.mark.parametrize("fmt,rdflib_fmt", [("turtle", "turtle"), ("nt", "nt"),
                                            ("jsonld", "json-ld")])
def test_graph_formats_parse_back_isomorphic(tiny: ox.Store, fmt: str, rdflib_fmt: str) -> None:
    r = sparql.query(tiny, "CONSTRUCT { ?s ifkg:launches ?o . ?s skos:prefLabel ?l } "
                           "WHERE { ?s ifkg:launches ?o ; skos:prefLabel ?l }")
    g = rdflib.Graph().parse(data=sparql.to_bytes(r, fmt, base=BASE), format=rdflib_fmt)
    want = rdflib.Graph()
    for t in r.triples():
        want.add((rdflib.URIRef(t.subject.value), rdflib.URIRef(t.predicate.value),
                  _rdflib_term(t.object)))
    assert len(g) == len(want) == 60 * 3
    assert rdflib.compare.isomorphic(g, want)


def test_format_must_fit_the_query_form(mixed: sparql.Result) -> None:
    with pytest.raises(IfkgError, match="turtle"):
        sparql.to_bytes(mixed, "turtle")


# ---------------------------------------------------------------------------------------------
# the table: labels, display width


def test_display_width_counts_wide_characters_twice() -> None:
    assert sparql.display_width("临创保") == 6
    assert sparql.display_width("ab临") == 4
    assert sparql.display_width("（2024）") == 8


def test_table_aligns_chinese_columns_by_display_width() -> None:
    text = sparql.render_table(["name", "n"], [["临创保", "3"], ["Wanqudai", "2"],
                                               ["科技专项再担保批次包", "1"]])
    lines = text.splitlines()
    starts = {sparql.display_width(line[:line.rstrip().rfind(" ") + 1]) for line in lines
              if line and not line.startswith("─")}
    assert len(starts) == 1  # the second column starts at the same terminal column everywhere
    assert lines[1].startswith("─" * 20 + "  ─")


def test_table_wraps_long_cells_and_fits_a_terminal() -> None:
    long = "截至2024年底，市担保基金在保余额994.5亿元，放大倍数为4.71，全年承做政策性融资担保贷款"
    text = sparql.render_table(["a", "sentence"], [["x", long]], total_width=40)
    assert all(sparql.display_width(line) <= 40 for line in text.splitlines())
    assert "".join(line[3:].strip() for line in text.splitlines()[2:]) == long


def test_table_shows_labels_instead_of_iris(tiny: ox.Store) -> None:
    r = sparql.query(tiny, "SELECT ?s ?p ?o WHERE { ?s ?p ?o FILTER(?s = ent:e3 && "
                           "?p = ifkg:launches) }")
    zh = sparql.table(r, store=tiny, base=BASE)
    assert "实体3" in zh and "推出" in zh and "实体4" in zh and "https://" not in zh
    assert "(1 row)" in zh
    en = sparql.table(r, store=tiny, base=BASE, lang="en")
    assert "Entity 3" in en
    bare = sparql.table(r, base=BASE)
    assert "ent:e3" in bare and "ifkg:launches" in bare


# ---------------------------------------------------------------------------------------------
# ifkg.load(): the rdflib path refuses the same things, prepared queries and initBindings too


@pytest.fixture(scope="module")
def loaded(mini_built: Project):
    return ifkg.load(str(mini_built.root))


def test_load_answers_queries(loaded) -> None:
    rows = list(loaded.query("SELECT ?o WHERE { ent:demo-loan ifkg:lendsTo ?o }"))
    assert [str(r[0]) for r in rows] == [ENT + "tech-small-firms"]
    bound = list(loaded.query("SELECT ?s ?o WHERE { ?s ifkg:lendsTo ?o }",
                              initBindings={"s": rdflib.URIRef(ENT + "demo-loan")}))
    assert len(bound) == 1
    prepared = prepareQuery("SELECT ?who WHERE { ?who <https://w3id.org/ifkg/def#launches> "
                            "<https://w3id.org/ifkg/id/entity/demo-loan> }")
    assert {str(r[0]) for r in loaded.query(prepared)} == {ENT + "demo-bank", ENT + "demo-centre"}
    facts = list(loaded.query(f"SELECT (COUNT(*) AS ?n) FROM <{FACTS}> WHERE {{ ?s ?p ?o }}"))
    union = list(loaded.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"))
    assert 0 < int(facts[0][0]) < int(union[0][0])


@pytest.mark.parametrize("text", ALL_REFUSED)
def test_load_refuses_text_with_and_without_init_bindings(loaded, text: str) -> None:
    with pytest.raises(IfkgError, match="refused"):
        loaded.query(text)
    with pytest.raises(IfkgError, match="refused"):
        loaded.query(text, initBindings={"s": rdflib.URIRef("http://a")})
    with pytest.raises(IfkgError, match="refused"):
        loaded.query(text, use_store_provided=False)


@pytest.mark.parametrize("text", SERVICE_QUERIES[:5] + FROM_QUERIES[:3])
def test_load_refuses_prepared_queries(loaded, text: str) -> None:
    pq = prepareQuery(text, initNs={"graph": BASE + "graph/"}, base=BASE)
    with pytest.raises(IfkgError, match="refused"):
        loaded.query(pq)
    with pytest.raises(IfkgError, match="refused"):
        loaded.query(pq, initBindings={"s": rdflib.URIRef("http://a")})
    facts = loaded.graph(rdflib.URIRef(FACTS))
    with pytest.raises(IfkgError, match="refused"):
        facts.query(pq)


def test_load_refuses_from_through_base_and_rdflibs_own_engine(loaded) -> None:
    with pytest.raises(IfkgError, match="refused"):
        loaded.query("SELECT * FROM <passwd> WHERE { ?s ?p ?o }", base="file:///etc/")
    # even a dataset graph: rdflib's engine would fetch its IRI from the web
    with pytest.raises(IfkgError, match="refused"):
        loaded.query(prepareQuery(f"SELECT * FROM <{FACTS}> WHERE {{ ?s ?p ?o }}"))


@pytest.mark.parametrize("text", UPDATE_QUERIES)
def test_load_refuses_updates(loaded, text: str) -> None:
    n = len(loaded)
    with pytest.raises(IfkgError, match="refused"):
        loaded.update(text)
    with pytest.raises(IfkgError, match="refused"):
        loaded.graph(rdflib.URIRef(FACTS)).update(text)
    assert len(loaded) == n


# ---------------------------------------------------------------------------------------------
# the command line


@pytest.mark.parametrize("text", [SERVICE_QUERIES[0], SERVICE_QUERIES[2], FROM_QUERIES[0],
                                  FROM_QUERIES[1], UPDATE_QUERIES[0], UPDATE_QUERIES[2]])
def test_cli_refuses(mini_built: Project, text: str) -> None:
    r = run_ifkg(mini_built.root, "query", text)
    assert r.returncode == 2
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ifkg: error: <query>: ")
    assert "refused" in lines[0]


def test_cli_syntax_error_names_file_line_and_column(mini: Project) -> None:
    f = mini.root / "bad.rq"
    f.write_text("# my query\nSELECT ?s\nWHERE { ?s ?p ?o\n  FILTER( }\n", encoding="utf-8")
    r = run_ifkg(mini.root, "query", "--file", str(f))
    assert r.returncode == 2
    assert r.stderr.strip() == (f"ifkg: error: {f}:4:3: SPARQL syntax error near 'FILTER( }}' "
                                "(expected SelectQuery)")


def test_cli_formats_and_limit(mini_built: Project) -> None:
    mini = mini_built
    q = "SELECT ?who ?label WHERE { ?who ifkg:launches ent:demo-loan ; skos:prefLabel ?label " \
        "FILTER(LANG(?label) = 'zh') } ORDER BY ?who"
    csv = run_ifkg(mini.root, "query", q)  # not a terminal: csv
    assert csv.returncode == 0, csv.stderr
    assert csv.stdout.splitlines() == ["who,label", f"{ENT}demo-bank,示例银行",
                                       f"{ENT}demo-centre,示例担保中心"]
    js = run_ifkg(mini.root, "query", q, "--format", "json", "--limit", "1")
    parsed = rdflib.query.Result.parse(io.BytesIO(js.stdout.encode()), format="json")
    assert [str(b[rdflib.Variable("who")]) for b in parsed.bindings] == [ENT + "demo-bank"]
    assert "truncated" in js.stderr
    table = run_ifkg(mini.root, "query", q, "--format", "table")
    assert table.stdout.splitlines()[2].split() == ["示例银行", "示例银行"]
    ttl = run_ifkg(mini.root, "query", "DESCRIBE ent:demo-loan")  # not a terminal: turtle
    g = rdflib.Graph().parse(data=ttl.stdout, format="turtle")
    assert (rdflib.URIRef(ENT + "demo-loan"), rdflib.URIRef("https://w3id.org/ifkg/def#lendsTo"),
            rdflib.URIRef(ENT + "tech-small-firms")) in g
    bad = run_ifkg(mini.root, "query", q, "--format", "turtle")
    assert bad.returncode == 2 and "does not fit a SELECT query" in bad.stderr


def test_cli_timeout(mini_built: Project) -> None:
    mini = mini_built
    runaway = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
    r = run_ifkg(mini.root, "query", runaway, "--timeout", "0.5")
    assert r.returncode == 2
    assert r.stderr.strip() == ("ifkg: error: <query>: query timed out after 0.5 s "
                                "(use --timeout to allow more)")


def test_cli_prefixes_lists_every_predeclared_prefix(mini_built: Project) -> None:
    mini = mini_built
    from ifkg.namespaces import prefixes

    r = run_ifkg(mini.root, "prefixes")
    assert r.returncode == 0
    listed = {line.split()[1].rstrip(":"): line.split()[2].strip("<>")
              for line in r.stdout.splitlines()}
    assert listed == prefixes(BASE)


def test_deeply_nested_query_is_one_line_exit_2(project):
    from cli_helpers import run_ifkg

    query = "SELECT * WHERE " + "{" * 80 + "?s ?p ?o" + "}" * 80
    res = run_ifkg(project.root, "query", query)
    assert res.returncode == 2
    assert res.stderr.strip().count("\n") == 0
    assert "nested too deeply" in res.stderr
