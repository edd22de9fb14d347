"""Read curated YAML with line numbers; a duplicate key or bad syntax is an IfkgError."""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import os
import pickle
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from .errors import IfkgError

_CACHE: contextvars.ContextVar[Path | None] = contextvars.ContextVar("ifkg_yaml_cache",
                                                                     default=None)


@contextlib.contextmanager
def parse_cache(folder: Path) -> Iterator[None]:
    """Within this block, :func:`load_yaml` keeps each parsed file in ``folder`` keyed by the
    SHA-256 of its bytes (ruamel's pure-Python parser is most of a large build's reading time;
    the pickled tree keeps the line numbers)."""
    token = _CACHE.set(folder)
    try:
        yield
    finally:
        _CACHE.reset(token)


def load_yaml(path: Path) -> Any:
    """Parse ``path`` with ruamel's round-trip loader, which keeps line numbers and refuses
    duplicate keys (PyYAML silently keeps the last one)."""
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise IfkgError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", path) from None
    except OSError as exc:
        raise IfkgError(f"cannot read: {exc.strerror}", path) from None
    folder = _CACHE.get()
    if folder is None:
        return _parse(text, path)
    import ruamel.yaml

    key = hashlib.sha256(raw + ruamel.yaml.__version__.encode()).hexdigest()
    cached = folder / f"{key}.pickle"
    with contextlib.suppress(OSError, pickle.UnpicklingError, EOFError, AttributeError):
        return pickle.loads(cached.read_bytes())
    doc = _parse(text, path)
    with contextlib.suppress(OSError, pickle.PicklingError, RecursionError):
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=folder)
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(doc, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, cached)
    return doc


def _parse(text: str, path: Path) -> Any:
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
