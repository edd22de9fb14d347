"""Read the curated files under ``graph/`` and check them against the ontology and the sources.

Every problem is collected with its file and line, so ``ifkg validate`` can list them all and
``ifkg build`` can refuse with the first one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from .errors import IfkgError, Problem
from .evidence import QuoteError, SourceIndex, Span, fold
from .numbers import QUALIFIERS, UNITS, Figure, decimal_lexical, parse_figure
from .ontology import OntologyTerms
from .project import Project
from .yamlio import line_of, load_yaml, parse_cache

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
INDICATOR_KINDS = ("stock", "flow", "rate", "share", "ratio", "count", "cap", "amount")


@dataclass(frozen=True)
class Where:
    file: Path
    line: int | None


@dataclass
class Entity:
    id: str
    classes: list[str]
    zh: str
    en: str | None
    aliases: list[str]
    member_class: str | None
    note: str | None
    where: Where

    @property
    def names(self) -> list[str]:
        return [self.zh, *self.aliases]


@dataclass
class Indicator:
    id: str
    zh: str
    en: str
    kind: str
    note: str | None
    where: Where


@dataclass
class Mention:
    entity: str
    quote: str
    span: Span
    where: Where


@dataclass
class Relation:
    id: str
    subject: str
    predicate: str
    object: str
    quote: str
    span: Span
    date: str | None
    note: str | None
    where: Where


@dataclass
class Measurement:
    id: str
    about: str
    indicator: str
    reported: str
    figure: Figure
    unit: str
    qualifier: str
    as_of: str | None
    period: str | None
    rate_period: str | None
    revision_of: str | None
    compared_to: str | None
    quote: str
    span: Span
    note: str | None
    where: Where

    @property
    def value(self) -> Decimal:
        return self.figure.value


@dataclass
class Source:
    id: str
    dir: Path
    text_file: Path
    text: str
    sha256: str
    meta: dict[str, Any]
    where: Where
    index: SourceIndex
    mentions: list[Mention] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
    measurements: list[Measurement] = field(default_factory=list)

    @property
    def date(self) -> str | None:
        return self.meta.get("date")


@dataclass
class Corpus:
    entities: dict[str, Entity]
    indicators: dict[str, Indicator]
    sources: dict[str, Source]

    def entity_by_name(self) -> dict[str, list[str]]:
        """Folded zh/en name or alias → entity ids (more than one means ambiguous)."""
        out: dict[str, list[str]] = {}
        for e in self.entities.values():
            for name in {*e.names, *([e.en] if e.en else []), e.id}:
                key = fold(name).lower()
                if e.id not in out.setdefault(key, []):
                    out[key].append(e.id)
        return out


class _Collector:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, message: str, file: Path, line: int | None = None, severity: str = "error") -> None:
        self.problems.append(Problem(message, file, line, None, severity))


def _text(value: Any) -> str | None:
    if value is None or type(value) is str:
        return value
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _require(item: Any, key: str, file: Path, col: _Collector) -> str | None:
    value = item.get(key) if isinstance(item, dict) else None
    text = _text(value)
    if text is None or not text.strip():
        col.add(f"missing required key '{key}'", file, line_of(item))
        return None
    return text


def _check_keys(item: Any, allowed: set[str], file: Path, col: _Collector) -> None:
    for key in item:
        if key not in allowed:
            col.add(f"unknown key '{key}' (allowed: {', '.join(sorted(allowed))})", file,
                    line_of(item, key))


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)]


def _parse_date(value: Any) -> str:
    """A calendar date as ``YYYY-MM-DD``; raises ValueError."""
    s = _text(value) or ""
    return dt.date.fromisoformat(s).isoformat() if re.fullmatch(r"\d{4}-\d{2}-\d{2}", s) else _bad(s)


def _parse_year_or_date(value: Any) -> str:
    s = _text(value) or ""
    if re.fullmatch(r"\d{4}", s):
        return s
    return _parse_date(s)


def _bad(s: str) -> str:
    raise ValueError(s)


def _seq(doc: Any, key: str | None, file: Path, col: _Collector) -> list[Any]:
    value = doc if key is None else (doc.get(key) if isinstance(doc, dict) else None)
    if value is None:
        return []
    if not isinstance(value, list):
        col.add(f"'{key or 'document'}' must be a list", file, line_of(doc, key) if key else 1)
        return []
    out = []
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            col.add("each item must be a mapping of keys", file, line_of(value, i))
            continue
        out.append(item)
    return out


ENTITY_KEYS = {"id", "class", "zh", "en", "aliases", "member_class", "note", "draft"}
INDICATOR_KEYS = {"id", "zh", "en", "kind", "note"}
MENTION_KEYS = {"entity", "quote", "note"}
RELATION_KEYS = {"id", "subject", "predicate", "object", "quote", "date", "note"}
MEASUREMENT_KEYS = {"id", "about", "indicator", "reported", "value", "unit", "qualifier", "as_of",
                    "period", "rate_period", "revision_of", "compared_to", "quote", "note"}
SOURCE_KEYS = {"id", "text", "sha256", "document", "title", "title_en", "issuer", "number", "date",
               "disclosure", "disclosure_en", "language", "url", "result", "result_en", "note",
               "status"}


def _load_entities(project: Project, terms: OntologyTerms, col: _Collector) -> dict[str, Entity]:
    entities: dict[str, Entity] = {}
    files = sorted((project.graph_dir / "entities").glob("*.yaml"))
    if not files:
        col.add("no entity files (graph/entities/*.yaml)", project.graph_dir / "entities")
    for file in files:
        doc = _safe_load(file, col)
        for item in _seq(doc, None, file, col):
            line = line_of(item)
            _check_keys(item, ENTITY_KEYS, file, col)
            eid = _require(item, "id", file, col)
            zh = _require(item, "zh", file, col)
            classes = _as_list(item.get("class"))
            if not classes:
                col.add("missing required key 'class'", file, line)
            if item.get("draft") is True:
                col.add("entity is a draft: review it and remove 'draft: true'", file,
                        line_of(item, "draft"))
            if eid is None or zh is None:
                continue
            if not SLUG.match(eid):
                col.add(f"id '{eid}' is not an ASCII slug like 'spd-bank'", file, line_of(item, "id"))
            if eid in entities:
                other = entities[eid].where
                col.add(f"duplicate entity id '{eid}' (first at {other.file}:{other.line})", file,
                        line_of(item, "id"))
                continue
            for c in classes:
                if c not in terms.classes:
                    col.add(f"unknown class '{c}' for entity '{eid}'", file, line_of(item, "class"))
            member = _text(item.get("member_class"))
            if member is not None and member not in terms.classes:
                col.add(f"unknown member_class '{member}'", file, line_of(item, "member_class"))
            if member is not None and "EntityGroup" not in classes:
                col.add("member_class is only for entities of class EntityGroup", file, line)
            entities[eid] = Entity(eid, classes, zh.strip(), _text(item.get("en")),
                                   _as_list(item.get("aliases")), member, _text(item.get("note")),
                                   Where(file, line))
    return entities


def _load_indicators(project: Project, col: _Collector) -> dict[str, Indicator]:
    file = project.graph_dir / "indicators.yaml"
    out: dict[str, Indicator] = {}
    if not file.exists():
        return out
    for item in _seq(_safe_load(file, col), None, file, col):
        _check_keys(item, INDICATOR_KEYS, file, col)
        iid, zh, en = (_require(item, k, file, col) for k in ("id", "zh", "en"))
        kind = _text(item.get("kind")) or "amount"
        if iid is None or zh is None or en is None:
            continue
        if not SLUG.match(iid):
            col.add(f"indicator id '{iid}' is not an ASCII slug", file, line_of(item, "id"))
        if iid in out:
            col.add(f"duplicate indicator id '{iid}'", file, line_of(item, "id"))
            continue
        if kind not in INDICATOR_KINDS:
            col.add(f"unknown indicator kind '{kind}' (one of {', '.join(INDICATOR_KINDS)})", file,
                    line_of(item, "kind"))
        out[iid] = Indicator(iid, zh, en, kind, _text(item.get("note")), Where(file, line_of(item)))
    return out


def _safe_load(file: Path, col: _Collector) -> Any:
    try:
        return load_yaml(file)
    except IfkgError as exc:
        col.problems.extend(exc.problems)
        return None


def _load_source(sdir: Path, project: Project, col: _Collector) -> Source | None:
    file = sdir / "source.yaml"
    meta_doc = _safe_load(file, col)
    if not isinstance(meta_doc, dict):
        if meta_doc is not None:
            col.add("source.yaml must be a mapping", file, 1)
        return None
    _check_keys(meta_doc, SOURCE_KEYS, file, col)
    sid = _require(meta_doc, "id", file, col)
    if sid is None:
        return None
    if sid != sdir.name:
        col.add(f"source id '{sid}' differs from its folder name '{sdir.name}'", file,
                line_of(meta_doc, "id"))
    if meta_doc.get("status") == "draft":
        col.add("source is a draft: review it and remove 'status: draft'", file,
                line_of(meta_doc, "status"))
    text_file = sdir / str(meta_doc.get("text") or "text.txt")
    try:
        raw = text_file.read_bytes()
        text = raw.decode("utf-8")
    except OSError as exc:
        col.add(f"cannot read source text {text_file.name}: {exc.strerror}", file,
                line_of(meta_doc, "text"))
        return None
    except UnicodeDecodeError:
        col.add(f"source text {text_file.name} is not UTF-8", file, line_of(meta_doc, "text"))
        return None
    digest = hashlib.sha256(raw).hexdigest()
    declared = _text(meta_doc.get("sha256"))
    if declared != digest:
        col.add(f"sha256 of {text_file.name} is {digest}, source.yaml says {declared}", file,
                line_of(meta_doc, "sha256"))
    meta: dict[str, Any] = {k: _text(v) for k, v in meta_doc.items()}
    if meta.get("date"):
        try:
            meta["date"] = _parse_date(meta_doc["date"])
        except ValueError:
            col.add(f"date '{meta['date']}' is not YYYY-MM-DD", file, line_of(meta_doc, "date"))
            meta["date"] = None
    for key in ("title", "issuer", "date", "document"):
        if not meta.get(key):
            col.add(f"missing required key '{key}'", file, 1)
    return Source(sid, sdir, text_file, text, digest, meta, Where(file, 1), SourceIndex(text))


def _span(src: Source, item: Any, file: Path, col: _Collector) -> Span | None:
    quote = _require(item, "quote", file, col)
    if quote is None:
        return None
    try:
        return src.index.find(quote)
    except QuoteError as exc:
        col.add(str(exc), file, line_of(item, "quote"))
        return None


def _load_facts(src: Source, entities: dict[str, Entity], indicators: dict[str, Indicator],
                terms: OntologyTerms, col: _Collector) -> None:
    file = src.dir / "facts.yaml"
    if not file.exists():
        col.add("missing facts.yaml", file)
        return
    doc = _safe_load(file, col)
    if doc is None:
        return
    if not isinstance(doc, dict):
        col.add("facts.yaml must be a mapping with mentions, relations and measurements", file, 1)
        return
    _check_keys(doc, {"source", "status", "mentions", "relations", "measurements"}, file, col)
    if doc.get("status") == "draft":
        col.add("facts file is a draft: review it and remove 'status: draft'", file,
                line_of(doc, "status"))
    if _text(doc.get("source")) != src.id:
        col.add(f"'source' must be '{src.id}'", file, line_of(doc, "source") or 1)

    def entity_ref(item: Any, key: str) -> str | None:
        value = _require(item, key, file, col)
        if value is not None and value not in entities:
            col.add(f"unknown entity id '{value}'", file, line_of(item, key))
            return None
        return value

    fact_ids: dict[str, int | None] = {}

    def fact_id(item: Any) -> str | None:
        fid = _require(item, "id", file, col)
        if fid is None:
            return None
        if not SLUG.match(fid):
            col.add(f"id '{fid}' is not an ASCII slug", file, line_of(item, "id"))
            return None
        if fid in fact_ids:
            col.add(f"duplicate fact id '{fid}' (first at line {fact_ids[fid]})", file,
                    line_of(item, "id"))
            return None
        fact_ids[fid] = line_of(item, "id")
        return fid

    for item in _seq(doc, "mentions", file, col):
        _check_keys(item, MENTION_KEYS, file, col)
        eid = entity_ref(item, "entity")
        span = _span(src, item, file, col)
        if eid is None or span is None:
            continue
        e = entities[eid]
        if not any(src.index.contains(span.exact, n) for n in e.names):
            col.add(f"quote does not contain the name of '{eid}' ({' / '.join(e.names)})", file,
                    line_of(item, "quote"))
            continue
        src.mentions.append(Mention(eid, str(item["quote"]), span, Where(file, line_of(item))))

    for item in _seq(doc, "relations", file, col):
        _check_keys(item, RELATION_KEYS, file, col)
        rid = fact_id(item)
        s, o = entity_ref(item, "subject"), entity_ref(item, "object")
        pred = _require(item, "predicate", file, col)
        if pred is not None and pred not in terms.relations:
            col.add(f"unknown property '{pred}' (not a relation property of the ontology)", file,
                    line_of(item, "predicate"))
            pred = None
        date = None
        if item.get("date") is not None:
            try:
                date = _parse_year_or_date(item["date"])
            except ValueError:
                col.add(f"date '{_text(item['date'])}' is not YYYY or YYYY-MM-DD", file,
                        line_of(item, "date"))
        span = _span(src, item, file, col)
        if None in (rid, s, o, pred, span):
            continue
        src.relations.append(Relation(rid, s, pred, o, str(item["quote"]), span, date,  # type: ignore[arg-type]
                                      _text(item.get("note")), Where(file, line_of(item))))

    pending_revisions: list[tuple[Measurement, int | None]] = []
    for item in _seq(doc, "measurements", file, col):
        _check_keys(item, MEASUREMENT_KEYS, file, col)
        m = _measurement(item, src, entities, indicators, file, col, fact_id, entity_ref)
        if m is not None:
            src.measurements.append(m)
            if m.revision_of:
                pending_revisions.append((m, line_of(item, "revision_of")))
    known = {m.id for m in src.measurements}
    for m, line in pending_revisions:
        if m.revision_of not in known:
            col.add(f"revision_of '{m.revision_of}' is not a measurement of this source", file, line)


def _measurement(item: Any, src: Source, entities: dict[str, Entity],
                 indicators: dict[str, Indicator], file: Path, col: _Collector,
                 fact_id: Any, entity_ref: Any) -> Measurement | None:
    mid = fact_id(item)
    about = entity_ref(item, "about")
    ind = _require(item, "indicator", file, col)
    if ind is not None and ind not in indicators:
        col.add(f"unknown indicator '{ind}'", file, line_of(item, "indicator"))
        ind = None
    reported = _require(item, "reported", file, col)
    figure = None
    if reported is not None:
        try:
            figure = parse_figure(reported)
        except ValueError as exc:
            col.add(str(exc), file, line_of(item, "reported"))
    span = _span(src, item, file, col)
    if span is not None and figure is not None and fold(reported or "") not in fold(span.exact):
        col.add(f"reported figure '{reported}' does not occur in the quote", file,
                line_of(item, "reported"))
        span = None
    if figure is None or span is None or None in (mid, about, ind):
        return None
    unit = _text(item.get("unit")) or figure.unit
    if unit not in UNITS:
        col.add(f"unknown unit '{unit}' (one of {', '.join(UNITS)})", file, line_of(item, "unit"))
        return None
    if unit != figure.unit and not (figure.unit == "UNITLESS" and unit in ("CNY", "NUM")):
        col.add(f"unit '{unit}' contradicts the figure '{reported}' ({figure.unit})", file,
                line_of(item, "unit"))
        return None
    if item.get("value") is not None:
        try:
            declared = Decimal(str(item["value"]))
        except InvalidOperation:
            col.add(f"value '{item['value']}' is not a decimal number", file, line_of(item, "value"))
            return None
        if declared != figure.value:
            col.add(f"value {item['value']} differs from {decimal_lexical(figure.value)} computed "
                    f"from '{reported}'", file, line_of(item, "value"))
            return None
    qualifier = _text(item.get("qualifier")) or figure.qualifier or "exact"
    if qualifier not in QUALIFIERS:
        col.add(f"unknown qualifier '{qualifier}' (one of {', '.join(QUALIFIERS)})", file,
                line_of(item, "qualifier"))
        return None
    if figure.qualifier and qualifier != figure.qualifier:
        col.add(f"qualifier '{qualifier}' contradicts '{reported}' ({figure.qualifier})", file,
                line_of(item, "qualifier"))
        return None
    as_of = period = None
    try:
        if item.get("as_of") is not None:
            as_of = _parse_date(item["as_of"])
    except ValueError:
        col.add(f"as_of '{_text(item['as_of'])}' is not a date YYYY-MM-DD", file, line_of(item, "as_of"))
        return None
    if item.get("period") is not None:
        period = _text(item["period"])
        if not re.fullmatch(r"\d{4}", period or ""):
            col.add(f"period '{period}' is not a year YYYY", file, line_of(item, "period"))
            return None
    if as_of and period:
        col.add("give as_of (a stock at a date) or period (a flow over a year), not both", file,
                line_of(item))
        return None
    rate_period = _text(item.get("rate_period")) or figure.rate_period
    if rate_period is not None and rate_period not in ("P1Y", "P1M", "P1D"):
        col.add(f"rate_period '{rate_period}' is not P1Y, P1M or P1D", file,
                line_of(item, "rate_period"))
        return None
    return Measurement(mid, about, ind, reported, figure, unit, qualifier, as_of, period,  # type: ignore[arg-type]
                       rate_period, _text(item.get("revision_of")), _text(item.get("compared_to")),
                       str(item["quote"]), span, _text(item.get("note")), Where(file, line_of(item)))


def load_corpus(project: Project, terms: OntologyTerms) -> tuple[Corpus, list[Problem]]:
    """Read and check everything under ``graph/``; returns the corpus and all problems found.
    Parsed YAML is kept under ``.ifkg-cache/yaml/`` by content digest."""
    with parse_cache(project.root / ".ifkg-cache" / "yaml", prune=True):
        return _load_corpus(project, terms)


def _load_corpus(project: Project, terms: OntologyTerms) -> tuple[Corpus, list[Problem]]:
    col = _Collector()
    entities = _load_entities(project, terms, col)
    indicators = _load_indicators(project, col)
    sources: dict[str, Source] = {}
    sdirs = sorted(p for p in (project.graph_dir / "sources").glob("*") if p.is_dir())
    for sdir in sdirs:
        src = _load_source(sdir, project, col)
        if src is None:
            continue
        if src.id in sources:
            col.add(f"duplicate source id '{src.id}'", src.where.file, 1)
            continue
        for key in ("document", "issuer"):
            ref = src.meta.get(key)
            if ref and ref not in entities:
                col.add(f"unknown entity id '{ref}'", src.where.file,
                        None)
        _load_facts(src, entities, indicators, terms, col)
        sources[src.id] = src
    for message, where in conflicts(sources):
        col.add(message, where.file, where.line, severity="warning")
    mentioned = {m.entity for s in sources.values() for m in s.mentions}
    for e in entities.values():
        if e.id not in mentioned:
            col.add(f"entity '{e.id}' has no evidence: add a mention with a quote to a facts file",
                    e.where.file, e.where.line)
    return Corpus(entities, indicators, sources), col.problems


def conflicts(sources: dict[str, Source]) -> list[tuple[str, Where]]:
    """Measurements of different sources that give different values for the same entity,
    indicator and date (as_of or period). Both stay in the graph; each pair is reported once,
    at the measurement of the later source (by source date, then id)."""
    # (entity, indicator, date) -> (value, unit) -> earlier measurements, numbered in order of
    # meeting them: a measurement is compared only with the earlier ones of another value
    seen: dict[tuple[str, str, str], dict[tuple[Decimal, str], list[tuple[int, Source, Measurement]]]] = {}
    order = sorted(sources.values(), key=lambda s: (s.date or "", s.id))
    out: list[tuple[str, Where]] = []
    n = 0
    for src in order:
        for m in src.measurements:
            when = m.as_of or m.period
            if when is None:
                continue
            by_value = seen.setdefault((m.about, m.indicator, when), {})
            mine = (m.value, m.unit)
            others = sorted((e for vu, entries in by_value.items() if vu != mine for e in entries),
                            key=lambda e: e[0])
            for _, other_src, other in others:
                if other_src.id == src.id:
                    continue
                out.append((f"sources disagree: '{m.id}' gives {m.reported} for {m.about} "
                            f"{m.indicator} at {when}, source '{other_src.id}' gives "
                            f"{other.reported} ({other.where.file}:{other.where.line}); both are "
                            f"kept", m.where))
            by_value.setdefault(mine, []).append((n, src, m))
            n += 1
    return out


def check_corpus(project: Project, terms: OntologyTerms) -> Corpus:
    """Load the corpus or raise IfkgError listing every error."""
    corpus, problems = load_corpus(project, terms)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise IfkgError(problems=errors)
    return corpus
