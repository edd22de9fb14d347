"""Serialise the compiled dataset to every export format and write them atomically.

The RDF exports (N-Quads, N-Triples, Turtle, TriG, RDF/XML, JSON-LD) are written group by group
(see :class:`ifkg.compile.Compiled`): each group's fragment is pyoxigraph's serialisation of
that group's quads, without the format's header and footer, which are written once. A file is
its header, its fragments in group order and its footer, so the same groups give the same bytes
on every run. The fragments of the last build are kept in ``.ifkg-cache/exports/`` (the file
itself, with the offset of each group's fragment by the group's digest): a rebuild serialises
only the groups that changed and copies the others. The other exports (the description, the
ontology, the HTML pages) are rendered whole.
"""

from __future__ import annotations

import contextlib
import filecmp
import functools
import hashlib
import importlib
import json
import mmap
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pyoxigraph as ox

from .compile import GRAPHS, Compiled
from .errors import IfkgError
from .namespaces import prefixes
from .project import Project

Writer = Callable[[Compiled, Project], bytes]
FRAGMENT_VERSION = "3"
JSONLD_CONTEXT_FILE = "context.jsonld"


# ---------------------------------------------------------------------------------------------
# fragmented exports


class _Group:
    """One group's quads, parsed once for every format that needs them."""

    def __init__(self, lines: bytes) -> None:
        self.lines = lines
        self._quads: list[ox.Quad] | None = None
        self._triples: list[ox.Triple] | None = None

    @property
    def quads(self) -> list[ox.Quad]:
        if self._quads is None:
            self._quads = list(ox.parse(self.lines, ox.RdfFormat.N_QUADS))
        return self._quads

    @property
    def triples(self) -> list[ox.Triple]:
        if self._triples is None:
            self._triples = list(dict.fromkeys(q.triple for q in self.quads))
        return self._triples


@dataclass
class Fragmented:
    """An export made of a header, one fragment per group (joined by ``sep``) and a footer."""

    header: Callable[[Compiled], bytes]
    fragment: Callable[[_Group, Compiled], bytes]
    footer: bytes = b""
    sep: bytes = b""


def _prefix_lines(c: Compiled) -> bytes:
    return _prefix_lines_of(c.base)


@functools.lru_cache(maxsize=8)
def _prefix_lines_of(base: str) -> bytes:
    """The ``@prefix`` lines pyoxigraph writes before any Turtle or TriG it serialises."""
    probe = ox.Triple(ox.NamedNode(base), ox.NamedNode(base), ox.NamedNode(base))
    out = ox.serialize([probe], format=ox.RdfFormat.TURTLE, prefixes=prefixes(base))
    return b"".join(line for line in out.splitlines(keepends=True) if line.startswith(b"@prefix "))


def _strip(data: bytes, head: bytes, tail: bytes = b"") -> bytes:
    if not data:
        return b""
    if not data.startswith(head) or not data.endswith(tail):
        raise RuntimeError("pyoxigraph's output does not start with the expected header")
    return data[len(head):len(data) - len(tail)]


def _turtle_fragment(g: _Group, c: Compiled) -> bytes:
    out = ox.serialize(g.triples, format=ox.RdfFormat.TURTLE, prefixes=prefixes(c.base))
    return _strip(out, _prefix_lines(c))


def _trig_open(c: Compiled, graph: str) -> bytes:
    return _trig_open_of(c.base, c.graphs[graph].value)


@functools.lru_cache(maxsize=32)
def _trig_open_of(base: str, graph_iri: str) -> bytes:
    """The line pyoxigraph opens a block of ``graph_iri`` with in TriG (``graph:facts {``)."""
    g = ox.NamedNode(graph_iri)
    out = ox.serialize([ox.Quad(g, g, g, g)], format=ox.RdfFormat.TRIG, prefixes=prefixes(base))
    return _strip(out, _prefix_lines_of(base)).splitlines(keepends=True)[0]


def _trig_part(graph: str) -> Callable[[_Group, Compiled], bytes]:
    """The TriG lines of a group's quads in one named graph, inside that graph's block: the
    file has one block per named graph."""

    def fragment(g: _Group, c: Compiled) -> bytes:
        node = c.graphs[graph]
        quads = [q for q in g.quads if q.graph_name == node]
        if not quads:
            return b""
        out = ox.serialize(quads, format=ox.RdfFormat.TRIG, prefixes=prefixes(c.base))
        return _strip(out, _prefix_lines(c) + _trig_open(c, graph), b"}\n")

    return fragment


def _ntriples_fragment(g: _Group, c: Compiled) -> bytes:
    return ox.serialize(g.triples, format=ox.RdfFormat.N_TRIPLES)


_RDF_XML_END = b"</rdf:RDF>"


def _rdf_xml_header(c: Compiled) -> bytes:
    return _rdf_xml_header_of(c.base)


@functools.lru_cache(maxsize=8)
def _rdf_xml_header_of(base: str) -> bytes:
    return _strip(ox.serialize([], format=ox.RdfFormat.RDF_XML, prefixes=prefixes(base)),
                  b"", _RDF_XML_END)


def _rdf_xml_fragment(g: _Group, c: Compiled) -> bytes:
    out = ox.serialize(g.triples, format=ox.RdfFormat.RDF_XML, prefixes=prefixes(c.base))
    return _strip(out, _rdf_xml_header(c), _RDF_XML_END)


def _jsonld_header(c: Compiled) -> bytes:
    return f'{{"@context": "{JSONLD_CONTEXT_FILE}",\n "@graph": [\n'.encode()


class _Compactor:
    """Compact IRIs (``ifkg:Fund``) under the prefixes of ``context.jsonld``, remembered."""

    def __init__(self, base: str) -> None:
        self.ordered = sorted(prefixes(base).items(), key=lambda kv: len(kv[1]), reverse=True)
        self.known: dict[str, str] = {}

    def __call__(self, iri: str) -> str:
        found = self.known.get(iri)
        if found is None:
            found = iri
            if not iri.startswith("_:"):
                for name, ns in self.ordered:
                    rest = iri[len(ns):]
                    if iri.startswith(ns) and rest and not rest.startswith("//"):
                        found = f"{name}:{rest}"
                        break
            self.known[iri] = found
        return found


@functools.lru_cache(maxsize=8)
def _compactor_of(base: str) -> _Compactor:
    return _Compactor(base)


def _jsonld_fragment(g: _Group, c: Compiled) -> bytes:
    """pyoxigraph's expanded JSON-LD of the group, with compact IRIs under the prefixes of
    ``context.jsonld``; one node object (one subject) per line."""
    compact = _compactor_of(c.base)
    nodes = json.loads(ox.serialize(g.triples, format=ox.RdfFormat.JSON_LD))
    lines = []
    for node in nodes if isinstance(nodes, list) else [nodes]:
        out: dict[str, object] = {}
        for key, values in node.items():
            if key == "@id":
                out[key] = compact(values)
                continue
            for v in values:   # expanded form: a list of value objects per property
                if "@id" in v:
                    v["@id"] = compact(v["@id"])
                elif "@type" in v:
                    v["@type"] = compact(v["@type"])
            out[compact(key)] = values
        lines.append("  " + json.dumps(out, ensure_ascii=False))
    return ",\n".join(lines).encode()


TRIG = "ifkg.trig"
FRAGMENTED: dict[str, Fragmented] = {
    "ifkg.nq": Fragmented(lambda c: b"", lambda g, c: g.lines),
    "ifkg.nt": Fragmented(lambda c: b"", _ntriples_fragment),
    "ifkg.ttl": Fragmented(_prefix_lines, _turtle_fragment),
    # TriG: one part per named graph, assembled into ifkg.trig (see _assemble_trig)
    **{f"{TRIG}@{graph}": Fragmented(lambda c: b"", _trig_part(graph)) for graph in GRAPHS},
    "ifkg.rdf": Fragmented(_rdf_xml_header, _rdf_xml_fragment, footer=_RDF_XML_END),
    "ifkg.jsonld": Fragmented(_jsonld_header, _jsonld_fragment, footer=b"\n ]}\n", sep=b",\n"),
}


# ---------------------------------------------------------------------------------------------
# whole exports


def _ontology(c: Compiled, p: Project) -> bytes:
    triples = sorted(set(c.graph_triples("ontology")), key=str)
    return ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=prefixes(c.base))


def input_digest(project: Project) -> str:
    """SHA-256 over every input file and the base IRI: tells whether a build is current."""
    h = hashlib.sha256(project.base.encode())
    for f in project.input_files():
        h.update(f.relative_to(project.root).as_posix().encode() + b"\0")
        h.update(hashlib.sha256(f.read_bytes()).digest())
    return h.hexdigest()


def _build_info(c: Compiled, p: Project) -> bytes:
    info = {
        "base": c.base,
        "input_digest": input_digest(p),
        "quads": c.n_quads,
        "triples_per_graph": c.graph_counts(),
        "graphs": {name: g.value for name, g in c.graphs.items()},
    }
    return (json.dumps(info, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode()


# file name → writer; a writer given as "module:function" is imported when it runs.
WHOLE: dict[str, Writer | str] = {
    "ontology.ttl": _ontology,
    "build-info.json": _build_info,
    "context.jsonld": "ifkg.publish_meta:context_jsonld",
    "void.ttl": "ifkg.publish_meta:void_ttl",
    "ontology.html": "ifkg.ontodoc:ontology_html",
    "graph.html": "ifkg.viz:render_export",
}
EXPORTS: tuple[str, ...] = tuple(sorted({n.split("@", 1)[0] for n in FRAGMENTED} | set(WHOLE)))


def _resolve(writer: Writer | str) -> Writer:
    if callable(writer):
        return writer
    module, _, name = writer.partition(":")
    return getattr(importlib.import_module(module), name)


# ---------------------------------------------------------------------------------------------
# the fragment cache


def _cache_key(c: Compiled) -> str:
    h = hashlib.sha256(f"{FRAGMENT_VERSION}\0{c.base}\0{ox.__version__}\0".encode())
    h.update(Path(__file__).read_bytes())
    h.update(json.dumps(prefixes(c.base), sort_keys=True).encode())
    return h.hexdigest()


class _Cache:
    """The last rendered file of one export and where each group's fragment is in it."""

    def __init__(self, folder: Path | None, name: str, key: str) -> None:
        self.folder, self.name, self.key = folder, name, key
        self.offsets: dict[str, list[int]] = {}
        self._fh: IO[bytes] | None = None
        self._map: mmap.mmap | None = None
        if folder is None:
            return
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            index = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
            st = (folder / name).stat()
            if index["key"] == key and index["stat"] == [st.st_size, st.st_mtime_ns]:
                self._fh = open(folder / name, "rb")
                if st.st_size:
                    self._map = mmap.mmap(self._fh.fileno(), 0, access=mmap.ACCESS_READ)
                self.offsets = index["offsets"]

    def get(self, digest: str) -> bytes | None:
        where = self.offsets.get(digest)
        if where is None or self._map is None:
            return None
        return self._map[where[0]:where[0] + where[1]]

    def close(self) -> None:
        if self._map is not None:
            self._map.close()
        if self._fh is not None:
            self._fh.close()

    def keep(self, path: Path, offsets: dict[str, list[int]]) -> None:
        """Remember ``path`` (just written) as this export's cache: a hard link, else a copy."""
        if self.folder is None:
            return
        with contextlib.suppress(OSError):
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = self.folder / f".tmp-{self.name}"
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            try:
                os.link(path, tmp)
            except OSError:
                shutil.copyfile(path, tmp)
            os.replace(tmp, self.folder / self.name)
            st = (self.folder / self.name).stat()
            index = {"key": self.key, "stat": [st.st_size, st.st_mtime_ns],
                     "offsets": offsets}
            fd, itmp = tempfile.mkstemp(prefix=".tmp-", dir=self.folder)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(index, fh)
            os.replace(itmp, self.folder / f"{self.name}.json")


@dataclass
class Rendered:
    """What a render did: each fragmented export's fragment offsets by group digest, and how
    many fragments were serialised or copied from the last build."""

    offsets: dict[str, dict[str, list[int]]]
    serialised: int = 0
    reused: int = 0


def _render_fragmented(c: Compiled, project: Project, folder: Path,
                       cache_dir: Path | None) -> Rendered:
    """Write every fragmented export into ``folder``, in one pass over the groups."""
    key = _cache_key(c)
    caches = {name: _Cache(cache_dir, name, key) for name in FRAGMENTED}
    (folder / PARTS).mkdir(exist_ok=True)
    handles = {name: open(_path(folder, name), "wb") for name in FRAGMENTED}
    try:
        pos: dict[str, int] = {}
        report = Rendered({name: {} for name in FRAGMENTED})
        offsets = report.offsets
        first = dict.fromkeys(FRAGMENTED, True)
        for name, spec in FRAGMENTED.items():
            head = spec.header(c)
            handles[name].write(head)
            pos[name] = len(head)
        digests = c.digests()
        for gkey, lines in c.groups.items():
            digest = digests[gkey]
            group = _Group(lines)
            for name, spec in FRAGMENTED.items():
                frag = caches[name].get(digest)
                if frag is None:
                    frag = spec.fragment(group, c)
                    report.serialised += 1
                else:
                    report.reused += 1
                if not frag:
                    offsets[name][digest] = [pos[name], 0]
                    continue
                fh = handles[name]
                if not first[name] and spec.sep:
                    fh.write(spec.sep)
                    pos[name] += len(spec.sep)
                first[name] = False
                fh.write(frag)
                offsets[name][digest] = [pos[name], len(frag)]
                pos[name] += len(frag)
        for name, spec in FRAGMENTED.items():
            handles[name].write(spec.footer)
    finally:
        for fh in handles.values():
            fh.close()
        for cache in caches.values():
            cache.close()
    _assemble_trig(c, folder)
    return report


PARTS = ".parts"


def _path(folder: Path, name: str) -> Path:
    """Where a fragmented export is written: a part of a file goes to ``folder/.parts/``."""
    return folder / PARTS / name if "@" in name else folder / name


def _assemble_trig(c: Compiled, folder: Path) -> None:
    with open(folder / TRIG, "wb") as out:
        out.write(_prefix_lines(c))
        for graph in GRAPHS:
            part = _path(folder, f"{TRIG}@{graph}")
            if part.stat().st_size:
                out.write(_trig_open(c, graph))
                with open(part, "rb") as fh:
                    shutil.copyfileobj(fh, out, 1 << 20)
                out.write(b"}\n")


# Whole exports that query the whole dataset in a pyoxigraph store (loading it is seconds at a
# million quads): a build renders them in a forked process while it validates and serialises.
STORE_EXPORTS = ("void.ttl", "graph.html")


def _render_whole(c: Compiled, project: Project, folder: Path, names: Iterable[str],
                  timings: dict[str, float] | None) -> None:
    for name in names:
        start = time.perf_counter()
        data = _resolve(WHOLE[name])(c, project)
        (folder / name).write_bytes(data)
        if timings is not None:
            timings[f"exports: {name}"] = time.perf_counter() - start


class Background:
    """The store-based exports, rendered in a forked child process into a folder of its own.

    Start it as soon as the dataset is compiled; :meth:`join` waits and moves the files into
    the export folder, or raises IfkgError with the child's error. Where ``os.fork`` is missing
    the exports are rendered when joined, in this process.
    """

    def __init__(self, c: Compiled, project: Project) -> None:
        self.c, self.project = c, project
        self.folder = Path(tempfile.mkdtemp(prefix="ifkg-bg-"))
        self.pid: int | None = None
        if hasattr(os, "fork"):
            self.pid = os.fork()
            if self.pid == 0:   # the child: render, report, leave without cleanup handlers
                code = 0
                try:
                    timings: dict[str, float] = {}
                    _render_whole(c, project, self.folder, STORE_EXPORTS, timings)
                    (self.folder / ".timings.json").write_text(json.dumps(timings))
                except BaseException as exc:  # noqa: BLE001 - reported to the parent
                    with contextlib.suppress(BaseException):
                        (self.folder / ".error").write_text(f"{type(exc).__name__}: {exc}")
                    code = 1
                os._exit(code)

    def join(self, folder: Path, timings: dict[str, float] | None = None) -> None:
        try:
            if self.pid is None:
                _render_whole(self.c, self.project, self.folder, STORE_EXPORTS, timings)
            else:
                start = time.perf_counter()
                _, status = os.waitpid(self.pid, 0)
                self.pid = None
                if status != 0:
                    err = self.folder / ".error"
                    why = err.read_text() if err.exists() else f"exit status {status}"
                    raise IfkgError(f"rendering {', '.join(STORE_EXPORTS)} failed: {why}")
                if timings is not None:
                    timings.update(json.loads((self.folder / ".timings.json").read_text()))
                    timings["exports: waiting for the store-based exports"] = (
                        time.perf_counter() - start)
            for name in STORE_EXPORTS:
                shutil.move(self.folder / name, folder / name)
        finally:
            self.cancel()

    def cancel(self) -> None:
        if self.pid is not None:
            with contextlib.suppress(OSError):
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            self.pid = None
        shutil.rmtree(self.folder, ignore_errors=True)


def render_to(c: Compiled, project: Project, folder: Path, cache: bool = True,
              timings: dict[str, float] | None = None,
              background: Background | None = None) -> Rendered:
    """Write every export into ``folder`` (which must exist); with ``timings``, add the wall
    time of each step to it. ``background`` renders the store-based exports."""
    cache_dir = project.root / ".ifkg-cache" / "exports" if cache else None
    start = time.perf_counter()
    report = _render_fragmented(c, project, folder, cache_dir)
    if timings is not None:
        timings["exports: " + ", ".join(FRAGMENTED)] = time.perf_counter() - start
    here = [n for n in WHOLE if background is None or n not in STORE_EXPORTS]
    _render_whole(c, project, folder, here, timings)
    if background is not None:
        background.join(folder, timings)
    return report


def _remember(project: Project, folder: Path, report: Rendered, key: str) -> None:
    cache_dir = project.root / ".ifkg-cache" / "exports"
    for name, found in report.offsets.items():
        _Cache(cache_dir, name, key).keep(_path(folder, name), found)
    keep = {n for name in report.offsets for n in (name, f"{name}.json")}
    with contextlib.suppress(OSError):
        for stale in cache_dir.iterdir():
            if stale.name not in keep and not stale.name.startswith(".tmp-"):
                stale.unlink()


@contextlib.contextmanager
def rendered(c: Compiled, project: Project) -> Iterator[Path]:
    """A temporary folder holding every export, removed afterwards."""
    tmp = Path(tempfile.mkdtemp(prefix="ifkg-exports-"))
    try:
        _remember(project, tmp, render_to(c, project, tmp), _cache_key(c))
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def render_all(c: Compiled, project: Project) -> dict[str, bytes]:
    """Every export as bytes, by file name (for small datasets: everything is in memory)."""
    with rendered(c, project) as folder:
        return {name: (folder / name).read_bytes() for name in EXPORTS}


def write_exports(c: Compiled, project: Project, out: Path,
                  timings: dict[str, float] | None = None,
                  background: Background | None = None) -> Rendered:
    """Render every export into a temporary folder inside ``out``, then move each into place:
    nothing in ``out`` changes unless every file was rendered and written in full first."""
    # render beside ``out`` when it does not exist yet, so a failure leaves no empty folder
    if out.is_dir():
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=out))
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        report = render_to(c, project, tmp, timings=timings, background=background)
        start = time.perf_counter()
        for name in EXPORTS:
            with open(tmp / name, "rb+") as fh:
                os.fsync(fh.fileno())
        # the cache links to the rendered files, which keep their inode when moved
        _remember(project, tmp, report, _cache_key(c))
        out.mkdir(exist_ok=True)
        for name in EXPORTS:
            os.replace(tmp / name, out / name)
        if timings is not None:
            timings["exports: written to disk, moved into place"] = time.perf_counter() - start
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if background is not None:
            background.cancel()
    return report


def write_atomically(files: Mapping[str, bytes], out: Path) -> None:
    """Write every file to a temporary folder inside ``out``, then move each into place.

    Nothing in ``out`` changes unless every file was written in full first.
    """
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=out))
    try:
        for name, data in files.items():
            target = tmp / name
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        for name in files:
            dest = out / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp / name, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def differences(c: Compiled, project: Project, out: Path) -> list[str]:
    """Names of exports that are missing from ``out`` or differ from a fresh build."""
    diff = []
    with rendered(c, project) as fresh:
        for name in EXPORTS:
            path = out / name
            if not path.exists():
                diff.append(f"{name} (missing)")
            elif not filecmp.cmp(path, fresh / name, shallow=False):
                diff.append(name)
    return diff


class ExportFiles(Mapping[str, bytes]):
    """The exports in a folder, read when asked for (a missing file is a missing key)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def __getitem__(self, name: str) -> bytes:
        if name not in EXPORTS:
            raise KeyError(name)
        try:
            return (self.folder / name).read_bytes()
        except FileNotFoundError:
            raise KeyError(name) from None

    def __iter__(self) -> Iterator[str]:
        return (n for n in EXPORTS if (self.folder / n).is_file())

    def __len__(self) -> int:
        return sum(1 for _ in self)
