"""Commands for publishing the graph: ``serve`` (a local linked-data server) and ``publish``
(upload every named graph to a SPARQL 1.1 Graph Store)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from .errors import IfkgError
from .project import default_project

BaseOpt = Annotated[str | None, typer.Option("--base", help="Base IRI of the data "
                    "(default https://w3id.org/ifkg/, or $IFKG_BASE).")]


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_cmd)
    app.command("publish")(publish_cmd)


def serve_cmd(
    host: Annotated[str, typer.Option("--host", help="Address to listen on (loopback by "
                    "default; anything else exposes the server to the network).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port (0: any free port, printed).")] = 8080,
    cors: Annotated[bool, typer.Option("--cors", help="Send Access-Control-Allow-Origin: * "
                    "so pages on other origins may query.")] = False,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds a query may run; its "
                       "worker is then killed and the client gets 503.")] = 10.0,
    max_rows: Annotated[int, typer.Option("--max-rows", help="Rows (or triples) one answer "
                        "holds at most; more are cut and flagged with X-IFKG-Truncated: true.")] = 10_000,
    max_request_bytes: Annotated[int, typer.Option("--max-request-bytes", help="Largest "
                                 "request body or query string, in bytes (413 above).")] = 65_536,
    max_concurrent_queries: Annotated[int, typer.Option("--max-concurrent-queries", help=
                                      "Queries running at once; a request that finds no free "
                                      "slot within the time limit gets 503.")] = 4,
    max_connections: Annotated[int, typer.Option("--max-connections", help="Open connections "
                               "at once; more are closed at once.")] = 64,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Log no requests.")] = False,
    base: BaseOpt = None,
) -> None:
    """Serve the graph on one local server: SPARQL 1.1 endpoint (/sparql), entity pages
    (/id/entity/ID, HTML, Turtle, JSON-LD), catalogue queries (/queries/NAME[.json|.csv]),
    the query page (/query) and the graph page (/graph). Read-only; Ctrl-C stops it."""
    import logging

    from .serve import Settings, make_server

    logging.basicConfig(level=logging.WARNING if quiet else logging.INFO,
                        format="%(asctime)s %(message)s", datefmt="%H:%M:%S", stream=sys.stderr)
    settings = Settings(timeout=timeout, max_rows=max_rows, max_request_bytes=max_request_bytes,
                        max_concurrent_queries=max_concurrent_queries,
                        max_connections=max_connections, cors=cors)
    project = default_project(base)
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(f"ifkg: warning: listening on {host}: anyone who can reach this address can "
              "query the graph", file=sys.stderr)
    print("ifkg: loading the graph…", file=sys.stderr, flush=True)
    server = make_server(project, host, port, settings, quiet=quiet)
    url = server.url
    print(f"ifkg: serving {url} (SPARQL: {url}sparql, query page: {url}query); Ctrl-C stops",
          file=sys.stderr, flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        print("ifkg: stopped", file=sys.stderr)
    finally:
        server.server_close()


def publish_cmd(
    endpoint: Annotated[str, typer.Option("--endpoint", help="Graph Store Protocol URL of "
                        "the store, e.g. http://localhost:7878/store (Oxigraph), "
                        "http://localhost:3030/ds/data (Fuseki), "
                        "http://localhost:7200/repositories/R/rdf-graphs/service (GraphDB), "
                        "http://localhost:8890/sparql-graph-crud-auth (Virtuoso).")],
    graph_prefix: Annotated[str | None, typer.Option("--graph-prefix", help="IRI each graph "
                            "name is appended to (default: the dataset's own graph IRIs, "
                            "{base}graph/NAME).")] = None,
    user: Annotated[str | None, typer.Option("--user", help="User name for HTTP Basic or "
                    "Digest authentication.")] = None,
    password: Annotated[str | None, typer.Option("--password", help="Password (default: "
                        "$IFKG_PUBLISH_PASSWORD).", envvar="IFKG_PUBLISH_PASSWORD")] = None,
    token: Annotated[str | None, typer.Option("--token", help="Bearer token (default: "
                     "$IFKG_PUBLISH_TOKEN).", envvar="IFKG_PUBLISH_TOKEN")] = None,
    auth: Annotated[str, typer.Option("--auth", help="basic or digest (with --user).")] = "basic",
    fmt: Annotated[str, typer.Option("--format", help="ntriples or turtle.")] = "ntriples",
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds to wait for each "
                       "request.")] = 60.0,
    base: BaseOpt = None,
) -> None:
    """Upload each named graph (ontology, facts, provenance) to its own graph IRI with the
    SPARQL 1.1 Graph Store HTTP Protocol (PUT ?graph=IRI: replaces that graph only)."""
    from .publish import Credentials, publish

    if token and (user or password):
        raise IfkgError("give --user/--password or --token, not both")
    if password and not user:
        raise IfkgError("--password needs --user")
    creds = Credentials(user=user, password=password, token=token, scheme=auth)
    project = default_project(base)
    for row in publish(project, endpoint, graph_prefix=graph_prefix, credentials=creds,
                       fmt=fmt, timeout=timeout):
        print(f"{row.name}\t{row.triples} triples\t<{row.graph}>\tHTTP {row.status}")
