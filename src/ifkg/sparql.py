"""SPARQL over the built graph: parse and refuse, execute with a time limit, write the results.

``prepare`` parses a query with rdflib's SPARQL parser (never by searching its text) and refuses
what a read-only research tool must not run: UPDATE and LOAD, ``SERVICE`` anywhere (pyoxigraph
would call the endpoint itself), and ``FROM``/``FROM NAMED`` naming anything but the dataset's
named graphs (rdflib's engine would read a file or URL). ``execute`` runs the query on pyoxigraph,
on the union of the named graphs unless ``FROM``/``default_graph`` say otherwise, in a forked
worker that is killed when the time limit passes (neither library can interrupt a query).
``write`` puts the answer into a table (labels instead of IRIs, Chinese aligned by display
width), CSV, TSV, SPARQL JSON or XML (pyoxigraph's writers), or Turtle, JSON-LD or N-Triples.

The same refusals guard ``ifkg.load()``: :class:`SafeOxigraphStore` and :class:`SafeDataset`
check every query, prepared or not, before oxrdflib or rdflib's own engine sees it.

>>> from ifkg.sparql import prepare
>>> prepare("ASK { ?s ifkg:launches ?o }", base="https://w3id.org/ifkg/").form
'ASK'
"""

from __future__ import annotations

import functools
import io
import os
import time
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

import pyoxigraph as ox

from .errors import IfkgError
from .namespaces import RDFS, SKOS, prefixes
from .project import DEFAULT_BASE

FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
RESULT_FORMATS = ("table", "csv", "tsv", "json", "xml")
GRAPH_FORMATS = ("table", "turtle", "jsonld", "nt")
DEFAULT_TIMEOUT = 30.0

_FORM_OF = {"SelectQuery": "SELECT", "AskQuery": "ASK", "ConstructQuery": "CONSTRUCT",
            "DescribeQuery": "DESCRIBE"}
_RESULTS_FORMAT = {"csv": ox.QueryResultsFormat.CSV, "tsv": ox.QueryResultsFormat.TSV,
                   "json": ox.QueryResultsFormat.JSON, "xml": ox.QueryResultsFormat.XML}
_RDF_FORMAT = {"turtle": ox.RdfFormat.TURTLE, "jsonld": ox.RdfFormat.JSON_LD,
               "nt": ox.RdfFormat.N_TRIPLES}
_PARSABLE_RESULTS = ("tsv", "json", "xml")


@dataclass(frozen=True)
class Prepared:
    """A query that parsed and passed every check, ready for :func:`execute`.

    ``from_default``/``from_named`` are the graphs its ``FROM``/``FROM NAMED`` clauses name
    (None when it has no dataset clause).
    """

    text: str
    name: str
    form: str
    base: str
    prefixes: dict[str, str]
    from_default: tuple[str, ...] | None = None
    from_named: tuple[str, ...] | None = None
    checked: object = field(default=None, repr=False, compare=False)


_CHECKED = object()  # only prepare() sets it: execute() re-checks any other Prepared


@dataclass
class Result:
    """The answer of a query, as the bytes of one serialisation (``encoding``).

    By default solutions are SPARQL TSV (every cell an RDF term, one line per row: quick to
    write, cut and read back), booleans SPARQL JSON, graphs N-Triples. A caller that knows its
    output format asks :func:`execute` for it (``output=``) and :func:`write` copies the bytes;
    any other format is converted by pyoxigraph's parsers and writers. CSV is lossy: a result
    held as CSV can only be written as CSV.
    """

    form: str
    payload: bytes
    truncated: bool = False
    seconds: float = 0.0
    forked: bool = False
    variables: list[str] = field(default_factory=list)
    encoding: str = "tsv"

    @property
    def is_graph(self) -> bool:
        return self.form in ("CONSTRUCT", "DESCRIBE")

    @property
    def data(self) -> bytes:
        """SPARQL JSON for solutions and booleans, N-Triples for graphs."""
        return to_bytes(self, "nt" if self.is_graph else "json")

    def solutions(self) -> ox.QuerySolutions | ox.QueryBoolean:
        if self.is_graph:
            raise IfkgError(f"a {self.form} query has no solutions")
        if self.encoding not in _PARSABLE_RESULTS:
            raise IfkgError(f"this result was written as {self.encoding} and cannot be read "
                            "back; execute the query without output=")
        return ox.parse_query_results(self.payload, _RESULTS_FORMAT[self.encoding])

    @property
    def boolean(self) -> bool:
        if self.form != "ASK":
            raise IfkgError(f"a {self.form} query has no boolean answer")
        return bool(self.solutions())

    def rows(self) -> list[tuple[ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple | None, ...]]:
        """The solutions as tuples in the order of :attr:`variables` (None where unbound)."""
        if self.form != "SELECT":
            raise IfkgError(f"a {self.form} query has no rows")
        return [tuple(s[v] for v in self.variables) for s in self.solutions()]

    def triples(self) -> list[ox.Triple]:
        if not self.is_graph:
            raise IfkgError(f"a {self.form} query has no triples")
        return [q.triple for q in ox.parse(self.payload, _RDF_FORMAT[self.encoding])]

    def __len__(self) -> int:
        if self.form == "ASK":
            return 1
        return len(self.triples()) if self.is_graph else len(self.rows())


# --------------------------------------------------------------------------------------------
# Parsing and refusals


def _walk(node: Any) -> Iterator[Any]:
    """Every node of an rdflib parse tree or algebra (CompValue, ParseResults, lists)."""
    from pyparsing import ParseResults
    from rdflib.plugins.sparql.parserutils import CompValue

    stack = [node]
    seen: set[int] = set()
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        yield n
        if isinstance(n, CompValue):
            stack.extend(n.values())
        elif isinstance(n, ParseResults):
            stack.extend(list(n))
        elif isinstance(n, list | tuple | set | frozenset):
            stack.extend(n)
        elif isinstance(n, dict):
            stack.extend(n.values())


def _refuse_service(tree: Any, name: str) -> None:
    from rdflib.plugins.sparql.parserutils import CompValue

    for n in _walk(tree):
        if isinstance(n, CompValue) and n.name == "ServiceGraphPattern":
            term = n.get("term")
            shown = term.n3() if hasattr(term, "n3") else str(term or "")
            raise IfkgError(f"SERVICE {shown} is refused: queries may only read "
                            "the ifkg dataset, never call another endpoint", name)


def _dataset_clause(clauses: Iterable[Any] | None) -> tuple[tuple[str, ...] | None,
                                                               tuple[str, ...] | None]:
    if not clauses:
        return None, None
    default, named = [], []
    for c in clauses:
        if "default" in c:
            default.append(str(c["default"]))
        elif "named" in c:
            named.append(str(c["named"]))
    return tuple(default), tuple(named)


def _check_graphs(iris: Iterable[str], graphs: Iterable[str] | None, what: str,
                  name: str | None = None) -> None:
    allowed = set(graphs) if graphs is not None else None
    for iri in iris:
        if allowed is None or iri not in allowed:
            names = ", ".join(f"<{g}>" for g in sorted(allowed or ()))
            raise IfkgError(f"{what} <{iri}> is refused: only the dataset's named graphs "
                            f"may be selected ({names})", name)


def _syntax_error(exc: Exception, name: str) -> IfkgError:
    """A pyparsing error as IfkgError: line and column in the query, the text found there."""
    line = getattr(exc, "lineno", None)
    col = getattr(exc, "col", None)
    msg = str(getattr(exc, "msg", None) or exc).split("\n")[0]
    text = getattr(exc, "line", "") or ""
    near = text[col - 1:].strip()[:40] if col else ""
    where = f" near '{near}'" if near else " at the end of the query"
    return IfkgError(f"SPARQL syntax error{where} ({msg[:1].lower()}{msg[1:]})", name, line, col)


def dataset_graphs(base: str) -> tuple[str, ...]:
    """The named graphs of an ifkg dataset built with ``base``."""
    from .compile import GRAPHS

    return tuple(f"{base}graph/{g}" for g in GRAPHS)


def _parse_checked(query: str, *, base: str, name: str, init_ns: Mapping[str, str]) -> Any:
    """Parse ``query`` with rdflib, refuse updates, SERVICE and foreign FROM; the algebra."""
    from pyparsing import ParseBaseException
    from rdflib.plugins.sparql.algebra import translateQuery
    from rdflib.plugins.sparql.parser import parseQuery, parseUpdate

    if not isinstance(query, str):
        raise IfkgError(f"a SPARQL query must be text, not {type(query).__name__}", name)
    try:
        tree = parseQuery(query)
    except RecursionError:
        raise IfkgError("query is nested too deeply to parse", name) from None
    except ParseBaseException as exc:
        try:
            update = parseUpdate(query)
        except ParseBaseException:
            raise _syntax_error(exc, name) from None
        ops = [getattr(op, "name", "") for op in update.get("request", [])]
        if "Load" in ops:
            raise IfkgError("LOAD is refused: ifkg queries are read-only and read no files "
                            "or URLs", name) from None
        raise IfkgError(f"UPDATE is refused ({', '.join(o for o in ops if o) or 'update'}): "
                        "ifkg queries are read-only", name) from None
    try:
        _refuse_service(tree, name)
        algebra = translateQuery(tree, base=base, initNs=dict(init_ns))
    except RecursionError:
        raise IfkgError("query is nested too deeply to parse", name) from None
    except IfkgError:
        raise
    except Exception as exc:  # rdflib raises plain Exceptions for unknown prefixes and the like
        raise IfkgError(f"SPARQL error: {exc}", name) from None
    _refuse_service(algebra.algebra, name)
    return algebra


def prepare(query: str, *, base: str, name: str = "<query>",
            graphs: Iterable[str] | None = None) -> Prepared:
    """Parse and check ``query``; the project's prefixes are predeclared.

    Raises IfkgError for a syntax error (line and column in ``query`` itself), an UPDATE or
    LOAD, any SERVICE, and FROM/FROM NAMED naming anything but the dataset's named graphs
    (``graphs``; by default the three graphs of a dataset built with ``base``). rdflib's parser
    takes 20-300 ms for a catalogue query, so the verdict on a text is remembered for the rest
    of the process (the same text, base, name and graphs always get the same verdict).
    """
    if not isinstance(query, str):
        return _prepare(query, base, name, graphs)
    key = None if graphs is None else tuple(sorted(set(graphs)))
    return _prepare_text(query, base, name, key)


@functools.lru_cache(maxsize=256)
def _prepare_text(query: str, base: str, name: str,
                  graphs: tuple[str, ...] | None) -> Prepared:
    return _prepare(query, base, name, graphs)


def _prepare(query: str, base: str, name: str, graphs: Iterable[str] | None) -> Prepared:
    pfx = prefixes(base)
    algebra = _parse_checked(query, base=base, name=name, init_ns=pfx)
    form = _FORM_OF.get(algebra.algebra.name)
    if form is None:
        raise IfkgError(f"unsupported query form {algebra.algebra.name}", name)
    default, named = _dataset_clause(algebra.algebra.get("datasetClause"))
    allowed = tuple(graphs) if graphs is not None else dataset_graphs(base)
    _check_graphs(default or (), allowed, "FROM", name)
    _check_graphs(named or (), allowed, "FROM NAMED", name)
    return Prepared(query, name, form, base, pfx, default, named, _CHECKED)


def check_rdflib_query(query: Any, *, base: str | None, init_ns: Mapping[str, Any] | None,
                       graphs: Iterable[str] | None, allow_from: bool = True,
                       name: str = "<query>") -> tuple[tuple[str, ...] | None,
                                                       tuple[str, ...] | None]:
    """The refusals for a query on its way into rdflib or oxrdflib: text or a prepared Query.

    With ``allow_from=False`` any FROM/FROM NAMED is refused (rdflib's engine would load the
    named graph from its IRI instead of selecting it). Returns the FROM and FROM NAMED graphs.
    """
    from rdflib.plugins.sparql.sparql import Query, Update

    if isinstance(query, Update):
        raise IfkgError("UPDATE is refused: ifkg graphs are read-only", name)
    if isinstance(query, Query):
        _refuse_service(query.algebra, name)
        algebra = query.algebra
    else:
        ns = {k: str(v) for k, v in (init_ns or {}).items()}
        algebra = _parse_checked(query, base=base or "", name=name, init_ns=ns).algebra
    default, named = _dataset_clause(algebra.get("datasetClause"))
    if default is not None and not allow_from:
        raise IfkgError("FROM/FROM NAMED is refused here (rdflib would load the graph from "
                        "its IRI); use GRAPH <…> { … } or a query string", name)
    _check_graphs(default or (), graphs, "FROM", name)
    _check_graphs(named or (), graphs, "FROM NAMED", name)
    return default, named


# --------------------------------------------------------------------------------------------
# Execution


def _query_kwargs(store: ox.Store, prepared: Prepared, default_graph: list[str] | None,
                  named_graphs: list[str] | None,
                  bindings: Mapping[str, Any] | None) -> dict[str, Any]:
    present = {g.value for g in store.named_graphs() if isinstance(g, ox.NamedNode)}
    kw: dict[str, Any] = {"prefixes": prepared.prefixes, "base_iri": prepared.base}
    default = default_graph if default_graph is not None else prepared.from_default
    named = named_graphs if named_graphs is not None else prepared.from_named
    _check_graphs(default or (), present, "default graph", prepared.name)
    _check_graphs(named or (), present, "named graph", prepared.name)
    if default is None and named is None:
        kw["use_default_graph_as_union"] = True
    else:
        kw["default_graph"] = [ox.NamedNode(g) for g in default or ()]
        kw["named_graphs"] = [ox.NamedNode(g) for g in named or ()]
    if bindings:
        kw["substitutions"] = {ox.Variable(k): v for k, v in bindings.items()}
    return kw


class _Enough(Exception):
    """Raised by :class:`_FirstLines` to stop a serializer once it has what is needed."""


class _FirstLines:
    """A binary sink for pyoxigraph's writers that keeps what is written until more than ``n``
    lines have arrived, then stops the writer (the rest of the query is never evaluated)."""

    def __init__(self, n: int) -> None:
        self.n, self.lines, self.parts = n, 0, []

    def write(self, chunk: bytes) -> int:
        self.parts.append(chunk)
        self.lines += chunk.count(b"\n")
        if self.lines > self.n:
            raise _Enough
        return len(chunk)

    def flush(self) -> None:
        pass


def _first_lines(serialize: Any, n: int) -> tuple[bytes, bool]:
    """The first ``n`` lines ``serialize(sink)`` writes, and whether there were more."""
    sink = _FirstLines(n)
    try:
        serialize(sink)
    except _Enough:
        pass
    data = b"".join(sink.parts)
    if sink.lines <= n:
        return data, False
    end = -1
    for _ in range(n):
        end = data.index(b"\n", end + 1)
    return data[:end + 1], True


def _graph_bytes(triples: Any, fmt: str, pfx: Mapping[str, str] | None) -> bytes:
    if fmt == "nt" and isinstance(triples, ox.QueryTriples):
        return triples.serialize(format=ox.RdfFormat.N_TRIPLES)
    kw = {"prefixes": dict(pfx)} if pfx and fmt in ("turtle", "jsonld") else {}
    return ox.serialize(triples, format=_RDF_FORMAT[fmt], **kw)


def _run(store: ox.Store, request: tuple) -> tuple[tuple[list[str], bool, str], bytes]:
    """Execute a query here (in a worker or inline): ((variables, truncated, encoding), bytes).

    ``request`` is (text, query keywords, row limit, output format or None, prefixes). The
    answer is serialized once, by pyoxigraph, in the output format when one is given. A row
    limit stops the writer after the rows it keeps: TSV and N-Triples write one row or triple
    per line, so the cut needs no parsing.
    """
    text, kw, row_limit, output, pfx = request
    res = store.query(text, **kw)
    if isinstance(res, ox.QueryBoolean):
        enc = output if output in _RESULTS_FORMAT else "json"
        return ([], False, enc), res.serialize(format=_RESULTS_FORMAT[enc])
    if isinstance(res, ox.QueryTriples):
        enc = output if output in _RDF_FORMAT else "nt"
        if row_limit is None:
            return ([], False, enc), _graph_bytes(res, enc, pfx)
        data, more = _first_lines(lambda w: res.serialize(w, format=ox.RdfFormat.N_TRIPLES),
                                  row_limit)
        if enc != "nt":
            data = _graph_bytes([q.triple for q in ox.parse(data, ox.RdfFormat.N_TRIPLES)],
                                enc, pfx)
        return ([], more, enc), data
    variables = [v.value for v in res.variables]
    enc = output if output in _RESULTS_FORMAT else "tsv"
    if row_limit is None:
        return (variables, False, enc), res.serialize(format=_RESULTS_FORMAT[enc])
    tsv = ox.QueryResultsFormat.TSV
    data, more = _first_lines(lambda w: res.serialize(w, format=tsv), row_limit + 1)
    if enc != "tsv":
        data = ox.parse_query_results(data, tsv).serialize(format=_RESULTS_FORMAT[enc])
    return (variables, more, enc), data


def _describe_error(exc: BaseException, name: str) -> IfkgError:
    if isinstance(exc, IfkgError):
        return exc
    if isinstance(exc, SyntaxError):
        text = str(exc)
        line = col = None
        if text.startswith("error at ") and ":" in text[9:]:
            pos, _, rest = text[9:].partition(": ")
            a, _, b = pos.partition(":")
            if a.isdigit() and b.isdigit():
                line, col, text = int(a), int(b), rest
        first = text.splitlines()[0] if text else "invalid query"
        if len(first) > 160:
            first = first[:160].rsplit(",", 1)[0] + ", …"
        return IfkgError(f"SPARQL syntax error: {first}", name, line, col)
    return IfkgError(f"query failed: {type(exc).__name__}: {exc}", name)


def _error_parts(exc: BaseException) -> tuple[str, int | None, int | None]:
    """What a worker sends back for an exception: message, line, column."""
    err = _describe_error(exc, "").first
    return err.message, err.line, err.column


def reuse_workers(store: ox.Store) -> ox.Store:
    """Declare that ``store`` will not change: queries on it with a time limit then reuse forked
    workers (each a snapshot of the store when it was forked) instead of forking one per query.
    Call :func:`release_workers` before changing it. Returns ``store``."""
    from . import workers

    return workers.reuse(store)


def release_workers(store: ox.Store | None = None) -> None:
    """End the kept workers of ``store`` (of every store when None)."""
    from . import workers

    workers.release(store)


def execute(store: ox.Store, prepared: Prepared | str, *,
            timeout: float | None = DEFAULT_TIMEOUT,
            default_graph: list[str] | None = None, named_graphs: list[str] | None = None,
            row_limit: int | None = None, bindings: Mapping[str, Any] | None = None,
            output: str | None = None) -> Result:
    """Run a prepared query on ``store``.

    The default graph is the union of the named graphs unless the query's FROM or
    ``default_graph`` choose graphs (which must be named graphs of the store). ``bindings``
    (variable name → pyoxigraph term) are substituted into the parsed query before it runs,
    never spliced into its text. With a ``timeout`` (seconds; None or 0 for none) the query runs
    in a forked worker that is killed when the time is up (see :mod:`ifkg.workers`;
    :func:`reuse_workers` keeps workers for a store that does not change). ``row_limit`` keeps
    the first rows and marks the result truncated. ``output`` (a format of :func:`write`) has
    the answer serialized in that format straight away, so that writing it copies bytes. A
    query given as text, or a Prepared not made by :func:`prepare`, is prepared (and checked)
    first.
    """
    graphs = [g.value for g in store.named_graphs() if isinstance(g, ox.NamedNode)]
    if isinstance(prepared, str):
        prepared = prepare(prepared, base=store_base(graphs), graphs=graphs)
    elif prepared.checked is not _CHECKED:
        prepared = prepare(prepared.text, base=prepared.base, name=prepared.name, graphs=graphs)
    if row_limit is not None and row_limit < 0:
        raise IfkgError(f"row limit must be 0 or more, not {row_limit}")
    if output is not None and output not in formats_for(prepared.form):
        raise IfkgError(f"format '{output}' does not fit a {prepared.form} query; "
                        f"use one of: {', '.join(formats_for(prepared.form))}")
    kw = _query_kwargs(store, prepared, default_graph, named_graphs, bindings)
    request = (prepared.text, kw, row_limit, output, prepared.prefixes)
    start = time.perf_counter()
    forked = bool(timeout) and hasattr(os, "fork")
    if forked:
        from . import workers

        try:
            status, meta, payload = workers.call(store, _run, request, timeout, _error_parts)
        except workers.TimedOut:
            raise IfkgError(f"query timed out after {timeout:g} s (use --timeout to allow "
                            "more)", prepared.name) from None
        except workers.WorkerGone:
            raise IfkgError("query worker died without an answer (out of memory?)",
                            prepared.name) from None
        if status == "E":
            message, line, column = meta
            raise IfkgError(message, prepared.name, line, column)
    else:
        try:
            meta, payload = _run(store, request)
        except Exception as exc:
            raise _describe_error(exc, prepared.name) from None
    variables, truncated, encoding = meta
    return Result(prepared.form, payload, truncated, time.perf_counter() - start, forked,
                  variables, encoding)


def store_base(graphs: Iterable[str]) -> str:
    """The base IRI a store was built with, read from its ``{base}graph/facts`` graph."""
    for g in graphs:
        if g.endswith("graph/facts"):
            return g[:-len("graph/facts")]
    return DEFAULT_BASE


def query(store: ox.Store, text: str, *, base: str | None = None, name: str = "<query>",
          **kwargs: Any) -> Result:
    """``prepare`` then ``execute`` (keyword arguments go to ``execute``); ``base`` defaults to
    the one the store was built with."""
    graphs = [g.value for g in store.named_graphs() if isinstance(g, ox.NamedNode)]
    prepared = prepare(text, base=base or store_base(graphs), name=name, graphs=graphs)
    return execute(store, prepared, **kwargs)


# --------------------------------------------------------------------------------------------
# Output


def formats_for(form: str) -> tuple[str, ...]:
    return GRAPH_FORMATS if form in ("CONSTRUCT", "DESCRIBE") else RESULT_FORMATS


def write(result: Result, fmt: str, out: IO[bytes], *, store: ox.Store | None = None,
          lang: str = "zh", base: str | None = None) -> None:
    """Write ``result`` to the binary stream ``out`` in ``fmt``.

    ``table`` shows labels instead of IRIs when ``store`` is given (``lang`` first), else
    prefixed names; the other formats are the standard serialisations, written by pyoxigraph.
    """
    allowed = formats_for(result.form)
    if fmt not in allowed:
        raise IfkgError(f"format '{fmt}' does not fit a {result.form} query; "
                        f"use one of: {', '.join(allowed)}")
    if fmt == "table":
        out.write(table(result, store=store, lang=lang, base=base).encode())
        return
    if fmt == result.encoding:
        out.write(result.payload)
        return
    if result.is_graph:
        out.write(_graph_bytes(result.triples(), fmt, prefixes(base) if base else None))
        return
    result.solutions().serialize(out, format=_RESULTS_FORMAT[fmt])


def to_bytes(result: Result, fmt: str, **kwargs: Any) -> bytes:
    buf = io.BytesIO()
    write(result, fmt, buf, **kwargs)
    return buf.getvalue()


class Labeller:
    """Display text for terms: an entity's label in ``lang``, else a prefixed name."""

    def __init__(self, store: ox.Store | None, base: str | None, lang: str = "zh") -> None:
        self.store, self.lang = store, lang
        self.prefixes = sorted(prefixes(base or "https://w3id.org/ifkg/").items(),
                               key=lambda kv: -len(kv[1]))
        self._cache: dict[str, str] = {}

    def iri(self, iri: str) -> str:
        if iri in self._cache:
            return self._cache[iri]
        text = self._label(iri) or self._curie(iri)
        self._cache[iri] = text
        return text

    def _label(self, iri: str) -> str | None:
        if self.store is None:
            return None
        found: dict[tuple[int, int], str] = {}
        node = ox.NamedNode(iri)
        for rank_p, p in enumerate((SKOS + "prefLabel", RDFS + "label")):
            for q in self.store.quads_for_pattern(node, ox.NamedNode(p), None, None):
                o = q.object
                if isinstance(o, ox.Literal):
                    lang = (o.language or "").lower()
                    rank_l = 0 if lang.split("-")[0] == self.lang else (1 if lang else 2)
                    found.setdefault((rank_l, rank_p), o.value)
        return found[min(found)] if found else None

    def _curie(self, iri: str) -> str:
        for p, ns in self.prefixes:
            if iri.startswith(ns) and len(iri) > len(ns):
                return f"{p}:{iri[len(ns):]}"
        return f"<{iri}>"

    def term(self, t: Any) -> str:
        if t is None:
            return ""
        if isinstance(t, ox.NamedNode):
            return self.iri(t.value)
        if isinstance(t, ox.BlankNode):
            return f"_:{t.value}"
        if isinstance(t, ox.Literal):
            return t.value
        if isinstance(t, ox.Triple):
            return f"<< {self.term(t.subject)} {self.term(t.predicate)} {self.term(t.object)} >>"
        return str(t)


def display_width(text: str) -> int:
    """Columns ``text`` takes on a terminal: wide and full-width characters count twice."""
    w = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        w += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return w


def _wrap(text: str, width: int) -> list[str]:
    """Split ``text`` into lines of at most ``width`` display columns (newlines kept)."""
    lines: list[str] = []
    for para in text.split("\n") or [""]:
        cur, cur_w = "", 0
        for ch in para:
            cw = display_width(ch)
            if cur_w + cw > width and cur:
                lines.append(cur)
                cur, cur_w = "", 0
                if ch == " ":  # a wrapped line does not start with the space it broke at
                    continue
            cur += ch
            cur_w += cw
        lines.append(cur)
    return lines


def _pad(text: str, width: int) -> str:
    return text + " " * (width - display_width(text))


def render_table(header: list[str], rows: list[list[str]], max_width: int = 60,
                 total_width: int | None = None) -> str:
    """An aligned text table; cells wider than ``max_width`` columns wrap onto more lines.

    With ``total_width`` (a terminal's width) the widest columns shrink until the table fits:
    first down to 20 columns each, then, if need be, down to 6.
    """
    rows = [[c.replace("\r", "").replace("\n", " ") for c in row] for row in rows]
    widths = [display_width(h) for h in header]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], min(max_width, display_width(cell)))
    if total_width:
        room = total_width - 2 * (len(widths) - 1)
        for floor in (20, 6):  # shrink the widest columns, long text first
            while sum(widths) > room:
                i = max(range(len(widths)), key=lambda k: widths[k])
                if widths[i] <= floor:
                    break
                widths[i] -= 1
    lines = ["  ".join(_pad(h, w) for h, w in zip(header, widths, strict=True)).rstrip(),
             "  ".join("─" * w for w in widths)]
    for row in rows:
        cells = [_wrap(c, widths[i]) for i, c in enumerate(row)]
        for k in range(max(len(c) for c in cells) if cells else 1):
            parts = [_pad(c[k] if k < len(c) else "", widths[i]) for i, c in enumerate(cells)]
            lines.append("  ".join(parts).rstrip())
    return "\n".join(lines) + "\n"


def table(result: Result, *, store: ox.Store | None = None, lang: str = "zh",
          base: str | None = None, max_width: int = 60, total_width: int | None = None) -> str:
    """The result as an aligned text table with labels for IRIs, and a count line."""
    lab = Labeller(store, base, lang)
    if result.form == "ASK":
        return ("true" if result.boolean else "false") + "\n"
    if result.is_graph:
        header = ["subject", "predicate", "object"]
        body = [[lab.term(t.subject), lab.term(t.predicate), lab.term(t.object)]
                for t in result.triples()]
        noun = "triple"
    else:
        header = list(result.variables)
        body = [[lab.term(t) for t in row] for row in result.rows()]
        noun = "row"
    text = render_table(header, body, max_width, total_width) if header else ""
    more = " (truncated: more rows exist; raise --limit)" if result.truncated else ""
    return f"{text}({len(body)} {noun}{'' if len(body) == 1 else 's'}){more}\n"


# --------------------------------------------------------------------------------------------
# The rdflib path: ifkg.load() returns a dataset that refuses what execute() refuses


def _oxrdflib_store_class() -> type:
    from oxrdflib import OxigraphStore

    return OxigraphStore


def safe_dataset(store: ox.Store, base: str):  # -> SafeDataset
    """An rdflib Dataset over ``store`` (via oxrdflib) whose queries pass the ifkg refusals.

    Every query on it, and on any graph sharing its store, is checked before oxrdflib or
    rdflib's own engine runs it: prepared queries, ``initBindings`` and ``base=``, which
    oxrdflib hands to rdflib's engine, included. Updates are refused.
    """
    graphs = [g.value for g in store.named_graphs() if isinstance(g, ox.NamedNode)]
    store_cls = _safe_store_class()
    ds = _SafeDataset(store=store_cls(store=store, graphs=graphs, base=base),
                      default_union=True)
    for prefix, ns in prefixes(base).items():
        ds.bind(prefix, ns, override=True, replace=True)
    return ds


_SAFE_STORE: type | None = None
_SafeDataset: Any = None


def _safe_store_class() -> type:
    """Build the store and dataset classes on first use (rdflib and oxrdflib import slowly)."""
    global _SAFE_STORE, _SafeDataset
    if _SAFE_STORE is not None:
        return _SAFE_STORE
    import rdflib
    from oxrdflib._converter import from_ox
    from rdflib.query import Result as RdflibResult

    base_cls = _oxrdflib_store_class()

    class SafeOxigraphStore(base_cls):  # type: ignore[valid-type,misc]
        """oxrdflib's store with the ifkg refusals in front of every query and update."""

        def __init__(self, *args: Any, graphs: list[str], base: str, **kw: Any) -> None:
            super().__init__(*args, **kw)
            self.ifkg_graphs = list(graphs)
            self.ifkg_base = base

        def query(self, query: Any, initNs: Mapping[str, Any],  # noqa: N803
                  initBindings: Mapping[str, Any], queryGraph: Any,  # noqa: N803
                  **kwargs: Any) -> Any:
            from rdflib.plugins.sparql.sparql import Query

            falls_back = isinstance(query, Query) or bool(kwargs)
            base = kwargs.get("base") or self.ifkg_base
            ns = {**prefixes(self.ifkg_base), **{k: str(v) for k, v in initNs.items()}}
            default, named = check_rdflib_query(query, base=str(base), init_ns=ns,
                                                graphs=self.ifkg_graphs,
                                                allow_from=not falls_back)
            if default is None or falls_back:
                return super().query(query, initNs, initBindings, queryGraph, **kwargs)
            # oxrdflib's union default graph would override FROM: pass the graphs explicitly
            res = self._inner.query(
                query, base_iri=self.ifkg_base, prefixes=ns,
                default_graph=[ox.NamedNode(g) for g in default],
                named_graphs=[ox.NamedNode(g) for g in named or ()],
                substitutions={ox.Variable(k): _to_ox(v) for k, v in initBindings.items()})
            return _rdflib_result(res, RdflibResult, from_ox)

        def update(self, *args: Any, **kwargs: Any) -> None:
            raise IfkgError("UPDATE is refused: ifkg graphs are read-only")

    class SafeDataset(rdflib.Dataset):
        """An rdflib Dataset that refuses UPDATE, LOAD, SERVICE and foreign FROM."""

        def query(self, query_object: Any, processor: Any = "sparql", result: Any = "sparql",
                  initNs: Mapping[str, Any] | None = None,  # noqa: N803
                  initBindings: Mapping[str, Any] | None = None,  # noqa: N803
                  use_store_provided: bool = True, **kwargs: Any) -> Any:
            if not use_store_provided or not isinstance(self.store, SafeOxigraphStore):
                st = self.store
                base = kwargs.get("base") or getattr(st, "ifkg_base", "")
                ns = {**prefixes(base), **dict(initNs or self.namespaces())}
                check_rdflib_query(query_object, base=str(base), init_ns=ns,
                                   graphs=getattr(st, "ifkg_graphs", None), allow_from=False)
            return super().query(query_object, processor, result, initNs, initBindings,
                                 use_store_provided, **kwargs)

        def update(self, *args: Any, **kwargs: Any) -> None:
            raise IfkgError("UPDATE is refused: ifkg graphs are read-only")

    _SAFE_STORE, _SafeDataset = SafeOxigraphStore, SafeDataset
    return _SAFE_STORE


def _to_ox(term: Any) -> Any:
    from oxrdflib._converter import to_ox

    return to_ox(term)


def _rdflib_result(res: Any, result_cls: type, from_ox: Any) -> Any:
    import rdflib
    from rdflib import Variable

    if isinstance(res, ox.QueryBoolean):
        out = result_cls("ASK")
        out.askAnswer = bool(res)
    elif isinstance(res, ox.QuerySolutions):
        out = result_cls("SELECT")
        out.vars = [Variable(v.value) for v in res.variables]
        out.bindings = [{v: from_ox(val) for v, val in zip(out.vars, sol, strict=True)
                         if val is not None}
                        for sol in res]
    else:
        out = result_cls("CONSTRUCT")
        out.graph = rdflib.Graph()
        out.graph += (from_ox(t) for t in res)
    return out


def __getattr__(name: str) -> Any:
    if name in ("SafeOxigraphStore", "SafeDataset"):
        _safe_store_class()
        return _SAFE_STORE if name == "SafeOxigraphStore" else _SafeDataset
    raise AttributeError(name)
