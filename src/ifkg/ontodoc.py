"""``exports/ontology.html``: the ontology as one bilingual, self-contained page.

One section per ifkg term, anchored by its ASCII local name (``#GuaranteeFund``): zh and en
labels and comments side by side, super- and subclasses, domain and range (unions spelt out),
edge kind, alignments to outside vocabularies and every other statement about the term. Inline
CSS, no script, every text escaped (Jinja2 autoescape), terms and values sorted: the same bytes on
every run. pyLODE is not used (it runs zh and en together and drops non-ASCII anchors).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from urllib.parse import quote

import pyoxigraph as ox

from .compile import Compiled
from .namespaces import DCT, EDGE_KINDS, IFKG, OWL, RDF, RDFS, SKOS, XSD, prefixes
from .project import Project
from .publish_meta import ontology_prefixes

LABEL = (SKOS + "prefLabel", RDFS + "label")
COMMENT = (RDFS + "comment", SKOS + "definition")
ALIGN = {
    RDFS + "subClassOf": "⊑",
    RDFS + "subPropertyOf": "⊑",
    OWL + "equivalentClass": "≡",
    OWL + "equivalentProperty": "≡",
    SKOS + "exactMatch": "exact",
    SKOS + "closeMatch": "~",
    SKOS + "broadMatch": "broader",
    SKOS + "narrowMatch": "narrower",
    SKOS + "relatedMatch": "related",
}
# statements shown in their own rows (or not at all)
SHOWN = {RDF + "type", *LABEL, *COMMENT, *ALIGN, RDFS + "domain", RDFS + "range",
         OWL + "inverseOf", RDFS + "isDefinedBy", OWL + "deprecated", DCT + "isReplacedBy"}
KINDS = [
    ("class", OWL + "Class", "类", "Classes"),
    ("object", OWL + "ObjectProperty", "对象属性", "Object properties"),
    ("datatype", OWL + "DatatypeProperty", "数据属性", "Datatype properties"),
    ("annotation", OWL + "AnnotationProperty", "注释属性", "Annotation properties"),
    ("individual", OWL + "NamedIndividual", "个体", "Individuals"),
    ("datatypedef", RDFS + "Datatype", "数据类型", "Datatypes"),
]
_COLOUR = re.compile(r"^#[0-9A-Fa-f]{3,8}$")


@dataclass
class Link:
    text: str
    href: str | None = None
    title: str | None = None
    colour: str | None = None


@dataclass
class Row:
    zh: str
    en: str
    values: list[list[Link]]  # each value: a sequence of links/words (a union is several)


@dataclass
class TermDoc:
    iri: str
    anchor: str
    curie: str
    kind: str
    zh: str
    en: str
    comment_zh: list[str]
    comment_en: list[str]
    deprecated: bool
    rows: list[Row] = field(default_factory=list)


class _Ontology:
    def __init__(self, c: Compiled, project: Project) -> None:
        self.triples = c.graph_triples("ontology")
        self.out: dict[str, dict[str, list[ox.Term]]] = defaultdict(lambda: defaultdict(list))
        self.inv: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        for t in self.triples:
            s = str(t.subject) if isinstance(t.subject, ox.BlankNode) else t.subject.value
            self.out[s][t.predicate.value].append(t.object)
            if isinstance(t.object, ox.NamedNode):
                self.inv[t.object.value][t.predicate.value].append(s)
        pfx = {**ontology_prefixes(project), **prefixes(c.base)}
        self.prefixes = dict(sorted(pfx.items()))
        self.ordered = sorted(pfx.items(), key=lambda kv: len(kv[1]), reverse=True)
        self.local_terms: set[str] = set()

    def key(self, node: ox.Term) -> str:
        return str(node) if isinstance(node, ox.BlankNode) else getattr(node, "value", str(node))

    def values(self, s: str, p: str) -> list[ox.Term]:
        return self.out.get(s, {}).get(p, [])

    def iris(self, s: str, p: str) -> list[str]:
        return sorted(o.value for o in self.values(s, p) if isinstance(o, ox.NamedNode))

    def text(self, s: str, preds: tuple[str, ...], lang: str) -> list[str]:
        for p in preds:
            found = sorted(o.value for o in self.values(s, p)
                           if isinstance(o, ox.Literal) and (o.language or "").lower()
                           .split("-")[0] == lang)
            if found:
                return found
        return []

    def curie(self, iri: str) -> str:
        for name, ns in self.ordered:
            if iri.startswith(ns) and len(iri) > len(ns):
                return f"{name}:{iri[len(ns):]}"
        return iri

    def link(self, iri: str) -> Link:
        if iri.startswith(IFKG) and iri[len(IFKG):] in self.local_terms:
            local = iri[len(IFKG):]
            label = " / ".join(x for x in (self.label(iri, "zh"), self.label(iri, "en")) if x)
            return Link(local, "#" + anchor(local), label or None)
        return Link(self.curie(iri), iri if iri.startswith(("http://", "https://")) else None,
                    iri)

    def label(self, iri: str, lang: str) -> str:
        found = self.text(iri, LABEL, lang)
        return found[0] if found else ""

    def expression(self, node: ox.Term) -> list[Link]:
        """A class or datatype: an IRI, or a blank-node union / intersection spelt out."""
        if isinstance(node, ox.NamedNode):
            return [self.link(node.value)]
        if isinstance(node, ox.Literal):
            return [Link(node.value)]
        k = self.key(node)
        for op, word in ((OWL + "unionOf", " or "), (OWL + "intersectionOf", " and ")):
            members = self.values(k, op)
            if members:
                items = sorted((self.expression(m) for m in self.rdf_list(members[0])),
                               key=lambda links: "".join(x.text for x in links))
                out: list[Link] = []
                for i, links in enumerate(items):
                    if i:
                        out.append(Link(word))
                    out.extend(links)
                return out
        return [Link("(anonymous)")]

    def rdf_list(self, node: ox.Term) -> list[ox.Term]:
        out, seen = [], set()
        while not (isinstance(node, ox.NamedNode) and node.value == RDF + "nil"):
            k = self.key(node)
            if k in seen:
                break
            seen.add(k)
            first = self.values(k, RDF + "first")
            rest = self.values(k, RDF + "rest")
            if not first or not rest:
                break
            out.append(first[0])
            node = rest[0]
        return out

    def value_links(self, o: ox.Term) -> list[Link]:
        if isinstance(o, ox.Literal):
            text = o.value
            if o.language:
                text += f" @{o.language}"
            elif o.datatype.value not in (XSD + "string",):
                text += f" ({self.curie(o.datatype.value)})"
            colour = o.value if _COLOUR.match(o.value) else None
            return [Link(text, colour=colour)]
        return self.expression(o)


def anchor(local: str) -> str:
    """The fragment of a term: its local name when ASCII, else percent-encoded."""
    if re.fullmatch(r"[A-Za-z][A-Za-z0-9_.-]*", local):
        return local
    return "t-" + quote(local, safe="").replace("%", "")


def _kind(onto: _Ontology, iri: str) -> str | None:
    types = set(onto.iris(iri, RDF + "type"))
    for kind, cls, _zh, _en in KINDS:
        if cls in types:
            return kind
    return None


def terms(c: Compiled, project: Project) -> tuple[_Ontology, list[TermDoc]]:
    """Every ifkg term of the ontology, documented, in a stable order."""
    onto = _Ontology(c, project)
    candidates = sorted(s for s in onto.out if s.startswith(IFKG) and len(s) > len(IFKG))
    onto.local_terms = {s[len(IFKG):] for s in candidates if _kind(onto, s)}
    kind_props = {k: IFKG + f"{k}Relation" for k in EDGE_KINDS}
    docs = []
    for iri in candidates:
        kind = _kind(onto, iri)
        if kind is None:
            continue
        local = iri[len(IFKG):]
        deprecated = any(isinstance(o, ox.Literal) and o.value in ("true", "1")
                         for o in onto.values(iri, OWL + "deprecated"))
        doc = TermDoc(iri, anchor(local), onto.curie(iri), kind, onto.label(iri, "zh"),
                      onto.label(iri, "en"), onto.text(iri, COMMENT, "zh"),
                      onto.text(iri, COMMENT, "en"), deprecated)
        rows = doc.rows
        add = _adder(rows)
        add("类型", "Type", [[onto.link(t)] for t in onto.iris(iri, RDF + "type")])
        sub_pred = RDFS + ("subClassOf" if kind == "class" else "subPropertyOf")
        supers = [o for o in onto.iris(iri, sub_pred) if o.startswith(IFKG)]
        subs = sorted(s for s in onto.inv.get(iri, {}).get(sub_pred, []) if s.startswith(IFKG))
        if kind == "class":
            add("上位类", "Superclasses", [[onto.link(o)] for o in supers])
            add("下位类", "Subclasses", [[onto.link(s)] for s in subs])
            dom = sorted(s for s in onto.inv.get(iri, {}).get(RDFS + "domain", [])
                         if s.startswith(IFKG))
            rng = sorted(s for s in onto.inv.get(iri, {}).get(RDFS + "range", [])
                         if s.startswith(IFKG))
            add("以此为定义域的属性", "Domain of", [[onto.link(s)] for s in dom])
            add("以此为值域的属性", "Range of", [[onto.link(s)] for s in rng])
        elif kind in ("object", "datatype", "annotation"):
            add("上位属性", "Superproperties", [[onto.link(o)] for o in supers])
            add("下位属性", "Subproperties", [[onto.link(s)] for s in subs])
            edge = [k for k, p in kind_props.items() if p == iri or _reaches(onto, iri, p)]
            add("边的类型", "Edge kind", [[onto.link(kind_props[k])] for k in edge])
            add("定义域", "Domain", sorted((onto.expression(o) for o in
                                            onto.values(iri, RDFS + "domain")), key=_text))
            add("值域", "Range", sorted((onto.expression(o) for o in
                                          onto.values(iri, RDFS + "range")), key=_text))
            add("逆属性", "Inverse of", [[onto.link(o)] for o in onto.iris(iri, OWL + "inverseOf")])
        align = []
        for pred, sign in ALIGN.items():
            for o in onto.iris(iri, pred):
                if not o.startswith(IFKG):
                    align.append([Link(sign + " "), onto.link(o)])
        add("外部对齐", "Alignments", sorted(align, key=_text))
        if deprecated:
            add("已停用，由此取代", "Deprecated, replaced by",
                [[onto.link(o)] for o in onto.iris(iri, DCT + "isReplacedBy")] or [[Link("—")]])
        for pred in sorted(onto.out.get(iri, {})):
            if pred in SHOWN:
                continue
            vals = sorted((onto.value_links(o) for o in onto.values(iri, pred)), key=_text)
            en = onto.label(pred, "en")
            rows.append(Row(onto.label(pred, "zh"),
                            f"{en} ({onto.curie(pred)})" if en else onto.curie(pred), vals))
        docs.append(doc)
    return onto, docs


def _adder(rows: list[Row]):
    def add(zh: str, en: str, values: list[list[Link]]) -> None:
        if values:
            rows.append(Row(zh, en, values))
    return add


def _text(links: list[Link]) -> str:
    return "".join(x.text for x in links)


def _reaches(onto: _Ontology, start: str, target: str) -> bool:
    seen, todo = set(), [start]
    while todo:
        node = todo.pop()
        for o in onto.iris(node, RDFS + "subPropertyOf"):
            if o == target:
                return True
            if o not in seen:
                seen.add(o)
                todo.append(o)
    return False


def ontology_html(c: Compiled, project: Project) -> bytes:
    """The page, rendered from ``templates/ontology.html``."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    onto, docs = terms(c, project)
    head = next((s for s in sorted(onto.out)
                 if OWL + "Ontology" in onto.iris(s, RDF + "type")), None)
    meta = {}
    if head:
        meta = {
            "iri": head,
            "zh": (onto.text(head, (DCT + "title", *LABEL), "zh") or [""])[0],
            "en": (onto.text(head, (DCT + "title", *LABEL), "en") or [""])[0],
            "version": ", ".join(o.value for o in onto.values(head, OWL + "versionInfo")),
            "version_iri": ", ".join(onto.iris(head, OWL + "versionIRI")),
            "licence": onto.iris(head, DCT + "license"),
            "issued": ", ".join(sorted(o.value for o in onto.values(head, DCT + "issued"))),
            "description_zh": _paragraphs(onto.text(head, (DCT + "description", *COMMENT), "zh")),
            "description_en": _paragraphs(onto.text(head, (DCT + "description", *COMMENT), "en")),
        }
    sections = [(kind, zh, en, [d for d in docs if d.kind == kind]) for kind, _c, zh, en in KINDS]
    env = Environment(loader=PackageLoader("ifkg", "templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    page = env.get_template("ontology.html").render(
        meta=meta, sections=[s for s in sections if s[3]], prefixes=onto.prefixes,
        count=len(docs))
    return page.encode()


def _paragraphs(texts: list[str]) -> list[str]:
    return [p.strip() for t in texts for p in re.split(r"\n\s*\n", t) if p.strip()]
