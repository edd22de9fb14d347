"""Where a project's curated files, ontology and exports live, and its settings."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_BASE = "https://w3id.org/ifkg/"


@dataclass(frozen=True)
class Project:
    """A checkout of ifkg: ``graph/`` and ``ontology/`` in, ``exports/`` out."""

    root: Path
    base: str = DEFAULT_BASE

    @property
    def graph_dir(self) -> Path:
        return self.root / "graph"

    @property
    def ontology_dir(self) -> Path:
        return self.root / "ontology"

    @property
    def exports_dir(self) -> Path:
        return self.root / "exports"

    @property
    def ontology_file(self) -> Path:
        return self.ontology_dir / "ifkg.ttl"

    @property
    def shapes_file(self) -> Path:
        return self.ontology_dir / "shapes.ttl"

    def input_files(self) -> list[Path]:
        """Every file the build reads, in a stable order."""
        files = [p for d in (self.graph_dir, self.ontology_dir) for p in d.rglob("*") if p.is_file()]
        return sorted(files, key=lambda p: p.relative_to(self.root).as_posix())


def find_root(start: Path | None = None) -> Path:
    """``$IFKG_HOME``, else the nearest directory from ``start`` up holding graph/ and ontology/."""
    env = os.environ.get("IFKG_HOME")
    if env:
        return Path(env).resolve()
    here = (start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        if (d / "graph").is_dir() and (d / "ontology").is_dir():
            return d
    # an installed package used from elsewhere: fall back to the source checkout it came from
    pkg_root = Path(__file__).resolve().parents[2]
    if (pkg_root / "graph").is_dir():
        return pkg_root
    return here


def default_project(base: str | None = None) -> Project:
    return Project(find_root(), base or os.environ.get("IFKG_BASE") or DEFAULT_BASE)
