"""Compile the checked corpus and the ontology into one RDF dataset of three named graphs.

ontology: the OWL ontology as written. facts: entities, direct edges, measurements, indicators.
provenance: sources, one statement node per relation, and the evidence (quote and position
selectors) behind every entity mention, statement and measurement. Every node has an IRI, so
every writer gives the same bytes on every run.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

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
    group_of,
    owned_prefixes,
)
from .numbers import decimal_lexical
from .project import Project
from .rdfterms import iri as _n
from .rdfterms import lit as _lit

GRAPHS = ("ontology", "facts", "provenance")
A = _n(RDF + "type")
# Bump when the output of compilation changes without a change to the modules hashed below.
CACHE_VERSION = "1"
_CODE_MODULES = ("compile.py", "curation.py", "evidence.py", "numbers.py", "namespaces.py",
                 "rdfterms.py")


@dataclass
class Compiled:
    """The built dataset as *groups* of N-Quads lines, in output order.

    A group holds every quad of the nodes one owner states: ``ontology`` (the ontology graph),
    ``source:<id>`` (the nodes a source owns: the source itself, its statements, measurements
    and evidence, whose IRIs carry its id), and one group per other subject (an entity, an
    indicator), with the triples every source states about it. Each group is its sorted, unique
    N-Quads lines (UTF-8), so a group's bytes change only when its content does: SHACL results
    and the export fragments are cached by group digest, and a rebuild after one source changed
    renders only the groups it touches. ``quads``, ``triples()`` and ``store()`` are computed
    on first use.
    """

    groups: dict[str, bytes]
    graphs: dict[str, ox.NamedNode]
    base: str
    _quads: list[ox.Quad] | None = field(default=None, init=False, repr=False, compare=False)
    _triples: list[ox.Triple] | None = field(default=None, init=False, repr=False,
                                             compare=False)
    _store: ox.Store | None = field(default=None, init=False, repr=False, compare=False)
    _nquads: bytes | None = field(default=None, init=False, repr=False, compare=False)
    _digests: dict[str, str] | None = field(default=None, init=False, repr=False, compare=False)
    # sources compiled afresh and sources whose compiled groups came from the cache
    compiled_sources: list[str] = field(default_factory=list, compare=False)
    reused_sources: list[str] = field(default_factory=list, compare=False)

    def nquads(self) -> bytes:
        """Every quad as N-Quads, group by group (the bytes of ``exports/ifkg.nq``; joined
        once)."""
        if self._nquads is None:
            self._nquads = b"".join(self.groups.values())
        return self._nquads

    @property
    def n_quads(self) -> int:
        return sum(g.count(b"\n") for g in self.groups.values())

    def graph_counts(self) -> dict[str, int]:
        """Quads per named graph (a line ends with its graph's IRI; no literal holds a raw
        newline, so the count is exact)."""
        return {name: sum(g.count(b" <" + node.value.encode() + b"> .\n")
                          for g in self.groups.values())
                for name, node in self.graphs.items()}

    @property
    def quads(self) -> list[ox.Quad]:
        if self._quads is None:
            self._quads = list(ox.parse(self.nquads(), ox.RdfFormat.N_QUADS))
        return self._quads

    def group_quads(self, key: str) -> list[ox.Quad]:
        data = self.groups.get(key, b"")
        return list(ox.parse(data, ox.RdfFormat.N_QUADS)) if data else []

    def graph_triples(self, name: str) -> list[ox.Triple]:
        """The triples of one named graph, in output order (the ontology: its own group)."""
        node = self.graphs[name]
        quads = self.group_quads("ontology") if name == "ontology" else self.quads
        return [q.triple for q in quads if q.graph_name == node]

    def digests(self) -> dict[str, str]:
        """SHA-256 of each group's bytes."""
        if self._digests is None:
            self._digests = {k: hashlib.sha256(v).hexdigest() for k, v in self.groups.items()}
        return self._digests

    def store(self) -> ox.Store:
        """A pyoxigraph store of every quad (loaded once, shared by the exports that query)."""
        if self._store is None:
            s = ox.Store()
            s.bulk_load(input=self.nquads(), format=ox.RdfFormat.N_QUADS)
            self._store = s
        return self._store

    def triples(self) -> list[ox.Triple]:
        """The union of the named graphs, each triple once, in output order (computed once:
        several exports and the checks ask for it)."""
        if self._triples is None:
            self._triples = list(dict.fromkeys(q.triple for q in self.quads))
        return list(self._triples)


class _Writer:
    def __init__(self, base: str) -> None:
        self.base = base
        self.ns = data_prefixes(base)
        self.quads: set[ox.Quad] = set()
        self.graph = _n(base + "graph/facts")
        self._iris: dict[str, ox.NamedNode] = {}

    def add(self, s: ox.NamedNode, p: str, o: ox.NamedNode | ox.Literal) -> None:
        node = self._iris.get(p)
        if node is None:
            node = self._iris[p] = _n(p)
        self.quads.add(ox.Quad(s, node, o, self.graph))

    def entity(self, eid: str) -> ox.NamedNode:
        key = self.ns["ent"] + eid
        node = self._iris.get(key)
        if node is None:
            node = self._iris[key] = _n(key)
        return node

    def source(self, sid: str) -> ox.NamedNode:
        return _n(self.ns["src"] + sid)


def compile_corpus(corpus: Corpus, ontology: Iterable[ox.Triple], project: Project) -> Compiled:
    """The dataset of the checked corpus, as groups (see :class:`Compiled`).

    Each source compiles on its own into its groups' lines, kept in ``.ifkg-cache/compiled/``
    keyed by the digest of the source's files, the base IRI and this compiler's code, so a
    rebuild compiles only the sources that changed.
    """
    base = project.base
    graphs = {g: _n(base + "graph/" + g) for g in GRAPHS}
    owned = owned_prefixes(base)

    w = _Writer(base)
    w.graph = graphs["ontology"]
    for t in ontology:
        w.quads.add(ox.Quad(t.subject, t.predicate, t.object, w.graph))
    parts: dict[str, list[bytes]] = {"ontology": [_sorted_lines(_nquads(w.quads))]}

    w = _Writer(base)
    w.graph = graphs["facts"]
    _compile_entities(w, corpus)
    for key, data in _split(_nquads(w.quads), owned).items():
        parts.setdefault(key, []).append(data)

    cache_dir = project.root / ".ifkg-cache" / "compiled"
    code = _code_digest()
    fresh, reused = [], []
    for src in corpus.sources.values():
        found, was_cached = _compiled_source(src, graphs, base, owned, code, cache_dir)
        (reused if was_cached else fresh).append(src.id)
        for key, data in found.items():
            parts.setdefault(key, []).append(data)

    with contextlib.suppress(OSError):   # forget the sources that are gone
        for stale in cache_dir.glob("*.pickle"):
            if stale.stem not in corpus.sources:
                stale.unlink()

    groups = {"ontology": _merge(parts.pop("ontology"))}
    for key in sorted(parts):
        groups[key] = _merge(parts[key])
    return Compiled(groups, graphs, base, compiled_sources=fresh, reused_sources=reused)


def _nquads(quads: Iterable[ox.Quad]) -> bytes:
    return ox.serialize(quads, format=ox.RdfFormat.N_QUADS)


def _split(data: bytes, owned: tuple[str, ...]) -> dict[str, bytes]:
    """N-Quads lines (every subject an IRI) by group, each group sorted and unique."""
    lines: dict[bytes, list[bytes]] = {}
    for line in data.splitlines(keepends=True):
        subject = line[1:line.index(b">")]
        found = lines.get(subject)
        if found is None:
            found = lines[subject] = []
        found.append(line)
    by_group: dict[str, list[bytes]] = {}
    for subject, found in lines.items():
        by_group.setdefault(group_of(subject.decode(), owned), []).extend(found)
    return {k: b"".join(sorted(set(v))) for k, v in sorted(by_group.items())}


def _sorted_lines(data: bytes) -> bytes:
    return b"".join(sorted(set(data.splitlines(keepends=True))))


def _merge(chunks: list[bytes]) -> bytes:
    return chunks[0] if len(chunks) == 1 else _sorted_lines(b"".join(chunks))


def _code_digest() -> str:
    h = hashlib.sha256(CACHE_VERSION.encode())
    here = Path(__file__).resolve().parent
    for name in _CODE_MODULES:
        h.update((here / name).read_bytes())
    h.update(ox.__version__.encode())
    return h.hexdigest()


def _source_key(src: Source, base: str, code: str) -> str:
    h = hashlib.sha256(f"{code}\0{base}\0{src.id}\0{src.sha256}\0".encode())
    for f in sorted(p for p in src.dir.rglob("*") if p.is_file()):
        h.update(f.relative_to(src.dir).as_posix().encode() + b"\0")
        h.update(hashlib.sha256(f.read_bytes()).digest())
    return h.hexdigest()


def _compiled_source(src: Source, graphs: dict[str, ox.NamedNode], base: str,
                     owned: tuple[str, ...], code: str, cache_dir: Path
                     ) -> tuple[dict[str, bytes], bool]:
    """The source's groups, and whether they came from the cache."""
    key = _source_key(src, base, code)
    cached = cache_dir / f"{src.id}.pickle"
    with contextlib.suppress(OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError):
        found = pickle.loads(cached.read_bytes())
        if found[0] == key:
            return found[1], True
    w = _Writer(base)
    _compile_source(w, src, graphs)
    groups = _split(_nquads(w.quads), owned)
    with contextlib.suppress(OSError):   # a read-only checkout still builds
        cache_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=cache_dir)
        with os.fdopen(fd, "wb") as fh:
            pickle.dump((key, groups), fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, cached)
    return groups, False


def _compile_entities(w: _Writer, corpus: Corpus) -> None:
    base = w.base
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
