"""Command ``draft``: propose the facts of a new source, or measure the drafter on a curated one."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .project import default_project


def register(app: typer.Typer) -> None:
    app.command("draft")(draft_cmd)


def draft_cmd(
    source: Annotated[str, typer.Argument(help="A folder under graph/sources/, its text file, "
                                          "or a source id.")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the draft facts here "
                                             "(default: facts.yaml of the source).")] = None,
    evaluate: Annotated[bool, typer.Option("--evaluate", help="Compare a draft of the curated "
                                           "source SOURCE with its curated facts.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing draft files.")] = False,
) -> None:
    """Draft facts.yaml (and new entities, and source.yaml if missing) for a curator to review."""
    from .draft import evaluate as run_evaluation
    from .draft import write_draft

    project = default_project()
    if evaluate:
        for line in run_evaluation(project, source).lines():
            print(line)
        return
    w = write_draft(project, source, out, force)
    d = w.draft
    known = sum(1 for e in d.entities if e.known)
    print(f"draft of {d.source}: {known} known entities linked, {len(d.new_entities)} new "
          f"candidates, {len(d.figures)} figures")
    print(f"  {w.facts}\n  {w.entities}")
    if w.source:
        print(f"  {w.source}")
    print("review every '# check:' note, then remove 'status: draft' / 'draft: true' and run "
          "`ifkg validate`")
