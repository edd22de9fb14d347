"""The README stays true: its two commands, CI running the test command, every command documented."""

from __future__ import annotations

import re

from conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _code_blocks() -> list[str]:
    return [b.strip() for b in re.findall(r"```[a-z]*\n(.*?)```", README, flags=re.S)]


def test_readme_opens_with_two_one_line_commands():
    first, second = _code_blocks()[:2]
    assert "\n" not in first and "\n" not in second
    assert "ifkg build" in first and "python3.11 -m venv" in first
    assert "pytest" in second and "apt-get install" in second and "chromium" in second


def test_ci_runs_the_readme_test_command_verbatim():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert _code_blocks()[1] in ci.splitlines()
    assert "ifkg build --check" in ci


def test_every_cli_command_is_in_the_readme():
    import typer.main

    from ifkg.cli import app

    group = typer.main.get_command(app)
    names = sorted(group.commands)  # type: ignore[attr-defined]
    assert len(names) >= 4
    missing = [n for n in names if f"ifkg {n}" not in README]
    assert missing == []
