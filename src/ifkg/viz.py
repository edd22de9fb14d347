"""One self-contained, offline HTML page that draws the entity graph with vis-network.

pyvis is the model: a directed ``pyvis.network.Network`` gets every node (``add_node`` with
label, shape, group, size, font, x, y, physics and the page's own data) and every edge
(``add_edge``: a directed Network keeps parallel edges), and its options are set through its
API (``toggle_physics`` and the like); ``get_network_data()`` hands them back. The page is
built from our own template (``templates/graph.html``), never pyvis's: pyvis 0.3.2 links
Bootstrap and vis-network from CDNs, writes its heading and options unescaped, and switches
tooltips to ``innerHTML``. Here every text from the data travels as JSON inside a
``<script type="application/json">`` block (``<``, ``>``, ``&``, U+2028 and U+2029 escaped),
and the page's script puts it into the DOM with ``textContent`` only; vis-network never gets a
``title``. A Content-Security-Policy forbids every network request and admits only the two
inline scripts, by hash.

Readability comes from the ontology, not from code: ``ifkg:displayColour`` and
``ifkg:displayShape`` on classes (a class takes the hint of its nearest superclass that has one),
``ifkg:edgeKindColour`` on the four edge kinds, and the classes' and kinds' zh/en labels.

The layout: each connected component on its own, components packed in rows. A component of
up to KK_MAX nodes is drawn by networkx's Kamada-Kawai; a larger one by a force layout written
with numpy and scipy (pivot MDS for a start, Fruchterman-Reingold forces whose all-pairs
repulsion is summed on a grid by FFT, overlapping nodes then pushed apart with a k-d tree), so
6,670 entities take about 0.3 s. The page draws it with physics off, so a 2,000-node graph is
interactive as soon as it is drawn. Nodes are numbered in sorted order, every random choice is
seeded and positions are rounded: the same graph gives the same bytes on every run.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import IfkgError
from .namespaces import EDGE_KINDS, IFKG, RDFS, SKOS
from .rdfterms import local_name as _local
from .rdfterms import select as _rows

if TYPE_CHECKING:
    import networkx as nx
    import numpy as np
    import pyoxigraph as ox
    from pyvis.network import Network

    from .compile import Compiled
    from .project import Project

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
TEMPLATES = HERE / "templates"
VIS_NETWORK_FILE = STATIC / "vis-network.min.js"
VIS_NETWORK_VERSION = "10.1.5"
VIS_NETWORK_SHA256 = "b427322ad953d70ab75d1b798ebb8349863502f244e02de3e12a4ab7dfeddf2c"

# vis-network node shapes the page can draw, and which of them carry the label inside
SHAPES = frozenset({"dot", "box", "diamond", "triangle", "triangleDown", "square", "star",
                    "ellipse", "hexagon", "circle", "database", "text"})
COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
FALLBACK_COLOUR = "#BBBBBB"
FALLBACK_SHAPE = "dot"
FALLBACK_EDGE_COLOUR = "#999999"
SIZE_BY = ("degree", "money")
LANGS = ("zh", "en")
EXPORT_TITLE = "ifkg · 科技金融知识图谱 · innovation-finance knowledge graph"

# ideal gap between two linked nodes, in vis-network canvas units (about pixels at zoom 1)
EDGE_LENGTH = 60.0
# shapes that draw their label inside (their size follows the label), and the widest label
LABEL_INSIDE = frozenset({"box", "ellipse", "circle", "database", "text"})
LABEL_WIDTH_MAX = 160
# a node of weight s (degree or money, 0..1) has size NODE_SIZE + NODE_SIZE_GROWTH * s and a
# label of FONT_SIZE + FONT_SIZE_GROWTH * s canvas units; on screen, labels smaller than
# LABEL_HIDE_PX are not drawn, and the page shrinks any label larger than LABEL_MAX_PX
NODE_SIZE, NODE_SIZE_GROWTH = 9.0, 24.0
FONT_SIZE, FONT_SIZE_GROWTH = 14.0, 30.0
LABEL_HIDE_PX, LABEL_MAX_PX = 8, 22
# room on the circle of a node's neighbours, per neighbour (canvas units)
NEIGHBOUR_ROOM = 50.0
# the focus of a view (--focus, the ends of --path): a heavy border and a dark halo
HALO = {"enabled": True, "color": "rgba(0,0,0,0.55)", "size": 14, "x": 0, "y": 0}
# a connected piece up to this many nodes: Kamada-Kawai (its target distances are weighted
# shortest paths, so a wide node keeps its neighbours off; O(n^2) memory, slow past ~100 nodes)
KK_MAX = 50
# a larger piece: pivot MDS from PIVOTS far-apart nodes, FORCE_STEPS rounds of a force layout
# whose repulsion is summed on a square grid at most FORCE_GRID cells wide (weighted by REPULSION
# against the edges' pull), then at most SEPARATE_STEPS rounds pushing touching nodes apart;
# every step is vectorised, so the time grows about linearly with the piece (0.3 s at 6,300
# nodes). There a node's room for its neighbours counts up to SEAT_MAX.
PIVOTS = 20
FORCE_STEPS = 60
FORCE_GRID = 128
REPULSION = 2.0
SEPARATE_STEPS = 30
SEAT_MAX = 2 * EDGE_LENGTH
LAYOUT_SEED = 27  # any fixed number: the same graph gives the same positions
# width / height of the graph's part of the page at 1400 x 900 (it draws the whole graph first)
VIEW_ASPECT = 1.2


# ---------------------------------------------------------------------------------------------
# style: display hints read from the ontology


@dataclass(frozen=True)
class ClassHint:
    """How the nodes of a class are drawn: the class that carries the hint, its labels, colour
    and shape."""

    name: str
    zh: str
    en: str
    colour: str
    shape: str


@dataclass(frozen=True)
class KindHint:
    name: str
    zh: str
    en: str
    colour: str


@dataclass
class Style:
    """Display hints of the ontology: per class (its own or its nearest superclass's), class
    labels, and per edge kind its colour and labels."""

    hints: dict[str, tuple[int, ClassHint]] = field(default_factory=dict)
    class_labels: dict[str, tuple[str, str]] = field(default_factory=dict)
    kinds: dict[str, KindHint] = field(default_factory=dict)

    def hint(self, classes: Iterable[str]) -> ClassHint:
        """The hint of the nearest styled class among ``classes`` (ties by class name)."""
        best: tuple[int, str, ClassHint] | None = None
        for c in classes:
            if c in self.hints:
                dist, h = self.hints[c]
                if best is None or (dist, h.name) < best[:2]:
                    best = (dist, h.name, h)
        if best is None:
            return ClassHint("", "其他", "other", FALLBACK_COLOUR, FALLBACK_SHAPE)
        return best[2]

    def label(self, cls: str) -> tuple[str, str]:
        return self.class_labels.get(cls, (cls, cls))






def _labels(store: ox.Store, iris_filter: str) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for r in _rows(store, f"""
            SELECT ?x ?l ?lang WHERE {{
              {{ ?x <{SKOS}prefLabel> ?lab }} UNION {{ ?x <{RDFS}label> ?lab }}
              BIND(STR(?lab) AS ?l) BIND(LANG(?lab) AS ?lang) {iris_filter}
            }} ORDER BY ?x ?lang ?l"""):
        out.setdefault(r["x"], {}).setdefault(r["lang"] or "", r["l"])
    return out


def style_from_store(store: ox.Store) -> Style:
    """Read the display hints and labels of the ontology in ``store``.

    Raises IfkgError when a colour is not ``#rgb``/``#rrggbb`` or a shape is not one
    vis-network draws.
    """
    where = "the ontology (ontology/ifkg.ttl)"
    labels = _labels(store, f'FILTER(STRSTARTS(STR(?x), "{IFKG}"))')
    own: dict[str, dict[str, str]] = {}
    for prop in ("displayColour", "displayShape"):
        for r in _rows(store, f"""SELECT ?c ?v WHERE {{ ?c <{IFKG}{prop}> ?v
                                  FILTER(isIRI(?c)) }} ORDER BY ?c ?v"""):
            own.setdefault(_local(r["c"]), {}).setdefault(prop, r["v"])
    for cls, h in sorted(own.items()):
        colour = h.get("displayColour", FALLBACK_COLOUR)
        shape = h.get("displayShape", FALLBACK_SHAPE)
        if not COLOUR.match(colour):
            raise IfkgError(f"ifkg:displayColour of ifkg:{cls} is {colour!r}, not #rrggbb", where)
        if shape not in SHAPES:
            raise IfkgError(f"ifkg:displayShape of ifkg:{cls} is {shape!r}; use one of "
                            f"{', '.join(sorted(SHAPES))}", where)
    parents: dict[str, set[str]] = {}
    for r in _rows(store, f"""SELECT ?c ?p WHERE {{ ?c <{RDFS}subClassOf> ?p
                              FILTER(isIRI(?c) && isIRI(?p)) }}"""):
        parents.setdefault(_local(r["c"]), set()).add(_local(r["p"]))
    classes = sorted({_local(r["c"]) for r in _rows(store, f"""
        SELECT DISTINCT ?c WHERE {{ {{ ?c a <http://www.w3.org/2002/07/owl#Class> }}
          UNION {{ ?c <{RDFS}subClassOf> ?p }}
          FILTER(isIRI(?c) && STRSTARTS(STR(?c), "{IFKG}")) }}""")} | set(own))

    def lab(name: str, iri: str) -> tuple[str, str]:
        d = labels.get(iri, {})
        return (d.get("zh") or d.get("") or d.get("en") or name,
                d.get("en") or d.get("") or d.get("zh") or name)

    style = Style()
    for cls in classes:
        style.class_labels[cls] = lab(cls, IFKG + cls)
    for cls in classes:
        # breadth first up rdfs:subClassOf to the nearest classes with a hint
        seen, frontier, dist = {cls}, [cls], 0
        while frontier:
            styled = sorted(c for c in frontier if c in own)
            if styled:
                c = styled[0]
                style.hints[cls] = (dist, ClassHint(
                    c, *style.label(c), own[c].get("displayColour", FALLBACK_COLOUR),
                    own[c].get("displayShape", FALLBACK_SHAPE)))
                break
            nxt = sorted({p for c in frontier for p in parents.get(c, ()) if p not in seen})
            seen.update(nxt)
            frontier, dist = nxt, dist + 1
    for kind in EDGE_KINDS:
        iri = f"{IFKG}{kind}Relation"
        colours = sorted(r["v"] for r in _rows(
            store, f"SELECT ?v WHERE {{ <{iri}> <{IFKG}edgeKindColour> ?v }}"))
        colour = colours[0] if colours else FALLBACK_EDGE_COLOUR
        if not COLOUR.match(colour):
            raise IfkgError(f"ifkg:edgeKindColour of ifkg:{kind}Relation is {colour!r}, "
                            "not #rrggbb", where)
        style.kinds[kind] = KindHint(kind, *lab(kind, iri), colour)
    return style


# ---------------------------------------------------------------------------------------------
# layout: Kamada-Kawai for small pieces, a grid-accelerated force layout for large ones


def _blas_on_one_thread() -> contextlib.AbstractContextManager[Any]:
    """OpenBLAS (numpy, scipy) on one thread while laying out: on a busy two-core machine its
    threads contend, and a 40-node Kamada-Kawai took 1 s instead of 12 ms. (Layout arrays are
    small, so the thread count never changes a result; this is speed only.)"""
    import scipy.optimize  # noqa: F401  (load scipy's own OpenBLAS before limiting it)
    import scipy.sparse  # noqa: F401

    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # speed only: the positions are the same without it
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _scaled(pos: np.ndarray, edges: list[tuple[int, int, float]]) -> np.ndarray:
    """``pos`` centred and scaled so that its median edge is as long as the edges want
    (networkx returns layouts in a unit box)."""
    import numpy as np

    pos = pos - pos.mean(axis=0)
    if not edges:
        return pos
    a = np.array([i for i, _, _ in edges])
    b = np.array([j for _, j, _ in edges])
    want = np.array([w for _, _, w in edges])
    have = np.maximum(np.hypot(*(pos[a] - pos[b]).T), 1e-9)
    return pos * float(np.median(want / have))


def _kamada_kawai(n: int, edges: list[tuple[int, int, float]]) -> np.ndarray:
    """Positions of a small connected graph on nodes 0..n-1 whose ``edges`` carry their wanted
    length: Kamada-Kawai, whose target distances are weighted shortest paths, so a wide node
    keeps its neighbours off."""
    import networkx as nx
    import numpy as np

    if n == 1:
        return np.zeros((1, 2))
    H = nx.Graph()
    H.add_nodes_from(range(n))
    H.add_weighted_edges_from(edges, weight="len")
    raw = nx.kamada_kawai_layout(H, weight="len")
    return _scaled(np.array([raw[i] for i in range(n)]), edges)


def _pivot_mds(n: int, a: np.ndarray, b: np.ndarray, w: np.ndarray) -> np.ndarray:
    """A first drawing of a connected graph: classical scaling of the weighted shortest-path
    distances to PIVOTS far-apart nodes (Brandes and Pich's pivot MDS), in the units of ``w``
    up to one factor."""
    import numpy as np
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import dijkstra

    A = coo_matrix((np.r_[w, w], (np.r_[a, b], np.r_[b, a])), shape=(n, n)).tocsr()
    k = min(n, PIVOTS)
    D = np.empty((k, n))
    pivot = int(np.argmax(np.bincount(np.r_[a, b], minlength=n)))  # best connected first
    nearest = np.full(n, np.inf)
    for i in range(k):  # each next pivot is the node farthest from the ones chosen
        D[i] = dijkstra(A, directed=False, indices=pivot)
        nearest = np.minimum(nearest, D[i])
        pivot = int(np.argmax(nearest))
    C = D ** 2
    C = -0.5 * (C - C.mean(axis=1, keepdims=True) - C.mean(axis=0, keepdims=True) + C.mean())
    _, vectors = np.linalg.eigh(C @ C.T)
    pos = C.T @ vectors[:, [-1, -2]]
    return pos * np.where(pos[np.abs(pos).argmax(axis=0), [0, 1]] < 0, -1.0, 1.0)


@cache
def _grid_kernel(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Fourier transforms of the repulsion kernel (dx, dy) / (dx² + dy² + 1) on a grid twice
    ``size`` wide (zero padding: the convolution does not wrap around)."""
    import numpy as np

    d = np.fft.fftfreq(2 * size, 1 / (2 * size))
    dx, dy = np.meshgrid(d, d, indexing="ij")
    r2 = dx ** 2 + dy ** 2 + 1.0
    return np.fft.rfft2(dx / r2), np.fft.rfft2(dy / r2)


def _grid_repulsion(pos: np.ndarray, mass: np.ndarray, g: int) -> np.ndarray:
    """For each node, the sum over all nodes j of ``mass[j] * (x - x_j) / |x - x_j|²``
    (Fruchterman-Reingold repulsion, weighted), computed on a ``g`` by ``g`` grid: masses
    spread to the four nearest grid points, convolved with the kernel by FFT, read back the
    same way. O(n + grid² log grid) instead of O(n²); nodes closer than a grid cell barely
    push each other (:func:`_spread` then parts the ones that touch)."""
    import numpy as np

    lo = pos.min(axis=0)
    span = float((pos.max(axis=0) - lo).max())
    cell = span / (g - 2) if span > 0 else 1.0
    at = (pos - lo) / cell + 0.5
    corner = np.floor(at).astype(np.int64)
    fx, fy = (at - corner).T
    i = corner[:, 0] * (2 * g) + corner[:, 1]
    spots = (i, i + 2 * g, i + 1, i + 2 * g + 1)
    shares = ((1 - fx) * (1 - fy), fx * (1 - fy), (1 - fx) * fy, fx * fy)
    size = 4 * g * g
    density = sum(np.bincount(s, mass * f, size) for s, f in zip(spots, shares, strict=True))
    spectrum = np.fft.rfft2(density.reshape(2 * g, 2 * g))
    out = np.empty_like(pos)
    for axis, kernel in enumerate(_grid_kernel(g)):
        field = np.fft.irfft2(spectrum * kernel, s=(2 * g, 2 * g)).ravel()
        out[:, axis] = sum(field[s] * f for s, f in zip(spots, shares, strict=True))
    return out / cell


def _touching(pos: np.ndarray, reach: np.ndarray, gap: float) -> np.ndarray:
    """Pairs (i < j, sorted) of nodes closer than ``reach[i] + reach[j] + gap``: a k-d tree
    finds the candidates, the widest tenth of the nodes searched on their own so that one wide
    node does not widen every search."""
    import numpy as np
    from scipy.spatial import cKDTree

    tree = cKDTree(pos)
    split = float(np.quantile(reach, 0.9))
    pairs = tree.query_pairs(2 * split + gap, output_type="ndarray").reshape(-1, 2)
    pairs = pairs[(reach[pairs[:, 0]] <= split) & (reach[pairs[:, 1]] <= split)]
    wide = np.flatnonzero(reach > split)
    if wide.size:
        near = cKDTree(pos[wide]).sparse_distance_matrix(
            tree, 2 * float(reach.max()) + gap, output_type="ndarray")
        i, j = wide[near["i"]], near["j"]
        keep = (i != j) & ((reach[j] <= split) | (i < j))
        more = np.column_stack([np.minimum(i, j), np.maximum(i, j)])[keep]
        pairs = np.concatenate([pairs, more])
    d = np.hypot(*(pos[pairs[:, 0]] - pos[pairs[:, 1]]).T)
    pairs = pairs[d < reach[pairs[:, 0]] + reach[pairs[:, 1]] + gap]
    return pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]


def _contact(pos: np.ndarray, reach: np.ndarray, gap: float) -> np.ndarray | None:
    """For each node, the sum of its overlaps with the nodes it touches, each pointing away
    from the other node; None when no two nodes touch."""
    import numpy as np

    pairs = _touching(pos, reach, gap)
    if not len(pairs):
        return None
    p, q = pairs.T
    diff = pos[p] - pos[q]
    dist = np.maximum(np.hypot(*diff.T), 1e-3)
    push = ((reach[p] + reach[q] + gap - dist) / dist)[:, None] * diff
    n = len(pos)
    return np.column_stack([np.bincount(p, push[:, k], n) - np.bincount(q, push[:, k], n)
                            for k in (0, 1)])


def _moved(pos: np.ndarray, force: np.ndarray, cap: float) -> np.ndarray:
    """``pos`` moved along ``force``, each node by at most ``cap``."""
    import numpy as np

    size = np.maximum(np.hypot(*force.T), 1e-9)
    return pos + force * (np.minimum(size, cap) / size)[:, None]


def _spread(n: int, a: np.ndarray, b: np.ndarray, reach: np.ndarray,
            edge_length: float) -> np.ndarray:
    """Positions of a connected graph too large for Kamada-Kawai (nodes 0..n-1, edges a-b):
    pivot MDS for a start, FORCE_STEPS rounds of a force layout (edges pull as
    Fruchterman-Reingold's, divided by the node's degree so that hubs do not collapse on their
    neighbours; every node pushes every other in proportion to the room it needs, summed on a
    grid), then touching nodes pushed apart. Vectorised: about 0.3 s at 6,300 nodes."""
    import numpy as np

    want = edge_length + reach[a] + reach[b]
    pos = _pivot_mds(n, a, b, want)
    pos *= float(np.median(want / np.maximum(np.hypot(*(pos[a] - pos[b]).T), 1e-9)))
    # nodes with the same distances to every pivot start on one spot: a seeded shake parts them
    pos += np.random.default_rng(LAYOUT_SEED).uniform(-edge_length, edge_length, pos.shape)
    gap = edge_length * 0.3
    mass = (2 * reach + gap) ** 2
    degree = np.bincount(np.r_[a, b], minlength=n)[:, None]
    hot = 0.1 * float(np.sqrt(mass.sum()))  # the longest first move
    # about two grid cells per node across, as a power of two, up to FORCE_GRID
    grid = min(FORCE_GRID, max(32, 1 << math.ceil(math.log2(2 * math.sqrt(n)))))
    for step in range(FORCE_STEPS):
        force = REPULSION * _grid_repulsion(pos, mass, grid)
        d = pos[b] - pos[a]
        pull = (np.hypot(*d.T) / want)[:, None] * d  # |pull| = length² / wanted length
        force += np.column_stack([np.bincount(a, pull[:, k], n) - np.bincount(b, pull[:, k], n)
                                  for k in (0, 1)]) / degree
        pos = _moved(pos, force, hot * (1 - (step + 1) / FORCE_STEPS) ** 2 + edge_length)
    for _ in range(SEPARATE_STEPS):  # nodes the grid does not part: pushed apart
        touch = _contact(pos, reach, gap)
        if touch is None:
            break
        pos = _moved(pos, touch, edge_length)
    return pos - pos.mean(axis=0)


def _packed(n: int, pairs: np.ndarray, reach: np.ndarray, seat: np.ndarray,
            edge_length: float) -> np.ndarray:
    """Positions of a graph on nodes 0..n-1 with edges ``pairs`` (i < j, sorted), centred on
    the origin: each connected component laid out on its own (Kamada-Kawai up to KK_MAX
    nodes, where a node reaches ``seat``; :func:`_spread` above, where it reaches ``reach``),
    components packed in rows, largest first."""
    import numpy as np
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    a, b = pairs[:, 0], pairs[:, 1]
    adjacency = coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
    _, label = connected_components(adjacency, directed=False)
    members = np.argsort(label, kind="stable")
    cuts = np.flatnonzero(np.diff(label[members])) + 1
    comps = sorted(np.split(members, cuts), key=lambda c: (-len(c), int(c[0])))
    of = np.empty(n, dtype=np.int64)
    local = np.empty(n, dtype=np.int64)
    for ci, c in enumerate(comps):
        of[c] = ci
        local[c] = np.arange(len(c))
    # each component's edges, in their sorted order
    order = np.argsort(of[a], kind="stable")
    starts = np.searchsorted(of[a][order], np.arange(len(comps) + 1))
    boxes = []
    for ci, c in enumerate(comps):
        e = order[starts[ci]:starts[ci + 1]]
        if len(c) <= KK_MAX:
            r = seat[c]
            wants = edge_length + seat[a[e]] + seat[b[e]]
            p = _kamada_kawai(len(c), list(zip(local[a[e]].tolist(), local[b[e]].tolist(),
                                              wants, strict=True)))
        else:
            # no circle can seat hundreds of neighbours here: a node keeps room for its
            # neighbours' labels, up to SEAT_MAX
            r = np.maximum(reach[c], np.minimum(seat[c], SEAT_MAX))
            p = _spread(len(c), local[a[e]], local[b[e]], r, edge_length)
        lo = (p - r[:, None]).min(axis=0)
        hi = (p + r[:, None]).max(axis=0)
        boxes.append((c, p - lo, *(hi - lo)))
    # shelf packing, largest first, in rows as wide as makes the whole fit a window of
    # VIEW_ASPECT (width / height) at the largest scale
    margin = edge_length * 0.5
    widest = max(w for _, _, w, _ in boxes)
    total = sum((w + margin) * (h + margin) for _, _, w, h in boxes)
    best: tuple[float, list[tuple[float, float]]] | None = None
    for f in np.linspace(0.6, 2.0, 15):
        row_width = max(widest, math.sqrt(total * VIEW_ASPECT) * f)
        spots, x, y, row_h, right = [], 0.0, 0.0, 0.0, 0.0
        for _, _, w, h in boxes:
            if x > 0 and x + w > row_width:
                x, y, row_h = 0.0, y + row_h + margin, 0.0
            spots.append((x, y))
            right = max(right, x + w)
            x += w + margin
            row_h = max(row_h, h)
        span = max(right, (y + row_h) * VIEW_ASPECT)  # the width a window of VIEW_ASPECT needs
        if best is None or span < best[0]:
            best = (span, spots)
    pos = np.empty((n, 2))
    for (c, p, _, _), spot in zip(boxes, best[1], strict=True):
        pos[c] = p + spot
    return pos - (pos.min(axis=0) + pos.max(axis=0)) / 2


def layout(G: nx.MultiDiGraph, edge_length: float = EDGE_LENGTH,
           radius: Mapping[str, float] | None = None,
           room: float = 0.0) -> dict[str, tuple[int, int]]:
    """Integer positions for every node: each connected component on its own, packed in rows,
    largest first. A component of up to KK_MAX nodes is drawn by ``nx.kamada_kawai_layout``;
    a larger one by :func:`_spread` (pivot MDS, then a force layout summed on a grid, then
    overlaps removed), which stays near-linear in the graph's size.

    ``radius`` (default 10) is how far a node and its label reach from its centre; in a
    Kamada-Kawai component a node also reaches far enough to seat its neighbours around it,
    ``room`` apart. An edge is ``edge_length`` plus both reaches long. Deterministic: the nodes
    are numbered in sorted order, every random choice is seeded, and the positions are rounded.

    >>> import networkx as nx
    >>> G = nx.MultiDiGraph([("a", "b"), ("b", "c"), ("x", "y")])
    >>> pos = layout(G)
    >>> sorted(pos) == ["a", "b", "c", "x", "y"] and pos == layout(G.copy())
    True
    """
    import numpy as np

    nodes = sorted(G.nodes)
    if not nodes:
        return {}
    n = len(nodes)
    index = {v: i for i, v in enumerate(nodes)}
    reach = np.array([float((radius or {}).get(v, 10.0)) for v in nodes])
    ends = np.fromiter((index[x] for e in G.edges() for x in e), dtype=np.int64,
                       count=2 * G.number_of_edges()).reshape(-1, 2)
    degree = np.bincount(ends.ravel(), minlength=n)  # G.degree: in + out, loops twice
    seat = np.maximum(reach, degree * room / (2 * math.pi))
    ends = np.sort(ends[ends[:, 0] != ends[:, 1]], axis=1)
    keys = np.unique(ends[:, 0] * n + ends[:, 1])  # each linked pair once, sorted
    pairs = np.column_stack([keys // n, keys % n])
    with _blas_on_one_thread():
        pos = _packed(n, pairs, reach, seat, edge_length)
    return {v: (round(float(pos[i, 0])), round(float(pos[i, 1]))) for i, v in enumerate(nodes)}

# ---------------------------------------------------------------------------------------------
# the page


def _is_cny(unit: str | None) -> bool:
    return bool(unit) and unit.rsplit("/", 1)[-1].upper().endswith("CNY")


def _num(value: Any) -> float | None:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _text_width(text: str, font_px: float) -> float:
    """Rough drawn width: a CJK or full-width character is one em, anything else about half."""
    return sum(font_px if ord(ch) >= 0x2E80 else 0.55 * font_px for ch in text)


def _look(label: str, shape: str, s: float) -> tuple[float, float, float]:
    """(size, font size, reach) of a node whose weight is ``s`` in [0, 1]: vis-network's
    ``size`` (of shapes that draw the label below), the label's font size in canvas units, and
    how far node and label reach from the centre (what the layout keeps apart). Heavy nodes get
    large labels, readable when the whole graph is in view; the page keeps them from growing
    past LABEL_MAX_PX on screen when zooming in."""
    size = NODE_SIZE + NODE_SIZE_GROWTH * s
    font = FONT_SIZE + FONT_SIZE_GROWTH * s
    if shape in LABEL_INSIDE:
        width = min(_label_width(font), _text_width(label, font))
        return size, font, (width * 1.5 if shape == "ellipse" else width + 12) / 2
    return size, font, size + 6


def _font(size: float, shape: str) -> dict[str, Any]:
    """A node's font: labels drawn inside a shape need no white stroke (at small sizes the
    stroke eats the letters); labels drawn on the canvas keep it, to stand out over edges."""
    return {"size": round(size, 2), **({"strokeWidth": 0} if shape in LABEL_INSIDE else {})}


def _label_width(font: float) -> float:
    """The widest a label of this font size is drawn before it wraps (about eight CJK
    characters, never less than LABEL_WIDTH_MAX)."""
    return max(LABEL_WIDTH_MAX, 8 * font)


def _figure(f: Mapping[str, Any]) -> dict[str, str]:
    when = _text(f.get("asOf") or f.get("period"))
    return {"i": _text(f.get("indicator")), "ie": _text(f.get("indicator_en") or
                                                        f.get("indicator")),
            "r": _text(f.get("reported")), "v": _text(f.get("value")),
            "u": _local(_text(f.get("unit"))), "w": when, "s": _text(f.get("sentence")),
            "q": _text(f.get("exact"))}


def _smooth(i: int, m: int, forward: bool) -> dict[str, Any] | bool:
    """Curvature of the i-th of m edges between one pair: alternate sides, growing roundness,
    so parallel edges never overlap; a lone edge is straight."""
    if m == 1:
        return False
    slot = i if m % 2 == 0 else i - 1
    if slot < 0:
        return False
    side = "curvedCW" if slot % 2 == 0 else "curvedCCW"
    if not forward:
        side = "curvedCCW" if side == "curvedCW" else "curvedCW"
    return {"enabled": True, "type": side, "roundness": round(0.2 + 0.15 * (slot // 2), 2)}


def _shade(colour: str, f: float) -> str:
    """``colour`` (#rgb or #rrggbb) with each channel times ``f``: a border darker than the fill.

    >>> _shade("#fa0", 0.6)
    '#996600'
    """
    h = colour.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    return "#" + "".join(f"{max(0, min(255, round(int(h[i:i + 2], 16) * f))):02x}"
                         for i in range(0, 6, 2))


def _group(colour: str, shape: str) -> dict[str, Any]:
    """vis-network's style of one legend class (a node ``group``)."""
    edge = {"background": colour, "border": "#000000"}
    return {"shape": shape, "color": {"background": colour, "border": _shade(colour, 0.6),
                                      "highlight": edge, "hover": edge}}


def _merged(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` updated by ``extra``, nested dicts merged key by key."""
    out = dict(base)
    for k, v in extra.items():
        out[k] = (_merged(out[k], v) if isinstance(v, Mapping) and isinstance(out.get(k), dict)
                  else v)
    return out


class _NodeIds(list):
    """pyvis's list of node ids, with a set beside it: ``add_node`` and ``add_edge`` ask
    whether an id is ``in`` the list, which made 6,670 nodes and 21,587 edges take 3 s."""

    def __init__(self) -> None:
        super().__init__()
        self._seen: set[Any] = set()

    def append(self, item: Any) -> None:
        super().append(item)
        self._seen.add(item)

    def __contains__(self, item: object) -> bool:
        return item in self._seen


def _network(n_edges: int) -> Network:
    """An empty directed pyvis Network with our settings made through its own API."""
    from pyvis.network import Network

    # directed: pyvis keeps every edge (an undirected Network drops a second edge between one
    # pair); heading, height and width stay unused: our template writes the page
    net = Network(directed=True)
    net.node_ids = _NodeIds()
    net.toggle_physics(False)  # the layout is computed here, in Python
    net.toggle_stabilization(False)
    net.toggle_drag_nodes(True)
    net.toggle_hide_edges_on_drag(n_edges > 1500)
    net.inherit_edge_colors(False)  # an edge has its kind's colour
    net.options.edges.smooth.enabled = False  # straight edges; parallel ones curve one by one
    return net


def _options(n_edges: int, groups: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """vis-network options pyvis's Options object has no setter for (merged over its own)."""
    face = "Noto Sans CJK SC, sans-serif"
    return {
        "autoResize": True,
        "layout": {"improvedLayout": False, "randomSeed": 1},
        "interaction": {"hover": True, "tooltipDelay": 150, "navigationButtons": False,
                        "keyboard": {"enabled": True, "bindToWindow": False},
                        "hideEdgesOnZoom": n_edges > 1500, "multiselect": False},
        "nodes": {"borderWidth": 1, "font": {"face": face, "strokeWidth": 3,
                                             "strokeColor": "#ffffff"},
                  "widthConstraint": {"maximum": LABEL_WIDTH_MAX},
                  "shapeProperties": {"interpolation": False},
                  # on screen, a label smaller than LABEL_HIDE_PX is not drawn: when the
                  # whole graph is in view, only the heavy nodes' names show
                  "scaling": {"label": {"drawThreshold": LABEL_HIDE_PX}}},
        "edges": {"arrows": {"to": {"enabled": True, "scaleFactor": 0.6}},
                  "color": {"opacity": 0.85}, "width": 1.5, "selectionWidth": 2,
                  "font": {"size": 11, "align": "middle", "strokeWidth": 3, "face": face}},
        "groups": groups,
    }


def graph_payload(G: nx.MultiDiGraph, *, title: str, lang: str = "zh",
                  size_by: str = "degree", style: Style | None = None,
                  edge_labels: bool | None = None,
                  highlight: Iterable[str] = ()) -> dict[str, Any]:
    """Everything the page needs, as plain JSON-able data in a deterministic order.

    Nodes, edges and options are a pyvis ``Network``'s (``add_node``, ``add_edge``, its
    options), read back with ``get_network_data()``. A node or edge carries vis-network's
    attributes and the page's own data (names in both languages, classes, figures, evidence);
    the page hands vis-network only the former, and never a ``title``."""
    marked = set(highlight)
    if lang not in LANGS:
        raise IfkgError(f"unknown language '{lang}' (use zh or en)")
    if size_by not in SIZE_BY:
        raise IfkgError(f"unknown size measure '{size_by}' (use degree or money)")
    style = style or Style()
    nodes = sorted(G.nodes)
    degree = {n: G.degree(n) for n in nodes}
    money = {n: sum(x for f in G.nodes[n].get("figures", ()) or ()
                    if _is_cny(f.get("unit")) and (x := _num(f.get("value"))) is not None
                    and x > 0) for n in nodes}
    max_deg = max(degree.values(), default=0) or 1
    max_money = max(money.values(), default=0) or 1
    weight = {n: {"degree": math.sqrt(degree[n] / max_deg),
                  "money": math.sqrt(money[n] / max_money)} for n in nodes}
    hints = {n: style.hint(sorted(_local(c) for c in (G.nodes[n].get("classes") or ())))
             for n in nodes}
    names = {n: (_text(G.nodes[n].get("zh") or G.nodes[n].get("en") or _local(n)),
                 _text(G.nodes[n].get("en") or G.nodes[n].get("zh") or _local(n)))
             for n in nodes}
    looks = {n: {m: _look(names[n][0], hints[n].shape, weight[n][m]) for m in SIZE_BY}
             for n in nodes}
    # in a small piece, a node reaches far enough to seat its neighbours, NEIGHBOUR_ROOM apart
    pos = layout(G, radius={n: looks[n]["degree"][2] for n in nodes}, room=NEIGHBOUR_ROOM)
    if edge_labels is None:
        edge_labels = G.number_of_edges() <= 150
    net = _network(G.number_of_edges())
    legend: dict[str, dict[str, Any]] = {}
    classes_used: set[str] = set()
    for n in nodes:
        d = G.nodes[n]
        classes = sorted(_local(c) for c in (d.get("classes") or ()))
        classes_used.update(classes)
        h = hints[n]
        key = h.name or "-"
        entry = legend.setdefault(key, {"key": key, "zh": h.zh, "en": h.en, "colour": h.colour,
                                        "shape": h.shape, "count": 0})
        entry["count"] += 1
        zh, en = names[n]
        size, font, _ = looks[n][size_by]
        focus = {"borderWidth": 4, "shadow": HALO} if n in marked else {}
        # vis-network's attributes (the group carries colour and shape), then the page's data
        net.add_node(n, label=zh if lang == "zh" else en, shape=h.shape, group=key,
                     size=round(size, 2), font=_font(font, h.shape),
                     widthConstraint={"maximum": round(_label_width(font), 2)}, x=pos[n][0],
                     y=pos[n][1], physics=False, **focus,
                     zh=zh, en=en, ident=_text(d.get("id") or _local(n)),
                     aliases=sorted(_text(a) for a in d.get("aliases") or ()), cls=classes,
                     hl=n in marked, deg=degree[n],
                     money=f"{money[n]:,.0f} CNY" if money[n] else "",
                     sd=round(weight[n]["degree"], 3), sm=round(weight[n]["money"], 3),
                     vs={m: [round(looks[n][m][0], 2), round(looks[n][m][1], 2),
                             round(_label_width(looks[n][m][1]), 2)] for m in SIZE_BY},
                     fig=sorted((_figure(f) for f in d.get("figures") or ()),
                                key=lambda f: (f["i"], f["w"], f["r"], f["s"])))
    # edges: sorted, numbered, parallel ones (either direction) curved apart
    raw = sorted(G.edges(keys=True, data=True),
                 key=lambda e: (e[0], e[1], str(e[2]), _text(e[3].get("statement"))))
    pairs: dict[tuple[str, str], list[int]] = {}
    for i, (u, v, _, _) in enumerate(raw):
        pairs.setdefault((min(u, v), max(u, v)), []).append(i)
    slot: dict[int, tuple[int, int]] = {}
    for members in pairs.values():
        for j, i in enumerate(members):
            slot[i] = (j, len(members))
    kinds_used: set[str] = set()
    for i, (u, v, key, d) in enumerate(raw):
        ks = [k for k in EDGE_KINDS if k in (d.get("kinds") or ())]
        kinds_used.update(ks)
        j, m = slot[i]
        pred = _text(d.get("predicate") or key)
        lz, le = _text(d.get("label_zh") or pred), _text(d.get("label_en") or pred)
        colour = style.kinds[ks[0]].colour if ks and ks[0] in style.kinds \
            else FALLBACK_EDGE_COLOUR
        # a directed add_edge keeps parallel edges, and at 3,000 edges takes 0.1 s (measured)
        net.add_edge(u, v, id=f"e{i}", color=colour, smooth=_smooth(j, m, u <= v),
                     **({"label": lz if lang == "zh" else le} if edge_labels else {}),
                     p=pred, lz=lz, le=le, k=ks[0] if ks else "", ks=ks,
                     s=_text(d.get("sentence")), q=_text(d.get("exact")),
                     d=_text(d.get("date")))
    legend_rows = sorted(legend.values(), key=lambda r: (-r["count"], r["key"]))
    kinds = [{"key": k, "zh": style.kinds[k].zh if k in style.kinds else k,
              "en": style.kinds[k].en if k in style.kinds else k,
              "colour": style.kinds[k].colour if k in style.kinds else FALLBACK_EDGE_COLOUR}
             for k in EDGE_KINDS if k in kinds_used]
    if any(not e["k"] for e in net.edges):
        kinds.append({"key": "", "zh": "其他", "en": "other", "colour": FALLBACK_EDGE_COLOUR})
    groups = {r["key"]: _group(r["colour"], r["shape"]) for r in legend_rows}
    # a dict, as set_options leaves it: set_options parses a string and strips every space
    # from it (the font face "Noto Sans CJK SC" would become "NotoSansCJKSC")
    net.options = _merged(json.loads(net.options.to_json()),
                          _options(G.number_of_edges(), groups))
    out_nodes, out_edges, _, _, _, options = net.get_network_data()
    return {
        "title": title, "lang": lang, "sizeBy": size_by, "edgeLabels": edge_labels,
        "labelMaxPx": LABEL_MAX_PX, "legend": legend_rows, "kinds": kinds,
        "classLabels": {c: list(style.label(c)) for c in sorted(classes_used)},
        "nodes": out_nodes, "edges": out_edges, "options": json.loads(options),
    }


_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028",
                 "\u2029": "\\u2029"}
_JSON_ESCAPE_RE = re.compile("[<>&\u2028\u2029]")


def script_json(data: Any) -> str:
    """JSON safe to put inside a ``<script>`` element: no ``<``, ``>``, ``&``, U+2028/9.

    >>> script_json({"a": "</script><b>&"})
    '{"a":"\\\\u003c/script\\\\u003e\\\\u003cb\\\\u003e\\\\u0026"}'
    """
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                      allow_nan=False)
    return _JSON_ESCAPE_RE.sub(lambda m: _JSON_ESCAPES[m.group()], text)


@cache
def vis_network_js() -> str:
    """The pinned vis-network bundle; refuses a file whose checksum is not the recorded one."""
    data = VIS_NETWORK_FILE.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != VIS_NETWORK_SHA256:
        raise IfkgError(f"vendored vis-network has SHA-256 {digest}, expected "
                        f"{VIS_NETWORK_SHA256} (see static/VENDORED.md)", VIS_NETWORK_FILE)
    text = data.decode("utf-8")
    if "</script" in text.lower():
        raise IfkgError("vendored vis-network contains '</script'", VIS_NETWORK_FILE)
    return text


@cache
def _template(name: str) -> str:
    return (TEMPLATES / name).read_text(encoding="utf-8")


def _csp_hash(script: str) -> str:
    import base64

    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"


_MARKER = re.compile(r"\{\{(TITLE|CSP|CSS|VIS_JS|APP_JS|DATA|LANG)\}\}")


def render_html(G: nx.MultiDiGraph, *, title: str, lang: str = "zh", size_by: str = "degree",
                style: Style | None = None, edge_labels: bool | None = None,
                highlight: Iterable[str] = ()) -> str:
    """The whole page for ``G`` (a MultiDiGraph shaped like ``network.project_graph``'s).

    Parameters
    ----------
    G : networkx.MultiDiGraph
        Nodes with ``zh``, ``en``, ``classes``, ``figures``; edges with ``predicate``,
        ``label_zh``/``label_en``, ``kinds``, ``sentence``, ``exact``, ``date``.
    title : str
        Page title and heading (escaped).
    lang : str
        ``zh`` (default) or ``en``: which names the page shows first; the page can switch.
    size_by : str
        ``degree`` or ``money`` (sum of the node's CNY figures); the page can switch.
    style : Style, optional
        Display hints from :func:`style_from_store`; without it every class is grey.
    edge_labels : bool, optional
        Draw the predicate on each edge (default: when there are at most 150 edges).
    highlight : iterable of str, optional
        Nodes drawn with a heavy border (the focus of a view, the ends of a path); the page
        opens with the first of them selected.
    """
    from .network import paused_gc

    with paused_gc():  # the payload is plain dicts and lists
        payload = graph_payload(G, title=title, lang=lang, size_by=size_by, style=style,
                                edge_labels=edge_labels, highlight=highlight)
    vis_js = vis_network_js()
    app_js = _template("graph.js")
    csp = ("default-src 'none'; "
           f"script-src {_csp_hash(vis_js)} {_csp_hash(app_js)}; "
           "style-src 'unsafe-inline'; img-src data:; font-src data:; "
           "base-uri 'none'; form-action 'none'")
    values = {"TITLE": html.escape(title, quote=True), "CSP": html.escape(csp, quote=True),
              "CSS": _template("graph.css"), "VIS_JS": vis_js, "APP_JS": app_js,
              "DATA": script_json(payload), "LANG": lang}
    # one pass: text inserted for one marker is never scanned for another
    return _MARKER.sub(lambda m: values[m.group(1)], _template("graph.html"))


def render_export(compiled: Compiled, project: Project) -> bytes:
    """``exports/graph.html``: the whole graph, Chinese names first, sized by degree."""
    from .network import project_graph

    store = compiled.store()
    G = project_graph(store, compiled.base)
    return render_html(G, title=EXPORT_TITLE, style=style_from_store(store)).encode("utf-8")


# ---------------------------------------------------------------------------------------------
# views: the subgraph and title ``ifkg viz`` draws


@dataclass
class View:
    graph: nx.MultiDiGraph
    title: str
    highlight: list[str] = field(default_factory=list)


def _kind_suffix(kind: str) -> str:
    return "" if kind == "any" else f" · {kind}"


def select_view(store: ox.Store, base: str, *, focus: str | None = None, hops: int = 1,
                path: tuple[str, str] | None = None, cls: str | None = None,
                kind: str = "any", max_hops: int = 4, limit: int = 10) -> View:
    """The part of the graph to draw: everything (of ``kind``), the neighbourhood of ``focus``
    within ``hops``, the paths from ``path[0]`` to ``path[1]``, or the entities of class ``cls``
    (or a subclass) with their neighbours within ``hops``. Names resolve like ``ifkg show``'s;
    an unknown name, class or kind, or two views at once, raise IfkgError."""
    from .names import resolve
    from .network import check_class, find_paths, neighbourhood, project_graph

    chosen = [o for o, v in (("--focus", focus), ("--path", path), ("--class", cls)) if v]
    if len(chosen) > 1:
        raise IfkgError(f"choose one of --focus, --path and --class (got {' and '.join(chosen)})")
    if hops < 0:
        raise IfkgError(f"--hops must be at least 0 (got {hops})")
    G = project_graph(store, base, kind=kind)
    if focus:
        node = resolve(store, focus, base)
        H = neighbourhood(G, node, hops, kind)
        name = G.nodes[node]["zh"] if node in G else focus
        return View(H, f"{name} · {hops} 跳 / hops{_kind_suffix(kind)}", [node])
    if path:
        a, b = resolve(store, path[0], base), resolve(store, path[1], base)
        found = find_paths(G, a, b, kind, max_hops, limit)
        if not found:
            raise IfkgError(f"no{_kind_suffix(kind).replace(' · ', ' ')} path from "
                            f"{G.nodes[a]['zh']} to {G.nodes[b]['zh']} within {max_hops} hops")
        H = G.__class__()
        H.graph.update(G.graph)
        nodes = sorted({a, b} | {n for p in found for e in p for n in e[:2]})
        H.add_nodes_from((n, G.nodes[n]) for n in nodes)
        H.add_edges_from((*e, G.edges[e]) for e in sorted({e for p in found for e in p}))
        return View(H, f"{G.nodes[a]['zh']} → {G.nodes[b]['zh']}{_kind_suffix(kind)}", [a, b])
    if cls:
        check_class(G, cls)
        anc = G.graph.get("class_ancestors", {})
        members = sorted(n for n, cs in G.nodes(data="classes")
                         if any(cls in anc.get(c, {c}) for c in cs or ()))
        keep = set(members)
        frontier = set(members)
        for _ in range(hops):
            frontier = {m for n in frontier for m in (*G.successors(n), *G.predecessors(n))
                        if m not in keep}
            keep |= frontier
        H = G.subgraph(sorted(keep)).copy()
        return View(H, f"{cls} ± {hops}{_kind_suffix(kind)}", members)
    return View(G, EXPORT_TITLE + _kind_suffix(kind))
