"""ifkg: the innovation-finance knowledge graph.

>>> import ifkg
>>> g = ifkg.load()          # the built graph as an rdflib Dataset (Oxigraph-backed)
>>> G = ifkg.network()       # its entities and relations as a networkx MultiDiGraph
"""

from __future__ import annotations

__version__ = "0.1.0"

from . import network  # callable: ifkg.network(kind=...) -> networkx.MultiDiGraph
from .errors import IfkgError

__all__ = ["IfkgError", "load", "network", "__version__"]


def load(root: str | None = None, base: str | None = None):  # -> rdflib.Dataset
    """The built dataset as an rdflib ``Dataset`` backed by oxrdflib's Oxigraph store.

    The default graph is the union of the named graphs (ontology, facts, provenance), so
    ``g.query(...)`` sees everything. Reads ``exports/`` when it is current, otherwise compiles
    the curated files in memory.
    """
    from pathlib import Path

    import pyoxigraph as ox
    import rdflib

    from .build import open_store
    from .project import Project, default_project

    project = default_project(base) if root is None else Project(Path(root), base or
                                                                 default_project().base)
    store = open_store(project)
    ds = rdflib.Dataset(store="Oxigraph", default_union=True)
    data = ox.serialize(store, format=ox.RdfFormat.N_QUADS)
    ds.parse(data=data, format="ox-nquads")
    return ds
