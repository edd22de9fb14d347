"""Compile the checked corpus and the ontology into one RDF dataset of three named graphs.

ontology: the OWL ontology as written. facts: entities, direct edges, measurements, indicators.
provenance: sources, one statement node per relation, and the evidence (quote and position
selectors) behind every entity mention, statement and measurement. Every node has an IRI, so
every writer gives the same bytes on every run.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import pyoxigraph as ox

from .curation import Corpus, Source
from .evidence import Span
from .namespaces import (
    DCT,
    FOAF,
    IFKG,
    OA,
    PROV,
    RDF,
    RDFS,
    SCHEMA,
    SKOS,
    UNIT_IRIS,
    XSD,
    data_prefixes,
)
from .numbers import decimal_lexical
from .project import Project
from .rdfterms import iri as _n
from .rdfterms import lit as _lit

GRAPHS = ("ontology", "facts", "provenance")




A = _n(RDF + "type")




@dataclass
class Compiled:
    """The built dataset: quads in a canonical order, with the IRIs of its named graphs."""

    quads: list[ox.Quad]
    graphs: dict[str, ox.NamedNode]
    base: str
    _triples: list[ox.Triple] | None = field(default=None, init=False, repr=False,
                                             compare=False)

    def store(self) -> ox.Store:
        s = ox.Store()
        s.bulk_extend(self.quads)
        return s

    def triples(self) -> list[ox.Triple]:
        """The union of the named graphs, each triple once, in canonical order (computed once:
        several exports and the checks ask for it)."""
        if self._triples is None:
            self._triples = sorted({q.triple for q in self.quads}, key=_triple_key)
        return list(self._triples)


def _term_key(t: ox.NamedNode | ox.BlankNode | ox.Literal | ox.DefaultGraph) -> str:
    return str(t)


def _triple_key(t: ox.Triple) -> tuple[str, str, str]:
    return (_term_key(t.subject), _term_key(t.predicate), _term_key(t.object))


def _quad_key(q: ox.Quad) -> tuple[str, str, str, str]:
    return (_term_key(q.graph_name), _term_key(q.subject), _term_key(q.predicate),
            _term_key(q.object))


class _Writer:
    def __init__(self, base: str) -> None:
        self.base = base
        self.ns = data_prefixes(base)
        self.quads: set[ox.Quad] = set()
        self.graph = _n(base + "graph/facts")

    def add(self, s: ox.NamedNode, p: str, o: ox.NamedNode | ox.Literal) -> None:
        self.quads.add(ox.Quad(s, _n(p), o, self.graph))

    def entity(self, eid: str) -> ox.NamedNode:
        return _n(self.ns["ent"] + eid)

    def source(self, sid: str) -> ox.NamedNode:
        return _n(self.ns["src"] + sid)


def compile_corpus(corpus: Corpus, ontology: Iterable[ox.Triple], project: Project) -> Compiled:
    base = project.base
    graphs = {g: _n(base + "graph/" + g) for g in GRAPHS}
    w = _Writer(base)

    w.graph = graphs["ontology"]
    for t in ontology:
        w.quads.add(ox.Quad(t.subject, t.predicate, t.object, w.graph))

    w.graph = graphs["facts"]
    for e in corpus.entities.values():
        node = w.entity(e.id)
        for c in e.classes:
            w.add(node, RDF + "type", _n(IFKG + c))
        w.add(node, SKOS + "prefLabel", _lit(e.zh, "zh"))
        w.add(node, RDFS + "label", _lit(e.zh, "zh"))
        if e.en:
            w.add(node, SKOS + "prefLabel", _lit(e.en, "en"))
            w.add(node, RDFS + "label", _lit(e.en, "en"))
        for alias in e.aliases:
            w.add(node, SKOS + "altLabel", _lit(alias, "zh"))
        if e.member_class:
            w.add(node, IFKG + "memberClass", _n(IFKG + e.member_class))
        if e.note:
            w.add(node, SKOS + "editorialNote", _lit(e.note, "en"))
    scheme = _n(base + "id/indicator/")
    w.add(scheme, RDF + "type", _n(SKOS + "ConceptScheme"))
    w.add(scheme, SKOS + "prefLabel", _lit("指标", "zh"))
    w.add(scheme, SKOS + "prefLabel", _lit("Indicators", "en"))
    for ind in corpus.indicators.values():
        node = _n(w.ns["ind"] + ind.id)
        w.add(node, RDF + "type", _n(IFKG + "Indicator"))
        w.add(node, RDF + "type", _n(SKOS + "Concept"))
        w.add(node, SKOS + "inScheme", scheme)
        for lab, lang in ((ind.zh, "zh"), (ind.en, "en")):
            w.add(node, SKOS + "prefLabel", _lit(lab, lang))
            w.add(node, RDFS + "label", _lit(lab, lang))
        w.add(node, IFKG + "indicatorKind", _lit(ind.kind))
        if ind.note:
            w.add(node, SKOS + "definition", _lit(ind.note, "en"))

    for src in corpus.sources.values():
        _compile_source(w, src, graphs)

    quads = sorted(w.quads, key=_quad_key)
    return Compiled(quads, graphs, base)


def _evidence(w: _Writer, src: Source, fact_path: str, span: Span) -> ox.NamedNode:
    ev = _n(f"{w.ns['ev']}{src.id}/{fact_path}")
    quote = _n(ev.value + "/quote")
    pos = _n(ev.value + "/position")
    w.add(ev, RDF + "type", _n(IFKG + "Evidence"))
    w.add(ev, RDF + "type", _n(OA + "SpecificResource"))
    w.add(ev, OA + "hasSource", w.source(src.id))
    w.add(ev, OA + "hasSelector", quote)
    w.add(ev, OA + "hasSelector", pos)
    w.add(ev, IFKG + "sentence", _lit(span.sentence, "zh"))
    w.add(quote, RDF + "type", _n(OA + "TextQuoteSelector"))
    w.add(quote, OA + "exact", _lit(span.exact, "zh"))
    w.add(quote, OA + "prefix", _lit(span.prefix, "zh"))
    w.add(quote, OA + "suffix", _lit(span.suffix, "zh"))
    w.add(pos, RDF + "type", _n(OA + "TextPositionSelector"))
    w.add(pos, OA + "start", _lit(str(span.start), dtype=XSD + "nonNegativeInteger"))
    w.add(pos, OA + "end", _lit(str(span.end), dtype=XSD + "nonNegativeInteger"))
    return ev


def _compile_source(w: _Writer, src: Source, graphs: dict[str, ox.NamedNode]) -> None:
    s_node = w.source(src.id)
    meta = src.meta

    # facts: direct edges and measurements
    w.graph = graphs["facts"]
    for r in src.relations:
        w.add(w.entity(r.subject), IFKG + r.predicate, w.entity(r.object))
    meas_nodes = {m.id: _n(f"{w.ns['meas']}{src.id}/{m.id}") for m in src.measurements}
    for m in src.measurements:
        node = meas_nodes[m.id]
        w.add(node, RDF + "type", _n(IFKG + "Measurement"))
        w.add(node, IFKG + "about", w.entity(m.about))
        w.add(node, IFKG + "indicator", _n(w.ns["ind"] + m.indicator))
        w.add(node, SCHEMA + "value", _lit(decimal_lexical(m.value), dtype=XSD + "decimal"))
        w.add(node, IFKG + "unit", _n(UNIT_IRIS[m.unit]))
        w.add(node, IFKG + "reportedAs", _lit(m.reported, "zh"))
        w.add(node, IFKG + "qualifier", _lit(m.qualifier))
        if m.as_of:
            w.add(node, IFKG + "asOf", _lit(m.as_of, dtype=XSD + "date"))
        if m.period:
            w.add(node, IFKG + "period", _lit(m.period, dtype=XSD + "gYear"))
        if m.rate_period:
            w.add(node, IFKG + "ratePeriod", _lit(m.rate_period, dtype=XSD + "duration"))
        if m.compared_to:
            w.add(node, IFKG + "comparedTo", _lit(m.compared_to, "en"))
        if m.revision_of:
            w.add(node, PROV + "wasRevisionOf", meas_nodes[m.revision_of])
        if m.note:
            w.add(node, SKOS + "editorialNote", _lit(m.note, "en"))

    # provenance: the source, statements, evidence
    w.graph = graphs["provenance"]
    w.add(s_node, RDF + "type", _n(IFKG + "SourceText"))
    w.add(s_node, RDF + "type", _n(PROV + "Entity"))
    w.add(s_node, DCT + "title", _lit(meta["title"], "zh"))
    if meta.get("title_en"):
        w.add(s_node, DCT + "title", _lit(meta["title_en"], "en"))
    w.add(s_node, DCT + "publisher", w.entity(meta["issuer"]))
    w.add(s_node, DCT + "issued", _lit(meta["date"], dtype=XSD + "date"))
    w.add(s_node, IFKG + "sha256", _lit(src.sha256))
    w.add(s_node, PROV + "specializationOf", w.entity(meta["document"]))
    w.add(s_node, DCT + "language", _lit(meta.get("language") or "zh"))
    w.add(s_node, DCT + "identifier", _lit(src.id))
    if meta.get("number"):
        w.add(s_node, IFKG + "documentNumber", _lit(meta["number"], "zh"))
    if meta.get("disclosure"):
        w.add(s_node, IFKG + "disclosureStatus", _lit(meta["disclosure"], "zh"))
    if meta.get("disclosure_en"):
        w.add(s_node, IFKG + "disclosureStatus", _lit(meta["disclosure_en"], "en"))
    if meta.get("result"):
        w.add(s_node, IFKG + "handlingResult", _lit(meta["result"], "zh"))
    if meta.get("result_en"):
        w.add(s_node, IFKG + "handlingResult", _lit(meta["result_en"], "en"))
    if meta.get("url"):
        w.add(s_node, FOAF + "page", _n(meta["url"]))

    seen: dict[str, int] = {}
    for mention in src.mentions:
        n = seen[mention.entity] = seen.get(mention.entity, 0) + 1
        ev = _evidence(w, src, f"mention/{mention.entity}/{n}", mention.span)
        ent = w.entity(mention.entity)
        w.add(ent, IFKG + "evidence", ev)
        w.add(ent, IFKG + "mentionedIn", s_node)
    for r in src.relations:
        st = _n(f"{w.ns['stmt']}{src.id}/{r.id}")
        w.add(st, RDF + "type", _n(IFKG + "Statement"))
        w.add(st, RDF + "subject", w.entity(r.subject))
        w.add(st, RDF + "predicate", _n(IFKG + r.predicate))
        w.add(st, RDF + "object", w.entity(r.object))
        w.add(st, IFKG + "statedIn", s_node)
        w.add(st, PROV + "wasDerivedFrom", s_node)
        w.add(st, IFKG + "evidence", _evidence(w, src, r.id, r.span))
        if r.date:
            dtype = XSD + ("gYear" if len(r.date) == 4 else "date")
            w.add(st, IFKG + "date", _lit(r.date, dtype=dtype))
        if r.note:
            w.add(st, SKOS + "editorialNote", _lit(r.note, "en"))
    for m in src.measurements:
        node = meas_nodes[m.id]
        w.add(node, IFKG + "statedIn", s_node)
        w.add(node, PROV + "wasDerivedFrom", s_node)
        w.add(node, IFKG + "evidence", _evidence(w, src, m.id, m.span))
