"""Commands on the entity network: paths, neighbors, rank, communities."""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from .project import default_project

if TYPE_CHECKING:
    import networkx as nx

BaseOpt = Annotated[str | None, typer.Option("--base", help="Base IRI of the data "
                    "(default https://w3id.org/ifkg/, or $IFKG_BASE).")]
KindOpt = Annotated[str, typer.Option("--kind", help="Which edges count: funding (follows "
                    "edge direction), collaboration, governance, place, or any (every edge; "
                    "direction ignored).")]


def register(app: typer.Typer) -> None:
    app.command("paths")(paths_cmd)
    app.command("neighbors")(neighbors_cmd)
    app.command("rank")(rank_cmd)
    app.command("communities")(communities_cmd)


def _load(base: str | None) -> tuple[object, str, nx.MultiDiGraph]:
    from .build import open_store
    from .network import project_graph

    project = default_project(base)
    store = open_store(project)
    return store, project.base, project_graph(store, project.base)


def _name(G: nx.MultiDiGraph, n: str) -> str:
    """``zh / en`` (just zh when both are the same)."""
    zh, en = G.nodes[n]["zh"], G.nodes[n]["en"]
    return zh if zh == en else f"{zh} / {en}"


def _arrow(G: nx.MultiDiGraph, edge: tuple[str, str, str], walked_from: str) -> str:
    """``—推出/launches→`` along the edge, ``←推出/launches—`` against it."""
    u, _, k = edge
    d = G.edges[edge]
    lab = d["label_zh"] if d["label_zh"] == d["label_en"] else f"{d['label_zh']}/{d['label_en']}"
    return f"—{lab}→" if u == walked_from else f"←{lab}—"


def format_path(G: nx.MultiDiGraph, path: list[tuple[str, str, str]], source: str,
                number: int) -> str:
    """One path as printed by ``ifkg paths``: the zh chain, the en chain, then every hop with
    its evidence sentence."""
    from .network import path_nodes

    nodes = path_nodes(path, source)
    zh = G.nodes[nodes[0]]["zh"]
    en = G.nodes[nodes[0]]["en"]
    for edge, a, b in zip(path, nodes, nodes[1:], strict=False):
        arrow = _arrow(G, edge, a)
        zh += f" {arrow} {G.nodes[b]['zh']}"
        d = G.edges[edge]
        en_arrow = f"—{d['label_en']}→" if edge[0] == a else f"←{d['label_en']}—"
        en += f" {en_arrow} {G.nodes[b]['en']}"
    lines = [f"{number}. {zh}", f"   {en}"]
    for i, (edge, a, b) in enumerate(zip(path, nodes, nodes[1:], strict=False), 1):
        d = G.edges[edge]
        date = f" [{d['date']}]" if d.get("date") else ""
        lines.append(f"   hop {i}: {G.nodes[a]['zh']} {_arrow(G, edge, a)} {G.nodes[b]['zh']}"
                     f"{date}")
        lines.append(f"      「{d.get('sentence') or '(no evidence recorded)'}」")
    return "\n".join(lines)


def paths_cmd(
    source: Annotated[str, typer.Argument(help="Where paths start: zh or en name, alias or id.")],
    target: Annotated[str, typer.Argument(help="Where paths end: zh or en name, alias or id.")],
    kind: KindOpt = "any",
    max_hops: Annotated[int, typer.Option("--max-hops", help="Longest path, in edges.")] = 4,
    limit: Annotated[int, typer.Option("--limit", help="At most this many paths.")] = 10,
    html_file: Annotated[Path | None, typer.Option("--html", help="Also draw the paths into "
                         "this HTML file (self-contained, works offline).")] = None,
    base: BaseOpt = None,
) -> None:
    """Paths from one entity to another, shortest first, with the evidence of every hop."""
    from .names import resolve
    from .network import find_paths

    store, b, G = _load(base)
    s, t = resolve(store, source, b), resolve(store, target, b)
    found = find_paths(G, s, t, kind=kind, max_hops=max_hops, limit=limit)
    what = "path" if kind == "any" else f"{kind} path"
    if not found:
        print(f"no {what} from {_name(G, s)} to {_name(G, t)} within {max_hops} hops")
        if html_file is None:
            raise typer.Exit(1)
    else:
        print(f"{len(found)} {what}{'s' if len(found) != 1 else ''} from {_name(G, s)} to "
              f"{_name(G, t)} (at most {max_hops} hops, shortest first):\n")
        print("\n\n".join(format_path(G, p, s, i) for i, p in enumerate(found, 1)))
    if html_file is not None:
        title = f"{G.nodes[s]['zh']} → {G.nodes[t]['zh']} ({kind})"
        _write(html_file, _paths_page(store, G, found, s, t, title))
        print(f"\nwrote {html_file}")
    if not found:
        raise typer.Exit(1)


def _paths_page(store: object, G: nx.MultiDiGraph, paths: list[list[tuple[str, str, str]]],
                source: str, target: str, title: str) -> str:
    """The page ``--html`` writes: the paths drawn by ``ifkg.viz`` when that module is there,
    else by :func:`paths_html`."""
    import inspect

    try:
        from .viz import render_html, style_from_store
    except ImportError:
        return paths_html(G, paths, source, title)
    H = G.__class__()
    H.graph.update(G.graph)
    nodes = {source, target} | {n for p in paths for e in p for n in e[:2]}
    H.add_nodes_from((n, G.nodes[n]) for n in sorted(nodes))
    H.add_edges_from((*e, G.edges[e]) for e in sorted({e for p in paths for e in p}))
    extra = {"highlight": [source, target]} if "highlight" in inspect.signature(
        render_html).parameters else {}
    return render_html(H, title=title, style=style_from_store(store), **extra)


def _write(path: Path, text: str) -> None:
    from .errors import IfkgError

    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise IfkgError(f"cannot write {path}: {exc.strerror}") from None


def paths_html(G: nx.MultiDiGraph, paths: list[list[tuple[str, str, str]]], source: str,
               title: str) -> str:
    """The paths drawn as one self-contained HTML page (inline SVG, no scripts, no network).

    Each path is a row of boxes (zh name above, en name below) joined by arrows labelled with
    the relation; an arrow points the way the relation runs, so a hop walked against the
    relation's direction points back. The evidence sentence of a hop is its tooltip and is
    listed under the row.
    """
    from .network import path_nodes

    box_w, box_h, gap, row_h, pad = 200, 52, 120, 96, 20
    colours = G.graph.get("kind_colours", {})
    parts = [f"<!DOCTYPE html>\n<html lang=\"zh\"><head><meta charset=\"utf-8\">"
             f"<title>{html.escape(title)}</title><style>"
             "body{font-family:'Noto Sans CJK SC','Noto Sans',sans-serif;margin:20px}"
             "svg text{font-size:13px}.en{font-size:11px;fill:#555}"
             "ol li{margin:2px 0;font-size:13px}</style></head><body>",
             f"<h1>{html.escape(title)}</h1>"]
    if not paths:
        parts.append("<p>No path.</p>")
    for i, path in enumerate(paths, 1):
        nodes = path_nodes(path, source)
        width = pad * 2 + len(nodes) * box_w + (len(nodes) - 1) * gap
        svg = [f'<h2>Path {i} ({len(path)} hop{"s" if len(path) != 1 else ""})</h2>',
               f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{row_h}" '
               f'role="img" aria-label="path {i}">',
               '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" '
               'markerWidth="8" markerHeight="8" orient="auto-start-reverse">'
               '<path d="M0,0 L10,5 L0,10 z" fill="#333"/></marker></defs>']
        y = (row_h - box_h) // 2
        for j, n in enumerate(nodes):
            x = pad + j * (box_w + gap)
            d = G.nodes[n]
            svg.append(f'<g class="node" data-iri="{html.escape(n)}"><title>'
                       f'{html.escape(", ".join(d["classes"]))}</title>'
                       f'<rect x="{x}" y="{y}" width="{box_w}" height="{box_h}" rx="8" '
                       f'fill="#f4f4f4" stroke="#333"/>'
                       f'<text x="{x + box_w / 2}" y="{y + 22}" text-anchor="middle">'
                       f'{html.escape(d["zh"])}</text>'
                       f'<text class="en" x="{x + box_w / 2}" y="{y + 40}" '
                       f'text-anchor="middle">{html.escape(d["en"][:34])}</text></g>')
        for j, edge in enumerate(path):
            d = G.edges[edge]
            x1 = pad + j * (box_w + gap) + box_w
            x2 = x1 + gap
            forward = edge[0] == nodes[j]
            colour = next((colours[k] for k in sorted(d["kinds"]) if k in colours), "#333")
            marker = 'marker-end="url(#arrow)"' if forward else 'marker-start="url(#arrow)"'
            svg.append(f'<g class="edge" data-predicate="{html.escape(d["predicate"])}">'
                       f'<title>{html.escape(d.get("sentence") or "")}</title>'
                       f'<line x1="{x1}" y1="{row_h / 2}" x2="{x2}" y2="{row_h / 2}" '
                       f'stroke="{colour}" stroke-width="2" {marker}/>'
                       f'<text x="{x1 + gap / 2}" y="{row_h / 2 - 8}" text-anchor="middle">'
                       f'{html.escape(d["label_zh"])}</text>'
                       f'<text class="en" x="{x1 + gap / 2}" y="{row_h / 2 + 18}" '
                       f'text-anchor="middle">{html.escape(d["label_en"])}</text></g>')
        svg.append("</svg><ol>")
        for edge in path:
            d = G.edges[edge]
            svg.append(f"<li>{html.escape(G.nodes[edge[0]]['zh'])} —{html.escape(d['label_zh'])}"
                       f"→ {html.escape(G.nodes[edge[1]]['zh'])}: 「"
                       f"{html.escape(d.get('sentence') or '')}」</li>")
        svg.append("</ol>")
        parts.extend(svg)
    parts.append("</body></html>\n")
    return "\n".join(parts)


def neighbors_cmd(
    name: Annotated[str, typer.Argument(help="A zh or en name, alias or id.")],
    hops: Annotated[int, typer.Option("--hops", help="How far to look, in edges.")] = 1,
    kind: KindOpt = "any",
    base: BaseOpt = None,
) -> None:
    """The entities within N hops of one entity, and the relations among them with evidence."""
    from .names import resolve
    from .network import neighbourhood

    store, b, G = _load(base)
    node = resolve(store, name, b)
    H = neighbourhood(G, node, hops=hops, kind=kind)
    others = sorted((n for n in H if n != node), key=lambda n: (H.nodes[n]["distance"],
                                                               H.nodes[n]["zh"], n))
    print(f"{_name(G, node)}: {len(others)} entit{'y' if len(others) == 1 else 'ies'} within "
          f"{hops} hop{'s' if hops != 1 else ''} ({kind} edges)")
    for n in others:
        dist = H.nodes[n]["distance"]
        print(f"  {dist} hop{'s' if dist != 1 else ' '}  {_name(G, n)}  "
              f"[{', '.join(G.nodes[n]['classes'])}]")
    edges = sorted(H.edges(keys=True), key=lambda e: (min(H.nodes[e[0]]["distance"],
                                                          H.nodes[e[1]]["distance"]), e))
    if edges:
        print("relations:")
    for e in edges:
        d = H.edges[e]
        date = f" [{d['date']}]" if d.get("date") else ""
        print(f"  {G.nodes[e[0]]['zh']} {_arrow(G, e, e[0])} {G.nodes[e[1]]['zh']}{date}\n"
              f"      「{d.get('sentence') or '(no evidence recorded)'}」")


def rank_cmd(
    by: Annotated[str, typer.Option("--by", help="degree | betweenness | pagerank")] = "degree",
    cls: Annotated[str | None, typer.Option("--class", help="Only entities of this ontology "
                   "class (or a subclass), e.g. Bank.")] = None,
    kind: KindOpt = "any",
    top: Annotated[int, typer.Option("--top", help="Show this many (0 = all).")] = 20,
    base: BaseOpt = None,
) -> None:
    """Entities ordered by degree, betweenness or PageRank, highest first."""
    from .network import rank

    _, _, G = _load(base)
    ranked = rank(G, by=by, cls=cls, kind=kind)
    shown = ranked if top <= 0 else ranked[:top]
    scope = f"{kind} edges" + (f", class {cls}" if cls else "")
    print(f"{by} ({scope}): {len(shown)} of {len(ranked)} entities")
    for i, (n, score) in enumerate(shown, 1):
        value = f"{score:.4f}" if by == "pagerank" else f"{score:g}"
        print(f"{i:>4}  {value:>8}  {_name(G, n)}  [{', '.join(G.nodes[n]['classes'])}]")


def communities_cmd(
    kind: KindOpt = "any",
    seed: Annotated[int, typer.Option("--seed", help="Seed of the Louvain method.")] = 42,
    base: BaseOpt = None,
) -> None:
    """Groups of densely connected entities (Louvain modularity), members listed by name."""
    from .network import communities, modularity

    _, _, G = _load(base)
    groups = communities(G, kind=kind, seed=seed)
    members = sum(len(g) for g in groups)
    print(f"{len(groups)} communities of {members} entities ({kind} edges, Louvain, seed {seed},"
          f" modularity {modularity(G, groups, kind):.3f}); {len(G) - members} entities "
          f"without such edges are left out")
    for i, g in enumerate(groups, 1):
        print(f"community {i} ({len(g)}):")
        for n in g:
            print(f"  {_name(G, n)}")
