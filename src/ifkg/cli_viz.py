"""The ``viz`` command: write an interactive, self-contained HTML page of the graph."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .project import default_project

BaseOpt = Annotated[str | None, typer.Option("--base", help="Base IRI of the data "
                    "(default https://w3id.org/ifkg/, or $IFKG_BASE).")]


def register(app: typer.Typer) -> None:
    app.command("viz")(viz_cmd)


def viz_cmd(
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="The HTML file to write. Default: exports/graph.html for the whole "
        "graph (as `ifkg build` writes it); a focused view needs --out.")] = None,
    focus: Annotated[str | None, typer.Option(
        "--focus", help="Draw this entity (zh or en name, alias or id) and its neighbours "
        "within --hops.")] = None,
    hops: Annotated[int, typer.Option("--hops", help="Hops around --focus or --class.")] = 1,
    path: Annotated[tuple[str, str] | None, typer.Option(
        "--path", metavar="A B", help="Draw the paths from A to B (at most --max-hops long, "
        "--limit of them).")] = None,
    cls: Annotated[str | None, typer.Option(
        "--class", help="Draw the entities of this ontology class (or a subclass) and their "
        "neighbours within --hops.")] = None,
    kind: Annotated[str, typer.Option(
        "--kind", help="Only edges of this kind: funding, collaboration, governance, place, "
        "or any.")] = "any",
    max_hops: Annotated[int, typer.Option("--max-hops", help="Longest path for --path.")] = 4,
    limit: Annotated[int, typer.Option("--limit", help="Most paths for --path.")] = 10,
    lang: Annotated[str, typer.Option("--lang", help="Names shown first: zh or en (the page "
                                      "can switch).")] = "zh",
    size_by: Annotated[str, typer.Option("--size-by", help="Node size: degree or money (sum "
                                         "of CNY figures); the page can switch.")] = "degree",
    base: BaseOpt = None,
) -> None:
    """Write an interactive HTML page of the graph that works offline (vis-network inline)."""
    from .build import open_store
    from .errors import IfkgError
    from .export import write_atomically
    from .network import kind_names
    from .viz import LANGS, SIZE_BY, render_html, select_view, style_from_store

    for opt, value, allowed in (("--lang", lang, LANGS), ("--size-by", size_by, SIZE_BY),
                                ("--kind", kind, kind_names())):
        if value not in allowed:
            raise IfkgError(f"unknown {opt} '{value}' (use one of: {', '.join(allowed)})")
    project = default_project(base)
    focused = bool(focus or path or cls or kind != "any")
    if out is None:
        if focused or lang != "zh" or size_by != "degree":
            raise IfkgError("a focused view (or --lang/--size-by) needs --out FILE; "
                            "exports/graph.html is the whole graph as `ifkg build` writes it")
        out = project.exports_dir / "graph.html"
    store = open_store(project)
    view = select_view(store, project.base, focus=focus, hops=hops, path=path, cls=cls,
                       kind=kind, max_hops=max_hops, limit=limit)
    page = render_html(view.graph, title=view.title, lang=lang, size_by=size_by,
                       style=style_from_store(store), highlight=view.highlight)
    if out.is_dir():
        raise IfkgError(f"--out {out} is a folder; give a file name")
    try:
        write_atomically({out.name: page.encode("utf-8")}, out.parent if str(out.parent) else
                         Path("."))
    except OSError as exc:
        raise IfkgError(f"cannot write {out}: {exc.strerror}") from None
    G = view.graph
    print(f"wrote {out} ({G.number_of_nodes()} entities, {G.number_of_edges()} relations)")
