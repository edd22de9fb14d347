"""Commands for SPARQL: query, queries (the catalogue), prefixes."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from .errors import IfkgError
from .project import default_project

BaseOpt = Annotated[str | None, typer.Option("--base", help="Base IRI of the data "
                    "(default https://w3id.org/ifkg/, or $IFKG_BASE).")]
FORMAT_HELP = ("table (default on a terminal), csv (default otherwise), tsv, json, xml; "
               "CONSTRUCT/DESCRIBE: table, turtle (default when not a terminal), jsonld, nt.")


def register(app: typer.Typer) -> None:
    app.command("query")(query_cmd)
    app.command("queries")(queries_cmd)
    app.command("prefixes")(prefixes_cmd)


def _query_text(query: str | None, file: Path | None, name: str | None) -> tuple[str, str]:
    """(text, name for messages) from exactly one of QUERY, --file and --name."""
    given = [x for x in (query, file, name) if x is not None]
    if len(given) != 1:
        raise IfkgError("give exactly one of: a query text, --file FILE or --name NAME "
                        "(`ifkg queries` lists the names)")
    if file is not None:
        try:
            return file.read_text(encoding="utf-8"), str(file)
        except (OSError, UnicodeDecodeError) as exc:
            raise IfkgError(f"cannot read query file: {exc}", file) from None
    if name is not None:
        from .catalogue import get

        cq = get(name)
        return cq.text, f"{cq.name}.rq"
    if query == "-":
        return sys.stdin.read(), "<stdin>"
    return str(query), "<query>"


def query_cmd(
    query: Annotated[str | None, typer.Argument(help="SPARQL text (or - to read stdin).")] = None,
    file: Annotated[Path | None, typer.Option("--file", "-f", help="Read the query from "
                    "a .rq file.")] = None,
    name: Annotated[str | None, typer.Option("--name", "-n", help="Run a catalogue query "
                    "(see `ifkg queries`).")] = None,
    param: Annotated[list[str] | None, typer.Option("--param", "-p", help="key=value for a "
                     "parameter the query's header declares (repeatable).")] = None,
    fmt: Annotated[str | None, typer.Option("--format", "-F", help=FORMAT_HELP)] = None,
    timeout: Annotated[float, typer.Option("--timeout", help="Stop the query after this many "
                       "seconds (0: no limit).")] = 30.0,
    limit: Annotated[int | None, typer.Option("--limit", help="Keep at most this many rows "
                     "(or triples).")] = None,
    lang: Annotated[str, typer.Option("--lang", help="Label language of the table: zh or "
                    "en.")] = "zh",
    base: BaseOpt = None,
) -> None:
    """Run a SPARQL query (SELECT, ASK, CONSTRUCT, DESCRIBE) over the built graph.

    The default graph is the union of the ontology, facts and provenance graphs; the
    project's prefixes are predeclared (`ifkg prefixes`). Read-only: UPDATE, LOAD and SERVICE
    are refused, and FROM may only name the dataset's graphs.
    """
    from . import sparql
    from .build import open_store
    from .catalogue import bindings, parse_assignments, parse_header

    text, label = _query_text(query, file, name)
    given = parse_assignments(param or [])
    project = default_project(base)
    if timeout < 0:
        raise IfkgError(f"--timeout must be 0 or more, not {timeout:g}")
    prepared = sparql.prepare(text, base=project.base, name=label)
    store = open_store(project)
    values = {}
    if given or name is not None or "# param:" in text:
        header = parse_header(Path(label).stem, text, strict=False)
        values = bindings(store, header, given, project.base)
    tty = sys.stdout.isatty()
    if fmt is None:
        graph = prepared.form in ("CONSTRUCT", "DESCRIBE")
        fmt = "table" if tty else ("turtle" if graph else "csv")
    result = sparql.execute(store, prepared, timeout=timeout or None, row_limit=limit,
                            bindings=values, output=None if fmt == "table" else fmt)
    out = sys.stdout.buffer
    if fmt == "table":
        import shutil

        width = shutil.get_terminal_size().columns if tty else None
        out.write(sparql.table(result, store=store, lang=lang, base=project.base,
                               total_width=width).encode())
    else:
        sparql.write(result, fmt, out, base=project.base)
        if result.truncated:
            print(f"ifkg: output truncated at {limit} rows (--limit)", file=sys.stderr)
    out.flush()


def queries_cmd(
    name: Annotated[str | None, typer.Argument(help="Show this query in full.")] = None,
) -> None:
    """List the catalogue of research queries (name, zh and en title), or show one in full."""
    from .catalogue import catalogue, get
    from .sparql import render_table

    if name is not None:
        cq = get(name)
        print(f"{cq.name}\n  {cq.title_zh}\n  {cq.title}\n\n{cq.description}\n")
        for p in cq.params:
            extra = f"; default {p.default}" if p.default else ""
            print(f"  --param {p.name}=…  {p.meaning} ({p.type}{extra})")
        print(f"\nifkg query --name {cq.name}\n\n{cq.text}")
        return
    rows = [[cq.name, cq.title_zh, cq.title] for cq in catalogue().values()]
    sys.stdout.write(render_table(["name", "题目", "title"], rows, max_width=70))
    print("\nRun one: ifkg query --name NAME [--param key=value]; show one: ifkg queries NAME")


def prefixes_cmd(base: BaseOpt = None) -> None:
    """The prefixes every query may use without declaring them, as SPARQL PREFIX lines."""
    from .namespaces import prefixes

    pfx = prefixes(default_project(base).base)
    width = max(len(k) for k in pfx)
    for k, v in pfx.items():
        print(f"PREFIX {(k + ':').ljust(width + 1)} <{v}>")
