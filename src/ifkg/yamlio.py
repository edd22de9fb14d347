"""Read curated YAML with line numbers; a duplicate key or bad syntax is an IfkgError."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from .errors import IfkgError


def load_yaml(path: Path) -> Any:
    """Parse ``path`` with ruamel's round-trip loader, which keeps line numbers and refuses
    duplicate keys (PyYAML silently keeps the last one)."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise IfkgError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", path) from None
    except OSError as exc:
        raise IfkgError(f"cannot read: {exc.strerror}", path) from None
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    # keep dates as text: the checks parse them and report a bad one with its line
    yaml.constructor.add_constructor(
        "tag:yaml.org,2002:timestamp", lambda c, node: c.construct_scalar(node)
    )
    try:
        return yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = (exc.problem or exc.context or "invalid YAML").strip()
        if "duplicate key" in str(exc):
            what = "duplicate key " + str(exc).split("found duplicate key", 1)[-1].split("\n")[0].strip()
        line = mark.line + 1 if mark else None
        col = mark.column + 1 if mark else None
        raise IfkgError(f"invalid YAML: {what}", path, line, col) from None
    except YAMLError as exc:
        raise IfkgError(f"invalid YAML: {exc}", path) from None


def line_of(node: Any, key: str | int | None = None) -> int | None:
    """The 1-based line of ``node`` (or of ``node[key]``) in its file, when known."""
    try:
        if key is None:
            return node.lc.line + 1
        if isinstance(node, CommentedMap):
            return node.lc.key(key)[0] + 1
        if isinstance(node, CommentedSeq):
            return node.lc.item(key)[0] + 1
    except (AttributeError, KeyError, IndexError, TypeError):
        return None
    return None
