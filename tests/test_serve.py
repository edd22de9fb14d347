"""``ifkg serve``: the SPARQL 1.1 Protocol with a real client, entity pages, catalogue URLs,
named graphs, limits, hostile requests and a short load test, on a loopback server."""

from __future__ import annotations

import hashlib
import http.client
import inspect
import json
import logging
import re
import subprocess
import sys
import time
import typing
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ifkg import cli_serve
from ifkg.serve import (
    DEFAULTS,
    MAX_NESTING,
    SETTINGS,
    App,
    Request,
    Settings,
    make_server,
    negotiate,
    nesting_depth,
    serve_in_thread,
)

ROOT = Path(__file__).resolve().parents[1]
BASE = "https://w3id.org/ifkg/"
ENT = BASE + "id/entity/"
STATIC = ROOT / "src" / "ifkg" / "static"
YASGUI_SHA256 = {
    "yasgui.min.js": "55034eaac74c55f55fbd1eeed008ae38a79053651cbed2b453f1fcfd895a4b75",
    "yasgui.min.css": "085b94556b97f9928981bdedb6848fd11ad4d8d950e821f0d698c58ca538fc55",
}
BALANCE = ("SELECT ?value ?date WHERE { ?m ifkg:about ent:shanghai-financing-guarantee-fund ; "
           "ifkg:indicator ind:outstanding-guarantee-balance ; schema:value ?value ; "
           "ifkg:asOf ?date }")
LAUNCHERS = {"市担保基金", "奉贤融资担保有限公司", "临港新片区融资担保有限公司"}
LAUNCH_SENTENCE = "与上海奉贤融资担保有限公司及上海临港新片区融资担保有限公司联合推出“临创保”批次担保业务"
HEAVY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self):
        return json.loads(self.body)


class Client:
    """Raw HTTP to the test server: redirects are not followed, the target is sent as given."""

    def __init__(self, url: str) -> None:
        m = re.match(r"http://([^:/]+):(\d+)/", url)
        self.host, self.port, self.url = m.group(1), int(m.group(2)), url

    def request(self, method: str, target: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> Reply:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            conn.request(method, target, body=body, headers=headers or {})
            r = conn.getresponse()
            return Reply(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
        finally:
            conn.close()

    def get(self, target: str, accept: str | None = None, **headers: str) -> Reply:
        h = dict(headers)
        if accept is not None:
            h["Accept"] = accept
        return self.request("GET", target, headers=h)

    def sparql(self, query: str, accept: str = "application/sparql-results+json",
               **params: str) -> Reply:
        qs = urlencode({"query": query, **params})
        return self.get(f"/sparql?{qs}", accept)

    def follow(self, target: str, accept: str | None = None) -> Reply:
        r = self.get(target, accept)
        if r.status == 303:
            return self.get(r.headers["location"], accept)
        return r


def start(project, built, **kw) -> tuple[object, Client]:
    app = App(project, Settings(**kw), store=built.compiled.store(), files=built.files)
    server = make_server(project, "127.0.0.1", 0, app=app, quiet=True)
    serve_in_thread(server)
    return server, Client(server.url)


@pytest.fixture(scope="module")
def served(project, built):
    server, client = start(project, built)
    yield client
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def tight(project, built):
    """A server with small limits: 1 s, 5 rows, 2 kB requests."""
    server, client = start(project, built, timeout=1.0, max_rows=5, max_request_bytes=2048)
    yield client
    server.shutdown()
    server.server_close()


def still_serving(client: Client) -> None:
    r = client.sparql(BALANCE)
    assert r.status == 200, r.text
    assert r.json()["results"]["bindings"][0]["value"]["value"] == "99450000000"


# --------------------------------------------------------------------------------------------
# SPARQL 1.1 Protocol with a real client


def test_sparqlwrapper_gets_the_guarantee_fund_balance(served: Client) -> None:
    from SPARQLWrapper import JSON, POST, SPARQLWrapper

    for method in ("GET", POST):
        w = SPARQLWrapper(served.url + "sparql")
        w.setMethod(method)
        w.setQuery("PREFIX ifkg: <https://w3id.org/ifkg/def#> PREFIX schema: <https://schema.org/> "
                   "PREFIX ent: <https://w3id.org/ifkg/id/entity/> "
                   "PREFIX ind: <https://w3id.org/ifkg/id/indicator/> " + BALANCE)
        w.setReturnFormat(JSON)
        rows = w.queryAndConvert()["results"]["bindings"]
        assert [(r["value"]["value"], r["date"]["value"]) for r in rows] == [
            ("99450000000", "2024-12-31")]
        assert rows[0]["value"]["datatype"].endswith("#decimal")


def test_sparqlwrapper_construct_and_ask(served: Client) -> None:
    from SPARQLWrapper import JSON, TURTLE, XML, SPARQLWrapper

    w = SPARQLWrapper(served.url + "sparql")
    w.setQuery(f"CONSTRUCT {{ ?who ifkg:launches ?p }} WHERE {{ ?who ifkg:launches ?p "
               f"FILTER(?p = <{ENT}linchuangbao>) }}")
    w.setReturnFormat(TURTLE)
    ttl = w.queryAndConvert()
    triples = list(ox.parse(ttl, ox.RdfFormat.TURTLE))
    assert len(triples) == 3
    w.setReturnFormat(XML)  # CONSTRUCT as XML means RDF/XML
    g = w.queryAndConvert()
    assert len(g) == 3
    w.setQuery(f"ASK {{ <{ENT}shanghai-financing-guarantee-fund> ifkg:launches <{ENT}linchuangbao> }}")
    w.setReturnFormat(JSON)
    assert w.queryAndConvert()["boolean"] is True


@pytest.mark.parametrize("accept,ctype", [
    ("application/sparql-results+json", "application/sparql-results+json"),
    ("application/sparql-results+xml", "application/sparql-results+xml"),
    ("text/csv", "text/csv"),
    ("text/tab-separated-values", "text/tab-separated-values"),
    ("application/json", "application/sparql-results+json"),
    ("*/*", "application/sparql-results+json"),
    ("text/csv;q=0.4, text/tab-separated-values;q=0.9", "text/tab-separated-values"),
])
def test_select_results_by_accept(served: Client, accept: str, ctype: str) -> None:
    r = served.sparql(BALANCE, accept)
    assert r.status == 200, r.text
    assert r.headers["content-type"].startswith(ctype)
    assert r.headers["x-ifkg-truncated"] == "false"
    assert "99450000000" in r.text and "2024-12-31" in r.text
    if "xml" in ctype:
        ns = "{http://www.w3.org/2005/sparql-results#}"
        lits = [e.text for e in ET.fromstring(r.body).iter(f"{ns}literal")]
        assert lits == ["99450000000", "2024-12-31"]
    if ctype == "text/csv":
        assert r.text.splitlines() == ["value,date", "99450000000,2024-12-31"]


@pytest.mark.parametrize("accept,fmt", [
    ("text/turtle", ox.RdfFormat.TURTLE), ("application/ld+json", ox.RdfFormat.JSON_LD),
    ("application/n-triples", ox.RdfFormat.N_TRIPLES), ("application/rdf+xml", ox.RdfFormat.RDF_XML),
])
def test_construct_results_by_accept(served: Client, accept: str, fmt) -> None:
    r = served.sparql(f"CONSTRUCT {{ ?who ifkg:launches <{ENT}linchuangbao> }} "
                      f"WHERE {{ ?who ifkg:launches <{ENT}linchuangbao> }}", accept)
    assert r.status == 200, r.text
    assert r.headers["content-type"].startswith(accept)
    subjects = {t.subject.value.rsplit("/", 1)[-1] for t in ox.parse(r.body, fmt)}
    assert subjects == {"shanghai-financing-guarantee-fund", "fengxian-guarantee",
                        "lingang-guarantee"}


def test_post_form_and_direct_bodies(served: Client) -> None:
    form = served.request("POST", "/sparql", urlencode({"query": BALANCE}).encode(),
                          {"Content-Type": "application/x-www-form-urlencoded",
                           "Accept": "text/csv"})
    direct = served.request("POST", "/sparql", BALANCE.encode(),
                            {"Content-Type": "application/sparql-query; charset=utf-8",
                             "Accept": "text/csv"})
    assert form.status == direct.status == 200
    assert form.text == direct.text == "value,date\r\n99450000000,2024-12-31\r\n"


def test_default_graph_is_the_union_and_each_graph_is_selectable(served: Client, built) -> None:
    counts = {name: sum(1 for q in built.compiled.quads if q.graph_name == g)
              for name, g in built.compiled.graphs.items()}
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"

    def n(r: Reply) -> int:
        assert r.status == 200, r.text
        return int(r.json()["results"]["bindings"][0]["n"]["value"])

    union = n(served.sparql(count))
    assert union == len(set(built.compiled.triples()))
    for name, expected in counts.items():
        assert n(served.sparql(count, **{"default-graph-uri": f"{BASE}graph/{name}"})) == expected
        assert n(served.sparql(count.replace("WHERE", f"FROM <{BASE}graph/{name}> WHERE"))) \
            == expected
    # named-graph-uri: only that graph is visible through GRAPH ?g
    r = served.sparql("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }",
                      **{"named-graph-uri": f"{BASE}graph/facts"})
    assert [b["g"]["value"] for b in r.json()["results"]["bindings"]] == [f"{BASE}graph/facts"]
    r = served.sparql(count, **{"default-graph-uri": "file:///etc/passwd"})
    assert r.status == 400 and "not one of the dataset's named graphs" in r.text


def test_row_cap_marks_truncation(tight: Client) -> None:
    r = tight.sparql("SELECT ?s WHERE { ?s a ?c }")
    assert r.status == 200
    assert r.headers["x-ifkg-truncated"] == "true"
    assert r.headers["x-ifkg-row-limit"] == "5"
    doc = r.json()
    assert doc["truncated"] is True and len(doc["results"]["bindings"]) == 5
    csv = tight.sparql("SELECT ?s WHERE { ?s a ?c }", "text/csv")
    assert csv.headers["x-ifkg-truncated"] == "true" and len(csv.text.splitlines()) == 6
    small = tight.sparql(BALANCE)
    assert small.headers["x-ifkg-truncated"] == "false" and small.json()["truncated"] is False


def test_time_limit_stops_a_runaway_query_and_the_server_goes_on(tight: Client) -> None:
    t0 = time.monotonic()
    r = tight.sparql(HEAVY)
    assert r.status == 503
    assert r.text == "503 Service Unavailable: query stopped after 1 s, the server's time limit\n"
    assert time.monotonic() - t0 < 10
    still_serving(tight)


def test_service_description(served: Client) -> None:
    r = served.get("/sparql", "text/turtle")
    assert r.status == 200
    triples = list(ox.parse(r.body, ox.RdfFormat.TURTLE))
    sd = "http://www.w3.org/ns/sparql-service-description#"
    names = {t.object.value for t in triples if t.predicate.value == sd + "name"}
    assert names == {f"{BASE}graph/{g}" for g in ("facts", "ontology", "provenance")}
    assert any(t.object.value == sd + "UnionDefaultGraph" for t in triples)
    assert served.get("/sparql", "text/html").headers["location"] == "/query"


# --------------------------------------------------------------------------------------------
# Entity IRIs, other resources, named graphs


def test_entity_iri_redirects_by_accept(served: Client) -> None:
    for accept, target in [("text/html", ".html"), ("text/turtle", ".ttl"),
                           ("application/ld+json", ".jsonld"),
                           ("application/n-triples", ".nt"), (None, ".html")]:
        r = served.get("/id/entity/linchuangbao", accept)
        assert r.status == 303, (accept, r.status)
        assert r.headers["location"] == "/id/entity/linchuangbao" + target
        assert "Accept" in r.headers["vary"]
    # the base IRI's own path works as well: https://w3id.org/ifkg/id/entity/…
    assert served.get("/ifkg/id/entity/linchuangbao", "text/turtle").status == 303


def test_entity_page_shows_the_three_launchers_with_their_evidence(served: Client) -> None:
    r = served.follow("/id/entity/linchuangbao", "text/html")
    assert r.status == 200
    page = r.text
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert "default-src 'none'" in r.headers["content-security-policy"]
    assert "<title>临创保 · Linchuangbao (Lingang innovation guarantee) batch guarantee</title>" in page
    relations = page.split('<section id="relations">')[1].split("</section>")[0]
    rows = re.findall(r'<tr class="edge edge-in">(.*?)</tr>', relations)
    assert len(rows) == 3
    launchers = {re.search(r'<a href="/id/entity/[a-z0-9-]+">([^<]+)</a>', row.split("</td>")[2])
                 .group(1) for row in rows}
    assert launchers == LAUNCHERS
    # each row quotes the sentence, with the curated quote marked (it holds the joint launch)
    assert all(re.search(f"<mark>[^<]*{LAUNCH_SENTENCE}</mark>", row) for row in rows)
    assert all("助力区级担保机构更好服务区域经济和科技园区建设。</blockquote>" in row for row in rows)
    assert all('<a href="/def#launches">推出</a>' in row for row in rows)
    assert '<a href="/id/entity/lingang-guarantee">' in page  # links to the neighbours


def test_entity_page_lists_figures_with_dates(served: Client) -> None:
    page = served.get("/id/entity/shanghai-financing-guarantee-fund.html").text
    figures = page.split('<section id="figures">')[1].split("</section>")[0]
    row = next(r for r in figures.split("<tr") if "994.5 亿元" in r)
    assert "99450000000 CCY_CNY" in row and "2024-12-31" in row
    assert "<mark>截至2024年底，市担保基金在保余额994.5亿元</mark>" in row


@pytest.mark.parametrize("suffix,fmt", [("ttl", ox.RdfFormat.TURTLE),
                                        ("jsonld", ox.RdfFormat.JSON_LD),
                                        ("nt", ox.RdfFormat.N_TRIPLES)])
def test_entity_as_rdf(served: Client, suffix: str, fmt) -> None:
    r = served.get(f"/id/entity/linchuangbao.{suffix}")
    assert r.status == 200, r.text
    triples = {(t.subject.value, t.predicate.value, getattr(t.object, "value", None))
               for t in ox.parse(r.body, fmt)}
    assert (ENT + "linchuangbao", "http://www.w3.org/1999/02/22-rdf-syntax-ns#type",
            "https://w3id.org/ifkg/def#BatchGuaranteeProduct") in triples
    launches = {s for s, p, o in triples if p.endswith("#launches") and o == ENT + "linchuangbao"}
    assert launches == {ENT + x for x in ("shanghai-financing-guarantee-fund",
                                          "fengxian-guarantee", "lingang-guarantee")}


def test_measurements_indicators_sources_statements_dereference(served: Client, store) -> None:
    meas = "id/measurement/shstc-reply-2025-27/sfgf-outstanding-balance-2024"
    page = served.follow("/" + meas, "text/html")
    assert page.status == 200 and "99450000000" in page.text and "994.5 亿元" in page.text
    for path in ("/id/indicator/outstanding-guarantee-balance", "/id/source/shstc-reply-2025-27"):
        assert served.follow(path, "text/html").status == 200
        assert served.follow(path, "text/turtle").status == 200
    stmt = next(q.subject.value for q in store.quads_for_pattern(
        None, ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
        ox.NamedNode("https://w3id.org/ifkg/def#Statement"), None))
    r = served.follow("/" + stmt[len(BASE):], "application/n-triples")
    assert r.status == 200 and f"<{stmt}>" in r.text
    assert served.get("/id/entity/no-such-entity").status == 404


def test_named_graphs_by_name(served: Client, built) -> None:
    for name, g in built.compiled.graphs.items():
        expected = sum(1 for q in built.compiled.quads if q.graph_name == g)
        r = served.get(f"/graph/{name}.nt")
        assert r.status == 200
        assert len(list(ox.parse(r.body, ox.RdfFormat.N_TRIPLES))) == expected
        ttl = served.get(f"/graph/{name}", "text/turtle")
        assert len(list(ox.parse(ttl.body, ox.RdfFormat.TURTLE))) == expected
    assert served.get("/graph/nothing").status == 404


def test_graph_page_ontology_and_dataset(served: Client, built) -> None:
    r = served.get("/graph")
    assert r.status == 200 and r.body == built.files["graph.html"]
    meta = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', r.text).group(1)
    assert r.headers["content-security-policy"] == meta.replace("&#x27;", "'")
    assert served.get("/def", "text/html").headers["location"] == "/exports/ontology.html"
    assert served.get("/def", "text/turtle").headers["location"] == "/exports/ontology.ttl"
    assert served.get("/dataset").headers["location"] == "/exports/void.ttl"
    void = served.get("/exports/void.ttl")
    assert void.status == 200 and void.headers["content-type"].startswith("text/turtle")
    assert b"void:sparqlEndpoint" in void.body or b"sparqlEndpoint" in void.body


# --------------------------------------------------------------------------------------------
# Catalogue queries


def test_catalogue_list_and_each_query_at_its_own_url(served: Client) -> None:
    from ifkg.catalogue import catalogue

    items = served.get("/queries.json").json()
    assert [i["name"] for i in items] == list(catalogue())
    for name in catalogue():
        r = served.get(f"/queries/{name}.json")
        assert r.status == 200, (name, r.text)
        assert "results" in r.json() or "boolean" in r.json()


def test_catalogue_query_with_a_parameter_in_json_csv_and_html(served: Client) -> None:
    q = "/queries/entity-figures{}?entity=" + quote("临港新片区融资担保有限公司")
    rows = served.get(q.format(".json")).json()["results"]["bindings"]
    assert {r["entity"]["value"] for r in rows} == {ENT + "lingang-guarantee"}
    assert "69" in {r["value"]["value"] for r in rows}
    csv = served.get(q.format(".csv"))
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[0].startswith("entity,indicator,reported,value")
    default = served.get("/queries/entity-figures.json").json()["results"]["bindings"]
    assert "99450000000" in {r["value"]["value"] for r in default}  # default: 市担保基金
    page = served.get(q.format(""), "text/html")
    assert page.status == 200 and "content-security-policy" in page.headers
    assert '<table class="results">' in page.text and "69%" in page.text
    assert served.get("/queries/entity-figures.rq").text.startswith("# title:")


def test_catalogue_errors(served: Client) -> None:
    r = served.get("/queries/entity-figure.json")
    assert r.status == 404 and "did you mean: entity-figures" in r.text
    r = served.get("/queries/entity-figures.json?colour=red")
    assert r.status == 400 and "no parameter 'colour'" in r.text
    r = served.get("/queries/entity-figures.json?entity=" + quote("不存在的机构"))
    assert r.status == 400 and "unknown entity" in r.text


# --------------------------------------------------------------------------------------------
# Hostile requests: each a 4xx with one clear line, and the server keeps serving

HOSTILE = [
    ("update via form", "POST", "/sparql", b"update=" + quote("INSERT DATA { <a:b> <a:c> <a:d> }").encode(),
     {"Content-Type": "application/x-www-form-urlencoded"}, 403, "SPARQL Update is refused"),
    ("update as query", "POST", "/sparql", b"DELETE WHERE { ?s ?p ?o }",
     {"Content-Type": "application/sparql-query"}, 400, "UPDATE is refused"),
    ("sparql-update body", "POST", "/sparql", b"DROP ALL",
     {"Content-Type": "application/sparql-update"}, 403, "read-only"),
    ("LOAD", "GET", "/sparql?query=" + quote("LOAD <file:///etc/passwd>"), None, {}, 400,
     "LOAD is refused"),
    ("SERVICE", "GET", "/sparql?query=" + quote(
        "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }"), None, {}, 400,
     "SERVICE <http://127.0.0.1:9/sparql> is refused"),
    ("FROM a file", "GET", "/sparql?query=" + quote(
        "SELECT * FROM <file:///etc/passwd> WHERE { ?s ?p ?o }"), None, {}, 400,
     "FROM <file:///etc/passwd> is refused"),
    ("huge body", "POST", "/sparql", b"query=" + b"x" * 200_000,
     {"Content-Type": "application/x-www-form-urlencoded"}, 413, "over the limit of 65536 bytes"),
    ("huge query string", "GET", "/sparql?query=" + "x" * 70_000, None, {}, 414, "Too Long"),
    ("deeply nested braces", "GET", "/sparql?query=" + quote(
        "SELECT * WHERE " + "{ " * 200 + "?s ?p ?o " + "} " * 200), None, {}, 400,
     "nests brackets 200 deep"),
    ("deeply nested parentheses", "GET", "/sparql?query=" + quote(
        "ASK { FILTER(" + "(" * 40 + "1" + ")" * 40 + ") }"), None, {}, 400, "nests brackets"),
    ("path traversal", "GET", "/id/entity/../../etc/passwd", None, {}, 400, "'..' segments"),
    ("encoded path traversal", "GET", "/id/entity/%2e%2e/%2e%2e/etc/passwd", None, {}, 400,
     "'..' segments"),
    ("encoded slash traversal", "GET", "/static/..%2f..%2fserve.py", None, {}, 400,
     "'..' segments"),
    ("bad Accept", "GET", "/sparql?query=" + quote("ASK {}"), None, {"Accept": "garbage"}, 400,
     "bad Accept header"),
    ("bad Accept q", "GET", "/sparql?query=" + quote("ASK {}"), None,
     {"Accept": "text/csv;q=2"}, 400, "bad Accept header"),
    ("unavailable Accept", "GET", "/sparql?query=" + quote("ASK {}"), None,
     {"Accept": "image/png"}, 406, "ask for one of"),
    ("syntax error", "GET", "/sparql?query=" + quote("SELEC * WHERE {}"), None, {}, 400,
     "SPARQL syntax error"),
    ("wrong content type", "POST", "/sparql", b"<x/>", {"Content-Type": "application/xml"}, 415,
     "application/sparql-query"),
    ("PUT", "PUT", "/sparql", b"x", {"Content-Type": "text/plain"}, 405, "read-only"),
    ("DELETE", "DELETE", "/graph/facts", None, {}, 405, "read-only"),
    ("unknown path", "GET", "/etc/passwd", None, {}, 404, "nothing at /etc/passwd"),
    ("chunked body", "POST", "/sparql", None, {"Transfer-Encoding": "chunked"}, 411,
     "Content-Length"),
    ("two queries", "GET", "/sparql?query=ASK%7B%7D&query=ASK%7B%7D", None, {}, 400,
     "exactly one query"),
]


@pytest.mark.parametrize("case", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_request_gets_a_clear_4xx_and_the_server_keeps_serving(served: Client, case) -> None:
    _, method, target, body, headers, status, needle = case
    r = served.request(method, target, body, headers)
    assert r.status == status, (r.status, r.text)
    assert 400 <= r.status < 500
    assert needle in r.text
    assert r.text.count("\n") == 1 and "Traceback" not in r.text and 'File "' not in r.text
    assert r.text.startswith(f"{status} ")
    still_serving(served)


def test_a_bug_is_a_500_with_one_line_and_the_trace_stays_in_the_log(project, built, caplog) -> None:
    app = App(project, store=built.compiled.store(), files=built.files)

    def broken(req, **kw):
        raise ZeroDivisionError("secret detail")

    app.routes[0].handler = broken
    with caplog.at_level(logging.ERROR, logger="ifkg.serve"):
        r = app.handle(Request("GET", "/"))
    assert r.status == 500
    assert r.body == b"500 Internal Server Error: internal error; the server's log has the details\n"
    assert "ZeroDivisionError: secret detail" in caplog.text and "Traceback" in caplog.text


def test_html_always_has_a_csp_and_cors_is_off_by_default(served: Client, project, built) -> None:
    for target in ("/", "/query", "/graph", "/id/entity/linchuangbao.html",
                   "/queries/timeline.html", "/exports/ontology.html"):
        r = served.get(target, "text/html")
        assert r.status == 200, target
        assert r.headers["content-type"].startswith("text/html")
        assert "default-src 'none'" in r.headers["content-security-policy"], target
        assert "access-control-allow-origin" not in r.headers
    assert "script-src 'self'" in served.get("/query").headers["content-security-policy"]
    assert "connect-src 'self'" in served.get("/query").headers["content-security-policy"]
    server, client = start(project, built, cors=True)
    try:
        assert client.sparql(BALANCE).headers["access-control-allow-origin"] == "*"
        pre = client.request("OPTIONS", "/sparql", headers={"Origin": "http://example.org",
                             "Access-Control-Request-Method": "POST"})
        assert pre.status == 204 and "POST" in pre.headers["access-control-allow-methods"]
    finally:
        server.shutdown()
        server.server_close()


def test_query_page_and_static_files(served: Client) -> None:
    page = served.get("/query").text
    assert 'src="/static/yasgui.min.js"' in page and 'src="/static/query.js"' in page
    assert "http://" not in page.split("<main>")[0] and "https://" not in page.split("<main>")[0]
    for name, digest in YASGUI_SHA256.items():
        assert hashlib.sha256((STATIC / name).read_bytes()).hexdigest() == digest
        assert served.get(f"/static/{name}").body == (STATIC / name).read_bytes()
        assert digest in (STATIC / "VENDORED-yasgui.md").read_text()
    assert served.get("/prefixes.json").json()["ifkg"] == "https://w3id.org/ifkg/def#"
    assert served.get("/static/nothing.js").status == 404


# --------------------------------------------------------------------------------------------
# Units and properties


def test_negotiate_and_nesting_depth() -> None:
    offers = ["application/sparql-results+json", "text/csv"]
    assert negotiate(None, offers) == offers[0]
    assert negotiate("text/*", offers) == "text/csv"
    assert negotiate("text/csv;q=0", offers) is None
    assert negotiate("image/png", offers) is None
    assert nesting_depth('SELECT * { ?s ?p "}}}{{{" . ?s <http://x/y#(> ?o # {{{{\n }') == 1
    assert nesting_depth("ASK { FILTER(?a < 3 && ?b > (2)) }") == 3
    assert nesting_depth("SELECT * WHERE " + "{ " * MAX_NESTING + "} " * MAX_NESTING) == MAX_NESTING


@pytest.fixture(scope="module")
def bare_app(project, built) -> App:
    """The application without sockets."""
    return App(project, Settings(timeout=5), store=built.compiled.store(), files=built.files)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(accept=st.text(max_size=80), query=st.text(max_size=120))
def test_any_accept_and_any_query_text_get_an_answer_never_a_500(bare_app: App, accept: str,
                                                                  query: str) -> None:
    r = bare_app.handle(Request("POST", "/sparql", {"Content-Type": "application/sparql-query",
                                               "Accept": accept}, query.encode("utf-8", "replace")))
    assert r.status in (200, 400, 406, 413, 503), r.body
    assert r.status == 200 or r.body.count(b"\n") == 1


def test_cli_options_match_the_settings() -> None:
    """Each limit is an option of `ifkg serve` with the same default and help text."""
    params = inspect.signature(cli_serve.serve_cmd).parameters
    hints = typing.get_type_hints(cli_serve.serve_cmd, include_extras=True)
    for s in SETTINGS:
        assert params[s.name].default == DEFAULTS[s.name] == s.default
        option = hints[s.name].__metadata__[0]
        assert (option.default, *option.param_decls) == ("--" + s.name.replace("_", "-"),)
        assert option.help == s.help


def test_settings_refuse_nonsense() -> None:
    from ifkg.errors import IfkgError

    with pytest.raises(IfkgError, match="--max-rows must be more than 0"):
        Settings(max_rows=0)


# --------------------------------------------------------------------------------------------
# The command and the load test


def test_ifkg_serve_command_serves_until_stopped(project, tmp_path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "ifkg.cli", "serve", "--port", "0", "--quiet"],
                            cwd=ROOT, stderr=subprocess.PIPE, text=True)
    try:
        url = None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            m = re.search(r"serving (http://127\.0\.0\.1:\d+/)", line)
            if m:
                url = m.group(1)
                break
            if not line:
                break
        assert url, "ifkg serve did not print its URL"
        still_serving(Client(url))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    r = subprocess.run([sys.executable, "-m", "ifkg.cli", "serve", "--max-rows", "0"], cwd=ROOT,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "--max-rows must be more than 0" in r.stderr


def test_short_load_test_has_no_errors(served: Client) -> None:
    r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "load_test.py"), "--url",
                        served.url, "--clients", "4", "--seconds", "3", "--json"],
                       capture_output=True, text=True, timeout=120)
    report = json.loads(r.stdout)
    assert report["errors"] == 0, report["failures"]
    assert r.returncode == 0
    assert report["requests"] >= 20
    assert set(report["by_probe"]) >= {"sparql-json", "entity-html", "catalogue-json"}


def test_load_test_refuses_targets_off_loopback() -> None:
    r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "load_test.py"), "--url",
                        "http://192.0.2.1:8080/", "--seconds", "1"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode != 0 and "not a loopback address" in r.stderr


def test_connection_flood_is_capped_and_the_server_recovers(project, built) -> None:
    import socket

    server, client = start(project, built, max_connections=2)
    idle = []
    try:
        for _ in range(2):  # two clients that connect and say nothing
            s = socket.create_connection((client.host, client.port))
            idle.append(s)
        time.sleep(0.3)
        r = client.get("/sparql?query=ASK%7B%7D")
        assert r.status == 503
        for s in idle:
            s.close()
        deadline = time.monotonic() + 10
        while (r := client.sparql(BALANCE)).status == 503 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert r.status == 200
    finally:
        for s in idle:
            s.close()
        server.shutdown()
        server.server_close()


def test_head_and_the_catalogue_list_page(served: Client) -> None:
    head = served.request("HEAD", "/id/entity/linchuangbao.ttl")
    get = served.get("/id/entity/linchuangbao.ttl")
    assert head.status == 200 and head.body == b""
    assert int(head.headers["content-length"]) == len(get.body)
    assert served.get("/queries", "text/html").headers["location"] == "/query#catalogue"
    assert served.get("/queries", "application/json").json()[0]["url"].startswith("/queries/")


def test_current_exports_are_served_from_disk(mini) -> None:
    """After `ifkg build`, the server reads exports/ (the N-Quads and the pages) as they are."""
    from ifkg.build import build, is_current
    from ifkg.serve import load

    build(mini)
    assert is_current(mini)
    store, files = load(mini)
    assert files["graph.html"] == (mini.exports_dir / "graph.html").read_bytes()
    assert len(store) == sum(1 for _ in ox.parse(path=str(mini.exports_dir / "ifkg.nq"),
                                                  format=ox.RdfFormat.N_QUADS))
    app = App(mini, store=store, files=files)
    page = app.handle(Request("GET", "/id/entity/demo-bank.html", {"Accept": "text/html"}))
    assert page.status == 200 and "示例银行" in page.body.decode() and "Demo Bank" in page.body.decode()
    assert app.handle(Request("GET", "/exports/void.ttl")).body == files["void.ttl"]
