"""Summaries of the built graph: counts (``ifkg stats``) and one entity in full (``ifkg show``)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph as ox

from .evidence import fold
from .names import label
from .namespaces import IFKG, RDF


def _rows(store: ox.Store, query: str) -> list[dict[str, str]]:
    res = store.query(query, use_default_graph_as_union=True)
    names = [v.value for v in res.variables]
    return [{n: (row[n].value if row[n] is not None else "") for n in names} for row in res]


def stats(store: ox.Store, base: str) -> dict[str, list[tuple[str, int]]]:
    """Counts per class, per property and per source, and per named graph."""
    graphs = _rows(store, "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } "
                          "GROUP BY ?g ORDER BY ?g")
    classes = _rows(store, f"""SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE {{
        GRAPH <{base}graph/facts> {{ ?s a ?c }} FILTER(STRSTARTS(STR(?c), "{IFKG}")) }}
        GROUP BY ?c ORDER BY DESC(?n) ?c""")
    props = _rows(store, f"""SELECT ?p (COUNT(*) AS ?n) WHERE {{
        GRAPH <{base}graph/facts> {{ ?s ?p ?o }} FILTER(STRSTARTS(STR(?p), "{IFKG}")) }}
        GROUP BY ?p ORDER BY DESC(?n) ?p""")
    sources = _rows(store, f"""SELECT ?src (COUNT(DISTINCT ?f) AS ?n) WHERE {{
        {{ ?f <{IFKG}statedIn> ?src }} UNION {{ ?f <{IFKG}mentionedIn> ?src }} }}
        GROUP BY ?src ORDER BY ?src""")
    entities = _rows(store, f"""SELECT (COUNT(DISTINCT ?e) AS ?n) WHERE {{
        ?e <{IFKG}mentionedIn> ?src }}""")
    statements = _rows(store, f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s a <{IFKG}Statement> }}")
    measurements = _rows(store, f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s a <{IFKG}Measurement> }}")
    evidence = _rows(store, f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s a <{IFKG}Evidence> }}")
    short = lambda iri: iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]  # noqa: E731
    return {
        "totals": [("entities", int(entities[0]["n"])), ("relations", int(statements[0]["n"])),
                   ("measurements", int(measurements[0]["n"])),
                   ("evidence spans", int(evidence[0]["n"]))],
        "graphs": [(short(r["g"]), int(r["n"])) for r in graphs],
        "classes": [(short(r["c"]), int(r["n"])) for r in classes],
        "properties": [(short(r["p"]), int(r["n"])) for r in props],
        "sources (facts stated)": [(short(r["src"]), int(r["n"])) for r in sources],
    }


@dataclass
class EntityView:
    iri: str
    zh: str
    en: str
    classes: list[str]
    aliases: list[str]
    edges: list[dict[str, str]] = field(default_factory=list)
    figures: list[dict[str, str]] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)


def show(store: ox.Store, iri: str) -> EntityView:
    """Everything the graph says about one entity, with the evidence sentence of each fact."""
    e = f"<{iri}>"
    classes = [r["c"].rsplit("#", 1)[-1] for r in _rows(
        store, f"SELECT ?c WHERE {{ {e} <{RDF}type> ?c }} ORDER BY ?c")]
    aliases = [r["a"] for r in _rows(
        store, f"SELECT ?a WHERE {{ {e} <http://www.w3.org/2004/02/skos/core#altLabel> ?a }}")]
    edges = _rows(store, f"""
        PREFIX ifkg: <{IFKG}> PREFIX rdf: <{RDF}> PREFIX oa: <http://www.w3.org/ns/oa#>
        SELECT ?dir ?p ?pzh ?other ?sentence ?exact ?date WHERE {{
          {{ ?st rdf:subject {e} ; rdf:object ?other . BIND("out" AS ?dir) }}
          UNION {{ ?st rdf:object {e} ; rdf:subject ?other . BIND("in" AS ?dir) }}
          ?st a ifkg:Statement ; rdf:predicate ?p ; ifkg:evidence ?ev .
          ?ev ifkg:sentence ?sentence ; oa:hasSelector ?sel . ?sel oa:exact ?exact .
          OPTIONAL {{ ?st ifkg:date ?date }}
          OPTIONAL {{ ?p <http://www.w3.org/2000/01/rdf-schema#label> ?pzh FILTER(LANG(?pzh) = "zh") }}
        }} ORDER BY ?dir ?p ?other""")
    for r in edges:
        r["p"] = r["p"].rsplit("#", 1)[-1] + (f"/{r['pzh']}" if r["pzh"] else "")
        r["other_label"] = label(store, r["other"])
    figures = _rows(store, f"""
        PREFIX ifkg: <{IFKG}> PREFIX schema: <https://schema.org/> PREFIX oa: <http://www.w3.org/ns/oa#>
        PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
        SELECT ?m ?indicator ?reported ?value ?unit ?qualifier ?asOf ?period ?sentence ?exact WHERE {{
          ?m a ifkg:Measurement ; ifkg:about {e} ; ifkg:indicator ?ind ; ifkg:reportedAs ?reported ;
             schema:value ?value ; ifkg:unit ?unit ; ifkg:qualifier ?qualifier ; ifkg:evidence ?ev .
          ?ind skos:prefLabel ?indicator FILTER(LANG(?indicator) = "zh")
          ?ev ifkg:sentence ?sentence ; oa:hasSelector ?sel . ?sel oa:exact ?exact .
          OPTIONAL {{ ?m ifkg:asOf ?asOf }} OPTIONAL {{ ?m ifkg:period ?period }}
        }} ORDER BY ?indicator ?m""")
    for r in figures:
        r["unit"] = r["unit"].rsplit("/", 1)[-1]
    mentions = [r["s"] for r in _rows(store, f"""
        PREFIX ifkg: <{IFKG}> SELECT DISTINCT ?s WHERE {{ {e} ifkg:evidence ?ev . ?ev ifkg:sentence ?s }}
        ORDER BY ?s""")]
    return EntityView(iri, label(store, iri, "zh"), label(store, iri, "en"), classes, aliases,
                      edges, figures, mentions)


def mark_quote(sentence: str, exact: str) -> str:
    """The sentence with the quoted span in 【】, so the reader sees what states the fact."""
    q = fold(exact)
    i = sentence.find(q)
    if i < 0 or q == sentence:
        return sentence
    return f"{sentence[:i]}【{q}】{sentence[i + len(q):]}"
