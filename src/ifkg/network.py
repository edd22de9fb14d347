"""The graph as NetworkX sees it: entities as nodes, relations as edges, and algorithms on it.

:func:`project_graph` turns the built RDF dataset into a :class:`networkx.MultiDiGraph`. Only
entities become nodes; measurements, evidence, statements, indicators and sources become
attributes of the nodes and edges they describe, so they never distort a ranking. Which kind an
edge is (funding, collaboration, governance, place) is read from the ontology's
``rdfs:subPropertyOf`` hierarchy.

The algorithms are plain functions of such a graph:

* :func:`find_paths` lists paths between two entities. Funding edges run from the provider of
  money, credit or a guarantee to its receiver, so a funding path never walks an edge backwards;
  collaboration and ``any`` paths ignore direction.
* :func:`neighbourhood` cuts out the entities within a few hops of one entity.
* :func:`rank` orders entities by degree, betweenness or PageRank.
* :func:`communities` groups entities by modularity (Louvain, fixed seed).

The module itself is callable: ``ifkg.network(kind="funding")`` is :func:`load_network`, the
projection of the project's built graph (a function named ``network`` in the package would be
replaced by this module the moment it is imported).
"""

from __future__ import annotations

import contextlib
import gc
import sys
import types
from collections import deque
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from .errors import IfkgError
from .namespaces import EDGE_KINDS, IFKG, OA, RDF, RDFS, SCHEMA, SKOS
from .rdfterms import local_name as _local
from .rdfterms import select as _rows

if TYPE_CHECKING:
    import networkx as nx
    import pyoxigraph as ox

ANY = "any"
# Kinds whose paths respect edge direction: money, credit and guarantees flow one way only.
DIRECTED_KINDS = frozenset({"funding"})
RANK_MEASURES = ("degree", "betweenness", "pagerank")
EXACT_BETWEENNESS_MAX = 2000
BETWEENNESS_SAMPLE = 500
COMMUNITY_SEED = 42

Edge = tuple[str, str, str]  # (u, v, key) exactly as stored in the MultiDiGraph

# ---------------------------------------------------------------------------------------------
# projection






def _prefixes() -> str:
    return (f"PREFIX ifkg: <{IFKG}> PREFIX rdf: <{RDF}> PREFIX rdfs: <{RDFS}> "
            f"PREFIX skos: <{SKOS}> PREFIX oa: <{OA}> PREFIX schema: <{SCHEMA}>\n")


def _select(store: ox.Store, query: str) -> list[tuple[str | None, ...]]:
    """Rows of a SELECT as tuples of plain values in the order of its variables (None if
    unbound). Reading a solution as a sequence is cheaper than by name (``rdfterms.select``):
    at 1M triples the projection's 90,000 rows took 0.7 s as dicts, 0.15 s as tuples."""
    return [tuple(None if t is None else t.value for t in row)
            for row in store.query(_prefixes() + query, use_default_graph_as_union=True)]


def _entity_rows(store: ox.Store, base: str) -> list[tuple[str | None, ...]]:
    """(entity, class) for every type of every entity in the facts graph."""
    return _select(store, f"""
        SELECT ?e ?c WHERE {{
          GRAPH <{base}graph/facts> {{ ?e rdf:type ?c }}
          FILTER(STRSTARTS(STR(?e), "{base}id/entity/"))
        }}""")


def _label_rows(store: ox.Store, base: str) -> list[tuple[str | None, ...]]:
    """(entity, label, language, alias): a preferred label with its language, or an alias."""
    return _select(store, f"""
        SELECT ?e ?label ?lang ?alt WHERE {{
          GRAPH <{base}graph/facts> {{
            {{ ?e skos:prefLabel ?l . BIND(STR(?l) AS ?label) BIND(LANG(?l) AS ?lang) }}
            UNION {{ ?e skos:altLabel ?a . BIND(STR(?a) AS ?alt) }}
          }}
          FILTER(STRSTARTS(STR(?e), "{base}id/entity/"))
        }}""")


def _edge_rows(store: ox.Store, base: str) -> list[tuple[str | None, ...]]:
    """(s, p, o) for every triple of the facts graph between two entity IRIs, sorted by s, o,
    p (whether both ends are typed entities is for the caller to check: a join on their types
    here doubled the query's time)."""
    rows = _select(store, f"""
        SELECT ?s ?p ?o WHERE {{ GRAPH <{base}graph/facts> {{
          ?s ?p ?o FILTER(STRSTARTS(STR(?s), "{base}id/entity/")
                          && STRSTARTS(STR(?o), "{base}id/entity/")) }} }}""")
    return sorted(rows, key=lambda r: (r[0], r[2], r[1]))


def _statement_rows(store: ox.Store, base: str) -> list[tuple[str | None, ...]]:
    """(statement, s, p, o, sentence, exact, date, source) for every statement with evidence,
    sorted (by statement, then sentence and quote: the first row of a statement is its first
    piece of evidence)."""
    rows = _select(store, f"""
        SELECT ?st ?s ?p ?o ?sentence ?exact ?date ?source WHERE {{
          GRAPH <{base}graph/provenance> {{
            ?st rdf:type ifkg:Statement ; rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o ;
                ifkg:evidence ?ev .
            ?ev ifkg:sentence ?sentence ; oa:hasSelector ?sel .
            ?sel oa:exact ?exact .
            OPTIONAL {{ ?ev oa:hasSource ?source }}
            OPTIONAL {{ ?st ifkg:date ?date }}
          }}
        }}""")
    return sorted(rows, key=lambda r: tuple(x or "" for x in r))


def _figure_rows(store: ox.Store, base: str) -> list[tuple[str | None, ...]]:
    """(measurement, about, indicator, indicator_en, reported, value, unit, qualifier, asOf,
    period, sentence, exact), sorted by the entity it is about, the indicator's Chinese name
    (none first) and the measurement; a measurement with several pieces of evidence comes once,
    with the first (by sentence and quote)."""
    rows = _select(store, f"""
        SELECT ?m ?about ?indicator ?indicator_en ?reported ?value ?unit ?qualifier ?asOf ?period
          WHERE {{ GRAPH <{base}graph/facts> {{
            ?m rdf:type ifkg:Measurement ; ifkg:about ?about ; ifkg:indicator ?ind ;
               ifkg:reportedAs ?reported .
            OPTIONAL {{ ?m schema:value ?value }}
            OPTIONAL {{ ?m ifkg:unit ?unit }}
            OPTIONAL {{ ?m ifkg:qualifier ?qualifier }}
            OPTIONAL {{ ?m ifkg:asOf ?asOf }}
            OPTIONAL {{ ?m ifkg:period ?period }}
            OPTIONAL {{ ?ind skos:prefLabel ?indicator FILTER(LANG(?indicator) = "zh") }}
            OPTIONAL {{ ?ind skos:prefLabel ?indicator_en FILTER(LANG(?indicator_en) = "en") }}
          }} }}""")
    # the evidence in a query of its own: joined into the one above it took 0.33 s, not 0.12 s
    evidence: dict[str | None, tuple[str | None, str | None]] = {}
    for m, sentence, exact in sorted(_select(store, f"""
            SELECT ?m ?sentence ?exact WHERE {{
              GRAPH <{base}graph/facts> {{ ?m rdf:type ifkg:Measurement }}
              GRAPH <{base}graph/provenance> {{
                ?m ifkg:evidence ?ev . ?ev ifkg:sentence ?sentence ; oa:hasSelector ?sel .
                ?sel oa:exact ?exact }} }}"""), key=lambda r: tuple(x or "" for x in r)):
        evidence.setdefault(m, (sentence, exact))
    rows.sort(key=lambda r: (r[1], r[2] is not None, r[2] or "", r[0], *(x or "" for x in r[3:])))
    return [(*r, *evidence.get(r[0], (None, None))) for r in rows]


def _ontology_rows(store: ox.Store, base: str) -> tuple[dict[str, set[str]], dict[str, dict],
                                                        dict[str, set[str]], dict[str, str]]:
    """Edge kinds of each property, property labels, the ancestors of each class, and the
    colour of each edge kind."""
    kinds: dict[str, set[str]] = {}
    for kind in EDGE_KINDS:
        for r in _rows(store, _prefixes() + f"""
                SELECT DISTINCT ?p WHERE {{ GRAPH <{base}graph/ontology> {{
                  ?p rdfs:subPropertyOf+ ifkg:{kind}Relation }} }}"""):
            kinds.setdefault(r["p"], set()).add(kind)
    labels: dict[str, dict[str, str]] = {}
    for r in _rows(store, _prefixes() + f"""
            SELECT ?p ?label ?lang WHERE {{ GRAPH <{base}graph/ontology> {{
              {{ ?p rdfs:label ?l }} UNION {{ ?p skos:prefLabel ?l }}
              ?p rdf:type ?t FILTER(?t IN (<http://www.w3.org/2002/07/owl#ObjectProperty>,
                                          rdf:Property))
              BIND(STR(?l) AS ?label) BIND(LANG(?l) AS ?lang) }} }} ORDER BY ?p ?lang ?label"""):
        labels.setdefault(r["p"], {}).setdefault(r["lang"] or "", r["label"])
    colours = {kind: r["colour"] for kind in EDGE_KINDS for r in _rows(store, _prefixes() + f"""
        SELECT ?colour WHERE {{ GRAPH <{base}graph/ontology> {{
          ifkg:{kind}Relation ifkg:edgeKindColour ?colour }} }}""")}
    ancestors: dict[str, set[str]] = {}
    for r in _rows(store, _prefixes() + f"""
            SELECT ?c ?a WHERE {{ GRAPH <{base}graph/ontology> {{
              ?c rdf:type <http://www.w3.org/2002/07/owl#Class> ; rdfs:subClassOf* ?a }}
              FILTER(isIRI(?c) && isIRI(?a) && STRSTARTS(STR(?c), "{IFKG}")
                     && STRSTARTS(STR(?a), "{IFKG}")) }}"""):
        ancestors.setdefault(_local(r["c"]), {_local(r["c"])}).add(_local(r["a"]))
    return kinds, labels, ancestors, colours


def project_graph(store: ox.Store, base: str, kind: str = ANY) -> nx.MultiDiGraph:
    """Project the built RDF dataset onto a NetworkX multigraph of entities.

    Parameters
    ----------
    store : pyoxigraph.Store
        The built dataset (``ifkg.build.open_store``) with its three named graphs.
    base : str
        The base IRI the dataset was built with.
    kind : str
        ``"any"`` keeps every entity and every relation. A kind (``"funding"``,
        ``"collaboration"``, ``"governance"``, ``"place"``) keeps only the relations of that kind
        and the entities they connect.

    Returns
    -------
    networkx.MultiDiGraph
        Nodes are entity IRIs with attributes ``iri``, ``id``, ``classes`` (ontology class local
        names), ``zh``, ``en``, ``aliases`` and ``figures`` (one dict per measurement about the
        entity: ``indicator``, ``indicator_en``, ``reported``, ``value``, ``unit``,
        ``qualifier``, ``asOf``, ``period``, ``sentence``, ``exact``, ``measurement``). Each
        relation triple ``s p o`` of the facts graph between two entities is one edge ``(s, o,
        key)`` whose key is the predicate's local name, with attributes ``predicate`` (local
        name), ``predicate_iri``, ``label_zh``/``label_en`` (the property's labels), ``kinds``
        (frozenset of edge kinds from the ontology), and from the statement that states it
        ``statement``, ``sentence``, ``exact``, ``date`` and ``source``; ``evidence`` lists
        every statement when several sources state the same triple. ``G.graph`` holds ``base``,
        ``kind``, ``class_ancestors`` (class → itself and its ifkg superclasses) and
        ``kind_colours`` (edge kind → ``ifkg:edgeKindColour``).
    """
    import networkx as nx

    if kind != ANY and kind not in EDGE_KINDS:
        raise IfkgError(f"unknown edge kind '{kind}' (use one of: {', '.join(kind_names())})")
    prop_kinds, prop_labels, ancestors, colours = _ontology_rows(store, base)
    G = nx.MultiDiGraph(base=base, kind=kind, class_ancestors=ancestors, kind_colours=colours)

    with paused_gc():
        _add_entities(G, store, base)
        _add_relations(G, store, base, kind, prop_kinds, prop_labels)
    if kind != ANY:
        G.remove_nodes_from([n for n in list(G) if G.degree(n) == 0])
    return G


def _add_entities(G: nx.MultiDiGraph, store: ox.Store, base: str) -> None:
    """Every entity of the facts graph as a node, with its names and figures."""
    classes: dict[str, set[str]] = {}
    for e, c in _entity_rows(store, base):
        cls = classes.setdefault(e, set())
        if c.startswith(IFKG):
            cls.add(_local(c))
    names: dict[str, dict[str, Any]] = {e: {"zh": None, "en": None, "aliases": []}
                                        for e in classes}
    for e, label, lang, alt in _label_rows(store, base):
        n = names.get(e)
        if n is None:
            continue
        if alt is not None:
            n["aliases"].append(alt)
        elif lang in ("zh", "en") and n[lang] is None:
            n[lang] = label
    figures: dict[str, list[dict[str, str | None]]] = {}
    seen_meas: set[str] = set()
    for (m, about, indicator, indicator_en, reported, value, unit, qualifier, as_of, period,
         sentence, exact) in _figure_rows(store, base):
        if m in seen_meas:  # a second value of an optional property: keep the first
            continue
        seen_meas.add(m)
        figures.setdefault(about, []).append(
            {"indicator": indicator, "indicator_en": indicator_en, "reported": reported,
             "value": value, "qualifier": qualifier, "asOf": as_of, "period": period,
             "sentence": sentence, "exact": exact, "unit": _local(unit) if unit else None,
             "measurement": m})
    start = len(base + "id/entity/")
    for e in sorted(classes):
        n = names[e]
        G.add_node(e, iri=e, id=e[start:], classes=sorted(classes[e]),
                   zh=n["zh"] or n["en"] or _local(e), en=n["en"] or n["zh"] or _local(e),
                   aliases=sorted(set(n["aliases"])), figures=figures.get(e, []))


def _add_relations(G: nx.MultiDiGraph, store: ox.Store, base: str, kind: str,
                   prop_kinds: dict[str, set[str]], prop_labels: dict[str, dict]) -> None:
    """Every relation between two nodes of ``G`` (of ``kind``) as an edge, with the evidence
    of the statements that state it."""
    statements: dict[tuple[str, str, str], list[dict[str, str | None]]] = {}
    seen_st: set[str] = set()
    for st, s, p, o, sentence, exact, date, source in _statement_rows(store, base):
        if st in seen_st:  # several pieces of evidence: keep the first
            continue
        seen_st.add(st)
        statements.setdefault((s, p, o), []).append(
            {"statement": st, "sentence": sentence, "exact": exact, "date": date,
             "source": source})
    none = {"statement": None, "sentence": None, "exact": None, "date": None, "source": None}
    per_property: dict[str, tuple[str, str, str, frozenset[str]]] = {}
    for s, p, o in _edge_rows(store, base):
        if s not in G or o not in G:
            continue
        if p not in per_property:
            lab = prop_labels.get(p, {})
            name = _local(p)
            per_property[p] = (name, lab.get("zh") or lab.get("") or name,
                               lab.get("en") or lab.get("") or name,
                               frozenset(prop_kinds.get(p, ())))
        name, label_zh, label_en, ks = per_property[p]
        if kind != ANY and kind not in ks:
            continue
        ev = statements.get((s, p, o), [])
        G.add_edge(s, o, key=name, predicate=name, predicate_iri=p, label_zh=label_zh,
                   label_en=label_en, kinds=ks, evidence=ev, **(ev[0] if ev else none))


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Python's cyclic garbage collector off while a large graph or payload of plain dicts
    and lists is built (nothing cyclic is made): each full collection walks every object in
    memory, and at 6,670 entities they took a third of the time. Back on afterwards if it was
    on."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def load_network(kind: str = ANY, root: str | None = None,
                 base: str | None = None) -> nx.MultiDiGraph:
    """The project's built graph projected by :func:`project_graph` (``ifkg.network(...)``).

    ``root`` is the project folder (default: found from the working directory or
    ``$IFKG_HOME``); the graph is read from ``exports/`` when current, else compiled in memory.
    """
    from pathlib import Path

    from .build import open_store
    from .project import Project, default_project

    project = default_project(base) if root is None else Project(
        Path(root), base or default_project().base)
    return project_graph(open_store(project), project.base, kind=kind)


def kind_names() -> tuple[str, ...]:
    """The values ``kind`` accepts: ``any`` and the edge kinds the ontology defines."""
    return (ANY, *EDGE_KINDS)


# ---------------------------------------------------------------------------------------------
# helpers shared by the algorithms


def _check_kind(kind: str) -> None:
    if kind not in kind_names():
        raise IfkgError(f"unknown edge kind '{kind}' (use one of: {', '.join(kind_names())})")


def _has_kind(data: dict, kind: str) -> bool:
    return kind == ANY or kind in data.get("kinds", ())


def _check_node(G: nx.MultiDiGraph, node: str, kind: str = ANY) -> None:
    if node not in G:
        what = "relations" if kind == ANY else f"{kind} relations"
        raise IfkgError(f"'{_local(node)}' is not in the graph (it has no {what})")


def name_of(G: nx.MultiDiGraph, node: str, lang: str = "zh") -> str:
    """The node's name in ``lang`` (``zh`` or ``en``), else its key."""
    data = G.nodes[node] if node in G else {}
    return data.get(lang) or data.get("zh") or _local(node)


def _sort_key(G: nx.MultiDiGraph, node: str) -> tuple[str, str]:
    return (name_of(G, node), node)


def kind_subgraph(G: nx.MultiDiGraph, kind: str = ANY) -> nx.MultiDiGraph:
    """The edges of ``kind`` (all edges for ``"any"``) with every node of ``G``.

    >>> import networkx as nx
    >>> G = nx.MultiDiGraph()
    >>> G.add_edge("a", "b", key="lendsTo", kinds=frozenset({"funding"}))
    'lendsTo'
    >>> G.add_edge("a", "b", key="cooperatesWith", kinds=frozenset({"collaboration"}))
    'cooperatesWith'
    >>> list(kind_subgraph(G, "funding").edges(keys=True))
    [('a', 'b', 'lendsTo')]
    """
    _check_kind(kind)
    if kind == ANY:
        return G
    H = G.__class__()
    H.graph.update(G.graph)
    H.add_nodes_from(G.nodes(data=True))
    H.add_edges_from((u, v, k, d) for u, v, k, d in G.edges(keys=True, data=True)
                     if _has_kind(d, kind))
    return H


def simple_graph(G: nx.MultiDiGraph, kind: str = ANY) -> nx.Graph | nx.DiGraph:
    """Collapse parallel edges of ``kind``: a ``DiGraph`` for directed kinds, else a ``Graph``.

    Edge attribute ``weight`` counts the relations collapsed into the edge. For ``"any"`` every
    node of ``G`` is kept; for a kind only the nodes with an edge of that kind (as
    :func:`project_graph` does). This is the graph betweenness, PageRank and communities are
    computed on.

    >>> import networkx as nx
    >>> G = nx.MultiDiGraph()
    >>> _ = G.add_edge("a", "b", key="launches", kinds=frozenset({"collaboration"}))
    >>> _ = G.add_edge("b", "a", key="cooperatesWith", kinds=frozenset({"collaboration"}))
    >>> S = simple_graph(G, "collaboration")
    >>> S.is_directed(), S["a"]["b"]["weight"]
    (False, 2)
    """
    import networkx as nx

    _check_kind(kind)
    S: nx.Graph = nx.DiGraph() if kind in DIRECTED_KINDS else nx.Graph()
    if kind == ANY:
        S.add_nodes_from(G.nodes(data=True))
    for u, v, d in sorted(G.edges(data=True), key=lambda e: (e[0], e[1])):
        if not _has_kind(d, kind):
            continue
        S.add_node(u, **G.nodes[u])
        S.add_node(v, **G.nodes[v])
        if u == v:
            continue
        if S.has_edge(u, v):
            S[u][v]["weight"] += 1
        else:
            S.add_edge(u, v, weight=1)
    return S


def _steps(G: nx.MultiDiGraph, kind: str) -> dict[str, list[tuple[str, Edge]]]:
    """For each node, the hops a path may take from it: (next node, stored edge), sorted."""
    directed = kind in DIRECTED_KINDS
    steps: dict[str, list[tuple[str, Edge]]] = {n: [] for n in G}
    for u, v, k, d in G.edges(keys=True, data=True):
        if not _has_kind(d, kind):
            continue
        steps[u].append((v, (u, v, k)))
        if not directed and u != v:
            steps[v].append((u, (u, v, k)))
    for n in steps:
        steps[n].sort(key=lambda s: (s[0], s[1]))
    return steps


def _distances_to(steps: dict[str, list[tuple[str, Edge]]], target: str) -> dict[str, int]:
    """Fewest hops from each node to ``target`` along ``steps``."""
    back: dict[str, list[str]] = {n: [] for n in steps}
    for n, out in steps.items():
        for m, _ in out:
            back[m].append(n)
    dist = {target: 0}
    queue = deque([target])
    while queue:
        n = queue.popleft()
        for m in back[n]:
            if m not in dist:
                dist[m] = dist[n] + 1
                queue.append(m)
    return dist


# ---------------------------------------------------------------------------------------------
# algorithms


def find_paths(G: nx.MultiDiGraph, source: str, target: str, kind: str = ANY,
               max_hops: int = 4, limit: int = 10) -> list[list[Edge]]:
    """Simple paths from ``source`` to ``target`` over edges of ``kind``, shortest first.

    Parameters
    ----------
    G : networkx.MultiDiGraph
        A graph from :func:`project_graph`; each edge carries ``kinds``.
    source, target : str
        Node keys (entity IRIs).
    kind : str
        ``"funding"`` follows edges in their direction only (from the provider of money,
        credit or a guarantee to its receiver); ``"collaboration"``, the other kinds and
        ``"any"`` (every edge) ignore direction.
    max_hops : int
        Longest path, in edges.
    limit : int
        At most this many paths.

    Returns
    -------
    list of list of (u, v, key)
        Each path is the list of its edges exactly as stored in ``G`` (so ``G.edges[u, v,
        key]`` gives the evidence); an edge walked against its direction keeps its stored
        order. Paths visit no node twice and are ordered by length, then by the IRIs and keys
        along the way. Parallel edges give separate paths.

    Examples
    --------
    >>> import networkx as nx
    >>> F, C = frozenset({"funding"}), frozenset({"collaboration"})
    >>> G = nx.MultiDiGraph()
    >>> _ = G.add_edge("fund", "special", key="allocatesTo", kinds=F)
    >>> _ = G.add_edge("special", "smes", key="guarantees", kinds=F)
    >>> _ = G.add_edge("bank", "loan", key="launches", kinds=C)
    >>> _ = G.add_edge("centre", "loan", key="launches", kinds=C)
    >>> find_paths(G, "fund", "smes", kind="funding")
    [[('fund', 'special', 'allocatesTo'), ('special', 'smes', 'guarantees')]]
    >>> find_paths(G, "smes", "fund", kind="funding")   # never backwards
    []
    >>> find_paths(G, "bank", "centre", kind="collaboration")
    [[('bank', 'loan', 'launches'), ('centre', 'loan', 'launches')]]
    """
    _check_kind(kind)
    for n in (source, target):
        _check_node(G, n, kind)
    if source == target:
        raise IfkgError(f"source and target are the same entity ('{name_of(G, source)}')")
    if max_hops < 1:
        raise IfkgError(f"--max-hops must be at least 1 (got {max_hops})")
    if limit < 1:
        raise IfkgError(f"--limit must be at least 1 (got {limit})")
    steps = _steps(G, kind)
    dist = _distances_to(steps, target)
    if source not in dist or dist[source] > max_hops:
        return []
    found: list[list[Edge]] = []
    for length in range(dist[source], max_hops + 1):
        batch = list(_walks(steps, dist, source, target, length))
        batch.sort(key=lambda p: [(n, e[2]) for n, e in zip(path_nodes(p, source)[1:], p,
                                                            strict=True)])
        found.extend(batch)
        if len(found) >= limit:
            break
    return found[:limit]


def _walks(steps: dict[str, list[tuple[str, Edge]]], dist: dict[str, int], source: str,
           target: str, length: int) -> Iterable[list[Edge]]:
    """Simple walks of exactly ``length`` hops from ``source`` to ``target``: depth first,
    pruned by each node's distance to the target."""
    path: list[Edge] = []
    nodes = [source]
    stack = [iter(steps[source])]
    while stack:
        left = length - len(path)
        for nxt, edge in stack[-1]:
            if nxt in nodes or dist.get(nxt, left) > left - 1:
                continue
            if nxt == target:
                if left == 1:
                    yield [*path, edge]
                continue
            nodes.append(nxt)
            path.append(edge)
            stack.append(iter(steps[nxt]))
            break
        else:
            stack.pop()
            if path:
                path.pop()
                nodes.pop()


def path_nodes(path: list[Edge], source: str) -> list[str]:
    """The nodes a path visits, in walking order, starting at ``source``.

    >>> path_nodes([("fund", "special", "allocatesTo"), ("smes", "special", "serves")], "fund")
    ['fund', 'special', 'smes']
    """
    nodes = [source]
    for u, v, _ in path:
        nodes.append(v if u == nodes[-1] else u)
    return nodes


def neighbourhood(G: nx.MultiDiGraph, node: str, hops: int = 1,
                  kind: str = ANY) -> nx.MultiDiGraph:
    """The entities within ``hops`` edges of ``node`` and the ``kind`` edges among them.

    Funding neighbourhoods follow edge direction both ways (who funds ``node`` and whom it
    funds, transitively); other kinds ignore direction. Each node of the result carries
    ``distance`` (hops from ``node``).

    >>> import networkx as nx
    >>> G = nx.MultiDiGraph()
    >>> _ = G.add_edge("a", "b", key="launches", kinds=frozenset({"collaboration"}))
    >>> _ = G.add_edge("c", "b", key="launches", kinds=frozenset({"collaboration"}))
    >>> _ = G.add_edge("c", "d", key="lendsTo", kinds=frozenset({"funding"}))
    >>> H = neighbourhood(G, "a", hops=2, kind="collaboration")
    >>> sorted(H.nodes(data="distance"))
    [('a', 0), ('b', 1), ('c', 2)]
    """
    _check_kind(kind)
    _check_node(G, node, kind)
    if hops < 0:
        raise IfkgError(f"--hops must be at least 0 (got {hops})")
    und: dict[str, set[str]] = {n: set() for n in G}
    for u, v, d in G.edges(data=True):
        if _has_kind(d, kind):
            und[u].add(v)
            und[v].add(u)
    if kind in DIRECTED_KINDS:
        succ = {n: set() for n in G}
        pred = {n: set() for n in G}
        for u, v, d in G.edges(data=True):
            if _has_kind(d, kind):
                succ[u].add(v)
                pred[v].add(u)
        dist = _bfs(node, succ, hops)
        for n, d in _bfs(node, pred, hops).items():
            dist[n] = min(d, dist.get(n, d))
    else:
        dist = _bfs(node, und, hops)
    H = G.__class__()
    H.graph.update(G.graph)
    for n in sorted(dist):
        H.add_node(n, **G.nodes[n], distance=dist[n])
    H.add_edges_from((u, v, k, d) for u, v, k, d in G.edges(keys=True, data=True)
                     if u in dist and v in dist and _has_kind(d, kind))
    return H


def _bfs(start: str, adj: dict[str, set[str]], hops: int) -> dict[str, int]:
    dist = {start: 0}
    queue = deque([start])
    while queue:
        n = queue.popleft()
        if dist[n] == hops:
            continue
        for m in sorted(adj[n]):
            if m not in dist:
                dist[m] = dist[n] + 1
                queue.append(m)
    return dist


def _class_matches(G: nx.MultiDiGraph, node: str, cls: str) -> bool:
    anc = G.graph.get("class_ancestors", {})
    return any(cls in anc.get(c, {c}) for c in G.nodes[node].get("classes", ()))


def check_class(G: nx.MultiDiGraph, cls: str) -> None:
    """Raise IfkgError (with the closest class names) when no class is called ``cls``."""
    import difflib

    known = set(G.graph.get("class_ancestors", {}))
    for _, cs in G.nodes(data="classes"):
        known.update(cs or ())
    if cls not in known:
        close = difflib.get_close_matches(cls, sorted(known), n=3, cutoff=0.5)
        hint = f"; did you mean: {', '.join(close)}?" if close else ""
        raise IfkgError(f"unknown class '{cls}'{hint}")


def rank(G: nx.MultiDiGraph, by: str = "degree", cls: str | None = None,
         kind: str = ANY) -> list[tuple[str, float]]:
    """Entities ordered by a centrality measure, highest first (ties by name).

    Parameters
    ----------
    G : networkx.MultiDiGraph
        A graph from :func:`project_graph`.
    by : str
        ``"degree"``: the number of ``kind`` relations the entity takes part in (in or out,
        parallel edges counted). ``"betweenness"``: unnormalised betweenness on
        :func:`simple_graph` (directed for funding, else undirected): the sum over pairs of
        other entities of the share of their shortest paths that pass through the entity
        (exact up to 2,000 entities, estimated from 500 sampled sources with a fixed seed above).
        ``"pagerank"``: PageRank (alpha 0.85, unweighted) on the same simple graph.
    cls : str, optional
        Keep only entities of this ontology class or one of its subclasses.
    kind : str
        Which edges count.

    Returns
    -------
    list of (node, score)

    Examples
    --------
    >>> import networkx as nx
    >>> C = frozenset({"collaboration"})
    >>> G = nx.MultiDiGraph()
    >>> for a, b in [("x", "hub"), ("y", "hub"), ("hub", "z")]:
    ...     _ = G.add_edge(a, b, key="cooperatesWith", kinds=C)
    >>> rank(G, "betweenness")[0]        # hub lies on x-y, x-z and y-z
    ('hub', 3.0)
    >>> rank(G, "degree")[:2]
    [('hub', 3.0), ('x', 1.0)]
    """
    import networkx as nx

    _check_kind(kind)
    if by not in RANK_MEASURES:
        raise IfkgError(f"unknown ranking '{by}' (use one of: {', '.join(RANK_MEASURES)})")
    if cls is not None:
        check_class(G, cls)
    if by == "degree":
        H = kind_subgraph(G, kind)
        scores = {n: float(H.degree(n)) for n in H}
    else:
        S = simple_graph(G, kind)
        if by == "betweenness":
            # exact up to EXACT_BETWEENNESS_MAX nodes; beyond, networkx's estimate from a fixed
            # sample of sources (exact took 176 s at 6,670 entities on this machine)
            k = None if S.number_of_nodes() <= EXACT_BETWEENNESS_MAX else BETWEENNESS_SAMPLE
            scores = nx.betweenness_centrality(S, k=k, normalized=False, seed=COMMUNITY_SEED)
        else:
            scores = nx.pagerank(S, weight=None)
    keep = [n for n in G if (cls is None or _class_matches(G, n, cls))
            and (kind == ANY or any(_has_kind(d, kind) for *_, d in G.edges(n, data=True))
                 or any(_has_kind(d, kind) for *_, d in G.in_edges(n, data=True)))]
    return sorted(((n, float(scores.get(n, 0.0))) for n in keep),
                  key=lambda t: (-round(t[1], 12), *_sort_key(G, t[0])))


def communities(G: nx.MultiDiGraph, kind: str = ANY,
                seed: int = COMMUNITY_SEED) -> list[list[str]]:
    """Groups of entities that are densely connected by ``kind`` edges (Louvain modularity).

    Computed on :func:`simple_graph` taken as undirected, with parallel relations as weight.
    Entities without an edge of ``kind`` belong to no community. The seed fixes the result.

    Returns
    -------
    list of list of node
        Largest community first (ties by the first member's name); members sorted by name.

    Examples
    --------
    >>> import networkx as nx
    >>> C = frozenset({"collaboration"})
    >>> G = nx.MultiDiGraph()
    >>> for a, b in [("a", "b"), ("b", "c"), ("a", "c"), ("x", "y"), ("y", "z"), ("x", "z"),
    ...              ("c", "x")]:
    ...     _ = G.add_edge(a, b, key="cooperatesWith", kinds=C)
    >>> communities(G)
    [['a', 'b', 'c'], ['x', 'y', 'z']]
    """
    import networkx as nx

    S = simple_graph(G, kind)
    if S.is_directed():
        S = S.to_undirected()
    S.remove_nodes_from([n for n in list(S) if S.degree(n) == 0])
    if len(S) == 0:
        return []
    parts = nx.community.louvain_communities(S, weight="weight", seed=seed)
    groups = [sorted(p, key=lambda n: _sort_key(G, n)) for p in parts]
    return sorted(groups, key=lambda g: (-len(g), *_sort_key(G, g[0])))


def modularity(G: nx.MultiDiGraph, groups: Iterable[Iterable[str]], kind: str = ANY) -> float:
    """Modularity of ``groups`` on the undirected, weighted :func:`simple_graph` of ``kind``."""
    import networkx as nx

    S = simple_graph(G, kind)
    if S.is_directed():
        S = S.to_undirected()
    S.remove_nodes_from([n for n in list(S) if S.degree(n) == 0])
    return float(nx.community.modularity(S, [set(g) for g in groups], weight="weight"))


class _CallableModule(types.ModuleType):
    """This module, callable: ``ifkg.network(kind=...)`` runs :func:`load_network`."""

    def __call__(self, kind: str = ANY, root: str | None = None,
                 base: str | None = None) -> nx.MultiDiGraph:
        return load_network(kind, root, base)


sys.modules[__name__].__class__ = _CallableModule
