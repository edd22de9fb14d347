"""``ifkg publish``: upload each named graph to a triple store with the SPARQL 1.1 Graph Store
HTTP Protocol.

Every named graph of the built dataset (ontology, facts, provenance) is sent with one
``PUT {endpoint}?graph={iri}``, which replaces that graph and nothing else, so a publish can be
repeated. The body is N-Triples (default) or Turtle. Authentication: HTTP Basic (sent with the
first request), HTTP Digest (answering the server's challenge) or a bearer token. Only the
standard library is used (urllib), so this works against any store that speaks the protocol:
Oxigraph (``/store``), Fuseki (``/DATASET/data``), GraphDB
(``/repositories/R/rdf-graphs/service``), Virtuoso (``/sparql-graph-crud-auth``).
"""

from __future__ import annotations

import base64
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass

import pyoxigraph as ox

from .errors import IfkgError
from .namespaces import prefixes
from .project import Project

FORMATS = {"ntriples": ("application/n-triples", ox.RdfFormat.N_TRIPLES),
           "turtle": ("text/turtle", ox.RdfFormat.TURTLE)}
AUTH_SCHEMES = ("basic", "digest")


@dataclass(frozen=True)
class Credentials:
    """Who the store should think we are: user and password (Basic or Digest), or a token."""

    user: str | None = None
    password: str | None = None
    token: str | None = None
    scheme: str = "basic"


@dataclass(frozen=True)
class Uploaded:
    name: str
    graph: str
    triples: int
    status: int


@dataclass(frozen=True)
class GraphPayload:
    name: str
    graph: str
    triples: int
    body: bytes


def _check_url(url: str, what: str) -> None:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise IfkgError(f"{what} must be an http:// or https:// URL, not '{url}'")


def payloads(store: ox.Store, base: str, graph_prefix: str | None = None,
             fmt: str = "ntriples") -> list[GraphPayload]:
    """One body per named graph of ``store``, with the IRI it is published under."""
    if fmt not in FORMATS:
        raise IfkgError(f"unknown format '{fmt}' (one of: {', '.join(FORMATS)})")
    if graph_prefix is not None and not urllib.parse.urlsplit(graph_prefix).scheme:
        raise IfkgError(f"--graph-prefix must be an absolute IRI, not '{graph_prefix}'")
    own = base + "graph/"
    out = []
    for g in sorted((g for g in store.named_graphs() if isinstance(g, ox.NamedNode)),
                    key=lambda g: g.value):
        name = g.value[len(own):] if g.value.startswith(own) else g.value.rsplit("/", 1)[-1]
        target = graph_prefix + name if graph_prefix is not None else g.value
        triples = sorted({q.triple for q in store.quads_for_pattern(None, None, None, g)}, key=str)
        kw = {"prefixes": prefixes(base)} if fmt == "turtle" else {}
        body = ox.serialize(triples, format=FORMATS[fmt][1], **kw)
        out.append(GraphPayload(name, target, len(triples), body))
    return out


def graph_url(endpoint: str, graph: str) -> str:
    """``endpoint`` with ``graph=<IRI>`` added to its query string (indirect identification).

    >>> graph_url("http://127.0.0.1:7878/store", "https://w3id.org/ifkg/graph/facts")
    'http://127.0.0.1:7878/store?graph=https%3A%2F%2Fw3id.org%2Fifkg%2Fgraph%2Ffacts'
    """
    sep = "&" if urllib.parse.urlsplit(endpoint).query else "?"
    return f"{endpoint}{sep}graph={urllib.parse.quote(graph, safe='')}"


def opener(endpoint: str, creds: Credentials | None) -> tuple[urllib.request.OpenerDirector,
                                                              dict[str, str]]:
    """An opener that answers Digest challenges, and headers for Basic or a bearer token."""
    handlers: list[urllib.request.BaseHandler] = []
    headers: dict[str, str] = {}
    if creds is not None:
        if creds.scheme not in AUTH_SCHEMES:
            raise IfkgError(f"unknown --auth '{creds.scheme}' (one of: {', '.join(AUTH_SCHEMES)})")
        if creds.token:
            headers["Authorization"] = f"Bearer {creds.token}"
        elif creds.user is not None:
            password = creds.password or ""
            if creds.scheme == "basic":
                pair = f"{creds.user}:{password}".encode()
                headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
            else:
                mgr = urllib.request.HTTPPasswordMgrWithDefaultRealm()
                mgr.add_password(None, endpoint, creds.user, password)
                handlers.append(urllib.request.HTTPDigestAuthHandler(mgr))
    return urllib.request.build_opener(*handlers), headers


def put_graph(endpoint: str, payload: GraphPayload, content_type: str,
              open_: urllib.request.OpenerDirector, headers: dict[str, str],
              timeout: float) -> int:
    """PUT one graph; the HTTP status, or IfkgError with the store's own message."""
    url = graph_url(endpoint, payload.graph)
    req = urllib.request.Request(url, data=payload.body, method="PUT",
                                 headers={"Content-Type": content_type, **headers})
    try:
        with open_.open(req, timeout=timeout) as resp:
            resp.read()
            return resp.status
    except urllib.error.HTTPError as exc:
        detail = ""
        try:
            detail = exc.read(300).decode("utf-8", "replace").strip().splitlines()[0]
        except (OSError, IndexError):
            pass
        hint = {401: " (authentication failed: check --user/--password/--auth or --token)",
                403: " (the store refused: may this account write?)",
                404: " (no Graph Store here: check --endpoint)",
                405: " (PUT not allowed: is this the Graph Store endpoint, and read-write?)"}
        msg = f"PUT <{payload.graph}> to {endpoint} failed: HTTP {exc.code} {exc.reason}"
        raise IfkgError(msg + hint.get(exc.code, "") + (f": {detail}" if detail else "")) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise IfkgError(f"cannot reach {endpoint}: {reason}") from None


def publish(project: Project, endpoint: str, *, graph_prefix: str | None = None,
            credentials: Credentials | None = None, fmt: str = "ntriples",
            timeout: float = 60.0, store: ox.Store | None = None) -> Iterator[Uploaded]:
    """Upload every named graph of the built dataset; yields one :class:`Uploaded` per graph.

    Arguments are checked (IfkgError) before anything is read or sent.
    """
    from .build import open_store

    _check_url(endpoint, "--endpoint")
    if timeout <= 0:
        raise IfkgError(f"--timeout must be more than 0, not {timeout:g}")
    if fmt not in FORMATS:
        raise IfkgError(f"unknown format '{fmt}' (one of: {', '.join(FORMATS)})")
    open_, headers = opener(endpoint, credentials)
    bodies = payloads(store if store is not None else open_store(project), project.base,
                      graph_prefix, fmt)
    return _upload(endpoint, bodies, FORMATS[fmt][0], open_, headers, timeout)


def _upload(endpoint: str, bodies: list[GraphPayload], ctype: str,
            open_: urllib.request.OpenerDirector, headers: dict[str, str],
            timeout: float) -> Iterator[Uploaded]:
    for p in bodies:
        status = put_graph(endpoint, p, ctype, open_, headers, timeout)
        yield Uploaded(p.name, p.graph, p.triples, status)
