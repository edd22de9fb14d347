"""``ifkg synth``: write a synthetic corpus shaped like this project's sources (for benchmarks)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    app.command("synth")(synth_cmd)


def synth_cmd(
    out: Annotated[Path, typer.Argument(help="New folder for the corpus (graph/ and ontology/).")],
    docs: Annotated[int, typer.Option("--docs", "-n", help="Number of source documents.")] = 10,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: same seed, same bytes.")] = 0,
) -> None:
    """Generate N synthetic source documents shaped like the curated ones; then
    `IFKG_HOME=OUT ifkg build` runs the whole pipeline on them."""
    from .project import default_project
    from .synth import generate

    info = generate(out, docs, seed=seed, template=default_project())
    print(f"wrote {info.documents} document(s), {info.entities} entities, {info.relations} "
          f"relations, {info.measurements} measurements, {info.mentions} mentions to {out}")
    print(f"build it: IFKG_HOME={out} ifkg build")
