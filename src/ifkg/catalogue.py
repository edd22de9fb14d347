"""The catalogue of named research queries shipped with the package (``ifkg/queries/*.rq``).

Each file starts with a header of comment lines::

    # title: Guarantee institutions: balances, growth and tech share
    # title_zh: 担保机构：在保余额、增速与科技占比
    # description: …
    # param: entity — the institution: zh/en name, alias or id (type entity; default 市担保基金)

A parameter names a variable of the query. Its value is turned into one RDF term (an entity
IRI resolved with :func:`ifkg.names.resolve`, an ontology class, a literal of the declared
type) and substituted into the parsed query by the engine: user text never becomes query text,
so a value holding ``}`` or quotes cannot change what the query does. A parameter without a
default stays unbound when not given (the query then covers everything).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import pyoxigraph as ox

from .errors import IfkgError
from .namespaces import IFKG, OWL, RDF, XSD

PARAM_TYPES = ("entity", "class", "iri", "string", "integer", "decimal", "date", "year")
_HEADER = re.compile(r"^#\s*(title|title_zh|description|param)\s*:\s*(.*)$")
_PARAM = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*[—–-]+\s*(?P<meaning>.*?)\s*"
                    r"(?:\((?P<opts>[^()]*)\))?\s*$")


@dataclass(frozen=True)
class Param:
    name: str
    meaning: str
    type: str = "string"
    default: str | None = None


@dataclass(frozen=True)
class CatalogueQuery:
    name: str
    title: str
    title_zh: str
    description: str
    text: str
    params: tuple[Param, ...] = field(default_factory=tuple)

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        known = ", ".join(p.name for p in self.params) or "none"
        raise IfkgError(f"query '{self.name}' has no parameter '{name}' (parameters: {known})")


def parse_header(name: str, text: str, strict: bool = True) -> CatalogueQuery:
    """Read the ``# key: value`` header of a catalogue file; IfkgError names file and line.

    With ``strict=False`` (a researcher's own query file) titles may be missing.
    """
    fields: dict[str, str] = {}
    params: list[Param] = []
    fname = f"{name}.rq"
    entries: list[list] = []  # [key, value, line]; "#   more text" continues the entry above
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.startswith("#"):
            if line.strip():
                break
            continue
        m = _HEADER.match(line)
        if m:
            entries.append([m.group(1), m.group(2).strip(), lineno])
        elif entries and line.startswith("#  ") and line[1:].strip():
            entries[-1][1] += " " + line[1:].strip()
        else:
            entries.append([None, "", lineno])  # an ordinary comment ends the entry above
    for key, value, lineno in entries:
        if key is None:
            continue
        if key != "param":
            fields[key] = f"{fields[key]} {value}" if key in fields else value
            continue
        pm = _PARAM.match(value)
        if not pm:
            raise IfkgError("a parameter reads '# param: name — meaning (type T; default D)'",
                            fname, lineno)
        ptype, default = "string", None
        meaning, opts = pm.group("meaning"), pm.group("opts") or ""
        if opts and not re.match(r"^\s*(type|default)\s", opts):
            meaning, opts = f"{meaning} ({opts})", ""
        for opt in opts.split(";"):
            key_, _, val = opt.strip().partition(" ")
            if key_ == "type":
                ptype = val.strip()
            elif key_ == "default":
                default = val.strip()
        if ptype not in PARAM_TYPES:
            raise IfkgError(f"unknown parameter type '{ptype}' (one of {', '.join(PARAM_TYPES)})",
                            fname, lineno)
        params.append(Param(pm.group("name"), meaning, ptype, default))
    for key in ("title", "title_zh", "description"):
        if strict and not fields.get(key):
            raise IfkgError(f"catalogue query lacks '# {key}:' in its header", fname, 1)
    return CatalogueQuery(name, fields.get("title", name), fields.get("title_zh", ""),
                          fields.get("description", ""), text, tuple(params))


def catalogue() -> dict[str, CatalogueQuery]:
    """Every catalogue query by name, in name order."""
    folder = resources.files("ifkg") / "queries"
    out = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".rq"):
            name = entry.name[:-3]
            out[name] = parse_header(name, entry.read_text(encoding="utf-8"))
    return out


def get(name: str) -> CatalogueQuery:
    """The catalogue query called ``name``; IfkgError lists the close names otherwise."""
    import difflib

    cat = catalogue()
    if name in cat:
        return cat[name]
    close = difflib.get_close_matches(name, list(cat), n=3, cutoff=0.5)
    hint = f"; did you mean: {', '.join(close)}?" if close else "; `ifkg queries` lists them"
    raise IfkgError(f"no catalogue query called '{name}'{hint}")


def parse_assignments(items: list[str]) -> dict[str, str]:
    """``["k=v", …]`` from the command line into a dict; IfkgError for a malformed item."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise IfkgError(f"--param wants key=value, not '{item}'")
        out[key.strip()] = value
    return out


def _class_iri(store: ox.Store, value: str, base: str) -> ox.NamedNode:
    from .namespaces import prefixes

    iri = value
    if value.startswith("<") and value.endswith(">"):
        iri = value[1:-1]
    elif ":" in value and not value.startswith("http"):
        pfx, _, local = value.partition(":")
        ns = prefixes(base).get(pfx)
        if ns is None:
            raise IfkgError(f"unknown prefix '{pfx}' in class '{value}'")
        iri = ns + local
    elif ":" not in value:
        iri = IFKG + value
    node = ox.NamedNode(iri)
    if not any(store.quads_for_pattern(node, ox.NamedNode(RDF + "type"),
                                       ox.NamedNode(OWL + "Class"), None)):
        import difflib

        known = sorted(q.subject.value[len(IFKG):] for q in store.quads_for_pattern(
            None, ox.NamedNode(RDF + "type"), ox.NamedNode(OWL + "Class"), None)
            if isinstance(q.subject, ox.NamedNode) and q.subject.value.startswith(IFKG))
        close = difflib.get_close_matches(value, known, n=3, cutoff=0.5)
        hint = f"; did you mean: {', '.join(close)}?" if close else ""
        raise IfkgError(f"unknown class '{value}'{hint}")
    return node


_LITERAL_TYPES = {
    "integer": (XSD + "integer", re.compile(r"^[+-]?\d+$")),
    "decimal": (XSD + "decimal", re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")),
    "date": (XSD + "date", re.compile(r"^\d{4}-\d{2}-\d{2}$")),
    "year": (XSD + "gYear", re.compile(r"^\d{4}$")),
}


def term_for(store: ox.Store, param: Param, value: str, base: str) -> Any:
    """The one RDF term a parameter value stands for (never query text)."""
    from .names import resolve

    if param.type == "entity":
        return ox.NamedNode(resolve(store, value, base))
    if param.type == "class":
        return _class_iri(store, value, base)
    if param.type == "iri":
        try:
            return ox.NamedNode(value.strip("<>"))
        except ValueError as exc:
            raise IfkgError(f"parameter {param.name}: not an IRI: {exc}") from None
    if param.type in _LITERAL_TYPES:
        dtype, pattern = _LITERAL_TYPES[param.type]
        if not pattern.match(value.strip()):
            raise IfkgError(f"parameter {param.name} wants a {param.type}, not '{value}'")
        return ox.Literal(value.strip(), datatype=ox.NamedNode(dtype))
    return ox.Literal(value)


def bindings(store: ox.Store, query: CatalogueQuery, given: dict[str, str],
             base: str) -> dict[str, Any]:
    """Variable name → RDF term for every given parameter and every default."""
    out: dict[str, Any] = {}
    for key in given:
        query.param(key)  # unknown names are an error
    for p in query.params:
        value = given.get(p.name, p.default)
        if value is None or value == "":
            continue
        out[p.name] = term_for(store, p, value, base)
    return out
