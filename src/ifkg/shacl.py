"""Check the compiled dataset against the SHACL shapes of ``ontology/shapes.ttl`` with pyshacl.

pyshacl is the slow step of a build, so the build validates in parts and remembers results:

* Every subject belongs to a *group*: the nodes a source owns (its source node, statements,
  measurements, evidence and selectors, whose IRIs carry the source id) form ``source:<id>``;
  the subjects of the ontology graph form ``ontology``; every other subject (an entity, an
  indicator) is a group of its own. These are the groups of :class:`ifkg.compile.Compiled`.
* A group is checked on its own triples, the ``rdf:type`` triples of the nodes they point to
  (its *closure*) and the ontology (for ``rdfs:subClassOf`` and ``rdfs:subPropertyOf``). That
  is all the shapes look at: each shape targets subjects and follows their own triples, and
  ``sh:class`` needs only the type of a value. tests/test_synth.py checks that the parts give
  the same problems as the whole graph for every shape fixture.
* Results are cached under ``.ifkg-cache/`` by the digest of the group's lines, with, for
  each group its closure comes from, that group's digest and the digest of the lines taken
  from it; the cache file is named by the digests of the ontology and of the shapes. A
  rebuild after one source changed validates only the groups whose lines or closure changed,
  and looks again only at the closure lines that come from changed groups.
* Groups travel as N-Triples or N-Quads lines (bytes): grouping, hashing and chunking work on
  bytes, by bisection and regular expressions, never with a Python object per triple. Large
  checks run in ``python -m ifkg.shacl`` worker processes, a chunk of groups each.

pyshacl itself runs faster without reporting anything else: the shapes graph remembers its
answers and :func:`_faster_pyshacl` patches its hot spots while a check runs. Each change is
exact; tests/test_shacl.py compares every fixture's report with plain pyshacl's.
"""

from __future__ import annotations

import bisect
import contextlib
import functools
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from .errors import IfkgError, Problem
from .namespaces import group_of, owned_prefixes

# No inference: pyshacl follows rdfs:subClassOf of the ontology in the data graph for class
# targets; RDFS inference would type nodes from domains and ranges and hide violations.
INFERENCE = "none"
MAX_REPORTED = 20
CACHE_VERSION = "3"
# Above this many lines to check, the parts are validated in worker processes.
PARALLEL_MIN_TRIPLES = 150_000
CHUNK_TRIPLES = 60_000
CONTEXT = "ontology"
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_TYPE = b"<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
# The object of an N-Triples or N-Quads line when it is an IRI or a blank node.
_NODE_OBJECT = re.compile(rb"^\S+ \S+ ([<_]\S*)", re.MULTILINE)
_SUBJECT = re.compile(rb"^(\S+) ", re.MULTILINE)

Result = tuple[str, str, str]   # focus node, problem text, severity


def to_rdflib(triples: Iterable[ox.Triple]):  # -> rdflib.Graph
    """Copy triples into an rdflib graph, term by term (blank nodes keep distinct labels)."""
    import rdflib
    from rdflib import BNode, Literal, URIRef
    from rdflib.namespace import NamespaceManager

    class _PlainNames(NamespaceManager):
        """Full IRIs in messages: rdflib's prefix search grows quadratically with namespaces."""

        def normalizeUri(self, rdfTerm: str) -> str:  # noqa: N802, N803
            if isinstance(rdfTerm, rdflib.Variable):
                return f"?{rdfTerm}"
            return f"<{rdfTerm}>"

    cache: dict[Any, Any] = {}

    def term(x: Any) -> Any:
        r = cache.get(x)
        if r is None:
            if isinstance(x, ox.NamedNode):
                r = URIRef(x.value)
            elif isinstance(x, ox.BlankNode):
                r = BNode(x.value)
            elif x.language:
                r = Literal(x.value, lang=x.language)
            elif x.datatype.value == XSD_STRING:
                r = Literal(x.value)
            else:
                r = Literal(x.value, datatype=URIRef(x.datatype.value))
            cache[x] = r
        return r

    g = rdflib.Graph()
    g.namespace_manager = _PlainNames(g, bind_namespaces="core")
    g.addN((term(t.subject), term(t.predicate), term(t.object), g) for t in triples)
    return g


# --- pyshacl, faster ----------------------------------------------------------------------------


@contextlib.contextmanager
def _prepared_queries() -> Iterator[None]:
    """Parse each SPARQL query text once: pyshacl sends the same text for every focus node."""
    from rdflib.plugins.sparql import processor
    from rdflib.plugins.sparql.algebra import translateQuery
    from rdflib.plugins.sparql.parser import parseQuery

    original = processor.SPARQLProcessor.query
    cache: dict[tuple, Any] = {}

    def query(self, strOrQuery, initBindings=None, initNs=None, base=None,  # noqa: N803
              DEBUG=False):  # noqa: N803
        if isinstance(strOrQuery, str):
            key = (strOrQuery, base, tuple(sorted((initNs or {}).items())))
            if key not in cache:
                cache[key] = translateQuery(parseQuery(strOrQuery), base, initNs)
            strOrQuery = cache[key]
        return original(self, strOrQuery, initBindings, initNs, base, DEBUG)

    processor.SPARQLProcessor.query = query
    try:
        yield
    finally:
        processor.SPARQLProcessor.query = original


class _ParameterList(list):
    """pyshacl's list of constraint parameters, searched through a set: pyshacl tests every
    predicate of a shape against the ~40 parameters, for every shape on every value node."""

    def __init__(self, items: Iterable[Any] = ()) -> None:
        super().__init__(items)
        self._set = frozenset(self)

    def __contains__(self, item: object) -> bool:
        return item in self._set

    def copy(self) -> _ParameterList:   # advanced mode copies the list, then appends
        return _ParameterList(self)

    def append(self, item: Any) -> None:
        super().append(item)
        self._set = self._set | {item}


class _LazyResult:
    """A validation result built when first read. pyshacl builds a full result (messages,
    texts) for every failure, also inside sh:qualifiedValueShape, sh:not and sh:or, where
    only whether a value conforms is used and the results are dropped unread."""

    __slots__ = ("_make", "_value")

    def __init__(self, make: Callable[[], tuple]) -> None:
        self._make: Callable[[], tuple] | None = make
        self._value: tuple | None = None

    def _get(self) -> tuple:
        if self._value is None:
            assert self._make is not None
            self._value, self._make = self._make(), None
        return self._value

    def __iter__(self) -> Iterator[Any]:
        return iter(self._get())

    def __getitem__(self, i: int) -> Any:
        return self._get()[i]

    def __len__(self) -> int:
        return len(self._get())


@functools.cache
def _memo_graph():  # -> rdflib.Graph subclass
    """An rdflib graph that remembers the answer to each triple pattern until it changes:
    pyshacl reads the same parameters of the same shapes again for every value node."""
    import rdflib
    from rdflib.paths import Path as RdfPath

    class MemoGraph(rdflib.Graph):
        _memo: dict[tuple, tuple] | None = None

        def triples(self, triple):  # type: ignore[override]
            if isinstance(triple[1], RdfPath):
                return super().triples(triple)
            if self._memo is None:
                self._memo = {}
            found = self._memo.get(triple)
            if found is None:
                found = self._memo[triple] = tuple(super().triples(triple))
            return iter(found)

        def add(self, triple):  # type: ignore[override]
            self._memo = None
            return super().add(triple)

        def addN(self, quads):  # type: ignore[override]  # noqa: N802
            self._memo = None
            return super().addN(quads)

        def remove(self, triple):  # type: ignore[override]
            self._memo = None
            return super().remove(triple)

    return MemoGraph


@contextlib.contextmanager
def _faster_pyshacl(keep_focus: Callable[[Any], bool] | None = None) -> Iterator[None]:
    """Make pyshacl (0.40) faster without changing its report: SPARQL texts parsed and
    checked once, constraint parameters looked up in a set, results built only when read. With
    ``keep_focus``, only the target nodes it accepts are validated (the build drops the
    results on other nodes anyway: they are checked with their own group)."""
    import pyshacl.shape as shape_module
    from pyshacl.constraints import ALL_CONSTRAINT_PARAMETERS, CONSTRAINT_PARAMETERS_MAP
    from pyshacl.constraints.constraint_component import ConstraintComponent
    from pyshacl.helper.sparql_query_helper import SPARQLQueryHelper
    from pyshacl.shape import Shape

    make_v_result = ConstraintComponent.make_v_result
    focus_nodes = Shape.focus_nodes
    check_sparql = SPARQLQueryHelper.check_invalid_sparql
    params = getattr(shape_module, "CONSTRAINT_PARAMS", None)
    valid_sparql: set[tuple] = set()

    def check_sparql_once(self, sparql_text, valuenode=None, extravars=None):
        # the checks are regular expressions (class constants) on the text: a pure function
        key = (sparql_text, valuenode is None, tuple(sorted(extravars or ())))
        if key not in valid_sparql:
            check_sparql(self, sparql_text, valuenode, extravars)   # raises when invalid
            valid_sparql.add(key)
        return True

    def lazy_v_result(self, *args, **kwargs):
        return _LazyResult(functools.partial(make_v_result, self, *args, **kwargs))

    def kept_focus_nodes(self, data_graph, debug=False):
        return {n for n in focus_nodes(self, data_graph, debug) if keep_focus(n)}

    shape_module.CONSTRAINT_PARAMS = (_ParameterList(ALL_CONSTRAINT_PARAMETERS),
                                      CONSTRAINT_PARAMETERS_MAP)
    ConstraintComponent.make_v_result = lazy_v_result
    SPARQLQueryHelper.check_invalid_sparql = check_sparql_once
    if keep_focus is not None:
        Shape.focus_nodes = kept_focus_nodes
    try:
        with _prepared_queries():
            yield
    finally:
        ConstraintComponent.make_v_result = make_v_result
        SPARQLQueryHelper.check_invalid_sparql = check_sparql
        Shape.focus_nodes = focus_nodes
        if params is None:
            del shape_module.CONSTRAINT_PARAMS
        else:
            shape_module.CONSTRAINT_PARAMS = params


def _shapes_graph(shapes_file: Path):  # -> rdflib.Graph
    try:
        return _memo_graph()().parse(shapes_file, format="turtle")
    except Exception as exc:  # rdflib raises several parser error types
        raise IfkgError(f"invalid SHACL shapes: {exc}", shapes_file) from None


def _results(triples: Iterable[ox.Triple], shapes_file: Path,
             keep_focus: Callable[[Any], bool] | None = None) -> list[Result]:
    """pyshacl's results as (focus node, problem text, severity), sorted."""
    import pyshacl
    import rdflib
    from rdflib.namespace import SH

    shapes = _shapes_graph(shapes_file)
    data = to_rdflib(triples)
    with _faster_pyshacl(keep_focus):
        conforms, report, _ = pyshacl.validate(
            data, shacl_graph=shapes, inference=INFERENCE, advanced=True, inplace=True,
        )
    if conforms:
        return []
    out = []
    for result in report.subjects(rdflib.RDF.type, SH.ValidationResult):
        focus = report.value(result, SH.focusNode)
        path = report.value(result, SH.resultPath)
        message = report.value(result, SH.resultMessage)
        severity = report.value(result, SH.resultSeverity)
        text = f"SHACL: {focus}"
        if path is not None:
            text += f" {path}"
        text += f": {message}"
        level = "warning" if severity in (SH.Warning, SH.Info) else "error"
        out.append((str(focus), text, level))
    return sorted(out)


def _problems(results: Iterable[Result], shapes_file: Path) -> list[Problem]:
    return [Problem(text, shapes_file, None, None, level) for _, text, level in sorted(results)]


def validate(triples: list[ox.Triple], shapes_file: Path) -> list[Problem]:
    """Return one problem per SHACL result (focus node, path and message), in one run over
    all of ``triples``."""
    return _problems(_results(triples, shapes_file), shapes_file)


# --- groups -------------------------------------------------------------------------------------


def _owner(value: str, owned_prefixes: tuple[str, ...], context: frozenset[str]) -> str:
    """The group a subject belongs to: the compiled dataset's group (``source:<id>`` for the
    nodes a source owns, else the node itself), but ``ontology`` for the ontology's subjects."""
    group = group_of(value, owned_prefixes)
    return CONTEXT if group == value and value in context else group


class _Owners:
    """:func:`_owner` on the terms of N-Triples lines (``<iri>`` or ``_:label``, bytes)."""

    def __init__(self, base: str, context: frozenset[str]) -> None:
        self.context = context
        self.prefixes = tuple(("<" + p).encode() for p in owned_prefixes(base))

    def of(self, term: bytes) -> tuple[str, bytes]:
        """The group of a subject term, and the start that every line of its run shares
        (sorted lines keep a source's nodes of one kind together)."""
        for prefix in self.prefixes:
            if term.startswith(prefix):
                rest = term[len(prefix):]
                cut = rest.find(b"/")
                if cut < 0:
                    cut = len(rest) - 1          # the closing ">"
                return "source:" + rest[:cut].decode(), prefix + rest[:cut + 1]
        value = (term[1:-1] if term.startswith(b"<") else term[2:]).decode()
        return (CONTEXT if value in self.context else value), term + b" "


def _context_subjects(context: bytes) -> frozenset[str]:
    return frozenset((t[1:-1] if t.startswith(b"<") else t[2:]).decode()
                     for t in _SUBJECT.findall(context))


def _split(lines: list[bytes], owners: _Owners) -> dict[str, bytes]:
    """Sorted lines by group. Each run of lines with one owner is found by bisection."""
    found: dict[str, list[bytes]] = {}
    i, n = 0, len(lines)
    while i < n:
        line = lines[i]
        group, run = owners.of(line[:line.index(b" ")])
        j = bisect.bisect_left(lines, run[:-1] + bytes((run[-1] + 1,)), i)
        found.setdefault(group, []).extend(lines[i:j])
        i = j
    return {g: b"".join(ls) for g, ls in found.items()}


def _split_lines(data: bytes, owners: _Owners) -> dict[str, bytes]:
    lines = data.splitlines(keepends=True)
    lines.sort()   # linear when the lines are a few sorted runs, as a compiled dataset's are
    return _split(lines, owners)


def _groups_of_compiled(compiled: Any) -> tuple[dict[str, bytes], _Owners]:
    """The groups of a compiled dataset, as N-Quads lines: ``compiled.groups`` when it has
    them (``ontology``: the ontology graph), else its quads serialized and split."""
    groups = getattr(compiled, "groups", None)
    if groups is None:
        data = ox.serialize(compiled.quads, format=ox.RdfFormat.N_QUADS)
        suffix = b" <" + compiled.graphs["ontology"].value.encode() + b"> .\n"
        context = b"".join(line for line in data.splitlines(keepends=True)
                           if line.endswith(suffix))
        owners = _Owners(compiled.base, _context_subjects(context))
        return _split_lines(data, owners), owners
    groups = {k: (v if isinstance(v, bytes) else b"".join(v)) for k, v in groups.items()}
    owners = _Owners(compiled.base, _context_subjects(groups.get(CONTEXT, b"")))
    moved = sorted(k for k in groups if k != CONTEXT and k in owners.context)
    if moved:   # subjects of the ontology stated outside it join its group
        lines = b"".join([groups.get(CONTEXT, b""), *(groups.pop(k) for k in moved)])
        groups[CONTEXT] = b"".join(sorted(lines.splitlines(keepends=True)))
    return groups, owners


class _Closures:
    """The rdf:type lines of the nodes a group points to, found in their own groups."""

    def __init__(self, groups: dict[str, bytes], owners: _Owners) -> None:
        self.groups, self.owners = groups, owners
        self._owner: dict[bytes, str] = {}
        self._types: dict[str, dict[bytes, list[bytes]]] = {}

    def _types_in(self, group: str) -> dict[bytes, list[bytes]]:
        """The rdf:type lines of a group, by subject."""
        found = self._types.get(group)
        if found is None:
            found = self._types[group] = {}
            middle = b" " + RDF_TYPE + b" "
            for line in self.groups.get(group, b"").splitlines(keepends=True):
                if middle in line:
                    subject, rest = line.split(b" ", 1)
                    if rest.startswith(RDF_TYPE):
                        found.setdefault(subject, []).append(line)
        return found

    def refs(self, group: str) -> dict[str, list[bytes]]:
        """The nodes ``group`` points to, by the group that owns them (leaving out its own
        nodes and the ontology's, which every chunk has)."""
        found: dict[str, list[bytes]] = {}
        for term in sorted(set(_NODE_OBJECT.findall(self.groups[group]))):
            owner = self._owner.get(term)
            if owner is None:
                owner = self._owner[term] = self.owners.of(term)[0]
            if owner not in (group, CONTEXT):
                found.setdefault(owner, []).append(term)
        return found

    def part(self, owner: str, terms: list[bytes]) -> list[bytes]:
        """The rdf:type lines of ``terms``, nodes of the group ``owner``."""
        types = self._types_in(owner)
        return [line for term in terms for line in types.get(term, ())]


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:32]


# --- validation in parts, with a cache --------------------------------------------------------


def _group_results(results: list[Result], wanted: set[str], owners_of: Callable[[str], str]
                   ) -> dict[str, list[Result]]:
    """Results sorted into the wanted groups; results on other focus nodes are dropped (their
    groups are checked elsewhere, with all of their triples)."""
    out: dict[str, list[Result]] = {g: [] for g in wanted}
    for focus, text, level in results:
        group = owners_of(focus)
        if group in out:
            out[group].append((focus, text, level))
    return out


def _check_chunk(data: bytes, fmt: str, shapes_file: Path, groups: list[str], base: str,
                 context: frozenset[str]) -> dict[str, list[Result]]:
    """Validate one chunk (N-Triples or N-Quads, graph names ignored) for its groups."""
    owned = owned_prefixes(base)
    wanted = set(groups)

    def owner(value: str) -> str:
        return _owner(value, owned, context)

    def keep(node: Any) -> bool:
        return owner(str(node)) in wanted

    rdf_format = ox.RdfFormat.N_QUADS if fmt == "nquads" else ox.RdfFormat.N_TRIPLES
    triples = [q.triple for q in ox.parse(data, rdf_format)]
    return _group_results(_results(triples, shapes_file, keep), wanted, owner)


class _Worker:
    """A ``python -m ifkg.shacl`` process that checks one chunk after another."""

    def __init__(self) -> None:
        import subprocess
        import sys

        self._stderr = tempfile.TemporaryFile()
        self._proc = subprocess.Popen([sys.executable, "-m", "ifkg.shacl"],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=self._stderr)

    def check(self, data: bytes, job: dict[str, Any]) -> dict[str, list[Result]]:
        assert self._proc.stdin is not None and self._proc.stdout is not None
        head = json.dumps({**job, "size": len(data)}).encode()
        try:
            self._proc.stdin.write(head + b"\n")
            self._proc.stdin.write(data)
            self._proc.stdin.flush()
            line = self._proc.stdout.readline()
        except BrokenPipeError:
            line = b""
        if not line:
            self._proc.wait()
            self._stderr.seek(0)
            raise RuntimeError("SHACL worker failed: "
                               + self._stderr.read().decode(errors="replace")[-2000:])
        found = json.loads(line)
        return {g: [tuple(r) for r in rs] for g, rs in found.items()}  # type: ignore[misc]

    def close(self) -> None:
        with contextlib.suppress(OSError):
            assert self._proc.stdin is not None
            self._proc.stdin.close()
        self._proc.wait()
        self._stderr.close()


def _worker_main() -> None:
    """``python -m ifkg.shacl``: jobs on stdin, each a JSON header line (``size``: the bytes
    that follow, else up to the end) and then N-Triples (or N-Quads with ``"format":
    "nquads"``); for each job one line of JSON out: the results by group."""
    import sys

    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while head := stdin.readline().strip():
        job = json.loads(head)
        size = job.get("size")
        data = stdin.read() if size is None else stdin.read(size)
        found = _check_chunk(data, job.get("format", "ntriples"), Path(job["shapes"]),
                             job["groups"], job["base"], frozenset(job["context"]))
        stdout.write(json.dumps(found, ensure_ascii=False).encode() + b"\n")
        stdout.flush()


def validate_parts(data: list[ox.Triple], context: list[ox.Triple], shapes_file: Path,
                   base: str, cache_dir: Path | None = None,
                   workers: int | None = None) -> list[Problem]:
    """The problems of ``data`` (with ``context``, the ontology, always in view), found group
    by group and cached in ``cache_dir`` when given; same problems as :func:`validate` on
    ``data + context``."""
    context_nt = ox.serialize(context, format=ox.RdfFormat.N_TRIPLES)
    owners = _Owners(base, _context_subjects(context_nt))
    groups = _split_lines(ox.serialize(data, format=ox.RdfFormat.N_TRIPLES) + context_nt, owners)
    return _validate_groups(groups, owners, "ntriples", shapes_file, base, cache_dir, workers)


def validate_compiled(compiled: Any, project: Any) -> list[Problem]:
    """The build's check: the compiled dataset in parts, cached under ``.ifkg-cache/``."""
    groups, owners = _groups_of_compiled(compiled)
    return _validate_groups(groups, owners, "nquads", project.shapes_file, compiled.base,
                            project.root / ".ifkg-cache", None)


def _validate_groups(groups: dict[str, bytes], owners: _Owners, fmt: str, shapes_file: Path,
                     base: str, cache_dir: Path | None, workers: int | None) -> list[Problem]:
    groups.setdefault(CONTEXT, b"")
    digests = {g: _digest(data) for g, data in groups.items()}
    key = digests[CONTEXT][:16] + "-" + _digest(shapes_file.read_bytes()
                                                + CACHE_VERSION.encode())[:16]
    cache: dict[str, dict[str, Any]] = {}
    cache_file = cache_dir / f"shacl-{key}.json" if cache_dir else None
    if cache_file is not None and cache_file.exists():
        try:
            cache = json.loads(cache_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            cache = {}
    closures = _Closures(groups, owners)
    entries: dict[str, dict[str, Any]] = {}
    todo: dict[str, list[bytes]] = {}
    changed = len(cache) != len(groups)
    for g in groups:
        entry = cache.get(digests[g])
        if entry is not None:   # same lines: same nodes pointed to, maybe with other types
            try:
                deps = {o: [d, part] for o, (d, part) in entry["deps"].items()}
                moved = [o for o, (d, _) in deps.items() if digests.get(o, "") != d]
                if moved:
                    changed = True
                    refs = closures.refs(g)
                    for o in moved:
                        deps[o] = [digests.get(o, ""),
                                   _digest(b"".join(closures.part(o, refs.get(o, []))))]
                if all(deps[o][1] == entry["deps"][o][1] for o in moved):
                    entries[g] = {"deps": deps, "results": list(entry["results"])}
                    continue
            except (AttributeError, KeyError, TypeError, ValueError):   # not what we write
                pass
        changed = True
        lines: list[bytes] = []
        deps = {}
        for o, terms in sorted(closures.refs(g).items()):
            part = closures.part(o, terms)
            deps[o] = [digests.get(o, ""), _digest(b"".join(part))]
            lines += part
        entries[g] = {"deps": deps}
        todo[g] = lines
    if todo:
        for g, found in _run(todo, groups, fmt, shapes_file, base, owners.context,
                             workers).items():
            entries[g]["results"] = [list(r) for r in found]
    if changed and cache_file is not None:
        with contextlib.suppress(OSError):  # a read-only checkout still builds
            _write_json(cache_file, {digests[g]: e for g, e in entries.items()})
    return _problems((tuple(r) for e in entries.values() for r in e["results"]),  # type: ignore
                     shapes_file)


def _run(todo: dict[str, list[bytes]], groups: dict[str, bytes], fmt: str, shapes_file: Path,
         base: str, context: frozenset[str], workers: int | None) -> dict[str, list[Result]]:
    """Validate the groups of ``todo`` (group → its closure lines), in chunks."""
    sizes = {g: groups[g].count(b"\n") + len(lines) for g, lines in todo.items()}
    # sources first: their groups cost the most per line, and cheap chunks last even out the
    # workers' ends
    chunks = _chunks(sorted(todo, key=lambda g: (not g.startswith("source:"), g)), sizes)
    workers = workers if workers is not None else min(2, os.cpu_count() or 1)

    def payload(chunk: list[str]) -> bytes:
        closure = dict.fromkeys(line for g in chunk for line in todo[g])
        return b"".join([groups[CONTEXT], *(groups[g] for g in chunk if g != CONTEXT),
                         *closure])

    results: dict[str, list[Result]] = {}
    if workers > 1 and sum(sizes.values()) >= PARALLEL_MIN_TRIPLES and len(chunks) > 1:
        import queue
        import threading
        from concurrent.futures import ThreadPoolExecutor

        pending: queue.SimpleQueue[list[str]] = queue.SimpleQueue()
        for chunk in chunks:
            pending.put(chunk)
        failed = threading.Event()
        job = {"shapes": str(shapes_file), "base": base, "context": sorted(context),
               "format": fmt}

        def drive() -> None:   # one thread per worker process; each takes the next chunk
            worker = _Worker()
            try:
                while not failed.is_set():
                    try:
                        chunk = pending.get_nowait()
                    except queue.Empty:
                        return
                    results.update(worker.check(payload(chunk), {**job, "groups": chunk}))
            except BaseException:
                failed.set()
                raise
            finally:
                worker.close()

        with ThreadPoolExecutor(workers) as pool:
            for future in [pool.submit(drive) for _ in range(min(workers, len(chunks)))]:
                future.result()
    else:
        for chunk in chunks:
            results.update(_check_chunk(payload(chunk), fmt, shapes_file, chunk, base,
                                        context))
    return results


def _chunks(groups: list[str], sizes: dict[str, int]) -> list[list[str]]:
    chunks: list[list[str]] = [[]]
    size = 0
    for g in groups:
        if size and size + sizes[g] > CHUNK_TRIPLES:
            chunks.append([])
            size = 0
        chunks[-1].append(g)
        size += sizes[g]
    return chunks


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:   # dumps: json's C encoder
        fh.write(json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")))
    os.replace(tmp, path)


if __name__ == "__main__":
    _worker_main()
