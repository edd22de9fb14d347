"""Read curated YAML with line numbers; a duplicate key or bad syntax is an IfkgError.

libyaml (through PyYAML's C parser) reads the file and hands over its events; this module builds
plain dicts and lists from them, keeping the line of every mapping, key and list item, refusing
duplicate keys (PyYAML's own loader silently keeps the last one) and resolving plain scalars by
the YAML 1.2 core schema, as ruamel.yaml did before: ``yes``/``no`` and ``1:20`` stay text, ``0o17``
is octal, and dates stay text so that the checks can report a bad one with its line. The tree is
built from events with an explicit stack (PyYAML's C composer recurses and crashes the process on
100,000 nested brackets) and nesting deeper than ``MAX_DEPTH`` is refused.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import os
import pickle
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from yaml import YAMLError
from yaml._yaml import CParser
from yaml.error import MarkedYAMLError
from yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.reader import ReaderError

from .errors import IfkgError


class YamlMap(dict):
    """A mapping read from YAML: ``line`` is where it starts, ``key_lines`` where each key is."""

    __slots__ = ("line", "key_lines")

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.key_lines: dict[Any, int] = {}


class YamlList(list):
    """A sequence read from YAML: ``line`` is where it starts, ``item_lines`` where each item is."""

    __slots__ = ("line", "item_lines")

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.item_lines: list[int] = []


_USED: contextvars.ContextVar[set[str] | None] = contextvars.ContextVar("ifkg_yaml_used",
                                                                      default=None)
_CACHE: contextvars.ContextVar[Path | None] = contextvars.ContextVar("ifkg_yaml_cache",
                                                                     default=None)
# bump when the trees built here change shape; part of every cache key
_TREE_FORMAT = f"ifkg-yaml-2 pyyaml-{yaml.__version__}"


@contextlib.contextmanager
def parse_cache(folder: Path, prune: bool = False) -> Iterator[None]:
    """Within this block, :func:`load_yaml` keeps each parsed file in ``folder`` keyed by the
    SHA-256 of its bytes: unpickling a tree takes about a third of the time of building it from
    libyaml's events (0.2 s against 0.6 s for 7.5 MB of curated YAML). With ``prune``, a block
    that ends without an error removes the entries it did not use (older versions of files)."""
    token = _CACHE.set(folder)
    used_token = _USED.set(set())
    try:
        yield
        if prune:
            used = _USED.get() or set()
            with contextlib.suppress(OSError):
                for entry in folder.glob("*.pickle"):
                    if entry.name not in used:
                        entry.unlink()
    finally:
        _USED.reset(used_token)
        _CACHE.reset(token)


def load_yaml(path: Path) -> Any:
    """Parse ``path`` into dicts, lists and scalars that :func:`line_of` can place.

    Raises IfkgError with file, line and column for unreadable or non-UTF-8 files, bad syntax,
    duplicate keys, undefined aliases and unsupported tags."""
    try:
        raw = path.read_bytes()
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise IfkgError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", path) from None
    except OSError as exc:
        raise IfkgError(f"cannot read: {exc.strerror}", path) from None
    folder = _CACHE.get()
    if folder is None:
        return _parse(raw, path)
    cached = folder / f"{hashlib.sha256(_TREE_FORMAT.encode() + raw).hexdigest()}.pickle"
    used = _USED.get()
    if used is not None:
        used.add(cached.name)
    with contextlib.suppress(OSError, pickle.UnpicklingError, EOFError, AttributeError, TypeError):
        return pickle.loads(cached.read_bytes())
    doc = _parse(raw, path)
    with contextlib.suppress(OSError, pickle.PicklingError):
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=folder)
        try:
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(doc, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, cached)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
    return doc


def _parse(raw: bytes, path: Path) -> Any:
    try:
        return _build(CParser(raw), path)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = (exc.problem or exc.context or "invalid YAML").strip()
        line = mark.line + 1 if mark else None
        col = mark.column + 1 if mark else None
        raise IfkgError(f"invalid YAML: {what}", path, line, col) from None
    except ReaderError as exc:
        line, col = _place(raw, exc.position)
        raise IfkgError(f"invalid YAML: unacceptable character #x{exc.character:04x}: {exc.reason}",
                        path, line, col) from None
    except YAMLError as exc:
        raise IfkgError(f"invalid YAML: {exc}", path) from None


def line_of(node: Any, key: str | int | None = None) -> int | None:
    """The 1-based line of ``node`` (or of ``node[key]``: a key of a mapping, an index of a list)
    in its file, when known."""
    if key is None:
        return node.line if isinstance(node, YamlMap | YamlList) else None
    if isinstance(node, YamlMap):
        try:
            return node.key_lines.get(key)
        except TypeError:  # an unhashable key
            return None
    if isinstance(node, YamlList) and isinstance(key, int) and 0 <= key < len(node.item_lines):
        return node.item_lines[key]
    return None


def _place(raw: bytes, offset: int) -> tuple[int, int]:
    """1-based line and column (in characters) of byte ``offset``."""
    start = raw.rfind(b"\n", 0, offset) + 1
    return raw.count(b"\n", 0, offset) + 1, len(raw[start:offset].decode("utf-8", "replace")) + 1


class _Fail(Exception):
    def __init__(self, message: str, mark: Any) -> None:
        super().__init__(message)
        self.message = message
        self.mark = mark


# deeper trees would overflow the recursion of whoever walks, prints or pickles them
MAX_DEPTH = 200
_NO_KEY = object()
_MERGE = object()  # the plain key ``<<``
_CORE = "tag:yaml.org,2002:"
_FLOAT = re.compile(r"""[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
                       |[-+]?(?:[0-9][0-9_]*)[eE][-+]?[0-9]+
                       |[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?
                       |[-+]?\.(?:inf|Inf|INF)
                       |\.(?:nan|NaN|NAN)""", re.X)
_INT = re.compile(r"[-+]?0b[0-1_]+|[-+]?0o?[0-7_]+|[-+]?[0-9_]+|[-+]?0x[0-9a-fA-F_]+")
_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_NULLS = frozenset(("~", "null", "Null", "NULL"))
# first characters of the plain scalars that may be something other than text (and "")
_SPECIAL_FIRST = frozenset(("", *"-+.0123456789tTfF~nN<"))
_TAGGED_BOOLS = {"yes": True, "no": False, "true": True, "false": False, "on": True, "off": False}


def _to_int(text: str) -> int:
    s = text.replace("_", "")
    sign = -1 if s[:1] == "-" else 1
    s = s[1:] if s[:1] in ("-", "+") else s
    base = {"0b": 2, "0x": 16, "0o": 8}.get(s[:2], 10)
    return sign * int(s[2:] if base != 10 else s, base)


def _to_float(text: str) -> float:
    s = text.replace("_", "").lower()
    sign = -1.0 if s[:1] == "-" else 1.0
    s = s[1:] if s[:1] in ("-", "+") else s
    if s == ".inf":
        return sign * float("inf")
    if s == ".nan":
        return float("nan")
    return sign * float(s)


def _plain(text: str) -> Any:
    """A plain (unquoted, untagged) scalar by the YAML 1.2 core schema; timestamps stay text."""
    c = text[:1]
    if c in "-+.0123456789":
        if not c:
            return None
        try:
            if _FLOAT.fullmatch(text):
                return _to_float(text)
            if _INT.fullmatch(text):
                return _to_int(text)
        except ValueError:  # "-_" matches the int pattern but is no number
            return text
        return text
    if c in "tTfF":
        return _BOOLS.get(text, text)
    if c in "~nN":
        return None if text in _NULLS else text
    if text == "<<":
        return _MERGE
    return text


def _tagged(event: ScalarEvent) -> Any:
    """A scalar with an explicit tag: the core types; local tags (``!x``) are ignored."""
    tag, text = event.tag, event.value
    if not tag.startswith(_CORE):
        return text
    kind = tag[len(_CORE):]
    try:
        if kind in ("str", "timestamp"):
            return text
        if kind == "int":
            return _to_int(text)
        if kind == "float":
            return _to_float(text)
        if kind == "bool":
            return _TAGGED_BOOLS[text.lower()]
        if kind == "null":
            return None
    except (ValueError, KeyError):
        raise _Fail(f"'{text}' is not a valid !!{kind}", event.start_mark) from None
    raise _Fail(f"tag !!{kind} is not supported", event.start_mark)


_UNSUPPORTED_COLLECTIONS = frozenset(_CORE + k for k in ("omap", "pairs", "set", "binary"))


def _build(parser: CParser, path: Path) -> Any:
    try:
        return _events_to_tree(parser)
    except _Fail as exc:
        raise IfkgError(f"invalid YAML: {exc.message}", path, exc.mark.line + 1,
                        exc.mark.column + 1) from None


def _events_to_tree(parser: CParser) -> Any:
    """Build the single document of the stream from libyaml's events, with an explicit stack.

    The open collection is ``node``; for a mapping, ``key`` is the key waiting for its value
    (``_NO_KEY`` when none), ``key_mark`` where it stands and ``merges`` the ``<<`` values met.
    This loop runs once per event of every curated file, hence the inlined steps."""
    get = parser.get_event
    anchors: dict[str, Any] = {}
    stack: list[tuple[Any, bool, Any, Any, list[Any]]] = []
    root: Any = None
    node: Any = None
    in_map = False
    key: Any = _NO_KEY
    key_mark: Any = None
    merges: list[Any] = []
    documents = 0
    special = _SPECIAL_FIRST
    while True:
        event = get()
        cls = type(event)
        if cls is ScalarEvent:
            tag = event.tag
            if tag is None:
                value = event.value
                if event.implicit[0] and value[:1] in special:
                    value = _plain(value)
            elif tag == "!":
                value = event.value
            else:
                value = _tagged(event)
            if event.anchor is not None:
                anchors[event.anchor] = value
            if value is _MERGE and not (in_map and key is _NO_KEY):
                value = "<<"
        elif cls is MappingStartEvent or cls is SequenceStartEvent:
            if event.tag in _UNSUPPORTED_COLLECTIONS:
                raise _Fail(f"tag !!{event.tag[len(_CORE):]} is not supported", event.start_mark)
            line = event.start_mark.line + 1
            value = YamlMap(line) if cls is MappingStartEvent else YamlList(line)
            if event.anchor is not None:
                anchors[event.anchor] = value
        elif cls is MappingEndEvent or cls is SequenceEndEvent:
            if merges:
                _merge(node, merges)
            node, in_map, key, key_mark, merges = stack.pop()
            continue
        elif cls is AliasEvent:
            if event.anchor not in anchors:
                raise _Fail(f"found undefined alias '{event.anchor}'", event.start_mark)
            value = anchors[event.anchor]
        elif cls is DocumentStartEvent:
            documents += 1
            if documents > 1:
                raise _Fail("expected a single document in the stream, but found another document",
                            event.start_mark)
            continue
        elif cls is StreamEndEvent:
            return root
        else:
            continue
        # place ``value`` in the open collection
        if node is None:
            root = value
        elif not in_map:
            node.append(value)
            node.item_lines.append(event.start_mark.line + 1)
        elif key is _NO_KEY:
            if isinstance(value, YamlMap | YamlList):
                raise _Fail("a mapping or list cannot be a key", event.start_mark)
            key, key_mark = value, event.start_mark
        else:
            if key is _MERGE:
                merges.append((value, event.start_mark))
            elif key in node:
                raise _Fail(f'duplicate key "{key}" with value "{value}" (original value: '
                            f'"{node[key]}")', key_mark)
            else:
                node[key] = value
                node.key_lines[key] = key_mark.line + 1
            key = _NO_KEY
        if cls is MappingStartEvent or cls is SequenceStartEvent:
            if len(stack) >= MAX_DEPTH:
                raise _Fail(f"collections nested more than {MAX_DEPTH} deep", event.start_mark)
            stack.append((node, in_map, key, key_mark, merges))
            node, in_map, key, key_mark, merges = value, cls is MappingStartEvent, _NO_KEY, None, []


def _merge(target: YamlMap, merges: list[tuple[Any, Any]]) -> None:
    """Apply ``<<`` merge keys: keys of the merged mappings that ``target`` lacks, first wins."""
    for value, mark in merges:
        sources = value if isinstance(value, list) else [value]
        for source in sources:
            if not isinstance(source, dict):
                raise _Fail("<< must merge a mapping or a list of mappings", mark)
            for key, item in source.items():
                if key not in target:
                    target[key] = item
