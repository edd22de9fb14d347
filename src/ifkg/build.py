"""The build: check the curated files, compile them, validate with SHACL, render the exports."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from .compile import Compiled, compile_corpus
from .curation import Corpus, load_corpus
from .errors import IfkgError, Problem
from .export import Background, ExportFiles, Rendered, differences, input_digest, render_all, write_exports
from .ontology import parse_ontology, read_terms
from .project import Project
from .shacl import validate_compiled

# Below this many quads the store-based exports take well under a second: no process is forked.
BACKGROUND_MIN_QUADS = 100_000


@dataclass
class BuildResult:
    compiled: Compiled
    corpus: Corpus
    files: Mapping[str, bytes]
    warnings: list[Problem]
    rendered: Rendered | None = None
    timings: dict[str, float] = field(default_factory=dict)


@contextlib.contextmanager
def timed(timings: dict[str, float] | None, stage: str) -> Iterator[None]:
    """Add the wall time of the block to ``timings[stage]`` (when ``timings`` is given)."""
    start = time.perf_counter()
    try:
        yield
    finally:
        if timings is not None:
            timings[stage] = timings.get(stage, 0.0) + time.perf_counter() - start


def check(project: Project, shapes: bool = True, timings: dict[str, float] | None = None,
          on_compiled: Callable[[Compiled], None] | None = None,
          ) -> tuple[Corpus | None, Compiled | None, list[Problem]]:
    """Every problem of the project: curated files, ontology, then SHACL on the compiled data.
    ``on_compiled`` is called with the compiled dataset before SHACL runs."""
    with timed(timings, "read and check the curated files"):
        terms = read_terms(project.ontology_file)
        corpus, problems = load_corpus(project, terms)
    if any(p.severity == "error" for p in problems):
        return corpus, None, problems
    with timed(timings, "compile"):
        compiled = compile_corpus(corpus, parse_ontology(project.ontology_file), project)
    if on_compiled is not None:
        on_compiled(compiled)
    if shapes and project.shapes_file.exists():
        with timed(timings, "SHACL"):
            problems += validate_compiled(compiled, project)
    return corpus, compiled, problems


def checked(project: Project, timings: dict[str, float] | None = None,
            on_compiled: Callable[[Compiled], None] | None = None,
            ) -> tuple[Corpus, Compiled, list[Problem]]:
    """:func:`check`, raising IfkgError (listing every error) when there is one."""
    corpus, compiled, problems = check(project, timings=timings, on_compiled=on_compiled)
    errors = [p for p in problems if p.severity == "error"]
    if errors or compiled is None or corpus is None:
        raise IfkgError(problems=errors)
    return corpus, compiled, problems


def build(project: Project, out: Path | None = None, write: bool = True) -> BuildResult:
    """Check and compile everything; with ``write`` put the exports into ``out`` atomically.

    Raises IfkgError (listing every error) before anything is written.
    """
    timings: dict[str, float] = {}
    jobs: list[Background] = []

    def start_background(c: Compiled) -> None:
        # the store-based exports start while SHACL and the other exports run
        if write and c.n_quads >= BACKGROUND_MIN_QUADS:
            jobs.append(Background(c, project))

    try:
        corpus, compiled, problems = checked(project, timings, start_background)
        files: Mapping[str, bytes]
        rendered = None
        if write:
            target = out or project.exports_dir
            rendered = write_exports(compiled, project, target, timings,
                                     background=jobs[0] if jobs else None)
            files = ExportFiles(target)
        else:
            files = render_all(compiled, project)
    finally:
        for job in jobs:
            job.cancel()
    warnings = [p for p in problems if p.severity != "error"]
    return BuildResult(compiled, corpus, files, warnings, rendered, timings)


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
