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


def entity_names(store: ox.Store, base: str) -> dict[str, set[str]]:
    """Folded, lower-cased name → entity IRIs; ids count as names too."""
    prefix = base + "id/entity/"
    out: dict[str, set[str]] = {}
    q = _NAMES_QUERY.replace("?prefix", f'"{prefix}"')
    for row in store.query(q):
        iri = row["e"].value
        for key in (fold(row["name"].value).lower(), iri[len(prefix):]):
            out.setdefault(key, set()).add(iri)
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

    An unknown name raises IfkgError suggesting the closest names; an ambiguous one lists the
    candidates.
    """
    names = entity_names(store, base)
    key = fold(name).lower()
    if name.startswith(base + "id/entity/"):
        return name
    hits = names.get(key)
    if not hits:
        # a unique entity whose name contains what was typed
        partial = {i for k, v in names.items() if key and key in k for i in v}
        if len(partial) == 1:
            return partial.pop()
        if len(partial) > 1:
            hits = partial
    if not hits:
        close = difflib.get_close_matches(key, list(names), n=5, cutoff=0.4)
        hint = f"; did you mean: {', '.join(close)}?" if close else ""
        raise IfkgError(f"unknown entity '{name}'{hint}")
    if len(hits) > 1:
        cands = sorted(f"{label(store, i)} ({i.rsplit('/', 1)[-1]})" for i in hits)
        raise IfkgError(f"ambiguous name '{name}': {'; '.join(cands)}")
    return next(iter(hits))
