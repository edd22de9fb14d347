"""``ifkg serve``: the built graph as linked data on one local HTTP server.

What it serves (paths are relative to the server; ``{base}`` IRIs map onto them, so
``https://w3id.org/ifkg/id/entity/linchuangbao`` is ``/id/entity/linchuangbao`` here, and the
base IRI's own path prefix, ``/ifkg/…``, is accepted as well):

* ``/sparql``: the SPARQL 1.1 Protocol (GET, POST form-encoded, POST application/sparql-query),
  results by Accept, ``default-graph-uri``/``named-graph-uri`` restricted to the dataset's named
  graphs. Read-only (UPDATE 403, refused queries 400), ``SERVICE`` refused, every query in a
  worker killed after the time limit (503), at most ``max_rows`` rows (``X-IFKG-Truncated``
  header, and a ``truncated`` member in SPARQL JSON). Without a query: a service description.
* ``/id/{kind}/{id}``: entities, indicators, sources, statements, measurements and evidence. The
  IRI names a thing, not a document, so it answers ``303 See Other`` to a document chosen by
  Accept: ``….html`` (facts with their evidence sentences), ``….ttl``, ``….jsonld``, ``….nt``.
* ``/queries/{name}`` (``.json``, ``.csv``, ``.tsv``, ``.xml``, ``.rq``): the catalogue queries,
  parameters as query-string parameters; ``/queries`` lists them.
* ``/query``: the query page (YASGUI, vendored; no network); ``/graph``: the graph page;
  ``/graph/{name}``: a named graph's triples; ``/def``, ``/dataset``, ``/exports/{file}``.

The default graph of every query is the union of the named graphs. Errors are one line of
text; a 500 logs its traceback on the server only. HTML carries a Content-Security-Policy; CORS
headers are sent only with ``cors=True``.

Every SPARQL query a client sends runs in a forked worker (:func:`ifkg.sparql.execute`), so it can
be killed. The server's own short reads (entity pages, parameter names) run in this process
under :data:`STORE_LOCK`, which ``os.fork`` also takes: a worker is never forked while another
thread is inside the store.
"""

from __future__ import annotations

import html
import json
import logging
import os
import re
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pyoxigraph as ox

from .errors import IfkgError
from .namespaces import RDF, RDFS, SKOS, prefixes
from .project import Project

log = logging.getLogger("ifkg.serve")


# --------------------------------------------------------------------------------------------
# Settings: each limit with its default and its help text (the CLI and the docs read these)


@dataclass(frozen=True)
class Setting:
    name: str
    default: float | int
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("timeout", 10.0, "Seconds a query may run; its worker is then killed and the "
            "client gets 503."),
    Setting("max_rows", 10_000, "Rows (or triples) one answer holds at most; more are cut and "
            "flagged with X-IFKG-Truncated: true."),
    Setting("max_request_bytes", 65_536, "Largest request body or query string, in bytes "
            "(413 above)."),
    Setting("max_concurrent_queries", 4, "Queries running at once; a request that finds no "
            "free slot within the time limit gets 503."),
    Setting("max_connections", 64, "Open connections at once; more are closed at once."),
)
DEFAULTS: dict[str, Any] = {s.name: s.default for s in SETTINGS}
MAX_NESTING = 24  # brackets deeper than this are refused before parsing (rdflib recurses)


@dataclass(frozen=True)
class Settings:
    """The server's limits (see :data:`SETTINGS`) and whether to send CORS headers."""

    timeout: float = DEFAULTS["timeout"]
    max_rows: int = DEFAULTS["max_rows"]
    max_request_bytes: int = DEFAULTS["max_request_bytes"]
    max_concurrent_queries: int = DEFAULTS["max_concurrent_queries"]
    max_connections: int = DEFAULTS["max_connections"]
    cors: bool = False

    def __post_init__(self) -> None:
        for s in SETTINGS:
            value = getattr(self, s.name)
            if not value > 0:
                raise IfkgError(f"--{s.name.replace('_', '-')} must be more than 0, not {value}")


# --------------------------------------------------------------------------------------------
# Forking and in-process reads

STORE_LOCK = threading.RLock()
"""Held by in-process reads of the store and, through ``os.register_at_fork``, by every fork."""


def _fork_release() -> None:
    STORE_LOCK.release()


os.register_at_fork(before=STORE_LOCK.acquire, after_in_parent=_fork_release,
                    after_in_child=_fork_release)

PARSE_LOCK = threading.Lock()
"""rdflib's SPARQL parser (pyparsing) is not thread-safe: one parse at a time."""


# --------------------------------------------------------------------------------------------
# Requests, responses, errors

SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
PAGE_CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; "
            "form-action 'self'; frame-ancestors 'none'")
QUERY_PAGE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                  "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
                  "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
STRICT_CSP = "default-src 'none'; frame-ancestors 'none'"


class HTTPError(Exception):
    """An answer other than success: status and one line for the client."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = " ".join(message.split())
        self.headers = dict(headers or {})


@dataclass
class Request:
    method: str
    target: str  # the request target as sent: path and query string, percent-encoded
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    def __post_init__(self) -> None:
        self.headers = {k.lower(): v for k, v in self.headers.items()}
        parts = urlsplit(self.target)
        self.raw_path, self.query_string = parts.path or "/", parts.query

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)

    @property
    def content_type(self) -> str:
        return self.header("content-type").split(";")[0].strip().lower()

    def params(self) -> dict[str, list[str]]:
        try:
            return parse_qs(self.query_string, keep_blank_values=True, strict_parsing=False,
                            errors="strict")
        except (UnicodeDecodeError, ValueError):
            raise HTTPError(400, "the query string is not valid UTF-8") from None


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


def error_response(status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    """One line of text: the status and what was wrong (never a traceback)."""
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    text = f"{status} {phrase}: {' '.join(message.split())}\n"
    return Response(status, text.encode("utf-8"), headers=dict(headers or {}))


# --------------------------------------------------------------------------------------------
# Content negotiation

_MEDIA = re.compile(r"^[A-Za-z0-9!#$&^_.+*-]+/[A-Za-z0-9!#$&^_.+*-]+$")

RESULT_TYPES: dict[str, str] = {
    "application/sparql-results+json": "json", "application/json": "json",
    "application/sparql-results+xml": "xml", "application/xml": "xml", "text/xml": "xml",
    "text/csv": "csv", "text/tab-separated-values": "tsv",
}
GRAPH_TYPES: dict[str, str] = {
    "text/turtle": "turtle", "application/ld+json": "jsonld", "application/n-triples": "nt",
    "application/rdf+xml": "rdfxml", "application/x-turtle": "turtle",
}
CONTENT_TYPES: dict[str, str] = {
    "json": "application/sparql-results+json", "xml": "application/sparql-results+xml",
    "csv": "text/csv; charset=utf-8", "tsv": "text/tab-separated-values; charset=utf-8",
    "turtle": "text/turtle; charset=utf-8", "jsonld": "application/ld+json",
    "nt": "application/n-triples", "rdfxml": "application/rdf+xml",
}
SUFFIX_FORMATS = {"json": "json", "xml": "xml", "csv": "csv", "tsv": "tsv", "ttl": "turtle",
                  "jsonld": "jsonld", "nt": "nt", "rdf": "rdfxml"}
_PARAM_FORMATS = {"json": "json", "xml": "xml", "csv": "csv", "tsv": "tsv", "turtle": "turtle",
                  "ttl": "turtle", "jsonld": "jsonld", "json-ld": "jsonld", "nt": "nt",
                  "ntriples": "nt", "rdfxml": "rdfxml"}
_RDF_OUT = {"turtle": ox.RdfFormat.TURTLE, "jsonld": ox.RdfFormat.JSON_LD,
            "nt": ox.RdfFormat.N_TRIPLES, "rdfxml": ox.RdfFormat.RDF_XML}


def parse_accept(header: str) -> list[tuple[str, float]]:
    """The media ranges of an Accept header with their q values; HTTPError 400 if malformed."""
    out: list[tuple[str, float]] = []
    if len(header) > 2000:
        raise HTTPError(400, "bad Accept header: longer than 2000 characters")
    for part in header.split(","):
        if not part.strip():
            continue
        media, *params = (p.strip() for p in part.split(";"))
        if not _MEDIA.match(media):
            raise HTTPError(400, f"bad Accept header: '{media[:60]}' is not a media range "
                            "(type/subtype)")
        q = 1.0
        for p in params:
            key, _, value = p.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = -1.0
                if not 0.0 <= q <= 1.0:
                    raise HTTPError(400, f"bad Accept header: q={value[:20]} is not a number "
                                    "from 0 to 1")
        out.append((media.lower(), q))
    return out


def negotiate(header: str | None, offers: Sequence[str]) -> str | None:
    """The offer the client prefers most (ties: the first offer); None if it accepts none.

    >>> negotiate("text/csv;q=0.5, application/sparql-results+json", ["text/csv",
    ...           "application/sparql-results+json"])
    'application/sparql-results+json'
    """
    if not header or not header.strip():
        return offers[0] if offers else None
    ranges = parse_accept(header)
    best, best_q = None, 0.0
    for offer in offers:
        otype = offer.split("/")[0]
        q, spec = 0.0, -1
        for media, mq in ranges:
            if media == offer:
                s = 2
            elif media == f"{otype}/*":
                s = 1
            elif media == "*/*":
                s = 0
            else:
                continue
            if s > spec:
                q, spec = mq, s
        if q > best_q:
            best, best_q = offer, q
    return best


def _not_acceptable(header: str, offers: Iterable[str]) -> HTTPError:
    return HTTPError(406, f"none of the types in 'Accept: {header[:100]}' is available here; "
                     f"ask for one of: {', '.join(dict.fromkeys(offers))}")


# --------------------------------------------------------------------------------------------
# Query text checks before parsing

_IRIREF = re.compile(r"<[^<>\"{}|^`\\\x00-\x20]*>")


def nesting_depth(text: str) -> int:
    """How deep brackets ``{ ( [`` nest in a SPARQL text, outside strings, IRIs and comments.

    >>> nesting_depth('SELECT * { ?s ?p "{{{" FILTER((1)) }')
    3
    """
    depth = deepest = 0
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end + 1
            continue
        if c in "\"'":
            if text.startswith(c * 3, i):
                end = text.find(c * 3, i + 3)
                i = n if end < 0 else end + 3
                continue
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            i = j + 1
            continue
        if c == "<":
            m = _IRIREF.match(text, i)
            if m:
                i = m.end()
                continue
        if c in "{([":
            depth += 1
            deepest = max(deepest, depth)
        elif c in "})]":
            depth -= 1
        i += 1
    return deepest


# --------------------------------------------------------------------------------------------
# The application: a request in, a response out (no sockets here)


@dataclass
class Route:
    pattern: re.Pattern[str]
    handler: Callable[..., Response]
    methods: tuple[str, ...] = ("GET", "HEAD")


def _static_files() -> dict[str, bytes]:
    folder = resources.files("ifkg") / "static"
    return {e.name: e.read_bytes() for e in folder.iterdir()
            if e.is_file() and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", e.name)}


def _template(name: str) -> str:
    return (resources.files("ifkg") / "templates" / name).read_text(encoding="utf-8")


_MARKER = re.compile(r"\{\{([A-Z_]+)\}\}")


def fill(template: str, values: Mapping[str, str]) -> str:
    """Replace ``{{NAME}}`` markers in one pass (inserted text is never scanned again)."""
    return _MARKER.sub(lambda m: values[m.group(1)], template)


def esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


_EXPORT_TYPES = {".ttl": "text/turtle; charset=utf-8", ".trig": "application/trig",
                 ".nq": "application/n-quads", ".nt": "application/n-triples",
                 ".jsonld": "application/ld+json", ".rdf": "application/rdf+xml",
                 ".json": "application/json", ".html": "text/html; charset=utf-8",
                 ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
                 ".md": "text/plain; charset=utf-8", ".txt": "text/plain; charset=utf-8"}


def _type_for(name: str) -> str:
    for suffix, ctype in _EXPORT_TYPES.items():
        if name.endswith(suffix):
            return ctype
    return "text/plain; charset=utf-8"


_META_CSP = re.compile(r'<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]*)"',
                       re.IGNORECASE)


class App:
    """The server's application: routes a :class:`Request` to a :class:`Response`.

    ``store`` and ``files`` (the exports by file name) come from :func:`load` unless given.
    """

    def __init__(self, project: Project, settings: Settings | None = None, *,
                 store: ox.Store | None = None, files: Mapping[str, bytes] | None = None) -> None:
        from . import catalogue

        self.project = project
        self.base = project.base
        self.settings = settings or Settings()
        if store is None or files is None:
            store, files = load(project)
        self.store = store
        self.files = files
        self.graphs = sorted(g.value for g in store.named_graphs()
                             if isinstance(g, ox.NamedNode))
        self.graph_names = {g[len(self.base) + len("graph/"):]: g for g in self.graphs
                            if g.startswith(self.base + "graph/")}
        self.prefixes = prefixes(self.base)
        self.base_path = urlsplit(self.base).path or "/"
        self.slots = threading.BoundedSemaphore(self.settings.max_concurrent_queries)
        self.static = _static_files()
        self.catalogue = catalogue.catalogue()
        self._prepared: dict[str, Any] = {}  # catalogue queries, parsed once
        self.labels = _labels(store)
        self.templates = {n: _template(n) for n in ("entity.html", "query.html")}
        self.routes = [
            Route(re.compile(r"/"), self.query_page),
            Route(re.compile(r"/query"), self.query_page),
            Route(re.compile(r"/sparql"), self.sparql, ("GET", "HEAD", "POST")),
            Route(re.compile(r"/prefixes\.json"), self.prefix_list),
            Route(re.compile(r"/queries(?:\.json)?"), self.query_list),
            Route(re.compile(r"/queries/(?P<name>[a-z0-9-]+)(?:\.(?P<suffix>[a-z]+))?"),
                  self.catalogue_query),
            Route(re.compile(r"/graph(?:\.html)?"), self.graph_page),
            Route(re.compile(r"/graph/(?P<name>[a-z0-9-]+)(?:\.(?P<suffix>[a-z]+))?"),
                  self.named_graph),
            Route(re.compile(r"/id/(?P<rest>[A-Za-z0-9][A-Za-z0-9._~-]*"
                             r"(?:/[A-Za-z0-9][A-Za-z0-9._~-]*)*)"), self.resource),
            Route(re.compile(r"/def"), self.ontology),
            Route(re.compile(r"/(?:dataset|catalog)(?:/[A-Za-z0-9._/-]*)?|/\.well-known/void"),
                  self.dataset),
            Route(re.compile(r"/exports/(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)"), self.export),
            Route(re.compile(r"/static/(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)"), self.static_file),
        ]

    # ---- dispatch ----------------------------------------------------------------------

    def handle(self, req: Request) -> Response:
        """The response to ``req``; never raises (a bug becomes a logged 500)."""
        try:
            resp = self._dispatch(req)
        except HTTPError as exc:
            resp = error_response(exc.status, exc.message, exc.headers)
        except IfkgError as exc:
            resp = error_response(400, exc.one_line())
        except Exception:  # noqa: BLE001 — the client gets one line, the log the traceback
            log.error("500 on %s %s\n%s", req.method, req.target[:200], traceback.format_exc())
            resp = error_response(500, "internal error; the server's log has the details")
        return self._finish(req, resp)

    def _finish(self, req: Request, resp: Response) -> Response:
        headers = {**SECURITY_HEADERS, **resp.headers}
        if resp.content_type.startswith("text/html"):
            headers.setdefault("Content-Security-Policy", PAGE_CSP)
        if self.settings.cors:
            headers["Access-Control-Allow-Origin"] = "*"
            headers["Access-Control-Expose-Headers"] = "X-IFKG-Truncated, X-IFKG-Row-Limit"
        resp.headers = headers
        if req.method == "HEAD":
            resp.headers["Content-Length"] = str(len(resp.body))
            resp.body = b""
        return resp

    def _path(self, req: Request) -> str:
        raw = req.raw_path
        if not raw.startswith("/"):
            raise HTTPError(400, "the request target must be a path starting with '/'")
        try:
            path = unquote(raw, errors="strict")
        except UnicodeDecodeError:
            raise HTTPError(400, "the path is not valid UTF-8 after percent-decoding") from None
        segments = path.split("/")
        if any(s in (".", "..") for s in segments) or "\\" in path or "\x00" in path:
            raise HTTPError(400, "bad path: '.' and '..' segments, backslashes and NUL are "
                            "refused")
        if self.base_path != "/" and (path + "/").startswith(self.base_path):
            path = "/" + path[len(self.base_path):]
        return path

    def _dispatch(self, req: Request) -> Response:
        path = self._path(req)
        if req.method == "OPTIONS":
            headers = {"Allow": "GET, HEAD, POST, OPTIONS"}
            if self.settings.cors:
                headers.update({"Access-Control-Allow-Methods": "GET, POST, OPTIONS",
                                "Access-Control-Allow-Headers": "Accept, Content-Type",
                                "Access-Control-Max-Age": "600"})
            return Response(204, headers=headers)
        for route in self.routes:
            m = route.pattern.fullmatch(path)
            if m is None:
                continue
            if req.method not in route.methods:
                allowed = ", ".join(route.methods)
                raise HTTPError(405, f"{req.method} is not allowed on {path[:80]} (allowed: "
                                f"{allowed}); the server is read-only", {"Allow": allowed})
            return route.handler(req, **m.groupdict())
        raise HTTPError(404, f"nothing at {path[:100]}; try /query, /sparql, /graph, /queries "
                        "or /id/entity/<id>")

    # ---- running queries ---------------------------------------------------------------

    def run(self, prepared: Any, *, default_graph: list[str] | None = None,
            named_graphs: list[str] | None = None,
            bindings: Mapping[str, Any] | None = None) -> Any:
        """Execute a prepared query in a killable worker, within the server's limits."""
        from . import sparql

        s = self.settings
        if not self.slots.acquire(timeout=s.timeout):
            raise HTTPError(503, f"server busy: {s.max_concurrent_queries} queries are running; "
                            "try again shortly", {"Retry-After": "5"})
        start = time.monotonic()
        try:
            return sparql.execute(self.store, prepared, timeout=s.timeout, row_limit=s.max_rows,
                                  default_graph=default_graph, named_graphs=named_graphs,
                                  bindings=bindings)
        except IfkgError as exc:
            if time.monotonic() - start >= s.timeout * 0.99:
                raise HTTPError(503, f"query stopped after {s.timeout:g} s, the server's time "
                                "limit") from None
            raise HTTPError(400, exc.one_line()) from None
        finally:
            self.slots.release()

    def prepare(self, text: str, name: str = "query") -> Any:
        from . import sparql

        if len(text.encode("utf-8")) > self.settings.max_request_bytes:
            raise HTTPError(413, f"query longer than {self.settings.max_request_bytes} bytes")
        depth = nesting_depth(text)
        if depth > MAX_NESTING:
            raise HTTPError(400, f"query nests brackets {depth} deep; at most {MAX_NESTING} "
                            "levels are accepted")
        try:
            with PARSE_LOCK:
                return sparql.prepare(text, base=self.base, name=name, graphs=self.graphs)
        except IfkgError as exc:
            raise HTTPError(400, exc.one_line()) from None
        except RecursionError:
            raise HTTPError(400, f"query nests too deeply to parse (at most {MAX_NESTING} "
                            "levels of brackets)") from None

    def results(self, req: Request, result: Any, fmt: str) -> Response:
        """Serialise a query result in ``fmt`` with the truncation headers."""
        from . import sparql

        headers = {"X-IFKG-Truncated": "true" if result.truncated else "false",
                   "X-IFKG-Row-Limit": str(self.settings.max_rows), "Vary": "Accept"}
        if fmt == "rdfxml":
            triples = [q.triple for q in ox.parse(result.data, ox.RdfFormat.N_TRIPLES)]
            body = ox.serialize(triples, format=ox.RdfFormat.RDF_XML)
        elif fmt == "json" and result.form == "SELECT":
            doc = json.loads(result.data)
            doc["truncated"] = result.truncated
            body = json.dumps(doc, ensure_ascii=False).encode("utf-8")
        else:
            body = sparql.to_bytes(result, fmt, base=self.base)
        return Response(200, body, CONTENT_TYPES[fmt], headers)

    def _choose(self, req: Request, form: str, explicit: str | None = None) -> tuple[str, str]:
        """(format, media type) for a result of ``form``: ``explicit`` wins, then Accept."""
        types = GRAPH_TYPES if form in ("CONSTRUCT", "DESCRIBE") else RESULT_TYPES
        if explicit is not None and types is GRAPH_TYPES:
            explicit = {"xml": "rdfxml", "json": "jsonld"}.get(explicit, explicit)
        if explicit is not None:
            if explicit not in types.values():
                raise HTTPError(400, f"format '{explicit}' does not fit a {form} query; use "
                                f"one of: {', '.join(dict.fromkeys(types.values()))}")
            return explicit, CONTENT_TYPES[explicit]
        accept = req.header("accept")
        offer = negotiate(accept, list(types))
        if offer is None:
            raise _not_acceptable(accept, types)
        return types[offer], offer

    # ---- /sparql -----------------------------------------------------------------------

    def sparql(self, req: Request) -> Response:
        params = req.params()
        if req.method == "POST":
            ctype = req.content_type
            if ctype == "application/x-www-form-urlencoded":
                try:
                    form = parse_qs(req.body.decode("utf-8"), keep_blank_values=True)
                except UnicodeDecodeError:
                    raise HTTPError(400, "the form body is not valid UTF-8") from None
                for key, values in form.items():
                    params.setdefault(key, []).extend(values)
            elif ctype == "application/sparql-query":
                if "query" in params:
                    raise HTTPError(400, "give the query in the body or as ?query=, not both")
                try:
                    params["query"] = [req.body.decode("utf-8")]
                except UnicodeDecodeError:
                    raise HTTPError(400, "the query is not valid UTF-8") from None
            elif ctype == "application/sparql-update":
                raise HTTPError(403, "SPARQL Update is refused: this endpoint is read-only")
            else:
                raise HTTPError(415, f"POST a query as application/x-www-form-urlencoded or "
                                f"application/sparql-query, not '{ctype[:60] or 'no type'}'")
        if "update" in params:
            raise HTTPError(403, "SPARQL Update is refused: this endpoint is read-only")
        queries = params.get("query", [])
        if not queries:
            if req.method == "POST":
                raise HTTPError(400, "no query given (send query=… or an "
                                "application/sparql-query body)")
            return self.service_description(req)
        if len(queries) > 1:
            raise HTTPError(400, "give exactly one query parameter")
        explicit = None
        if params.get("format"):
            explicit = _PARAM_FORMATS.get(params["format"][0].lower())
            if explicit is None:
                raise HTTPError(400, f"unknown format '{params['format'][0][:30]}' (one of: "
                                f"{', '.join(sorted(_PARAM_FORMATS))})")
        prepared = self.prepare(queries[0])
        fmt, _ = self._choose(req, prepared.form, explicit)
        default = params.get("default-graph-uri")
        named = params.get("named-graph-uri")
        for iri in (default or []) + (named or []):
            if iri not in self.graphs:
                raise HTTPError(400, f"graph <{iri[:100]}> is not one of the dataset's named "
                                f"graphs: {', '.join(f'<{g}>' for g in self.graphs)}")
        dataset = default is not None or named is not None
        result = self.run(prepared, default_graph=(default or []) if dataset else None,
                          named_graphs=(named or []) if dataset else None)
        return self.results(req, result, fmt)

    def service_description(self, req: Request) -> Response:
        """SPARQL 1.1 Service Description of ``/sparql`` (HTML clients go to the query page)."""
        offers = ["text/turtle", "application/ld+json", "application/n-triples", "text/html"]
        accept = req.header("accept")
        offer = negotiate(accept, offers)
        if offer == "text/html":
            return Response(303, headers={"Location": "/query"})
        if offer is None:
            raise _not_acceptable(accept, offers)
        sd = "http://www.w3.org/ns/sparql-service-description#"
        fmt_ns = "http://www.w3.org/ns/formats/"
        me, ds, dg = (ox.NamedNode(self.base + x) for x in ("sparql", "dataset/service/sparql#dataset",
                                                            "dataset/service/sparql#default"))
        t = [ox.Triple(me, ox.NamedNode(RDF + "type"), ox.NamedNode(sd + "Service")),
             ox.Triple(me, ox.NamedNode(sd + "endpoint"), me),
             ox.Triple(me, ox.NamedNode(sd + "supportedLanguage"), ox.NamedNode(sd + "SPARQL11Query")),
             ox.Triple(me, ox.NamedNode(sd + "feature"), ox.NamedNode(sd + "UnionDefaultGraph")),
             ox.Triple(me, ox.NamedNode(sd + "defaultDataset"), ds),
             ox.Triple(ds, ox.NamedNode(RDF + "type"), ox.NamedNode(sd + "Dataset")),
             ox.Triple(ds, ox.NamedNode(sd + "defaultGraph"), dg),
             ox.Triple(dg, ox.NamedNode(RDF + "type"), ox.NamedNode(sd + "Graph"))]
        for f in ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV",
                  "SPARQL_Results_TSV", "Turtle", "JSON-LD", "N-Triples", "RDF_XML"):
            t.append(ox.Triple(me, ox.NamedNode(sd + "resultFormat"), ox.NamedNode(fmt_ns + f)))
        for g in self.graphs:
            node = ox.NamedNode(g + "#named-graph")
            t += [ox.Triple(ds, ox.NamedNode(sd + "namedGraph"), node),
                  ox.Triple(node, ox.NamedNode(sd + "name"), ox.NamedNode(g))]
        fmt = GRAPH_TYPES[offer]
        pfx = {"sd": sd, "formats": fmt_ns}
        kw = {"prefixes": pfx} if fmt in ("turtle", "jsonld") else {}
        return Response(200, ox.serialize(t, format=_RDF_OUT[fmt], **kw), CONTENT_TYPES[fmt],
                        {"Vary": "Accept"})

    def prefix_list(self, req: Request) -> Response:
        """The predeclared prefixes as prefix.cc's JSON (the query editor's autocompletion)."""
        return Response(200, json.dumps(self.prefixes).encode(), "application/json")

    # ---- catalogue ---------------------------------------------------------------------

    def query_list(self, req: Request) -> Response:
        accept = req.header("accept")
        if req.raw_path.endswith("/queries") and negotiate(accept, ["application/json",
                                                                    "text/html"]) == "text/html":
            return Response(303, headers={"Location": "/query#catalogue"})
        items = [{"name": q.name, "title": q.title, "title_zh": q.title_zh,
                  "description": q.description, "url": f"/queries/{q.name}",
                  "params": [{"name": p.name, "meaning": p.meaning, "type": p.type,
                              "default": p.default} for p in q.params]}
                 for q in self.catalogue.values()]
        return Response(200, json.dumps(items, ensure_ascii=False, indent=1).encode(),
                        "application/json")

    def catalogue_query(self, req: Request, name: str, suffix: str | None) -> Response:
        from .catalogue import bindings

        cq = self.catalogue.get(name)
        if cq is None:
            import difflib

            close = difflib.get_close_matches(name, list(self.catalogue), n=3, cutoff=0.5)
            hint = f"; did you mean: {', '.join(close)}?" if close else ""
            raise HTTPError(404, f"no catalogue query called '{name}'{hint} (/queries lists them)")
        if suffix == "rq":
            return Response(200, cq.text.encode("utf-8"), "application/sparql-query; charset=utf-8")
        if suffix not in (None, "html") and suffix not in SUFFIX_FORMATS:
            raise HTTPError(404, f"no .{suffix} form; use .json, .csv, .tsv, .xml or .rq")
        given: dict[str, str] = {}
        for key, values in req.params().items():
            if len(values) != 1:
                raise HTTPError(400, f"parameter '{key}' is given {len(values)} times")
            if key not in {p.name for p in cq.params}:
                known = ", ".join(p.name for p in cq.params) or "none"
                raise HTTPError(400, f"query '{cq.name}' has no parameter '{key}' "
                                f"(parameters: {known})")
            given[key] = values[0]
        prepared = self._prepared.get(cq.name)
        if prepared is None:
            prepared = self._prepared[cq.name] = self.prepare(cq.text, f"{cq.name}.rq")
        fmt = None if suffix == "html" else self._catalogue_format(req, prepared.form, suffix)
        with STORE_LOCK:
            try:
                values = bindings(self.store, cq, given, self.base)
            except IfkgError as exc:
                raise HTTPError(400, exc.one_line()) from None
        result = self.run(prepared, bindings=values)
        if fmt is not None:
            return self.results(req, result, fmt)
        return self.catalogue_page(cq, given, result)

    def _catalogue_format(self, req: Request, form: str, suffix: str | None) -> str | None:
        """The result format of a catalogue URL (None: the HTML page)."""
        graph = form in ("CONSTRUCT", "DESCRIBE")
        if suffix is not None:
            explicit = SUFFIX_FORMATS[suffix]
            return self._choose(req, form, "jsonld" if graph and explicit == "json"
                                else explicit)[0]
        types = GRAPH_TYPES if graph else RESULT_TYPES
        offer = negotiate(req.header("accept"), ["text/html", *types])
        if offer is None:
            raise _not_acceptable(req.header("accept"), ["text/html", *types])
        return None if offer == "text/html" else types[offer]

    # ---- pages -------------------------------------------------------------------------

    def _page(self, name: str, values: Mapping[str, str], csp: str = PAGE_CSP) -> Response:
        body = fill(self.templates[name], values).encode("utf-8")
        return Response(200, body, "text/html; charset=utf-8",
                        {"Content-Security-Policy": csp, "Vary": "Accept"})

    def _catalogue_list(self) -> str:
        items = []
        for q in self.catalogue.values():
            items.append(
                f'<li><a href="/queries/{esc(q.name)}.html">{esc(q.title_zh)}</a> '
                f'<span lang="en">{esc(q.title)}</span> '
                f'<span class="formats">(<a href="/queries/{esc(q.name)}.json">json</a> · '
                f'<a href="/queries/{esc(q.name)}.csv">csv</a> · '
                f'<a href="/queries/{esc(q.name)}.rq">rq</a>)</span></li>')
        return "<ul>" + "".join(items) + "</ul>"

    def query_page(self, req: Request) -> Response:
        default = ("SELECT ?entity ?name WHERE {\n  ?entity a ifkg:GuaranteeFund ;"
                   " skos:prefLabel ?name .\n}\nLIMIT 20")
        return self._page("query.html", {
            "TITLE": "SPARQL · ifkg", "HEADING": "SPARQL 查询 · Query the graph",
            "INTRO": "", "QUERY": esc(default), "PREFIXES": esc(json.dumps(self.prefixes)),
            "CATALOGUE": self._catalogue_list()}, QUERY_PAGE_CSP)

    def catalogue_page(self, cq: Any, given: Mapping[str, str], result: Any) -> Response:
        form = ""
        if cq.params:
            fields = "".join(
                f'<label>{esc(p.name)} <input name="{esc(p.name)}" '
                f'value="{esc(given.get(p.name, p.default or ""))}"> '
                f'<span class="hint">{esc(p.meaning)} ({esc(p.type)})</span></label>'
                for p in cq.params)
            form = (f'<form id="ifkg-params" method="get" action="/queries/{esc(cq.name)}.html">'
                    f'{fields}'
                    '<button type="submit">运行 Run</button></form>')
        qs = "&".join(f"{esc(k)}={esc(v)}" for k, v in given.items())
        q = f"?{qs}" if qs else ""
        links = " · ".join(f'<a href="/queries/{esc(cq.name)}.{s}{q}">{s}</a>'
                           for s in ("json", "csv", "tsv", "xml", "rq"))
        intro = (f'<p lang="en">{esc(cq.title)}</p><p>{esc(cq.description)}</p>{form}'
                 f'<p class="formats">{links}</p>{self._result_table(result)}')
        return self._page("query.html", {
            "TITLE": f"{esc(cq.title_zh)} · ifkg", "HEADING": esc(cq.title_zh), "INTRO": intro,
            "QUERY": esc(cq.text), "PREFIXES": esc(json.dumps(self.prefixes)),
            "CATALOGUE": self._catalogue_list()}, QUERY_PAGE_CSP)

    def _result_table(self, result: Any) -> str:
        if result.form == "ASK":
            return f'<p class="answer">{"true" if result.boolean else "false"}</p>'
        if result.is_graph:
            head = ["subject", "predicate", "object"]
            rows = [(t.subject, t.predicate, t.object) for t in result.triples()]
        else:
            head, rows = list(result.variables), result.rows()
        body = "".join("<tr>" + "".join(f"<td>{self._term_html(t)}</td>" for t in row) + "</tr>"
                       for row in rows)
        more = (f'<p class="truncated">truncated: only the first {self.settings.max_rows} rows '
                'are shown</p>') if result.truncated else ""
        return (f'<table class="results"><thead><tr>{"".join(f"<th>{esc(h)}</th>" for h in head)}'
                f'</tr></thead><tbody>{body}</tbody></table><p class="count">{len(rows)} rows</p>'
                f'{more}')

    def graph_page(self, req: Request) -> Response:
        page = self.files.get("graph.html")
        if page is None:
            raise HTTPError(404, "no graph page: the build wrote no graph.html")
        return self._html_file(page)

    def _html_file(self, page: bytes) -> Response:
        m = _META_CSP.search(page[:20000].decode("utf-8", "replace"))
        csp = html.unescape(m.group(1)) if m else STRICT_CSP
        return Response(200, page, "text/html; charset=utf-8", {"Content-Security-Policy": csp})

    # ---- exports, static, ontology, dataset --------------------------------------------

    def export(self, req: Request, name: str) -> Response:
        data = self.files.get(name)
        if data is None:
            raise HTTPError(404, f"no export called '{name}' (exports: "
                            f"{', '.join(sorted(self.files))})")
        if name.endswith(".html"):
            return self._html_file(data)
        return Response(200, data, _type_for(name))

    def static_file(self, req: Request, name: str) -> Response:
        data = self.static.get(name)
        if data is None:
            raise HTTPError(404, f"no static file called '{name}'")
        ctype = _type_for(name)
        if "LICENSE" in name:
            ctype = "text/plain; charset=utf-8"
        return Response(200, data, ctype, {"Cache-Control": "max-age=3600"})

    def ontology(self, req: Request) -> Response:
        accept = req.header("accept")
        offer = negotiate(accept, ["text/html", "text/turtle"])
        if offer is None:
            raise _not_acceptable(accept, ["text/html", "text/turtle"])
        target = "/exports/ontology.html" if offer == "text/html" else "/exports/ontology.ttl"
        return Response(303, headers={"Location": target, "Vary": "Accept"})

    def dataset(self, req: Request) -> Response:
        return Response(303, headers={"Location": "/exports/void.ttl"})

    # ---- named graphs ------------------------------------------------------------------

    def named_graph(self, req: Request, name: str, suffix: str | None) -> Response:
        iri = self.graph_names.get(name)
        if iri is None:
            raise HTTPError(404, f"no named graph '{name}' (graphs: "
                            f"{', '.join(sorted(self.graph_names))})")
        fmt, ctype = self._rdf_format(req, suffix)
        with STORE_LOCK:
            triples = [q.triple for q in self.store.quads_for_pattern(None, None, None,
                                                                      ox.NamedNode(iri))]
        triples.sort(key=str)
        kw = {"prefixes": self.prefixes} if fmt in ("turtle", "jsonld") else {}
        return Response(200, ox.serialize(triples, format=_RDF_OUT[fmt], **kw), ctype,
                        {"Vary": "Accept"})

    def _rdf_format(self, req: Request, suffix: str | None) -> tuple[str, str]:
        """(format, content type) for RDF from a suffix or Accept (HTML → Turtle as text)."""
        if suffix is not None:
            fmt = SUFFIX_FORMATS.get(suffix)
            if fmt not in _RDF_OUT:
                raise HTTPError(404, f"no .{suffix} form; use .ttl, .nt, .jsonld or .rdf")
            return fmt, CONTENT_TYPES[fmt]
        accept = req.header("accept")
        offer = negotiate(accept, [*GRAPH_TYPES, "text/html", "text/plain"])
        if offer is None:
            raise _not_acceptable(accept, GRAPH_TYPES)
        if offer in ("text/html", "text/plain"):
            return "turtle", "text/plain; charset=utf-8"
        return GRAPH_TYPES[offer], offer

    # ---- resources under {base}id/ -----------------------------------------------------

    def resource(self, req: Request, rest: str) -> Response:
        suffix = None
        iri = self.base + "id/" + rest
        if not self._exists(iri):
            stem, dot, suffix = rest.rpartition(".")
            if dot and (suffix == "html" or suffix in SUFFIX_FORMATS) and self._exists(
                    self.base + "id/" + stem):
                iri, rest = self.base + "id/" + stem, stem
            else:
                raise HTTPError(404, f"no resource <{iri[:160]}> in the graph")
        else:
            accept = req.header("accept")
            offers = ["text/html", *GRAPH_TYPES]
            offer = negotiate(accept, offers)
            if offer is None:
                raise _not_acceptable(accept, offers)
            ext = "html" if offer == "text/html" else {
                "turtle": "ttl", "jsonld": "jsonld", "nt": "nt", "rdfxml": "rdf"}[GRAPH_TYPES[offer]]
            return Response(303, headers={"Location": f"/id/{rest}.{ext}", "Vary": "Accept"})
        if suffix == "html":
            return self.resource_page(iri)
        fmt, ctype = self._rdf_format(req, suffix)
        with STORE_LOCK:
            node = ox.NamedNode(iri)
            triples = {q.triple for q in self.store.quads_for_pattern(node, None, None)}
            triples |= {q.triple for q in self.store.quads_for_pattern(None, None, node)}
        kw = {"prefixes": self.prefixes} if fmt in ("turtle", "jsonld") else {}
        body = ox.serialize(sorted(triples, key=str), format=_RDF_OUT[fmt], **kw)
        return Response(200, body, ctype)

    def _exists(self, iri: str) -> bool:
        try:
            node = ox.NamedNode(iri)
        except ValueError:
            return False
        with STORE_LOCK:
            return (next(iter(self.store.quads_for_pattern(node, None, None)), None) is not None
                    or next(iter(self.store.quads_for_pattern(None, None, node)), None)
                    is not None)

    def label(self, iri: str, lang: str) -> str:
        names = self.labels.get(iri, {})
        return names.get(lang) or next(iter(names.values()), "") or _tail(iri)

    def _link(self, iri: str, lang: str = "zh") -> str:
        text = self.label(iri, lang)
        href = self.local(iri)
        if href is None:
            return f'<a href="{esc(iri)}" rel="external">{esc(text)}</a>'
        return f'<a href="{esc(href)}">{esc(text)}</a>'

    def local(self, iri: str) -> str | None:
        """The path of ``iri`` on this server, if it is served here."""
        if not iri.startswith(self.base):
            return None
        rest = iri[len(self.base):]
        if rest.startswith(("id/", "graph/", "def", "dataset", "catalog", "sparql", "exports/")):
            return "/" + rest
        return None

    def _term_html(self, t: Any) -> str:
        if t is None:
            return ""
        if isinstance(t, ox.NamedNode):
            return self._link(t.value)
        if isinstance(t, ox.Literal):
            lang = f' lang="{esc(t.language)}"' if t.language else ""
            return f"<span{lang}>{esc(t.value)}</span>"
        if isinstance(t, ox.BlankNode):
            return f"<code>_:{esc(t.value)}</code>"
        return esc(str(t))

    def _select(self, query: str, iri: str) -> list[dict[str, Any]]:
        """Rows of a fixed in-process SELECT with ``?e`` bound to ``iri`` (under STORE_LOCK)."""
        res = self.store.query(query, prefixes=self.prefixes, use_default_graph_as_union=True,
                               substitutions={ox.Variable("e"): ox.NamedNode(iri)})
        names = [v.value for v in res.variables]
        return [{n: row[n] for n in names} for row in res]

    def resource_page(self, iri: str) -> Response:
        node = ox.NamedNode(iri)
        with STORE_LOCK:
            outgoing = sorted(((q.predicate, q.object, q.graph_name)
                               for q in self.store.quads_for_pattern(node, None, None)), key=str)
            incoming = sorted(((q.subject, q.predicate, q.graph_name)
                               for q in self.store.quads_for_pattern(None, None, node)), key=str)
            edges = self._select(EDGES_QUERY, iri)
            figures = self._select(FIGURES_QUERY, iri)
            mentions = self._select(MENTIONS_QUERY, iri)
        zh, en = self.label(iri, "zh"), self.label(iri, "en")
        sections = [self._edges_section(edges), self._figures_section(figures),
                    self._mentions_section(mentions), self._triples_section(outgoing, incoming)]
        classes = [o for p, o, _ in outgoing if p.value == RDF + "type"]
        aliases = [o.value for p, o, _ in outgoing if p.value == SKOS + "altLabel"]
        local = self.local(iri) or iri
        return self._page("entity.html", {
            "TITLE": esc(f"{zh} · {en}" if en != zh else zh), "NAME_ZH": esc(zh),
            "NAME_EN": esc(en if en != zh else ""), "IRI": esc(iri),
            "CLASSES": " · ".join(self._term_html(c) for c in classes),
            "ALIASES": esc("、".join(sorted(set(aliases)))),
            "TTL": esc(local + ".ttl"), "JSONLD": esc(local + ".jsonld"), "NT": esc(local + ".nt"),
            "SECTIONS": "\n".join(x for x in sections if x)})

    def _evidence(self, sentence: Any, exact: Any) -> str:
        """The sentence with the quote marked (whitespace inside the quote may differ)."""
        if sentence is None:
            return ""
        text = sentence.value
        chars = [re.escape(c) for c in (exact.value if exact is not None else "")
                 if not c.isspace()]
        m = re.search(r"\s*".join(chars), text) if chars else None
        if m is None:
            return f'<blockquote class="evidence">{esc(text)}</blockquote>'
        return (f'<blockquote class="evidence">{esc(text[:m.start()])}<mark>'
                f'{esc(m.group())}</mark>{esc(text[m.end():])}</blockquote>')

    def _both(self, t: Any) -> str:
        """A link with the zh label, then the en label."""
        if not isinstance(t, ox.NamedNode):
            return self._term_html(t)
        en = self.label(t.value, "en")
        tail = f' <span lang="en">{esc(en)}</span>' if en != self.label(t.value, "zh") else ""
        return self._link(t.value) + tail

    def _edges_section(self, edges: list[dict[str, Any]]) -> str:
        if not edges:
            return ""
        rows = []
        for e in edges:
            d = e["dir"].value
            rows.append(
                f'<tr class="edge edge-{esc(d)}"><td>{"→" if d == "out" else "←"}</td>'
                f'<td>{self._both(e["p"])}</td><td>{self._both(e["other"])}</td>'
                f'<td>{self._term_html(e["date"])}</td>'
                f'<td>{self._evidence(e["sentence"], e["exact"])}</td>'
                f'<td><a href="{esc(self.local(e["st"].value) or e["st"].value)}">陈述</a></td></tr>')
        return ('<section id="relations"><h2>关系 <span lang="en">Relations</span></h2>'
                '<table><thead><tr><th></th><th>关系 relation</th><th>对象 entity</th>'
                '<th>日期 date</th><th>原文 evidence</th><th></th></tr></thead><tbody>'
                + "".join(rows) + "</tbody></table></section>")

    def _figures_section(self, figures: list[dict[str, Any]]) -> str:
        if not figures:
            return ""
        rows = []
        for f in figures:
            when = f["asOf"] if f["asOf"] is not None else f["period"]
            unit = _tail(f["unit"].value) if f["unit"] is not None else ""
            value = f["value"].value if f["value"] is not None else ""
            rows.append(
                f'<tr class="figure"><td>{self._both(f["ind"])}</td>'
                f'<td>{self._term_html(f["reported"])}</td>'
                f'<td class="value"><a href="{esc(self.local(f["m"].value) or f["m"].value)}">'
                f'{esc(value)} {esc(unit)}</a></td><td>{self._term_html(f["qualifier"])}</td>'
                f'<td>{self._term_html(when)}</td>'
                f'<td>{self._evidence(f["sentence"], f["exact"])}</td></tr>')
        return ('<section id="figures"><h2>数值 <span lang="en">Figures</span></h2>'
                '<table><thead><tr><th>指标 indicator</th><th>原文 reported</th>'
                '<th>数值 value</th><th>限定 qualifier</th><th>时点 date</th>'
                '<th>原文 evidence</th></tr></thead><tbody>' + "".join(rows)
                + "</tbody></table></section>")

    def _mentions_section(self, mentions: list[dict[str, Any]]) -> str:
        if not mentions:
            return ""
        return ('<section id="mentions"><h2>提及 <span lang="en">Mentioned in</span></h2>'
                + "".join(self._evidence(m["sentence"], m["exact"]) for m in mentions)
                + "</section>")

    def _triples_section(self, outgoing: list[tuple[Any, Any, Any]],
                         incoming: list[tuple[Any, Any, Any]]) -> str:
        def graph(g: Any) -> str:
            return self._link(g.value) if isinstance(g, ox.NamedNode) else "default"

        rows = [f"<tr><td>{self._term_html(p)}</td><td>{self._term_html(o)}</td>"
                f"<td>{graph(g)}</td></tr>" for p, o, g in outgoing]
        back = [f"<tr><td>{self._term_html(s)}</td><td>{self._term_html(p)}</td>"
                f"<td>{graph(g)}</td></tr>" for s, p, g in incoming]
        parts = ['<section id="triples"><h2>全部陈述 <span lang="en">All statements</span></h2>']
        if rows:
            parts.append("<table><thead><tr><th>property</th><th>value</th><th>graph</th></tr>"
                         "</thead><tbody>" + "".join(rows) + "</tbody></table>")
        if back:
            parts.append('<h3>被引用 <span lang="en">Referenced by</span></h3>'
                         "<table><thead><tr><th>subject</th><th>property</th><th>graph</th></tr>"
                         "</thead><tbody>" + "".join(back) + "</tbody></table>")
        parts.append("</section>")
        return "".join(parts)


EDGES_QUERY = """
SELECT ?e ?dir ?st ?p ?other ?date ?sentence ?exact WHERE {
  { ?st rdf:subject ?e ; rdf:object ?other . BIND("out" AS ?dir) }
  UNION { ?st rdf:object ?e ; rdf:subject ?other . BIND("in" AS ?dir) }
  ?st a ifkg:Statement ; rdf:predicate ?p .
  OPTIONAL { ?st ifkg:date ?date }
  OPTIONAL { ?st ifkg:evidence ?ev . ?ev ifkg:sentence ?sentence .
             OPTIONAL { ?ev oa:hasSelector ?sel . ?sel oa:exact ?exact } }
} ORDER BY ?dir ?p ?other ?st"""
FIGURES_QUERY = """
SELECT ?e ?m ?ind ?reported ?value ?unit ?qualifier ?asOf ?period ?sentence ?exact WHERE {
  ?m a ifkg:Measurement ; ifkg:about ?e ; ifkg:indicator ?ind .
  OPTIONAL { ?m ifkg:reportedAs ?reported } OPTIONAL { ?m schema:value ?value }
  OPTIONAL { ?m ifkg:unit ?unit } OPTIONAL { ?m ifkg:qualifier ?qualifier }
  OPTIONAL { ?m ifkg:asOf ?asOf } OPTIONAL { ?m ifkg:period ?period }
  OPTIONAL { ?m ifkg:evidence ?ev . ?ev ifkg:sentence ?sentence .
             OPTIONAL { ?ev oa:hasSelector ?sel . ?sel oa:exact ?exact } }
} ORDER BY ?ind ?m"""
MENTIONS_QUERY = """
SELECT DISTINCT ?e ?sentence ?exact WHERE {
  ?e ifkg:evidence ?ev . ?ev ifkg:sentence ?sentence .
  OPTIONAL { ?ev oa:hasSelector ?sel . ?sel oa:exact ?exact }
} ORDER BY ?sentence"""


def _tail(iri: str) -> str:
    return re.split(r"[/#]", iri.rstrip("/#"))[-1] or iri


def _labels(store: ox.Store) -> dict[str, dict[str, str]]:
    """IRI → {language: label} from skos:prefLabel, then rdfs:label (read once at start)."""
    out: dict[str, dict[str, str]] = {}
    for pred in (SKOS + "prefLabel", RDFS + "label"):
        for q in store.quads_for_pattern(None, ox.NamedNode(pred), None, None):
            if isinstance(q.subject, ox.NamedNode) and isinstance(q.object, ox.Literal):
                lang = (q.object.language or "").split("-")[0].lower()
                out.setdefault(q.subject.value, {}).setdefault(lang, q.object.value)
    return out


def load(project: Project) -> tuple[ox.Store, Mapping[str, bytes]]:
    """The store and the exports: from ``exports/`` when current, else built in memory. The
    server never changes the store, so its queries reuse forked workers."""
    from .build import build, is_current
    from .export import ExportFiles
    from .sparql import reuse_workers

    if is_current(project):
        store = ox.Store()
        store.bulk_load(path=str(project.exports_dir / "ifkg.nq"), format=ox.RdfFormat.N_QUADS)
        # read from disk when asked for: at a million quads the exports are 600 MB
        return reuse_workers(store), ExportFiles(project.exports_dir)
    result = build(project, write=False)
    return reuse_workers(result.compiled.store()), dict(result.files)


# --------------------------------------------------------------------------------------------
# HTTP: the standard library's threading server in front of the App


class Handler(BaseHTTPRequestHandler):
    """Reads one request (bounded), hands it to the App, writes the response."""

    server_version = "ifkg"
    protocol_version = "HTTP/1.1"
    timeout = 30  # seconds a client may take to send its request
    app: App
    quiet: bool = False

    def version_string(self) -> str:
        return self.server_version

    def _handle(self) -> None:
        start = time.perf_counter()
        req_len = self.headers.get("Content-Length")
        limit = self.app.settings.max_request_bytes
        body = b""
        if self.headers.get("Transfer-Encoding"):
            self._send(error_response(411, "send the body with a Content-Length, not chunked"),
                       close=True)
            return
        if req_len is not None:
            try:
                n = int(req_len)
                if n < 0:
                    raise ValueError
            except ValueError:
                self._send(error_response(400, "bad Content-Length"), close=True)
                return
            if n > limit:
                self._send(error_response(413, f"request body of {n} bytes is over the limit "
                                          f"of {limit} bytes"), close=True)
                return
            body = self.rfile.read(n)
        if len(self.path) > limit:
            self._send(error_response(413, f"request target over the limit of {limit} bytes"),
                       close=True)
            return
        req = Request(self.command, self.path, dict(self.headers.items()), body)
        resp = self.app.handle(req)
        self._send(resp)
        if not self.quiet:
            log.info("%s %s %s %d %.0f ms", self.client_address[0], self.command,
                     self.path[:120], resp.status, (time.perf_counter() - start) * 1000)

    def _send(self, resp: Response, close: bool = False) -> None:
        self.send_response(resp.status)
        headers = {**SECURITY_HEADERS, **resp.headers}
        if "Content-Length" not in headers:
            headers["Content-Length"] = str(len(resp.body))
        if resp.status != 204 and resp.status != 304:
            headers["Content-Type"] = resp.content_type
        if close:
            headers["Connection"] = "close"
            self.close_connection = True
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        if resp.body and self.command != "HEAD":
            self.wfile.write(resp.body)

    do_GET = do_POST = do_HEAD = do_OPTIONS = _handle  # noqa: N815

    def do_PUT(self) -> None:  # noqa: N802 — read-only: write methods get 405
        self._send(error_response(405, f"{self.command} is not allowed: the server is read-only",
                                  {"Allow": "GET, HEAD, POST, OPTIONS"}), close=True)

    do_DELETE = do_PATCH = do_PUT  # noqa: N815

    def send_error(self, code: int, message: str | None = None,
                   explain: str | None = None) -> None:
        """Errors the standard library finds (bad request line, long headers): one line."""
        try:
            self.close_connection = True
            self._send(error_response(code, message or HTTPStatus(code).phrase), close=True)
        except OSError:
            pass

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        if not self.quiet:
            log.debug(format, *args)


class Server(ThreadingHTTPServer):
    """A threading HTTP server that refuses connections beyond ``max_connections``."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: App, quiet: bool = False) -> None:
        handler = type("BoundHandler", (Handler,), {"app": app, "quiet": quiet})
        self.app = app
        self.connections = threading.BoundedSemaphore(app.settings.max_connections)
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self.connections.acquire(blocking=False):
            try:
                request.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
                                b"Connection: close\r\n\r\n")
            except OSError:
                pass
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.connections.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away is one line in the log; anything else its traceback."""
        import sys

        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError | TimeoutError):
            log.info("%s: %s", client_address[0], type(exc).__name__)
        else:
            log.error("error serving %s\n%s", client_address[0], traceback.format_exc())

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        shown = f"[{host}]" if ":" in str(host) else host
        return f"http://{shown}:{port}/"


def make_server(project: Project, host: str = "127.0.0.1", port: int = 8080,
                settings: Settings | None = None, *, quiet: bool = False,
                app: App | None = None) -> Server:
    """A :class:`Server` bound to ``host``:``port`` (port 0: a free one), not yet serving."""
    app = app or App(project, settings)
    try:
        return Server((host, port), app, quiet)
    except OSError as exc:
        raise IfkgError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def serve_in_thread(server: Server) -> threading.Thread:
    """Serve in a daemon thread (tests); stop with ``server.shutdown(); server.server_close()``."""
    t = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    t.start()
    return t
