"""Check the compiled dataset against the SHACL shapes of ``ontology/shapes.ttl`` with pyshacl.

pyshacl is the slow step of a build, so the build validates in parts and remembers results:

* Every subject is owned by a *group*: the nodes a source owns (its source node, statements,
  measurements, evidence and selectors, whose IRIs carry the source id) form one group; every
  other subject (an entity, an indicator) is a group of its own.
* A group is checked on its own triples, the ``rdf:type`` triples of the nodes they point to,
  and the ontology (for ``rdfs:subClassOf`` and ``rdfs:subPropertyOf``). That is all the shapes
  look at: each shape targets subjects and follows their own triples, and ``sh:class`` needs only
  the type of a value. tests/test_synth.py checks that the parts give the same problems as
  the whole graph for every shape fixture.
* Results are cached under ``.ifkg-cache/shacl/`` keyed by a digest of the group's triples, of
  the ontology and of the shapes, so a rebuild after one source changed validates only the
  groups that changed.

Three fixes make pyshacl itself faster without changing what it reports: each SPARQL constraint
is parsed once instead of once per focus node; the data graph renders IRIs without the
namespace look-ups rdflib otherwise grows quadratically; and the data graph is built directly
from pyoxigraph terms and validated in place.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from .errors import IfkgError, Problem

# No inference: pyshacl follows rdfs:subClassOf of the ontology in the data graph for class
# targets; RDFS inference would type nodes from domains and ranges and hide violations.
INFERENCE = "none"
MAX_REPORTED = 20
CACHE_VERSION = "1"
# Above this many triples to check, the parts are validated in worker processes.
PARALLEL_MIN_TRIPLES = 150_000
CHUNK_TRIPLES = 120_000
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


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


def _shapes_graph(shapes_file: Path):  # -> rdflib.Graph
    import rdflib

    try:
        return rdflib.Graph().parse(shapes_file, format="turtle")
    except Exception as exc:  # rdflib raises several parser error types
        raise IfkgError(f"invalid SHACL shapes: {exc}", shapes_file) from None


def _results(triples: Iterable[ox.Triple], shapes_file: Path) -> list[tuple[str, str, str]]:
    """pyshacl's results as (focus node, problem text, severity), sorted."""
    import pyshacl
    import rdflib
    from rdflib.namespace import SH

    shapes = _shapes_graph(shapes_file)
    data = to_rdflib(triples)
    with _prepared_queries():
        conforms, report, _ = pyshacl.validate(
            data, shacl_graph=shapes, inference=INFERENCE, advanced=True, allow_warnings=True,
            inplace=True,
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


def _problems(results: Iterable[tuple[str, str, str]], shapes_file: Path) -> list[Problem]:
    return [Problem(text, shapes_file, None, None, level) for _, text, level in sorted(results)]


def validate(triples: list[ox.Triple], shapes_file: Path) -> list[Problem]:
    """Return one problem per SHACL result (focus node, path and message), in one run over
    all of ``triples``."""
    return _problems(_results(triples, shapes_file), shapes_file)


# --- validation in parts, with a cache --------------------------------------------------------


def _owned_prefixes(base: str) -> tuple[str, ...]:
    return tuple(base + f"id/{kind}/" for kind in ("statement", "measurement", "evidence",
                                                    "source"))


def _value(node: Any) -> str:
    return node.value if isinstance(node, (ox.NamedNode, ox.BlankNode)) else str(node)


def _owner(value: str, owned_prefixes: tuple[str, ...], context: frozenset[str]) -> str:
    """The group a subject belongs to: ``source:<id>`` for the nodes a source owns, ``context``
    for the ontology's subjects, else the node itself."""
    for prefix in owned_prefixes:
        if value.startswith(prefix):
            return "source:" + value[len(prefix):].split("/", 1)[0]
    return "context" if value in context else value


def _parts(data: Iterable[ox.Triple], context: list[ox.Triple], base: str
           ) -> dict[str, list[ox.Triple]]:
    """Each group's closure: its triples and the rdf:type triples of the nodes they point to.
    The ontology (``context``) is one more group, ``context``."""
    owned = _owned_prefixes(base)
    ctx_subjects = frozenset(_value(t.subject) for t in context)
    own: dict[str, list[ox.Triple]] = {"context": list(context)}
    types: dict[Any, list[ox.Triple]] = {}
    for t in data:
        own.setdefault(_owner(_value(t.subject), owned, ctx_subjects), []).append(t)
    for t in (*context, *data):
        if t.predicate == RDF_TYPE:
            types.setdefault(t.subject, []).append(t)
    parts = {}
    for group, triples in own.items():
        closure = set(triples)
        for t in triples:
            if not isinstance(t.object, ox.Literal):
                closure.update(types.get(t.object, ()))
        parts[group] = sorted(closure, key=str)
    return parts


def _digest(triples: Iterable[ox.Triple]) -> str:
    h = hashlib.sha256()
    for t in triples:
        h.update(str(t).encode() + b"\n")
    return h.hexdigest()


def _group_results(results: list[tuple[str, str, str]], wanted: set[str], base: str,
                   ctx_subjects: frozenset[str]) -> dict[str, list[tuple[str, str, str]]]:
    """Results sorted into the wanted groups; results on other focus nodes are dropped (their
    groups are checked elsewhere, with all of their triples)."""
    owned = _owned_prefixes(base)
    out: dict[str, list[tuple[str, str, str]]] = {g: [] for g in wanted}
    for focus, text, level in results:
        group = _owner(focus, owned, ctx_subjects)
        if group in out:
            out[group].append((focus, text, level))
    return out


def _in_worker(data_nt: bytes, shapes_file: Path, groups: list[str], base: str,
               ctx_subjects: frozenset[str]) -> dict[str, list[tuple[str, str, str]]]:
    """Validate one chunk (N-Triples, IRIs only) in a fresh ``python -m ifkg.shacl`` process."""
    import subprocess
    import sys

    header = json.dumps({"shapes": str(shapes_file), "groups": groups, "base": base,
                         "context": sorted(ctx_subjects)}).encode()
    proc = subprocess.run([sys.executable, "-m", "ifkg.shacl"], input=header + b"\n" + data_nt,
                          capture_output=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError("SHACL worker failed: " + proc.stderr.decode(errors="replace")[-2000:])
    found = json.loads(proc.stdout)
    return {g: [tuple(r) for r in rs] for g, rs in found.items()}  # type: ignore[misc]


def _worker_main() -> None:
    """``python -m ifkg.shacl``: a JSON header line, then N-Triples, on stdin; results out."""
    import sys

    raw = sys.stdin.buffer.read()
    head, _, data_nt = raw.partition(b"\n")
    job = json.loads(head)
    triples = [q.triple for q in ox.parse(data_nt, ox.RdfFormat.N_TRIPLES)]
    found = _group_results(_results(triples, Path(job["shapes"])), set(job["groups"]),
                           job["base"], frozenset(job["context"]))
    sys.stdout.write(json.dumps(found, ensure_ascii=False))


def validate_parts(data: list[ox.Triple], context: list[ox.Triple], shapes_file: Path,
                   base: str, cache_dir: Path | None = None,
                   workers: int | None = None) -> list[Problem]:
    """The problems of ``data`` (with ``context``, the ontology, always in view), found group
    by group and cached in ``cache_dir`` when given; same problems as :func:`validate` on
    ``data + context``."""
    context = sorted(set(context), key=str)
    parts = _parts(data, context, base)
    ctx_subjects = frozenset(_value(t.subject) for t in context)
    key = _digest(context)[:16] + "-" + hashlib.sha256(
        shapes_file.read_bytes() + CACHE_VERSION.encode()).hexdigest()[:16]
    cache: dict[str, list[list[str]]] = {}
    cache_file = cache_dir / f"shacl-{key}.json" if cache_dir else None
    if cache_file is not None and cache_file.exists():
        try:
            cache = json.loads(cache_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            cache = {}
    digests = {g: _digest(ts) for g, ts in parts.items()}
    todo = sorted(g for g in parts if digests[g] not in cache)
    results: dict[str, list[tuple[str, str, str]]] = {}
    if todo:
        chunks = _chunks(todo, parts)
        n_triples = sum(len(parts[g]) for g in todo)
        workers = workers if workers is not None else min(2, os.cpu_count() or 1)
        if workers > 1 and n_triples >= PARALLEL_MIN_TRIPLES and len(chunks) > 1:
            from concurrent.futures import ThreadPoolExecutor

            def run(c: list[str]) -> dict[str, list[tuple[str, str, str]]]:
                data_nt = ox.serialize(_chunk_triples(c, parts), format=ox.RdfFormat.N_TRIPLES)
                return _in_worker(data_nt, shapes_file, c, base, ctx_subjects)

            with ThreadPoolExecutor(workers) as pool:   # each thread drives one child process
                for found in pool.map(run, chunks):
                    results.update(found)
        else:
            for c in chunks:
                found = _results(_chunk_triples(c, parts), shapes_file)
                results.update(_group_results(found, set(c), base, ctx_subjects))
        for g in todo:
            cache[digests[g]] = [list(r) for r in results[g]]
        if cache_file is not None:
            live = {digests[g] for g in parts}
            with contextlib.suppress(OSError):  # a read-only checkout still builds
                _write_json(cache_file, {d: r for d, r in cache.items() if d in live})
    found_all = [tuple(r) for g in parts for r in (results.get(g) if g in results
                                                   else cache[digests[g]])]
    return _problems(found_all, shapes_file)  # type: ignore[arg-type]


def _chunks(groups: list[str], parts: dict[str, list[ox.Triple]]) -> list[list[str]]:
    chunks: list[list[str]] = [[]]
    size = 0
    for g in groups:
        if size and size + len(parts[g]) > CHUNK_TRIPLES:
            chunks.append([])
            size = 0
        chunks[-1].append(g)
        size += len(parts[g])
    return chunks


def _chunk_triples(groups: list[str], parts: dict[str, list[ox.Triple]]) -> list[ox.Triple]:
    """The triples of some groups, with the ontology (every check needs it)."""
    seen: set[ox.Triple] = set(parts["context"])
    out = list(parts["context"])
    for g in groups:
        for t in parts[g]:
            if t not in seen:
                seen.add(t)
                out.append(t)
    return out


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False, sort_keys=True)
    os.replace(tmp, path)


def validate_compiled(compiled: Any, project: Any) -> list[Problem]:
    """The build's check: the compiled dataset in parts, cached under ``.ifkg-cache/``."""
    ontology = compiled.graphs["ontology"]
    context = [q.triple for q in compiled.quads if q.graph_name == ontology]
    data = list({q.triple for q in compiled.quads if q.graph_name != ontology})
    return validate_parts(data, context, project.shapes_file, compiled.base,
                          project.root / ".ifkg-cache")


if __name__ == "__main__":
    _worker_main()
