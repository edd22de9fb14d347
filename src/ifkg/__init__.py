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
    the curated files in memory. Read-only for SPARQL: every query, prepared or not, passes
    the checks of ``ifkg.sparql`` (no UPDATE, LOAD or SERVICE; FROM only the dataset's graphs).
    """
    from pathlib import Path

    from .build import open_store
    from .project import Project, default_project
    from .sparql import safe_dataset

    project = default_project(base) if root is None else Project(Path(root), base or
                                                                 default_project().base)
    return safe_dataset(open_store(project), project.base)
