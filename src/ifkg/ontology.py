"""What the ontology declares: classes, relation properties and the edge kind of each property.

Code never hard-codes which predicates carry money or collaboration; it asks this module, which
reads the ``rdfs:subPropertyOf`` hierarchy of ``ontology/ifkg.ttl``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from .errors import IfkgError
from .namespaces import EDGE_KINDS, IFKG, OWL, RDF, RDFS


@dataclass(frozen=True)
class OntologyTerms:
    classes: frozenset[str]
    relations: frozenset[str]
    kinds: dict[str, frozenset[str]]  # relation local name → edge kinds

    def kind_of(self, prop: str) -> frozenset[str]:
        return self.kinds.get(prop, frozenset())


def parse_ontology(path: Path) -> list[ox.Triple]:
    """Parse the ontology Turtle; a syntax error is an IfkgError with line and column."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise IfkgError(f"cannot read ontology: {exc.strerror}", path) from None
    cached = _PARSED.get(data)
    if cached is not None:   # a build reads the ontology twice; canonical labels cost seconds
        return list(cached)
    try:
        triples = [q.triple for q in ox.parse(data, ox.RdfFormat.TURTLE)]
    except SyntaxError as exc:
        line = getattr(exc, "lineno", None)
        col = getattr(exc, "offset", None)
        raise IfkgError(f"invalid Turtle: {exc.msg if hasattr(exc, 'msg') else exc}", path, line,
                        col) from None
    result = canonical_blank_nodes(triples)
    _PARSED.clear()
    _PARSED[data] = result
    return list(result)


_PARSED: dict[bytes, list[ox.Triple]] = {}   # the last ontology parsed, by its bytes


def canonical_blank_nodes(triples: list[ox.Triple]) -> list[ox.Triple]:
    """Relabel blank nodes (OWL class unions, lists) canonically, so every export is
    byte-identical across runs: pyoxigraph's parser labels them at random.
    rdflib's RDF canonicalisation (``to_canonical_graph``) picks the labels."""
    if not any(isinstance(t.subject, ox.BlankNode) or isinstance(t.object, ox.BlankNode)
               for t in triples):
        return triples
    import rdflib
    from rdflib.compare import to_canonical_graph

    g = rdflib.Graph()
    g.parse(data=ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES), format="nt")
    canon = to_canonical_graph(g).serialize(format="nt", encoding="utf-8")
    return [q.triple for q in ox.parse(canon, ox.RdfFormat.N_TRIPLES)]


def read_terms(path: Path) -> OntologyTerms:
    """Collect the ifkg classes and relation properties declared in ``path``."""
    triples = parse_ontology(path)
    store = ox.Store()
    store.bulk_extend(ox.Quad(t.subject, t.predicate, t.object) for t in triples)
    local = lambda n: n.value[len(IFKG):]  # noqa: E731
    classes = {
        local(q.subject)
        for q in store.quads_for_pattern(None, ox.NamedNode(RDF + "type"),
                                         ox.NamedNode(OWL + "Class"))
        if isinstance(q.subject, ox.NamedNode) and q.subject.value.startswith(IFKG)
    }
    kinds: dict[str, set[str]] = {}
    for kind in EDGE_KINDS:
        q = f"""SELECT DISTINCT ?p WHERE {{ ?p <{RDFS}subPropertyOf>+ <{IFKG}{kind}Relation> }}"""
        for row in store.query(q):
            p = row["p"]
            if isinstance(p, ox.NamedNode) and p.value.startswith(IFKG):
                kinds.setdefault(local(p), set()).add(kind)
    return OntologyTerms(frozenset(classes), frozenset(kinds),
                         {k: frozenset(v) for k, v in kinds.items()})
