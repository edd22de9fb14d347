"""The ``ifkg`` command: parse arguments, call the library, print. Nothing else lives here.

Each group of commands sits in its own ``cli_*.py`` module with a ``register(app)`` function;
heavy libraries are imported inside the commands so ``ifkg --help`` stays fast.
"""

from __future__ import annotations

import importlib
import sys

import typer

from .errors import IfkgError

app = typer.Typer(
    name="ifkg",
    help="Innovation-finance knowledge graph: build, check, query and explore the evidenced graph.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

COMMAND_MODULES = [
    "ifkg.cli_graph",
    "ifkg.cli_query",
    "ifkg.cli_draft",
    "ifkg.cli_network",
    "ifkg.cli_viz",
    "ifkg.cli_synth",
    "ifkg.cli_serve",
]

for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(app)


def main() -> None:
    """Entry point: an IfkgError becomes one line on stderr and exit code 2; usage errors and
    exit codes are handled by typer's standalone mode."""
    try:
        app()
    except IfkgError as exc:
        print(f"ifkg: error: {exc.one_line()}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
