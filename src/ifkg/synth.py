"""A synthetic ecosystem corpus in the curated format, shaped like a real project's sources.

The generator reads a *template* project (by default this checkout): its entities, indicators
and, per source, the mentions, relations and measurements. Each synthetic document copies the
structure of one template source (its mix of classes, relation properties, figures and quotes);
every entity of the template becomes a slot that the document fills either with an entity already
used by earlier documents (picked by popularity, so a few entities are shared widely, like the
real banks and bureaus) or with a new one. Names come from the ontology's Chinese class labels,
sentences from the ontology's Chinese property labels and the indicators' names, and the text is
written from the facts, so every quote occurs exactly once in its text and within one sentence.

Everything is drawn from one ``random.Random(seed)``: the same template, size and seed give the
same bytes.

>>> from pathlib import Path; import tempfile
>>> out = Path(tempfile.mkdtemp()) / "corpus"
>>> info = generate(out, 2, seed=1)            # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import IfkgError
from .project import Project

# Characters of made-up names (trade names, place names); chosen so no two-character pair reads
# as a figure, a date or a sentence end.
SYLLABLES = (
    "华瑞申浦安恒信达宏盛鑫泰嘉兴联创新智源融汇通远航博睿晨光启明海川云峰金石银河星辰"
    "东方南北中西永康吉祥福德润丰和长青松竹梅兰江湖山水天地日月明德仁"
)
NEW_ENTITY_SHARE = 0.3    # share of a document's entity slots filled with a new entity
DOCUMENT_YEAR = 2025


@dataclass
class _TemplateSource:
    meta: dict[str, Any]
    mentions: list[dict[str, Any]]
    relations: list[dict[str, Any]]
    measurements: list[dict[str, Any]]


@dataclass
class _Template:
    entities: dict[str, dict[str, Any]]          # id → item (with the family file name)
    indicators_text: str
    sources: list[_TemplateSource]
    class_labels: dict[str, str]
    property_labels: dict[str, str]
    indicator_labels: dict[str, str]


@dataclass
class SynthInfo:
    """What was generated: counts, for reports and tests."""

    root: Path
    documents: int
    entities: int
    mentions: int = 0
    relations: int = 0
    measurements: int = 0
    families: dict[str, int] = field(default_factory=dict)


def _load(path: Path) -> Any:
    from ruamel.yaml import YAML

    try:
        return YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
    except Exception as exc:  # ruamel raises many error types
        raise IfkgError(f"cannot read template file: {exc}", path) from None


def _labels(ontology: Path) -> dict[str, str]:
    """Local name → Chinese label of every ifkg term in the ontology."""
    import pyoxigraph as ox

    from .namespaces import IFKG, RDFS, SKOS

    out: dict[str, str] = {}
    for q in ox.parse(path=str(ontology), format=ox.RdfFormat.TURTLE):
        t = q.triple
        if (isinstance(t.subject, ox.NamedNode) and t.subject.value.startswith(IFKG)
                and t.predicate.value in (SKOS + "prefLabel", RDFS + "label")
                and isinstance(t.object, ox.Literal) and t.object.language == "zh"):
            name = t.subject.value[len(IFKG):]
            if t.predicate.value == SKOS + "prefLabel" or name not in out:
                out[name] = t.object.value
    return out


def _read_template(project: Project) -> _Template:
    entities: dict[str, dict[str, Any]] = {}
    for file in sorted((project.graph_dir / "entities").glob("*.yaml")):
        for item in _load(file) or []:
            entities[str(item["id"])] = {**item, "_family": file.name}
    indicators_file = project.graph_dir / "indicators.yaml"
    indicators = _load(indicators_file) or [] if indicators_file.exists() else []
    sources = []
    for sdir in sorted(p for p in (project.graph_dir / "sources").glob("*") if p.is_dir()):
        facts_file = sdir / "facts.yaml"
        if not facts_file.exists():
            continue
        facts = _load(facts_file) or {}
        sources.append(_TemplateSource(_load(sdir / "source.yaml") or {},
                                       list(facts.get("mentions") or []),
                                       list(facts.get("relations") or []),
                                       list(facts.get("measurements") or [])))
    if not sources:
        raise IfkgError("the template project has no source with a facts.yaml",
                        project.graph_dir / "sources")
    labels = _labels(project.ontology_file)
    return _Template(
        entities=entities,
        indicators_text=indicators_file.read_text(encoding="utf-8") if indicators else "",
        sources=sources,
        class_labels=labels,
        property_labels=labels,
        indicator_labels={str(i["id"]): str(i["zh"]) for i in indicators},
    )


def _q(value: Any) -> str:
    """A YAML scalar: JSON's double-quoted strings are valid YAML."""
    return json.dumps(str(value), ensure_ascii=False)


def _classes(item: dict[str, Any]) -> list[str]:
    c = item.get("class")
    return [str(x) for x in c] if isinstance(c, list) else [str(c)]


class _Names:
    """Unique made-up names: two or three syllables before a label."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def make(self, label: str) -> str:
        for length in (2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5):
            name = "".join(self.rng.choice(SYLLABLES) for _ in range(length)) + label
            if name not in self.used:
                self.used.add(name)
                return name
        raise RuntimeError("ran out of names")  # unreachable at any size we generate


@dataclass
class _Entity:
    id: str
    item: dict[str, Any]
    family: str
    uses: int = 0


class _Pools:
    """Entities by kind (classes and member class); new ones are minted on demand."""

    def __init__(self, template: _Template, rng: random.Random) -> None:
        self.t = template
        self.rng = rng
        self.names = _Names(rng)
        self.pools: dict[str, list[_Entity]] = {}
        self.all: list[_Entity] = []

    def _kind(self, item: dict[str, Any]) -> str:
        return "+".join(_classes(item)) + "/" + str(item.get("member_class") or "")

    def _label(self, item: dict[str, Any]) -> str:
        if item.get("member_class"):
            return self.t.class_labels.get(str(item["member_class"]), "成员") + "群体"
        return self.t.class_labels.get(_classes(item)[0], "机构")

    def mint(self, template_id: str) -> _Entity:
        src = self.t.entities[template_id]
        n = len(self.all) + 1
        zh = self.names.make(self._label(src))
        item: dict[str, Any] = {"id": f"e{n:06d}", "class": _classes(src), "zh": zh,
                                "en": f"Synthetic {' '.join(_classes(src))} {n}"}
        if src.get("aliases"):
            item["aliases"] = [self.names.make("") + "简称" for _ in src["aliases"]]
        if src.get("member_class"):
            item["member_class"] = str(src["member_class"])
        e = _Entity(item["id"], item, src["_family"])
        self.pools.setdefault(self._kind(src), []).append(e)
        self.all.append(e)
        return e

    def pick(self, template_id: str, taken: set[str], fresh: bool) -> _Entity:
        """An entity for one slot of a document: new, or a popular one not used yet here."""
        src = self.t.entities[template_id]
        pool = [e for e in self.pools.get(self._kind(src), []) if e.id not in taken]
        if fresh or not pool or self.rng.random() < NEW_ENTITY_SHARE:
            e = self.mint(template_id)
        else:
            e = self.rng.choices(pool, weights=[e.uses + 1 for e in pool])[0]
        e.uses += 1
        taken.add(e.id)
        return e


_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def _vary_figure(reported: str, rng: random.Random) -> str:
    """The same figure with other digits: same number of integer and decimal digits."""

    def repl(m: re.Match[str]) -> str:
        whole, _, frac = m.group(0).partition(".")
        digits = str(rng.randint(1, 9)) + "".join(str(rng.randint(0, 9)) for _ in whole[1:])
        if whole == "0":
            digits = "0"
        if frac:
            digits += "." + "".join(str(rng.randint(0, 9)) for _ in frac[:-1]) + \
                str(rng.randint(1, 9))
        return digits

    return _NUMBER.sub(repl, reported)


class _Text:
    """Sentences of a document; each starts with a unique numbered marker (一是… style)."""

    def __init__(self) -> None:
        self.paragraphs: list[list[str]] = [[]]
        self.count = 0

    def sentence(self, body: str) -> str:
        """Add a sentence and return the quote for it (the sentence without its full stop)."""
        self.count += 1
        quote = f"（{self.count}）{body}"
        if len(self.paragraphs[-1]) >= 4:
            self.paragraphs.append([])
        self.paragraphs[-1].append(quote + "。")
        return quote

    def render(self, title: str) -> str:
        return f"# {title}\n\n" + "\n\n".join("".join(p) for p in self.paragraphs if p) + "\n"


def _write_document(out: Path, i: int, ts: _TemplateSource, template: _Template,
                    pools: _Pools, rng: random.Random, info: SynthInfo) -> None:
    sid = f"synth-{i:05d}"
    year = DOCUMENT_YEAR - rng.randint(0, 4)
    doc_tid = str(ts.meta.get("document"))
    issuer_tid = str(ts.meta.get("issuer"))
    taken: set[str] = set()
    slots: dict[str, _Entity] = {}

    def slot(tid: str) -> _Entity:
        if tid not in slots:
            if tid not in template.entities:
                raise IfkgError(f"template fact names an unknown entity '{tid}'")
            slots[tid] = pools.pick(tid, taken, fresh=(tid == doc_tid))
        return slots[tid]

    document = slot(doc_tid)
    issuer = slot(issuer_tid)
    text = _Text()
    lines = [f"source: {_q(sid)}"]

    rel_lines: list[str] = []
    first_quote: dict[str, str] = {}
    for n, r in enumerate(ts.relations, 1):
        s, o = slot(str(r["subject"])), slot(str(r["object"]))
        pred = str(r["predicate"])
        date = None
        when = ""
        if r.get("date") is not None:
            y = year - rng.randint(0, 2)
            date = str(y) if len(str(r["date"])) == 4 else f"{y}-{rng.randint(1, 12):02d}-15"
            when = f"{y}年，"
        quote = text.sentence(f"{when}{s.item['zh']}{template.property_labels.get(pred, pred)}"
                              f"{o.item['zh']}")
        first_quote.setdefault(s.id, quote)
        first_quote.setdefault(o.id, quote)
        rel_lines += [f"  - id: r{n}", f"    subject: {s.id}", f"    predicate: {pred}",
                      f"    object: {o.id}", f"    quote: {_q(quote)}"]
        if date:
            rel_lines.append(f"    date: {_q(date)}")

    meas_lines: list[str] = []
    ids = {str(m.get("id")): f"m{n}" for n, m in enumerate(ts.measurements, 1)}
    for m in ts.measurements:
        e = slot(str(m["about"]))
        reported = _vary_figure(str(m["reported"]), rng)
        ind = str(m["indicator"])
        when, extra = "", []
        if m.get("as_of") is not None:
            when = f"截至{year - 1}年底，"
            extra.append(f"    as_of: {_q(f'{year - 1}-12-31')}")
        elif m.get("period") is not None:
            when = f"{year - 1}年全年，"
            extra.append(f"    period: {_q(year - 1)}")
        for key in ("unit", "qualifier", "rate_period", "compared_to"):
            if m.get(key) is not None:
                extra.append(f"    {key}: {_q(m[key])}")
        if m.get("revision_of") is not None and str(m["revision_of"]) in ids:
            extra.append(f"    revision_of: {ids[str(m['revision_of'])]}")
        quote = text.sentence(f"{when}{e.item['zh']}{template.indicator_labels.get(ind, ind)}"
                              f"为{reported}")
        first_quote.setdefault(e.id, quote)
        meas_lines += [f"  - id: {ids[str(m.get('id'))]}", f"    about: {e.id}",
                       f"    indicator: {ind}", f"    reported: {_q(reported)}",
                       f"    quote: {_q(quote)}", *extra]

    # one mention per template mention; entities named by no fact get a sentence of their own
    mention_lines: list[str] = []
    for m in ts.mentions:
        e = slot(str(m["entity"]))
        if e.id not in first_quote:
            first_quote[e.id] = text.sentence(f"本文件提及{e.item['zh']}")
        mention_lines += [f"  - entity: {e.id}", f"    quote: {_q(first_quote[e.id])}"]
    for e in slots.values():  # the document and the issuer, when the template did not mention them
        if e.id not in first_quote:
            first_quote[e.id] = text.sentence(f"本文件提及{e.item['zh']}")
            mention_lines += [f"  - entity: {e.id}", f"    quote: {_q(first_quote[e.id])}"]

    title = str(document.item["zh"])
    body = text.render(title).encode("utf-8")
    sdir = out / "graph" / "sources" / sid
    sdir.mkdir(parents=True)
    (sdir / "text.txt").write_bytes(body)
    meta = [f"id: {_q(sid)}", "text: text.txt", f"sha256: {hashlib.sha256(body).hexdigest()}",
            f"document: {document.id}", f"title: {_q(title)}",
            f"title_en: {_q(document.item['en'])}", f"issuer: {issuer.id}",
            f"number: {_q(f'合成复〔{year}〕{i}号')}",
            f"date: {_q(f'{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}')}",
            "language: zh"]
    (sdir / "source.yaml").write_text("\n".join(meta) + "\n", encoding="utf-8")
    facts = lines + ["mentions:", *mention_lines, "relations:", *rel_lines,
                     "measurements:", *meas_lines]
    (sdir / "facts.yaml").write_text("\n".join(facts) + "\n", encoding="utf-8")
    info.mentions += len(mention_lines) // 2
    info.relations += len(ts.relations)
    info.measurements += len(ts.measurements)


def _write_entities(out: Path, pools: _Pools, info: SynthInfo) -> None:
    by_family: dict[str, list[_Entity]] = {}
    for e in pools.all:
        by_family.setdefault(e.family, []).append(e)
    edir = out / "graph" / "entities"
    edir.mkdir(parents=True, exist_ok=True)
    for family, ents in sorted(by_family.items()):
        lines = []
        for e in ents:
            it = e.item
            cls = it["class"][0] if len(it["class"]) == 1 else "[" + ", ".join(it["class"]) + "]"
            lines += [f"- id: {it['id']}", f"  class: {cls}", f"  zh: {_q(it['zh'])}",
                      f"  en: {_q(it['en'])}"]
            if it.get("aliases"):
                lines.append(f"  aliases: [{', '.join(_q(a) for a in it['aliases'])}]")
            if it.get("member_class"):
                lines.append(f"  member_class: {it['member_class']}")
        (edir / family).write_text("\n".join(lines) + "\n", encoding="utf-8")
        info.families[family] = len(ents)


def generate(out: Path, documents: int, seed: int = 0, template: Project | None = None,
             copy_ontology: bool = True) -> SynthInfo:
    """Write a synthetic project of ``documents`` sources into ``out`` (which must not exist).

    ``out`` gets ``graph/`` and a copy of the template's ``ontology/``, so
    ``IFKG_HOME=out ifkg build`` runs the whole pipeline on it.
    """
    if documents < 1:
        raise IfkgError(f"the number of documents must be at least 1, not {documents}")
    if out.exists() and any(out.iterdir()):
        raise IfkgError(f"output folder is not empty: {out}", out)
    if template is None:
        from .project import default_project

        template = default_project()
    t = _read_template(template)
    rng = random.Random(seed)
    pools = _Pools(t, rng)
    out.mkdir(parents=True, exist_ok=True)
    info = SynthInfo(out, documents, 0)
    for i in range(1, documents + 1):
        _write_document(out, i, t.sources[(i - 1) % len(t.sources)], t, pools, rng, info)
    _write_entities(out, pools, info)
    info.entities = len(pools.all)
    if t.indicators_text:
        (out / "graph" / "indicators.yaml").write_text(t.indicators_text, encoding="utf-8")
    if copy_ontology:
        shutil.copytree(template.ontology_dir, out / "ontology")
    return info
