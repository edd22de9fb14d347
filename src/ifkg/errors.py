"""One error type for every problem with the project's input: file, line, column and message."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """A problem found in an input file; ``line`` and ``column`` count from 1."""

    message: str
    file: Path | str | None = None
    line: int | None = None
    column: int | None = None
    severity: str = "error"

    def __str__(self) -> str:
        where = ""
        if self.file is not None:
            where = str(self.file)
            if self.line is not None:
                where += f":{self.line}"
                if self.column is not None:
                    where += f":{self.column}"
            where += ": "
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{where}{prefix}{self.message}".replace("\n", " ")


class IfkgError(Exception):
    """The input is wrong; ``problems`` lists every problem found, the first one leads."""

    def __init__(
        self,
        message: str | None = None,
        file: Path | str | None = None,
        line: int | None = None,
        column: int | None = None,
        *,
        problems: list[Problem] | None = None,
    ) -> None:
        if problems is None:
            problems = [Problem(message or "error", file, line, column)]
        self.problems = problems
        super().__init__(str(problems[0]))

    @property
    def first(self) -> Problem:
        return self.problems[0]

    def one_line(self) -> str:
        """The message the CLI prints: the first problem and how many more there are."""
        more = len(self.problems) - 1
        tail = f" (and {more} more problem{'s' if more > 1 else ''}; run `ifkg validate`)" if more else ""
        return f"{self.first}{tail}"
