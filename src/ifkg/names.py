"""Resolve what a user types (a zh or en name, an alias or an id) to an entity IRI."""

from __future__ import annotations

import difflib

import pyoxigraph as ox

from .errors import IfkgError
from .evidence import fold
from .namespaces import RDFS, SKOS

_NAMES_QUERY = f"""
SELECT ?e ?name WHERE {{
  {{ ?e <{SKOS}prefLabel> ?name }} UNION {{ ?e <{SKOS}altLabel> ?name }}
  FILTER(STRSTARTS(STR(?e), ?prefix))
}}"""


def entity_names(store: ox.Store, base: str) -> dict[str, dict[str, str]]:
    """Folded, lower-cased name → {entity IRI: the name as written}; ids count as names too.

    Chinese names and aliases come before English ones, so a zh substring never loses to an
    English label that happens to quote it."""
    prefix = base + "id/entity/"
    out: dict[str, dict[str, str]] = {}
    q = _NAMES_QUERY.replace("?prefix", f'"{prefix}"')
    for row in store.query(q, use_default_graph_as_union=True):
        iri = row["e"].value
        name = row["name"].value
        for key, shown in ((fold(name).lower(), name), (iri[len(prefix):], iri[len(prefix):])):
            out.setdefault(key, {}).setdefault(iri, shown)
    return out


def _zh_names(store: ox.Store, base: str) -> dict[str, set[str]]:
    prefix = base + "id/entity/"
    out: dict[str, set[str]] = {}
    q = _NAMES_QUERY.replace("?prefix", f'"{prefix}"')
    for row in store.query(q, use_default_graph_as_union=True):
        if row["name"].language and row["name"].language.lower().startswith("zh"):
            out.setdefault(fold(row["name"].value).lower(), set()).add(row["e"].value)
    return out


def label(store: ox.Store, iri: str, lang: str = "zh") -> str:
    """The entity's prefLabel in ``lang`` (else any label, else the IRI)."""
    best = None
    for q in store.quads_for_pattern(ox.NamedNode(iri), ox.NamedNode(SKOS + "prefLabel"), None):
        if isinstance(q.object, ox.Literal):
            if q.object.language == lang:
                return q.object.value
            best = best or q.object.value
    if best is None:
        for q in store.quads_for_pattern(ox.NamedNode(iri), ox.NamedNode(RDFS + "label"), None):
            return q.object.value
    return best or iri


def resolve(store: ox.Store, name: str, base: str) -> str:
    """The IRI of the one entity called ``name``.

    Exact names, aliases and ids win; otherwise a unique entity whose Chinese name contains
    what was typed, then one whose English name does. An unknown name raises IfkgError
    suggesting the closest names; an ambiguous one lists the candidates.
    """
    if name.startswith(base + "id/entity/"):
        return name
    names = entity_names(store, base)
    key = fold(name).lower()
    hits = set(names.get(key, {}))
    if not hits and key:
        for table in (_zh_names(store, base), {k: set(v) for k, v in names.items()}):
            partial = {i for k, v in table.items() if key in k for i in v}
            if partial:
                hits = partial
                break
    if not hits:
        shown = {k: next(iter(v.values())) for k, v in names.items()}
        close = difflib.get_close_matches(key, list(shown), n=5, cutoff=0.4)
        hint = f"; did you mean: {', '.join(shown[c] for c in close)}?" if close else ""
        raise IfkgError(f"unknown entity '{name}'{hint}")
    if len(hits) > 1:
        cands = sorted(f"{label(store, i)} ({i.rsplit('/', 1)[-1]})" for i in hits)
        raise IfkgError(f"ambiguous name '{name}': {'; '.join(cands)}")
    return next(iter(hits))
