"""Commands on the graph itself: build, validate, stats, show."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from .project import default_project

BaseOpt = Annotated[str | None, typer.Option("--base", help="Base IRI of the data "
                    "(default https://w3id.org/ifkg/, or $IFKG_BASE).")]


MAX_WARNINGS = 20


def register(app: typer.Typer) -> None:
    app.command("build")(build_cmd)
    app.command("validate")(validate_cmd)
    app.command("stats")(stats_cmd)
    app.command("show")(show_cmd)


def build_cmd(
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Output folder (default exports/).")] = None,
    check: Annotated[bool, typer.Option("--check", help="Write nothing; exit 1 when the exports "
                                        "differ from a fresh build.")] = False,
    base: BaseOpt = None,
    timings: Annotated[bool, typer.Option("--timings", help="Print the wall time of each "
                                          "step to stderr.")] = False,
) -> None:
    """Check everything, then write the exports (Turtle, TriG, N-Quads, N-Triples, JSON-LD)."""
    from .build import build, stale_exports

    project = default_project(base)
    target = out or project.exports_dir
    if check:
        stale = stale_exports(project, target)
        if stale:
            print(f"ifkg: exports out of date in {target}: {', '.join(stale)}; run `ifkg build`",
                  file=sys.stderr)
            raise typer.Exit(1)
        print(f"exports in {target} match a fresh build")
        return
    result = build(project, target)
    for w in result.warnings[:MAX_WARNINGS]:
        print(f"ifkg: {w}", file=sys.stderr)
    if len(result.warnings) > MAX_WARNINGS:
        print(f"ifkg: … and {len(result.warnings) - MAX_WARNINGS} more warning(s); "
              "`ifkg validate` lists them all", file=sys.stderr)
    if timings:
        for stage, secs in result.timings.items():
            print(f"ifkg: {secs:8.2f} s  {stage}", file=sys.stderr)
    c = result.corpus
    n_rel = sum(len(s.relations) for s in c.sources.values())
    n_meas = sum(len(s.measurements) for s in c.sources.values())
    print(f"built {len(c.entities)} entities, {n_rel} relations, {n_meas} measurements from "
          f"{len(c.sources)} source(s): {result.compiled.n_quads} quads")
    comp, r = result.compiled, result.rendered
    if comp.reused_sources or (r and r.reused):
        print(f"incremental: {len(comp.compiled_sources)} source(s) compiled, "
              f"{len(comp.reused_sources)} reused; "
              f"{r.serialised if r else 0} export fragment(s) serialised, {r.reused if r else 0} "
              "reused from the last build")
    for name in sorted(result.files):
        print(f"  {target / name}")


def validate_cmd(base: BaseOpt = None) -> None:
    """List every problem in the curated files, the ontology and the SHACL shapes."""
    from .build import check

    _, _, problems = check(default_project(base))
    for p in problems:
        print(p, file=sys.stderr)
    errors = sum(1 for p in problems if p.severity == "error")
    if errors:
        print(f"{errors} error(s), {len(problems) - errors} warning(s)", file=sys.stderr)
        raise typer.Exit(2)
    print(f"valid ({len(problems)} warning(s))")


def stats_cmd(base: BaseOpt = None) -> None:
    """Counts per class, per property, per named graph and per source."""
    from .build import open_store
    from .describe import stats

    project = default_project(base)
    for section, rows in stats(open_store(project), project.base).items():
        print(f"{section}:")
        width = max((len(k) for k, _ in rows), default=0)
        for k, n in rows:
            print(f"  {k.ljust(width)}  {n:>7}")


def show_cmd(
    name: Annotated[str, typer.Argument(help="A zh or en name, alias or id.")],
    base: BaseOpt = None,
) -> None:
    """An entity: its classes, every edge and figure, each with its evidence sentence."""
    from .build import open_store
    from .describe import mark_quote, show
    from .names import resolve

    project = default_project(base)
    store = open_store(project)
    v = show(store, resolve(store, name, project.base))
    print(f"{v.zh} / {v.en}\n  {v.iri}\n  classes: {', '.join(v.classes)}")
    if v.aliases:
        print(f"  aliases: {', '.join(v.aliases)}")
    for s in v.mentions:
        print(f"  named in: 「{s}」")
    if v.edges:
        print("edges:")
    for e in v.edges:
        arrow = f"—{e['p']}→ {e['other_label']}" if e["dir"] == "out" else \
            f"←{e['p']}— {e['other_label']}"
        date = f" [{e['date']}]" if e["date"] else ""
        print(f"  {arrow}{date}\n      「{mark_quote(e['sentence'], e['exact'])}」")
    if v.figures:
        print("figures:")
    for f in v.figures:
        when = f["asOf"] or f["period"] or "—"
        print(f"  {f['indicator']}: {f['reported']} = {f['value']} {f['unit']} ({f['qualifier']}, "
              f"{when})\n      「{mark_quote(f['sentence'], f['exact'])}」")
