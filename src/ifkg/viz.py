"""One self-contained, offline HTML page that draws the entity graph with vis-network.

The page is built from our own template (``templates/graph.html``), never pyvis's: pyvis 0.3.2
links Bootstrap and vis-network from CDNs, writes its heading and options unescaped, and
switches tooltips to ``innerHTML``. Here every text from the data travels as JSON inside a
``<script type="application/json">`` block (``<``, ``>``, ``&``, U+2028 and U+2029 escaped),
and the page's script puts it into the DOM with ``textContent`` only. A Content-Security-Policy
forbids every network request and admits only the two inline scripts, by hash.

Readability comes from the ontology, not from code: ``ifkg:displayColour`` and
``ifkg:displayShape`` on classes (a class takes the hint of its nearest superclass that has one),
``ifkg:edgeKindColour`` on the four edge kinds, and the classes' and kinds' zh/en labels.

The layout is computed here, in pure Python (Fruchterman-Reingold with a deterministic start,
each connected component on its own, components packed in rows), and the page draws it with
physics off: a 2,000-node graph is interactive as soon as it is drawn, and the same graph gives
the same bytes on every run.
"""

from __future__ import annotations

import hashlib
import html
import json
import math
import re
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import IfkgError
from .namespaces import EDGE_KINDS, IFKG, RDFS, SKOS

if TYPE_CHECKING:
    import networkx as nx
    import pyoxigraph as ox

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
EDGE_LENGTH = 90.0
# shapes that draw their label inside (their size follows the label), and the widest label
LABEL_INSIDE = frozenset({"box", "ellipse", "circle", "database", "text"})
LABEL_WIDTH_MAX = 160
# components up to this size get exact repulsion; larger ones a grid with a cut-off
EXACT_LAYOUT_MAX = 200
# larger ones: at most this many neighbours repel a node in one step (a sample of a crowd)
NEIGHBOURS_MAX = 48
# node-steps a large component's layout may take (40 steps up to 5,000 nodes, then fewer)
LAYOUT_STEPS_BUDGET = 200_000


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


def _local(iri: str) -> str:
    return iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def _rows(store: ox.Store, query: str) -> list[dict[str, str | None]]:
    res = store.query(query, use_default_graph_as_union=True)
    names = [v.value for v in res.variables]
    return [{n: (None if row[n] is None else row[n].value) for n in names} for row in res]


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
# layout: deterministic, pure Python


def _spiral_start(order: list[int], k: float) -> list[list[float]]:
    """Start positions on a sunflower spiral in breadth-first order, so neighbours start near."""
    pos = [[0.0, 0.0] for _ in order]
    golden = math.pi * (3 - math.sqrt(5))
    for rank, i in enumerate(order):
        r = k * 0.6 * math.sqrt(rank + 0.5)
        pos[i] = [r * math.cos(rank * golden), r * math.sin(rank * golden)]
    return pos


def _bfs_order(n: int, adj: list[list[int]]) -> list[int]:
    start = max(range(n), key=lambda i: (len(adj[i]), -i))
    order, seen, queue = [], {start}, deque([start])
    while queue:
        i = queue.popleft()
        order.append(i)
        for j in adj[i]:
            if j not in seen:
                seen.add(j)
                queue.append(j)
    return order + [i for i in range(n) if i not in seen]


def _fruchterman_reingold(n: int, edges: list[tuple[int, int]], k: float,
                          radius: list[float]) -> list[list[float]]:
    """Force-directed positions of one connected component (nodes 0..n-1).

    Forces act on the gap between two nodes (distance less both radii), so large nodes (a
    label drawn inside an ellipse) keep their distance as small ones do."""
    if n == 1:
        return [[0.0, 0.0]]
    adj: list[list[int]] = [[] for _ in range(n)]
    for i, j in edges:
        adj[i].append(j)
        adj[j].append(i)
    pos = _spiral_start(_bfs_order(n, adj), k + 2 * sum(radius) / n)
    exact = n <= EXACT_LAYOUT_MAX
    # fewer steps for very large components keep the build's time about linear in size
    iterations = 150 if exact else max(10, min(40, LAYOUT_STEPS_BUDGET // n))
    temp = k * math.sqrt(n) * 0.2
    cool = temp / (iterations + 1)
    k2 = k * k
    cell = 2 * (k + sum(radius) / n)
    gravity = 0.02 if exact else 0.0
    for _ in range(iterations):
        dx = [0.0] * n
        dy = [0.0] * n
        if exact:
            groups: Iterable[tuple[list[int], list[int]]] = ((list(range(n)), list(range(n))),)
        else:
            grid: dict[tuple[int, int], list[int]] = {}
            for i in range(n):
                grid.setdefault((int(pos[i][0] // cell), int(pos[i][1] // cell)), []).append(i)
            groups = ((members, [j for a in (-1, 0, 1) for b in (-1, 0, 1)
                                 for j in grid.get((gx + a, gy + b), ())])
                      for (gx, gy), members in grid.items())
        for members, near in groups:
            # a crowded neighbourhood: every stride-th neighbour, its force counted stride times
            stride = 1 if exact else max(1, len(near) // NEIGHBOURS_MAX)
            if stride > 1:
                near = near[::stride]
            for i in members:
                xi, yi = pos[i]
                ri = radius[i]
                fx = fy = 0.0
                for j in near:
                    if j <= i:
                        continue
                    ddx = xi - pos[j][0]
                    ddy = yi - pos[j][1]
                    d = math.sqrt(ddx * ddx + ddy * ddy) or 0.1
                    gap = d - ri - radius[j]
                    if gap > cell:
                        continue
                    f = stride * k2 / ((gap if gap > 1.0 else 1.0) * d)
                    fx += ddx * f
                    fy += ddy * f
                    dx[j] -= ddx * f
                    dy[j] -= ddy * f
                dx[i] += fx
                dy[i] += fy
        for i, j in edges:
            ddx = pos[i][0] - pos[j][0]
            ddy = pos[i][1] - pos[j][1]
            d = math.sqrt(ddx * ddx + ddy * ddy) or 0.1
            gap = max(d - radius[i] - radius[j], 0.0)
            f = gap * gap / (k * d)
            dx[i] -= ddx * f
            dy[i] -= ddy * f
            dx[j] += ddx * f
            dy[j] += ddy * f
        for i in range(n):
            fx = dx[i] - gravity * pos[i][0] * len(adj[i]) ** 0.5
            fy = dy[i] - gravity * pos[i][1] * len(adj[i]) ** 0.5
            d = math.sqrt(fx * fx + fy * fy)
            if d > 0:
                step = min(d, temp) / d
                pos[i][0] += fx * step
                pos[i][1] += fy * step
        temp -= cool
    return pos


def layout(G: nx.MultiDiGraph, edge_length: float = EDGE_LENGTH,
           radius: Mapping[str, float] | None = None) -> dict[str, tuple[int, int]]:
    """Integer positions for every node: each connected component laid out on its own
    (force-directed), components packed in rows, largest first. Deterministic: depends only
    on the sorted nodes and edges. ``radius`` (default 10) is how far a node reaches from its
    centre; the gap between two nodes, not the distance of their centres, is what is laid out.

    >>> import networkx as nx
    >>> G = nx.MultiDiGraph([("a", "b"), ("b", "c"), ("x", "y")])
    >>> pos = layout(G)
    >>> sorted(pos) == ["a", "b", "c", "x", "y"] and pos == layout(G.copy())
    True
    """
    nodes = sorted(G.nodes)
    index = {n: i for i, n in enumerate(nodes)}
    adj: list[set[int]] = [set() for _ in nodes]
    for u, v in G.edges():
        if u != v:
            adj[index[u]].add(index[v])
            adj[index[v]].add(index[u])
    # connected components, each as a sorted list of indices
    comp_of = [-1] * len(nodes)
    comps: list[list[int]] = []
    for s in range(len(nodes)):
        if comp_of[s] >= 0:
            continue
        comp, queue = [], deque([s])
        comp_of[s] = len(comps)
        while queue:
            i = queue.popleft()
            comp.append(i)
            for j in sorted(adj[i]):
                if comp_of[j] < 0:
                    comp_of[j] = len(comps)
                    queue.append(j)
        comps.append(sorted(comp))
    comps.sort(key=lambda c: (-len(c), c[0]))
    boxes = []
    for comp in comps:
        local = {g: i for i, g in enumerate(comp)}
        edges = sorted({(min(local[a], local[b]), max(local[a], local[b]))
                        for a in comp for b in adj[a] if b in local})
        radii = [float((radius or {}).get(nodes[g], 10.0)) for g in comp]
        pos = _fruchterman_reingold(len(comp), edges, edge_length, radii)
        minx = min(p[0] - r for p, r in zip(pos, radii, strict=True))
        miny = min(p[1] - r for p, r in zip(pos, radii, strict=True))
        w = max(p[0] + r for p, r in zip(pos, radii, strict=True)) - minx
        h = max(p[1] + r for p, r in zip(pos, radii, strict=True)) - miny
        boxes.append((comp, [(p[0] - minx, p[1] - miny) for p in pos], w, h))
    # shelf packing: rows about as wide as the square root of the total area
    margin = edge_length * 0.7
    total = sum((w + margin) * (h + margin) for _, _, w, h in boxes)
    row_width = max(math.sqrt(total) * 1.3, max((w for _, _, w, _ in boxes), default=0))
    out: dict[str, tuple[int, int]] = {}
    x = y = row_h = 0.0
    placed: list[tuple[list[int], list[tuple[float, float]], float, float]] = []
    for comp, pos, w, h in boxes:
        if x > 0 and x + w > row_width:
            x, y, row_h = 0.0, y + row_h + margin, 0.0
        placed.append((comp, pos, x, y))
        x += w + margin
        row_h = max(row_h, h)
    allx = [ox_ + p[0] for comp, pos, ox_, _ in placed for p in pos]
    ally = [oy + p[1] for comp, pos, _, oy in placed for p in pos]
    cx = (min(allx) + max(allx)) / 2 if allx else 0.0
    cy = (min(ally) + max(ally)) / 2 if ally else 0.0
    for comp, pos, ox_, oy in placed:
        for g, p in zip(comp, pos, strict=True):
            out[nodes[g]] = (round(ox_ + p[0] - cx), round(oy + p[1] - cy))
    return out


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


def _radius(label: str, shape: str, s: float) -> float:
    """How far a drawn node reaches from its centre (the page's formulas, in graph.js:
    label-inside shapes use font 14 + 4s, the others size 9 + 24s)."""
    if shape in LABEL_INSIDE:
        w = min(LABEL_WIDTH_MAX, _text_width(label, 14 + 4 * s))
        return (w * 1.5 if shape == "ellipse" else w + 12) / 2
    return 9 + 24 * s + 6


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


def _options(n_nodes: int, n_edges: int) -> dict[str, Any]:
    return {
        "autoResize": True,
        "physics": {"enabled": False},
        "layout": {"improvedLayout": False, "randomSeed": 1},
        "interaction": {"hover": True, "tooltipDelay": 150, "navigationButtons": False,
                        "keyboard": {"enabled": True, "bindToWindow": False},
                        "hideEdgesOnDrag": n_edges > 1500, "hideEdgesOnZoom": n_edges > 1500,
                        "multiselect": False},
        "nodes": {"borderWidth": 1, "font": {"face": "Noto Sans CJK SC, sans-serif"},
                  "widthConstraint": {"maximum": LABEL_WIDTH_MAX},
                  "shapeProperties": {"interpolation": False}},
        "edges": {"arrows": {"to": {"enabled": True, "scaleFactor": 0.6}},
                  "smooth": False, "width": 1.5, "selectionWidth": 2,
                  "font": {"size": 11, "align": "middle", "strokeWidth": 3,
                           "face": "Noto Sans CJK SC, sans-serif"}},
    }


def graph_payload(G: nx.MultiDiGraph, *, title: str, lang: str = "zh",
                  size_by: str = "degree", style: Style | None = None,
                  edge_labels: bool | None = None,
                  highlight: Iterable[str] = ()) -> dict[str, Any]:
    """Everything the page needs, as plain JSON-able data in a deterministic order."""
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
    legend: dict[str, dict[str, Any]] = {}
    hints = {n: style.hint(sorted(_local(c) for c in (G.nodes[n].get("classes") or ())))
             for n in nodes}
    pos = layout(G, radius={n: _radius(_text(G.nodes[n].get("zh") or _local(n)),
                                       hints[n].shape, math.sqrt(degree[n] / max_deg))
                            for n in nodes})
    out_nodes = []
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
        zh = _text(d.get("zh") or d.get("en") or _local(n))
        en = _text(d.get("en") or d.get("zh") or _local(n))
        out_nodes.append({
            "id": n, "zh": zh, "en": en, "ident": _text(d.get("id") or _local(n)),
            "aliases": sorted(_text(a) for a in d.get("aliases") or ()),
            "cls": classes, "cat": key, "x": pos[n][0], "y": pos[n][1],
            "hl": n in marked, "deg": degree[n],
            "money": f"{money[n]:,.0f} CNY" if money[n] else "",
            "sd": round(math.sqrt(degree[n] / max_deg), 3),
            "sm": round(math.sqrt(money[n] / max_money), 3),
            "fig": sorted((_figure(f) for f in d.get("figures") or ()),
                          key=lambda f: (f["i"], f["w"], f["r"], f["s"])),
        })
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
    out_edges = []
    kinds_used: set[str] = set()
    for i, (u, v, key, d) in enumerate(raw):
        ks = [k for k in EDGE_KINDS if k in (d.get("kinds") or ())]
        kinds_used.update(ks)
        j, m = slot[i]
        pred = _text(d.get("predicate") or key)
        out_edges.append({
            "id": f"e{i}", "from": u, "to": v, "p": pred,
            "lz": _text(d.get("label_zh") or pred), "le": _text(d.get("label_en") or pred),
            "k": ks[0] if ks else "", "ks": ks, "s": _text(d.get("sentence")),
            "q": _text(d.get("exact")), "d": _text(d.get("date")),
            "sm": _smooth(j, m, u <= v),
        })
    legend_rows = sorted(legend.values(), key=lambda r: (-r["count"], r["key"]))
    kinds = [{"key": k, "zh": style.kinds[k].zh if k in style.kinds else k,
              "en": style.kinds[k].en if k in style.kinds else k,
              "colour": style.kinds[k].colour if k in style.kinds else FALLBACK_EDGE_COLOUR}
             for k in EDGE_KINDS if k in kinds_used]
    if any(not e["k"] for e in out_edges):
        kinds.append({"key": "", "zh": "其他", "en": "other", "colour": FALLBACK_EDGE_COLOUR})
    if edge_labels is None:
        edge_labels = len(out_edges) <= 150
    return {
        "title": title, "lang": lang, "sizeBy": size_by, "edgeLabels": edge_labels,
        "legend": legend_rows, "kinds": kinds,
        "classLabels": {c: list(style.label(c)) for c in sorted(classes_used)},
        "nodes": out_nodes, "edges": out_edges,
        "options": _options(len(out_nodes), len(out_edges)),
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
