"""Small shared helpers for pyoxigraph terms and SELECT results."""

from __future__ import annotations

import pyoxigraph as ox


def iri(value: str) -> ox.NamedNode:
    """A named node for ``value``."""
    return ox.NamedNode(value)


def lit(value: str, lang: str | None = None, dtype: str | None = None) -> ox.Literal:
    """A literal with a language tag, or a datatype IRI, or a plain string."""
    if lang:
        return ox.Literal(value, language=lang)
    if dtype:
        return ox.Literal(value, datatype=ox.NamedNode(dtype))
    return ox.Literal(value)


def local_name(value: str) -> str:
    """The part of an IRI after its last ``#`` or ``/``."""
    return value.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def select(store: ox.Store, query: str) -> list[dict[str, str | None]]:
    """Rows of a SELECT over the union of the store's graphs, as plain values (None if unbound)."""
    res = store.query(query, use_default_graph_as_union=True)
    names = [v.value for v in res.variables]
    return [{n: (None if row[n] is None else row[n].value) for n in names} for row in res]
