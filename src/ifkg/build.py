"""The build: check the curated files, compile them, validate with SHACL, render the exports."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from .compile import Compiled, compile_corpus
from .curation import Corpus, load_corpus
from .errors import IfkgError, Problem
from .export import ExportFiles, Rendered, differences, input_digest, render_all, write_exports
from .ontology import parse_ontology, read_terms
from .project import Project
from .shacl import validate_compiled


@dataclass
class BuildResult:
    compiled: Compiled
    corpus: Corpus
    files: Mapping[str, bytes]
    warnings: list[Problem]
    rendered: Rendered | None = None


def check(project: Project, shapes: bool = True) -> tuple[Corpus | None, Compiled | None,
                                                         list[Problem]]:
    """Every problem of the project: curated files, ontology, then SHACL on the compiled data."""
    terms = read_terms(project.ontology_file)
    corpus, problems = load_corpus(project, terms)
    if any(p.severity == "error" for p in problems):
        return corpus, None, problems
    compiled = compile_corpus(corpus, parse_ontology(project.ontology_file), project)
    if shapes and project.shapes_file.exists():
        problems += validate_compiled(compiled, project)
    return corpus, compiled, problems


def checked(project: Project) -> tuple[Corpus, Compiled, list[Problem]]:
    """:func:`check`, raising IfkgError (listing every error) when there is one."""
    corpus, compiled, problems = check(project)
    errors = [p for p in problems if p.severity == "error"]
    if errors or compiled is None or corpus is None:
        raise IfkgError(problems=errors)
    return corpus, compiled, problems


def build(project: Project, out: Path | None = None, write: bool = True) -> BuildResult:
    """Check and compile everything; with ``write`` put the exports into ``out`` atomically.

    Raises IfkgError (listing every error) before anything is written.
    """
    corpus, compiled, problems = checked(project)
    files: Mapping[str, bytes]
    rendered = None
    if write:
        target = out or project.exports_dir
        rendered = write_exports(compiled, project, target)
        files = ExportFiles(target)
    else:
        files = render_all(compiled, project)
    warnings = [p for p in problems if p.severity != "error"]
    return BuildResult(compiled, corpus, files, warnings, rendered)


def stale_exports(project: Project, out: Path | None = None) -> list[str]:
    """Exports in ``out`` that differ from a fresh build (empty when they match)."""
    return differences(checked(project)[1], project, out or project.exports_dir)


def is_current(project: Project) -> bool:
    """Whether ``exports/`` was built from the current inputs (same digest, same base)."""
    info = project.exports_dir / "build-info.json"
    try:
        data = json.loads(info.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return data.get("input_digest") == input_digest(project) and (
        project.exports_dir / "ifkg.nq"
    ).exists()


def open_store(project: Project) -> ox.Store:
    """The built dataset in a pyoxigraph store: read from ``exports/`` when it is current,
    otherwise compiled in memory from the curated files (nothing is written)."""
    if is_current(project):
        store = ox.Store()
        store.bulk_load(path=str(project.exports_dir / "ifkg.nq"), format=ox.RdfFormat.N_QUADS)
        return store
    return checked(project)[1].store()
