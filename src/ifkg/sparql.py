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

import io
import json
import os
import select
import signal
import struct
import sys
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
    """The answer of a query, held in one canonical serialisation.

    Solutions and booleans are SPARQL JSON bytes, graphs N-Triples bytes; every output format is
    written from them by pyoxigraph (or by :func:`write` for the table).
    """

    form: str
    data: bytes
    truncated: bool = False
    seconds: float = 0.0
    forked: bool = False
    variables: list[str] = field(default_factory=list)

    @property
    def is_graph(self) -> bool:
        return self.form in ("CONSTRUCT", "DESCRIBE")

    def solutions(self) -> ox.QuerySolutions | ox.QueryBoolean:
        return ox.parse_query_results(self.data, ox.QueryResultsFormat.JSON)

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
        return [q.triple for q in ox.parse(self.data, ox.RdfFormat.N_TRIPLES)]

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
    (``graphs``; by default the three graphs of a dataset built with ``base``).
    """
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


def _term_json(t: Any) -> dict[str, Any]:
    if isinstance(t, ox.NamedNode):
        return {"type": "uri", "value": t.value}
    if isinstance(t, ox.BlankNode):
        return {"type": "bnode", "value": t.value}
    if isinstance(t, ox.Literal):
        d: dict[str, Any] = {"type": "literal", "value": t.value}
        if t.language:
            d["xml:lang"] = t.language
        elif t.datatype.value != "http://www.w3.org/2001/XMLSchema#string":
            d["datatype"] = t.datatype.value
        return d
    if isinstance(t, ox.Triple):
        return {"type": "triple", "value": {"subject": _term_json(t.subject),
                                            "predicate": _term_json(t.predicate),
                                            "object": _term_json(t.object)}}
    raise TypeError(type(t).__name__)


def _run(store: ox.Store, prepared: Prepared, kw: dict[str, Any],
         row_limit: int | None) -> tuple[bytes, bool, list[str]]:
    """Execute in this process: (canonical bytes, truncated, variables)."""
    res = store.query(prepared.text, **kw)
    if isinstance(res, ox.QueryBoolean):
        return res.serialize(format=ox.QueryResultsFormat.JSON), False, []
    if isinstance(res, ox.QueryTriples):
        if row_limit is None:
            return res.serialize(format=ox.RdfFormat.N_TRIPLES), False, []
        triples = []
        for t in res:
            if len(triples) == row_limit:
                return ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES), True, []
            triples.append(t)
        return ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES), False, []
    variables = [v.value for v in res.variables]
    if row_limit is None:
        return res.serialize(format=ox.QueryResultsFormat.JSON), False, variables
    bindings, truncated = [], False
    for sol in res:
        if len(bindings) == row_limit:
            truncated = True
            break
        bindings.append({v: _term_json(sol[v]) for v in variables if sol[v] is not None})
    doc = {"head": {"vars": variables}, "results": {"bindings": bindings}}
    return json.dumps(doc, ensure_ascii=False).encode(), truncated, variables


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


_HEADER = struct.Struct("!cQ?")


def _run_forked(store: ox.Store, prepared: Prepared, kw: dict[str, Any],
                row_limit: int | None, timeout: float) -> tuple[bytes, bool, list[str]]:
    """Run the query in a forked child that is killed after ``timeout`` seconds.

    The child inherits the store (copy-on-write) and sends back the canonical bytes through a
    pipe: a header (status, length, truncated), the variables as JSON, then the data.
    """
    r, w = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the worker
        code = 0
        try:
            os.close(r)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            try:
                data, truncated, variables = _run(store, prepared, kw, row_limit)
                status = b"O"
                payload = json.dumps(variables).encode() + b"\n" + data
            except BaseException as exc:  # noqa: BLE001 — everything goes back to the parent
                err = _describe_error(exc, prepared.name).first
                status, truncated = b"E", False
                payload = json.dumps([err.message, err.line, err.column]).encode()
            with os.fdopen(w, "wb") as out:
                out.write(_HEADER.pack(status, len(payload), truncated))
                out.write(payload)
        except BaseException:  # noqa: BLE001
            code = 1
        finally:
            os._exit(code)
    os.close(w)
    deadline = time.monotonic() + timeout
    chunks: list[bytes] = []
    done = False
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            ready, _, _ = select.select([r], [], [], left)
            if not ready:
                continue
            chunk = os.read(r, 1 << 20)
            if not chunk:
                done = True
                break
            chunks.append(chunk)
    finally:
        os.close(r)
        if not done:
            _kill(pid)
        else:
            os.waitpid(pid, 0)
    if not done:
        raise IfkgError(f"query timed out after {timeout:g} s (use --timeout to allow more)",
                        prepared.name)
    blob = b"".join(chunks)
    if len(blob) < _HEADER.size:
        raise IfkgError("query worker died without an answer (out of memory?)", prepared.name)
    status, length, truncated = _HEADER.unpack_from(blob)
    payload = blob[_HEADER.size:_HEADER.size + length]
    if status == b"E":
        message, line, column = json.loads(payload)
        raise IfkgError(message, prepared.name, line, column)
    head, _, data = payload.partition(b"\n")
    return data, truncated, json.loads(head)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def execute(store: ox.Store, prepared: Prepared | str, *,
            timeout: float | None = DEFAULT_TIMEOUT,
            default_graph: list[str] | None = None, named_graphs: list[str] | None = None,
            row_limit: int | None = None, bindings: Mapping[str, Any] | None = None) -> Result:
    """Run a prepared query on ``store``.

    The default graph is the union of the named graphs unless the query's FROM or
    ``default_graph`` choose graphs (which must be named graphs of the store). ``bindings``
    (variable name → pyoxigraph term) are substituted into the parsed query before it runs,
    never spliced into its text. With a ``timeout`` (seconds; None or 0 for none) the query runs
    in a forked worker that is killed when the time is up. ``row_limit`` keeps the first rows
    and marks the result truncated. A query given as text, or a Prepared not made by
    :func:`prepare`, is prepared (and checked) first.
    """
    graphs = [g.value for g in store.named_graphs() if isinstance(g, ox.NamedNode)]
    if isinstance(prepared, str):
        prepared = prepare(prepared, base=store_base(graphs), graphs=graphs)
    elif prepared.checked is not _CHECKED:
        prepared = prepare(prepared.text, base=prepared.base, name=prepared.name, graphs=graphs)
    if row_limit is not None and row_limit < 0:
        raise IfkgError(f"row limit must be 0 or more, not {row_limit}")
    kw = _query_kwargs(store, prepared, default_graph, named_graphs, bindings)
    start = time.perf_counter()
    forked = bool(timeout) and hasattr(os, "fork")
    if forked:
        assert timeout is not None
        data, truncated, variables = _run_forked(store, prepared, kw, row_limit, timeout)
    else:
        try:
            data, truncated, variables = _run(store, prepared, kw, row_limit)
        except Exception as exc:
            raise _describe_error(exc, prepared.name) from None
    return Result(prepared.form, data, truncated, time.perf_counter() - start, forked,
                  variables)


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
    if result.is_graph:
        triples = ox.parse(result.data, ox.RdfFormat.N_TRIPLES)
        pfx = prefixes(base) if base else None
        kw = {"prefixes": pfx} if pfx and fmt in ("turtle", "jsonld") else {}
        out.write(ox.serialize([q.triple for q in triples], format=_RDF_FORMAT[fmt], **kw))
        return
    if fmt == "json":
        out.write(result.data)
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
