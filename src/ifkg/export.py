"""Serialise the compiled dataset to every export format and write them atomically.

All writers are pyoxigraph's (fast, and byte-identical across processes when every node has an
IRI); the quads are sorted before writing, so a rebuild gives the same bytes.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox

from .compile import Compiled
from .namespaces import prefixes
from .project import Project

Writer = Callable[[Compiled, Project], bytes]


def _turtle(c: Compiled, p: Project) -> bytes:
    return ox.serialize(c.triples(), format=ox.RdfFormat.TURTLE, prefixes=prefixes(c.base))


def _trig(c: Compiled, p: Project) -> bytes:
    return ox.serialize(c.quads, format=ox.RdfFormat.TRIG, prefixes=prefixes(c.base))


def _nquads(c: Compiled, p: Project) -> bytes:
    return ox.serialize(c.quads, format=ox.RdfFormat.N_QUADS)


def _ntriples(c: Compiled, p: Project) -> bytes:
    return ox.serialize(c.triples(), format=ox.RdfFormat.N_TRIPLES)


def _jsonld(c: Compiled, p: Project) -> bytes:
    # the union graph with compact IRIs under exports/context.jsonld, which it refers to
    from .publish_meta import compact_jsonld

    return compact_jsonld(c, p)


def _ontology(c: Compiled, p: Project) -> bytes:
    g = c.graphs["ontology"]
    triples = sorted({q.triple for q in c.quads if q.graph_name == g}, key=str)
    return ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=prefixes(c.base))


def input_digest(project: Project) -> str:
    """SHA-256 over every input file and the base IRI: tells whether a build is current."""
    h = hashlib.sha256(project.base.encode())
    for f in project.input_files():
        h.update(f.relative_to(project.root).as_posix().encode() + b"\0")
        h.update(hashlib.sha256(f.read_bytes()).digest())
    return h.hexdigest()


def _build_info(c: Compiled, p: Project) -> bytes:
    counts = {name: sum(1 for q in c.quads if q.graph_name == g) for name, g in c.graphs.items()}
    info = {
        "base": c.base,
        "input_digest": input_digest(p),
        "quads": len(c.quads),
        "triples_per_graph": counts,
        "graphs": {name: g.value for name, g in c.graphs.items()},
    }
    return (json.dumps(info, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode()


# file name → writer; a writer given as "module:function" is imported when it runs.
EXPORTS: dict[str, Writer | str] = {
    "ifkg.ttl": _turtle,
    "ifkg.trig": _trig,
    "ifkg.nq": _nquads,
    "ifkg.nt": _ntriples,
    "ifkg.jsonld": _jsonld,
    "ontology.ttl": _ontology,
    "build-info.json": _build_info,
    "ifkg.rdf": "ifkg.publish_meta:rdf_xml",
    "context.jsonld": "ifkg.publish_meta:context_jsonld",
    "void.ttl": "ifkg.publish_meta:void_ttl",
    "ontology.html": "ifkg.ontodoc:ontology_html",
    "graph.html": "ifkg.viz:render_export",
}


def _resolve(writer: Writer | str) -> Writer:
    if callable(writer):
        return writer
    module, _, name = writer.partition(":")
    return getattr(importlib.import_module(module), name)


def render_all(c: Compiled, project: Project) -> dict[str, bytes]:
    """Every export as bytes, by file name."""
    return {name: _resolve(w)(c, project) for name, w in EXPORTS.items()}


def write_atomically(files: dict[str, bytes], out: Path) -> None:
    """Write every file to a temporary folder inside ``out``, then move each into place.

    Nothing in ``out`` changes unless every file was rendered and written in full first.
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


def differences(files: dict[str, bytes], out: Path) -> list[str]:
    """Names of exports that are missing from ``out`` or differ from a fresh build."""
    diff = []
    for name, data in sorted(files.items()):
        path = out / name
        if not path.exists():
            diff.append(f"{name} (missing)")
        elif path.read_bytes() != data:
            diff.append(name)
    return diff
