"""What a linked-data portal harvests: the dataset description, the JSON-LD context, RDF/XML, and
the list of published IRIs that a release may never drop.

The description (``exports/void.ttl``) is DCAT-AP 3 and VoID in one: the editorial part (titles,
publisher, licence, themes, place, distributions) comes from ``graph/dataset.yaml``, the version
from ``VERSION``; everything that can be counted or dated (statistics, partitions, temporal
coverage, ``dct:modified``, the source documents) is read from the compiled graph. Never the clock.
Every node has an IRI, so the bytes are the same on every run.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from .compile import Compiled
from .errors import IfkgError
from .namespaces import DCAT, DCT, FOAF, IFKG, OWL, PROV, RDF, RDFS, SKOS, VOID, XSD, prefixes
from .project import Project
from .rdfterms import iri as _n
from .rdfterms import lit as _lit
from .yamlio import line_of, load_yaml

VCARD = "http://www.w3.org/2006/vcard/ns#"
IANA_MEDIA_TYPES = "https://www.iana.org/assignments/media-types/"
EU_FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"
DATE_TYPES = {XSD + "date", XSD + "gYear", XSD + "dateTime"}

META_FILE = "dataset.yaml"
VERSION_FILE = "VERSION"
PUBLISHED_IRIS_FILE = "published-iris.txt"

Term = ox.NamedNode | ox.Literal






def _int(n: int) -> ox.Literal:
    return _lit(str(n), dtype=XSD + "integer")


# --------------------------------------------------------------------------------------------
# graph/dataset.yaml and VERSION
# --------------------------------------------------------------------------------------------

_IRI = re.compile(r"^(https?|mailto):[^\s<>\"{}|\\^`]+$")
_VERSION = re.compile(r"^\d+\.\d+\.\d+$")


class _Meta:
    """graph/dataset.yaml with typed getters that raise IfkgError naming file and line."""

    def __init__(self, doc: Any, file: Path, base: str) -> None:
        if not isinstance(doc, dict):
            raise IfkgError("dataset.yaml must be a mapping of keys", file, 1)
        self.doc = doc
        self.file = file
        self.base = base

    def _fail(self, message: str, node: Any, key: Any = None) -> IfkgError:
        line = line_of(node, key) if key is not None else line_of(node)
        return IfkgError(message, self.file, line or 1)

    def node(self, node: Any, key: str, kind: type = dict, required: bool = True) -> Any:
        value = node.get(key) if isinstance(node, dict) else None
        if value is None:
            if required:
                raise self._fail(f"missing required key '{key}'", node)
            return None
        if not isinstance(value, kind):
            raise self._fail(f"'{key}' must be a {kind.__name__}", node, key)
        return value

    def text(self, node: Any, key: str, required: bool = True) -> str | None:
        value = node.get(key) if isinstance(node, dict) else None
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                raise self._fail(f"missing required key '{key}'", node)
            return None
        if not isinstance(value, str):
            raise self._fail(f"'{key}' must be text", node, key)
        return " ".join(value.split())

    def iri(self, node: Any, key: str, required: bool = True) -> str | None:
        value = self.text(node, key, required)
        if value is None:
            return None
        value = value.replace("{base}", self.base)
        if not _IRI.match(value):
            raise self._fail(f"'{key}' is not an absolute http(s) or mailto IRI: {value!r}", node,
                             key)
        return value

    def date(self, node: Any, key: str, required: bool = True) -> str | None:
        value = node.get(key) if isinstance(node, dict) else None
        if value is None:
            if required:
                raise self._fail(f"missing required key '{key}'", node)
            return None
        if isinstance(value, dt.datetime):
            value = value.date()
        if isinstance(value, dt.date):
            return value.isoformat()
        try:
            return dt.date.fromisoformat(str(value)).isoformat()
        except ValueError:
            raise self._fail(f"'{key}' must be a date YYYY-MM-DD, not {value!r}", node,
                             key) from None

    def bilingual(self, node: Any, key: str) -> list[ox.Literal]:
        """A mapping {zh: …, en: …} with both languages, as language-tagged literals."""
        m = self.node(node, key)
        out = []
        for lang in ("zh", "en"):
            out.append(_lit(self.text(m, lang) or "", lang))
        return out

    def items(self, node: Any, key: str, required: bool = True) -> list[Any]:
        seq = self.node(node, key, list, required)
        return seq if seq is not None else []  # the loader's list keeps each item's line


def read_version(project: Project) -> str | None:
    """The release version from ``VERSION`` (``MAJOR.MINOR.PATCH``), or None without the file."""
    path = project.root / VERSION_FILE
    if not path.exists():
        return None
    text = path.read_text(encoding="utf-8").strip()
    if not _VERSION.match(text):
        raise IfkgError(f"VERSION must be MAJOR.MINOR.PATCH, not {text!r}", path, 1)
    return text


# --------------------------------------------------------------------------------------------
# facts read from the compiled graph
# --------------------------------------------------------------------------------------------


@dataclass
class GraphFacts:
    """Counts, partitions, dates and notable IRIs of a compiled dataset."""

    triples: int
    entities: int
    distinct_subjects: int
    distinct_objects: int
    class_entities: dict[str, int]
    property_triples: dict[str, int]
    vocabularies: list[str]
    sources: list[str]
    latest_source_date: str | None
    start: ox.Literal | None
    end: ox.Literal | None
    ontologies: dict[str, str | None]  # ontology IRI → its owl:versionIRI


def _date_bounds(lit: ox.Literal) -> tuple[str, str] | None:
    """Earliest and latest calendar day a date-like literal covers, as ISO strings."""
    v = lit.value
    dtype = lit.datatype.value
    if dtype == XSD + "gYear" and re.fullmatch(r"\d{4}", v):
        return f"{v}-01-01", f"{v}-12-31"
    if dtype in (XSD + "date", XSD + "dateTime") and re.match(r"\d{4}-\d{2}-\d{2}", v):
        return v[:10], v[:10]
    return None


def _namespace(iri: str, known: list[str]) -> str:
    for ns in known:
        if iri.startswith(ns) and len(iri) > len(ns):
            return ns
    cut = max(iri.rfind("#"), iri.rfind("/"))
    return iri[: cut + 1]


# The statistics are counted without a Python loop over the quads (seconds at a million): by
# SPARQL aggregates over the compiled store, which the exports share, and by regular expressions
# over the N-Quads text where SPARQL would have to test the text of every term. The dataset is
# the union of the named graphs: a triple two graphs state counts once.

def _rows(store: ox.Store, query: str, union: bool = True) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in store.query(query, use_default_graph_as_union=union)]


def _q(iri: str) -> str:
    """An IRI as SPARQL text."""
    return str(_n(iri))


def _quad_key(q: ox.Quad) -> tuple[str, str, str, str]:
    """The canonical order of quads (graph, subject, predicate, object as N-Triples text)."""
    return str(q.graph_name), str(q.subject), str(q.predicate), str(q.object)


def _property_counts(store: ox.Store) -> dict[str, int]:
    """Triples per property over the union: quads per graph and property, less the copies of a
    triple that more than one graph states."""
    per_graph: dict[tuple[str, str], int] = {}
    for g, p, n in _rows(store, "SELECT ?g ?p (COUNT(*) AS ?n) "
                                "WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ?p", union=False):
        per_graph[(g.value, p.value)] = int(n.value)
    props: Counter[str] = Counter()
    for (_, p), n in per_graph.items():
        props[p] += n
    # a repeated triple has the same property in both graphs: look each property up from the
    # graph that has fewer of it (oxigraph joins in the order written)
    pairs = []
    graphs = sorted({g for g, _ in per_graph})
    for i, g in enumerate(graphs):
        for h in graphs[i + 1:]:
            for p in sorted(p for gg, p in per_graph if gg == g and (h, p) in per_graph):
                a, b = sorted((g, h), key=lambda x: (per_graph[(x, p)], x))
                pairs.append(f"({_q(a)} {_q(b)} {_q(p)})")
    if pairs:
        where: dict[ox.Triple, set[ox.Term]] = defaultdict(set)
        for a, b, s, p, o in _rows(store, "SELECT ?a ?b ?s ?p ?o WHERE { VALUES (?a ?b ?p) { "
                                          + " ".join(pairs) + " } GRAPH ?a { ?s ?p ?o } "
                                          "GRAPH ?b { ?s ?p ?o } }", union=False):
            where[ox.Triple(s, p, o)] |= {a, b}
        for t, gs in where.items():
            props[t.predicate.value] -= len(gs) - 1
    return dict(sorted(props.items()))


def _distinct_terms(store: ox.Store) -> tuple[int, int]:
    """Distinct subjects and distinct objects of the union."""
    (subjects, objects), = _rows(store, "SELECT (COUNT(DISTINCT ?s) AS ?ns) "
                                        "(COUNT(DISTINCT ?o) AS ?no) WHERE { ?s ?p ?o }")
    return int(subjects.value), int(objects.value)


# N-Quads as pyoxigraph writes them: one quad a line, the subject first and every term written
# one way (IRIs in full, unescaped; datatypes as full IRIs), so a regular expression finds
# lines by their subject or their object's datatype in a fraction of the time any SPARQL test
# of a million terms' text takes.

def _line_subjects(nquads: bytes, subject: bytes) -> set[bytes]:
    """The distinct subjects, as written, of the lines whose subject matches ``subject``."""
    found = set(re.findall(rb"\n(" + subject + rb") ", nquads))
    first = re.match(rb"(" + subject + rb") ", nquads)
    return found | {first.group(1)} if first else found


def _iri_space(space: str) -> bytes:
    """A pattern for the IRIs that start with ``space``, as N-Quads writes them."""
    return re.escape(b"<" + space.encode()) + rb"[^>]*>"


_DATE_OBJECT = re.compile(rb'"\^\^<' + re.escape(XSD.encode()) + rb'(?:date|gYear|dateTime)> ')


def _date_quads(nquads: bytes) -> list[ox.Quad]:
    """The quads whose object is a date-like literal (a match inside a string literal is
    dropped once its line is parsed)."""
    starts = dict.fromkeys(nquads.rfind(b"\n", 0, m.start()) + 1
                           for m in _DATE_OBJECT.finditer(nquads))
    lines = b"".join(nquads[i:nquads.find(b"\n", i) + 1] for i in starts)
    return [q for q in ox.parse(lines, format=ox.RdfFormat.N_QUADS)
            if isinstance(q.object, ox.Literal) and q.object.datatype.value in DATE_TYPES]


def _coverage(quads: list[ox.Quad]) -> tuple[ox.Literal | None, ox.Literal | None]:
    """The date-like objects with the earliest and the latest day; of two covering the same
    day, the one stated first in the canonical order of quads."""
    dated = [(b, _quad_key(q), q.object) for q in quads if (b := _date_bounds(q.object))]
    if not dated:
        return None, None
    first = min(dated, key=lambda d: (d[0][0], d[1]))
    last_day = max(d[0][1] for d in dated)
    last = min((d for d in dated if d[0][1] == last_day), key=lambda d: d[1])
    return first[2], last[2]


def _ontologies(store: ox.Store, graph: ox.NamedNode | None) -> dict[str, str | None]:
    """Ontology IRIs in the ontology graph → their owl:versionIRI (the last stated wins)."""
    out: dict[str, str | None] = {}
    if graph is None:
        return out
    for q in sorted(store.quads_for_pattern(None, None, None, graph), key=_quad_key):
        if not isinstance(q.subject, ox.NamedNode):
            continue
        if q.predicate.value == RDF + "type" and q.object == _n(OWL + "Ontology"):
            out.setdefault(q.subject.value, None)
        elif q.predicate.value == OWL + "versionIRI" and isinstance(q.object, ox.NamedNode):
            out[q.subject.value] = q.object.value
    return dict(sorted(out.items()))


def graph_facts(c: Compiled, namespaces: Iterable[str] = ()) -> GraphFacts:
    """Everything the description says about the graph that is counted or read, not written."""
    store = c.store()
    ontology_graph = c.graphs.get("ontology")
    source_class = IFKG + "SourceText"
    props = _property_counts(store)
    classes = {cls.value: int(n.value) for cls, n in _rows(
        store, f"SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s {_q(RDF + 'type')} ?c }} "
               "GROUP BY ?c") if isinstance(cls, ox.NamedNode)}
    subjects, objects = _distinct_terms(store)
    nquads = c.nquads()
    # entities: the subjects in the IRI space, counted as all but the few that are not
    outside = rb"(?!" + re.escape(b"<" + (c.base + "id/").encode()) + rb")[^ ]+"
    entities = subjects - len(_line_subjects(nquads, outside))
    sources = sorted(s.value for s, in _rows(
        store, f"SELECT DISTINCT ?s WHERE {{ ?s a {_q(source_class)} FILTER isIRI(?s) }}"))
    # temporal coverage: every date-like literal of the data (not the ontology's own dates)
    dated = [q for q in _date_quads(nquads) if q.graph_name != ontology_graph]
    start, end = _coverage(dated)
    issued, is_source = DCT + "issued", set(sources)
    source_dates = [b[1] for q in dated if q.predicate.value == issued
                    and q.subject.value in is_source and (b := _date_bounds(q.object))]

    known = sorted(set(namespaces) | set(prefixes(c.base).values()), key=len, reverse=True)
    vocabularies = sorted({_namespace(p, known) for p in props} |
                          {_namespace(k, known) for k in classes})
    return GraphFacts(
        triples=sum(props.values()),
        entities=entities,
        distinct_subjects=subjects,
        distinct_objects=objects,
        class_entities=dict(sorted(classes.items())),
        property_triples=props,
        vocabularies=vocabularies,
        sources=sources,
        latest_source_date=max(source_dates, default=None),
        start=start,
        end=end,
        ontologies=_ontologies(store, ontology_graph),
    )


def _is_subject(store: ox.Store, iri: str) -> bool:
    """Whether ``iri`` is the subject of a quad (False for text that is no IRI)."""
    try:
        node = _n(iri)
    except ValueError:
        return False
    return next(iter(store.quads_for_pattern(node, None, None, None)), None) is not None


def ontology_prefixes(project: Project) -> dict[str, str]:
    """The ``@prefix`` declarations of the ontology file (names for partition IRIs)."""
    try:
        text = project.ontology_file.read_text(encoding="utf-8")
    except OSError:
        return {}
    return {m.group(1): m.group(2) for m in
            re.finditer(r"@prefix\s+([A-Za-z][\w-]*)\s*:\s*<([^>]+)>", text)}


# --------------------------------------------------------------------------------------------
# the description
# --------------------------------------------------------------------------------------------


class _Triples:
    def __init__(self) -> None:
        self.out: set[ox.Triple] = set()

    def add(self, s: str, p: str, o: Term) -> None:
        self.out.add(ox.Triple(_n(s), _n(p), o))

    def sorted(self) -> list[ox.Triple]:
        return sorted(self.out, key=lambda t: (str(t.subject), str(t.predicate), str(t.object)))


def _slug(iri: str, names: list[tuple[str, str]]) -> str:
    for name, ns in names:
        if iri.startswith(ns) and len(iri) > len(ns):
            local = iri[len(ns):]
            return f"{name}-{re.sub(r'[^A-Za-z0-9_.-]', '_', local)}"
    return re.sub(r"[^A-Za-z0-9_.-]", "_", iri.split("://", 1)[-1])


def description_iris(base: str) -> dict[str, str]:
    """IRIs minted for the parts of the description (none is a blank node)."""
    return {
        "catalog": base + "catalog",
        "dataset": base + "dataset",
        "description": base + "exports/void.ttl",
        "publisher": base + "dataset/publisher",
        "contact": base + "dataset/contact",
        "temporal": base + "dataset/temporal",
        "service": base + "dataset/service/sparql",
        "endpoint": base + "sparql",
        "exports": base + "exports/",
        "documentation": base + "exports/ontology.html",
    }


def describe(c: Compiled, project: Project) -> list[ox.Triple]:
    """The DCAT-AP 3 / VoID description of the compiled dataset, as sorted triples."""
    from .export import EXPORTS

    base = c.base
    names = {**ontology_prefixes(project), **prefixes(base)}
    facts = graph_facts(c, names.values())
    iri = description_iris(base)
    version = read_version(project)
    ds, cat = iri["dataset"], iri["catalog"]
    g = _Triples()
    a = RDF + "type"

    # VoID: counted from the graph
    g.add(ds, a, _n(VOID + "Dataset"))
    g.add(ds, VOID + "triples", _int(facts.triples))
    g.add(ds, VOID + "entities", _int(facts.entities))
    g.add(ds, VOID + "distinctSubjects", _int(facts.distinct_subjects))
    g.add(ds, VOID + "distinctObjects", _int(facts.distinct_objects))
    g.add(ds, VOID + "classes", _int(len(facts.class_entities)))
    g.add(ds, VOID + "properties", _int(len(facts.property_triples)))
    g.add(ds, VOID + "sparqlEndpoint", _n(iri["endpoint"]))
    g.add(ds, VOID + "uriSpace", _lit(base + "id/"))
    for v in facts.vocabularies:
        g.add(ds, VOID + "vocabulary", _n(v))
    slug_names = sorted(names.items(), key=lambda kv: len(kv[1]), reverse=True)
    used: set[str] = set()

    def partition(kind: str, term: str) -> str:
        slug = _slug(term, slug_names)
        node, n = f"{base}dataset/{kind}/{slug}", 2
        while node in used:
            node, n = f"{base}dataset/{kind}/{slug}-{n}", n + 1
        used.add(node)
        return node

    for cls, count in facts.class_entities.items():
        node = partition("class", cls)
        g.add(ds, VOID + "classPartition", _n(node))
        g.add(node, VOID + "class", _n(cls))
        g.add(node, VOID + "entities", _int(count))
    for prop, count in facts.property_triples.items():
        node = partition("property", prop)
        g.add(ds, VOID + "propertyPartition", _n(node))
        g.add(node, VOID + "property", _n(prop))
        g.add(node, VOID + "triples", _int(count))
    # the source documents: not dct:source, whose range in DCAT-AP 3 is dcat:Dataset
    for src in facts.sources:
        g.add(ds, PROV + "wasDerivedFrom", _n(src))
        g.add(ds, DCT + "relation", _n(src))
    for onto in facts.ontologies:
        g.add(ds, DCT + "conformsTo", _n(onto))
        g.add(onto, a, _n(DCT + "Standard"))

    desc = iri["description"]
    g.add(desc, a, _n(VOID + "DatasetDescription"))
    g.add(desc, FOAF + "primaryTopic", _n(ds))

    if version:
        g.add(ds, DCAT + "version", _lit(version))
        g.add(ds, OWL + "versionInfo", _lit(version))
        g.add(ds, OWL + "versionIRI", _n(f"{base}dataset/{version}"))

    meta_file = project.graph_dir / META_FILE
    if not meta_file.exists():
        # a project without editorial metadata still gets its statistics and dump
        g.add(ds, VOID + "dataDump", _n(iri["exports"] + "ifkg.nt"))
        _temporal(g, ds, iri["temporal"], facts)
        return g.sorted()

    m = _Meta(load_yaml(meta_file), meta_file, base)
    doc = m.doc

    # publisher, contact point, licence
    pub = iri["publisher"]
    g.add(pub, a, _n(FOAF + "Agent"))
    g.add(pub, a, _n(FOAF + "Organization"))
    publisher = m.node(doc, "publisher")
    names_node = m.node(publisher, "name")
    for lang in ("zh", "en"):
        name = m.text(names_node, lang, required=(lang == "en"))
        if name:
            g.add(pub, FOAF + "name", _lit(name, lang))
    homepage = m.iri(publisher, "homepage", required=False)
    if homepage:
        g.add(pub, FOAF + "page", _n(homepage))

    kind = iri["contact"]
    contact = m.node(doc, "contact")
    g.add(kind, a, _n(VCARD + "Kind"))
    g.add(kind, a, _n(VCARD + "Organization"))
    g.add(kind, VCARD + "fn", _lit(m.text(contact, "name") or ""))
    email = m.iri(contact, "email", required=False)
    url = m.iri(contact, "url", required=False)
    if not email and not url:
        raise m._fail("the contact needs 'email' (mailto:…) or 'url'", contact)
    if email:
        g.add(kind, VCARD + "hasEmail", _n(email))
    if url:
        g.add(kind, VCARD + "hasURL", _n(url))

    licence = m.node(doc, "licence")
    lic = m.iri(licence, "iri") or ""
    g.add(lic, a, _n(DCT + "LicenseDocument"))
    lic_title = m.text(licence, "title", required=False)
    if lic_title:
        g.add(lic, DCT + "title", _lit(lic_title, "en"))
    spdx = m.text(licence, "spdx", required=False)
    if spdx:
        g.add(lic, DCT + "identifier", _lit(spdx))
    same = m.iri(licence, "same_as", required=False)
    if same:
        g.add(lic, OWL + "sameAs", _n(same))

    # dates: issued as written; modified never earlier than the newest source document
    issued = m.date(doc, "issued") or ""
    modified = max(d for d in (issued, m.date(doc, "modified", required=False),
                               facts.latest_source_date) if d)

    languages = []
    for item in m.items(doc, "language"):
        lang_iri = m.iri(item, "iri") or ""
        languages.append(lang_iri)
        g.add(lang_iri, a, _n(DCT + "LinguisticSystem"))
        label = m.text(item, "label", required=False)
        if label:
            g.add(lang_iri, SKOS + "prefLabel", _lit(label, "en"))

    # the catalogue
    catalog = m.node(doc, "catalog")
    def common(node: str, meta: Any) -> None:
        """What the catalogue and the dataset both state: titles, descriptions, publisher,
        licence, dates and languages."""
        for lit in m.bilingual(meta, "title"):
            g.add(node, DCT + "title", lit)
        for lit in m.bilingual(meta, "description"):
            g.add(node, DCT + "description", lit)
        g.add(node, DCT + "publisher", _n(pub))
        g.add(node, DCT + "license", _n(lic))
        g.add(node, DCT + "issued", _lit(issued, dtype=XSD + "date"))
        g.add(node, DCT + "modified", _lit(modified, dtype=XSD + "date"))
        for lang_iri in languages:
            g.add(node, DCT + "language", _n(lang_iri))

    g.add(cat, a, _n(DCAT + "Catalog"))
    common(cat, catalog)
    g.add(cat, DCAT + "dataset", _n(ds))
    cat_home = m.iri(catalog, "homepage", required=False)
    if cat_home:
        g.add(cat, FOAF + "homepage", _n(cat_home))
        g.add(cat_home, a, _n(FOAF + "Document"))

    service = iri["service"]
    g.add(cat, DCAT + "service", _n(service))
    g.add(service, a, _n(DCAT + "DataService"))
    g.add(service, DCT + "title", _lit("SPARQL 1.1 endpoint", "en"))
    g.add(service, DCT + "title", _lit("SPARQL 1.1 查询端点", "zh"))
    g.add(service, DCAT + "endpointURL", _n(iri["endpoint"]))
    g.add(service, DCAT + "servesDataset", _n(ds))
    g.add(service, DCT + "license", _n(lic))

    # the dataset
    g.add(ds, a, _n(DCAT + "Dataset"))
    common(ds, doc)
    g.add(ds, DCAT + "contactPoint", _n(kind))
    keywords = m.node(doc, "keywords")
    for lang in ("zh", "en"):
        words = m.items(keywords, lang)
        for i, word in enumerate(words):
            if not isinstance(word, str) or not word.strip():
                raise m._fail("each keyword must be text", words, i)
            g.add(ds, DCAT + "keyword", _lit(" ".join(word.split()), lang))
    scheme_node = m.node(doc, "theme_scheme", required=False)
    scheme = m.iri(scheme_node, "iri") if scheme_node is not None else None
    themes = m.items(doc, "themes")
    if not themes:
        raise m._fail("'themes' must name at least one theme", doc, "themes")
    for item in themes:
        theme = m.iri(item, "iri") or ""
        g.add(ds, DCAT + "theme", _n(theme))
        g.add(theme, a, _n(SKOS + "Concept"))
        g.add(theme, SKOS + "prefLabel", _lit(m.text(item, "en") or "", "en"))
        if scheme:
            g.add(theme, SKOS + "inScheme", _n(scheme))
    if scheme:
        g.add(scheme, a, _n(SKOS + "ConceptScheme"))
        g.add(scheme, DCT + "title", _lit(m.text(scheme_node, "title") or "", "en"))
    spatial = m.node(doc, "spatial")
    place = m.iri(spatial, "iri") or ""
    g.add(ds, DCT + "spatial", _n(place))
    g.add(place, a, _n(DCT + "Location"))
    for lang in ("zh", "en"):
        label = m.text(spatial, lang, required=False)
        if label:
            g.add(place, SKOS + "prefLabel", _lit(label, lang))
    _temporal(g, ds, iri["temporal"], facts)
    g.add(ds, FOAF + "page", _n(iri["documentation"]))
    g.add(iri["documentation"], a, _n(FOAF + "Document"))

    examples = m.items(doc, "examples", required=False)
    if examples:
        for i, eid in enumerate(examples):
            ent = f"{base}id/entity/{eid}"
            if not _is_subject(c.store(), ent):
                raise m._fail(f"example '{eid}' is not an entity of the graph", examples, i)
            g.add(ds, VOID + "exampleResource", _n(ent))
    else:
        entities = _line_subjects(c.nquads(), _iri_space(base + "id/entity/"))
        for ent in sorted(e[1:-1].decode() for e in entities)[:3]:
            g.add(ds, VOID + "exampleResource", _n(ent))

    # one distribution per export format
    dists = m.items(doc, "distributions")
    files = set()
    for item in dists:
        file = m.text(item, "file") or ""
        if file not in EXPORTS:
            raise m._fail(f"distribution '{file}' is not an export (known: "
                          f"{', '.join(sorted(EXPORTS))})", item, "file")
        files.add(file)
        media = m.text(item, "media_type") or ""
        if not re.fullmatch(r"[a-z]+/[a-z0-9.+-]+", media):
            raise m._fail(f"'media_type' is not a media type: {media!r}", item, "media_type")
        fmt = m.text(item, "format") or ""
        if not re.fullmatch(r"[A-Z0-9_]+", fmt):
            raise m._fail(f"'format' must be an EU file-type code such as RDF_TURTLE: {fmt!r}",
                          item, "format")
        node = f"{base}dataset/distribution/{re.sub(r'[^A-Za-z0-9_-]', '-', file)}"
        url = _n(iri["exports"] + file)
        g.add(ds, DCAT + "distribution", _n(node))
        g.add(node, a, _n(DCAT + "Distribution"))
        g.add(node, DCT + "title", _lit(m.text(item, "title") or file, "en"))
        g.add(node, DCAT + "accessURL", url)
        g.add(node, DCAT + "downloadURL", url)
        g.add(node, DCAT + "mediaType", _n(IANA_MEDIA_TYPES + media))
        g.add(IANA_MEDIA_TYPES + media, a, _n(DCT + "MediaType"))
        g.add(node, DCT + "format", _n(EU_FILE_TYPE + fmt))
        g.add(EU_FILE_TYPE + fmt, a, _n(DCT + "MediaTypeOrExtent"))
        g.add(node, DCT + "license", _n(lic))
        g.add(node, DCT + "issued", _lit(issued, dtype=XSD + "date"))
        g.add(node, DCT + "modified", _lit(modified, dtype=XSD + "date"))
    dump = m.text(doc, "data_dump") or ""
    if dump not in files:
        raise m._fail(f"'data_dump' must be one of the distributions: {dump!r}", doc, "data_dump")
    g.add(ds, VOID + "dataDump", _n(iri["exports"] + dump))
    return g.sorted()


def _temporal(g: _Triples, ds: str, node: str, facts: GraphFacts) -> None:
    """dct:temporal: from the earliest to the latest date the data refers to."""
    if facts.start is None or facts.end is None:
        return
    g.add(ds, DCT + "temporal", _n(node))
    g.add(node, RDF + "type", _n(DCT + "PeriodOfTime"))
    g.add(node, DCAT + "startDate", facts.start)
    g.add(node, DCAT + "endDate", facts.end)


def description_prefixes(base: str) -> dict[str, str]:
    return {**prefixes(base), "vcard": VCARD}


def void_ttl(c: Compiled, project: Project) -> bytes:
    """``exports/void.ttl``: the dataset description in Turtle."""
    return ox.serialize(describe(c, project), format=ox.RdfFormat.TURTLE,
                        prefixes=description_prefixes(c.base))


# --------------------------------------------------------------------------------------------
# JSON-LD context (the compact JSON-LD and RDF/XML exports are written by ifkg.export)
# --------------------------------------------------------------------------------------------

def jsonld_context(c: Compiled) -> dict[str, Any]:
    """Prefixes, then one term per ifkg class and property of the ontology (ASCII local name).

    Object properties coerce to ``@id``; a datatype property with one XSD range coerces to it.
    A local name that is already a prefix (``unit``) gets no term: write ``ifkg:unit``.
    """
    pfx = prefixes(c.base)
    types: dict[str, set[str]] = defaultdict(set)
    ranges: dict[str, set[str]] = defaultdict(set)
    for q in c.graph_triples("ontology"):
        if not isinstance(q.subject, ox.NamedNode):
            continue
        s = q.subject.value
        if not s.startswith(IFKG) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", s[len(IFKG):]):
            continue
        if q.predicate.value == RDF + "type" and isinstance(q.object, ox.NamedNode):
            types[s].add(q.object.value)
        elif q.predicate.value == RDFS + "range":
            ranges[s].add(q.object.value if isinstance(q.object, ox.NamedNode) else "")
    terms: dict[str, Any] = {}
    for s in sorted(types):
        local = s[len(IFKG):]
        if local in pfx:
            continue
        kinds = types[s]
        if OWL + "ObjectProperty" in kinds:
            terms[local] = {"@id": f"ifkg:{local}", "@type": "@id"}
        elif OWL + "DatatypeProperty" in kinds:
            rng = ranges.get(s, set())
            only = next(iter(rng)) if len(rng) == 1 else ""
            if only.startswith(XSD):
                terms[local] = {"@id": f"ifkg:{local}", "@type": f"xsd:{only[len(XSD):]}"}
            else:
                terms[local] = f"ifkg:{local}"
        elif kinds & {OWL + "Class", OWL + "AnnotationProperty", RDFS + "Class"}:
            terms[local] = f"ifkg:{local}"
    return {"@context": {**pfx, **terms}}


def context_jsonld(c: Compiled, project: Project) -> bytes:
    """``exports/context.jsonld``: the JSON-LD context of ``ifkg.jsonld``."""
    return (json.dumps(jsonld_context(c), ensure_ascii=False, indent=2) + "\n").encode()


# --------------------------------------------------------------------------------------------
# published IRIs: once published, never removed
# --------------------------------------------------------------------------------------------


def published_iris(c: Compiled, project: Project) -> list[str]:
    """Entities, indicators, sources, ontology terms, named graphs, dataset and catalogue."""
    base = c.base
    spaces = rb"|".join(_iri_space(base + f"id/{k}/") for k in ("entity", "indicator", "source"))
    out = {g.value for g in c.graphs.values()}
    out |= {s[1:-1].decode() for s in _line_subjects(c.nquads(), rb"(?:" + spaces + rb")")}
    onto = c.graphs.get("ontology")
    if onto is not None:
        for q in c.store().quads_for_pattern(None, None, None, onto):
            s = q.subject
            if isinstance(s, ox.NamedNode) and (s.value.startswith(IFKG) or (
                    q.predicate.value == RDF + "type" and q.object == _n(OWL + "Ontology"))):
                out.add(s.value)
    if (project.graph_dir / META_FILE).exists():
        iri = description_iris(base)
        out |= {iri["dataset"], iri["catalog"]}
    return sorted(out)


def unpublished(listed: Iterable[str], c: Compiled, project: Project) -> list[str]:
    """Problems with IRIs published earlier: each must still be in the build (graph or
    description); one that is retired must say ``owl:deprecated true`` and ``dct:isReplacedBy``
    an IRI that is itself in the build."""
    store = c.store()
    described: dict[tuple[str, str], list[ox.Term]] = defaultdict(list)
    for t in describe(c, project):
        if isinstance(t.subject, ox.NamedNode):
            described[(t.subject.value, t.predicate.value)].append(t.object)
    in_build = {g.value for g in c.graphs.values()} | {s for s, _ in described}

    def present(iri: str) -> bool:
        return iri in in_build or _is_subject(store, iri)

    def stated(iri: str, prop: str) -> list[ox.Term]:
        """Objects of ``iri prop``: the graph's in canonical order, then the description's."""
        found = {q.object for q in store.quads_for_pattern(_n(iri), _n(prop), None, None)}
        return sorted(found, key=str) + described.get((iri, prop), [])

    problems = []
    for iri in listed:
        if not present(iri):
            problems.append(f"{iri}: published earlier but missing from the build; keep it, "
                            "marked owl:deprecated true with dct:isReplacedBy")
        elif any(o.value in ("true", "1") for o in stated(iri, OWL + "deprecated")):
            targets = [o.value for o in stated(iri, DCT + "isReplacedBy")
                       if isinstance(o, ox.NamedNode)]
            if not targets:
                problems.append(f"{iri}: owl:deprecated without dct:isReplacedBy")
            for target in targets:
                if not present(target):
                    problems.append(f"{iri}: dct:isReplacedBy {target}, which is not in the build")
    return problems


def read_published(project: Project) -> list[str]:
    path = project.root / PUBLISHED_IRIS_FILE
    if not path.exists():
        return []
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]


def update_published(project: Project) -> int:
    """Add the IRIs of a fresh build to ``published-iris.txt`` (never removing one); returns
    how many were added. Refuses while a published IRI is missing from the build."""
    from .build import build

    result = build(project, write=False)
    listed = read_published(project)
    problems = unpublished(listed, result.compiled, project)
    if problems:
        raise IfkgError(problems[0], project.root / PUBLISHED_IRIS_FILE)
    merged = sorted(set(listed) | set(published_iris(result.compiled, project)))
    path = project.root / PUBLISHED_IRIS_FILE
    path.write_text("".join(line + "\n" for line in merged), encoding="utf-8")
    return len(merged) - len(set(listed))


def main(argv: list[str] | None = None) -> int:
    """``python -m ifkg.publish_meta update-published-iris``: append the new IRIs of a release."""
    from .project import default_project

    args = sys.argv[1:] if argv is None else argv
    if args != ["update-published-iris"]:
        print("usage: python -m ifkg.publish_meta update-published-iris", file=sys.stderr)
        return 2
    try:
        added = update_published(default_project())
    except IfkgError as exc:
        print(f"ifkg: error: {exc.one_line()}", file=sys.stderr)
        return 2
    print(f"{added} IRI(s) added to {PUBLISHED_IRIS_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
