"""Draft the facts of a new source for a curator to review, and measure how good drafts are.

The drafter reads a source text and proposes what a curator would otherwise type:

* entities the graph already knows, found by name or alias, linked by id (never duplicated);
* new candidate entities found by the patterns of ``graph/draft-rules.yaml`` (names in “…” and
  《…》, organisation suffixes such as 银行 or 有限公司), each with a suggested class and id;
* candidate figures with their normalised value and unit (:func:`ifkg.numbers.parse_figure`),
  a suggested indicator, entity, qualifier and date;
* for every candidate the shortest clause around it that occurs once in the text, as its quote.

Everything it knows about Chinese policy prose is in the rules file; this module only applies
them. The draft is written as YAML marked ``status: draft`` (facts) and ``draft: true``
(entities), which the build refuses until a curator has reviewed it.
"""

from __future__ import annotations

import bisect
import calendar
import hashlib
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from .errors import IfkgError
from .evidence import SENTENCE_END, QuoteError, SourceIndex, Span
from .numbers import CURRENCY_SCALE, PREFIX_QUALIFIERS, Figure, decimal_lexical, parse_figure
from .yamlio import line_of, load_yaml

RULES_FILE = "draft-rules.yaml"
CLAUSE_MARKS = "，；：、（）()—,;:"
NAME_CHAR = re.compile(r"[\u3400-\u9fffA-Za-z·]")
UNIT_KINDS_DEFAULT = {
    "CNY": ("stock", "flow", "cap", "amount"),
    "PERCENT": ("rate", "share", "cap"),
    "NUM": ("count",),
    "UNITLESS": ("ratio",),
}


# --------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class SuffixRule:
    suffix: str
    cls: str
    group: bool
    strict: bool = False


@dataclass(frozen=True)
class QuoteRule:
    open: str
    close: str
    cls: str | None
    endings: tuple[tuple[str, str], ...]  # longest ending first
    max_length: int | None = None

    def class_of(self, name: str) -> tuple[str | None, str]:
        for ending, cls in self.endings:
            if name.endswith(ending):
                return cls, f"{self.open}…{ending}{self.close}"
        return self.cls, f"{self.open}…{self.close}"


@dataclass(frozen=True)
class Rules:
    """The drafter's knowledge, read from ``graph/draft-rules.yaml``."""

    suffixes: tuple[SuffixRule, ...]  # longest suffix first
    quotes: tuple[QuoteRule, ...]
    quote_max_length: int
    quote_stop_marks: str
    boundary_words: tuple[str, ...]
    keep_words: tuple[str, ...]
    min_name_length: int
    max_name_length: int
    stop_names: frozenset[str]
    drop_prefixes: tuple[str, ...]
    counted_groups: bool
    enumerations: tuple[tuple[str, str], ...]  # (closing words, class)
    gazetteer: tuple[tuple[str, str], ...]  # (name, class), longest first
    title_endings: tuple[tuple[str, str], ...]
    person_titles: tuple[tuple[str, str], ...]
    measure_words: dict[str, str]
    hanzi_measure_words: str
    unitless_after: tuple[str, ...]
    indicators: tuple[tuple[str, str], ...]  # (keyword, indicator id) in file order
    revision_words: tuple[str, ...]
    as_of_words: tuple[str, ...]
    year_end_words: tuple[str, ...]
    month_end_words: tuple[str, ...]
    now_words: tuple[str, ...]
    period_words: tuple[str, ...]
    as_of_kinds: frozenset[str]
    unit_kinds: dict[str, tuple[str, ...]]


def _strs(doc: dict, key: str, file: Path) -> tuple[str, ...]:
    value = doc.get(key, [])
    if isinstance(value, str):
        return tuple(value)
    if not isinstance(value, list):
        raise IfkgError(f"'{key}' must be a list", file, line_of(doc, key))
    return tuple(str(v) for v in value)


def load_rules(path: Path) -> Rules:
    """Read the rules file; a malformed rule is an IfkgError with its file and line."""
    doc = load_yaml(path)
    if not isinstance(doc, dict):
        raise IfkgError("the draft rules must be a mapping", path, 1)
    suffixes = []
    for item in doc.get("suffixes") or []:
        if not isinstance(item, dict) or not item.get("suffix") or not item.get("class"):
            raise IfkgError("each suffix rule needs 'suffix' and 'class'", path, line_of(item))
        suffixes.append(SuffixRule(str(item["suffix"]), str(item["class"]),
                                   bool(item.get("group", False)),
                                   bool(item.get("strict", False))))
    quotes = []
    for item in doc.get("quotes") or []:
        if not isinstance(item, dict) or not item.get("open") or not item.get("close"):
            raise IfkgError("each quote rule needs 'open' and 'close'", path, line_of(item))
        endings = dict(item.get("endings") or {})
        quotes.append(QuoteRule(str(item["open"]), str(item["close"]),
                                str(item["class"]) if item.get("class") else None,
                                tuple(sorted(((str(k), str(v)) for k, v in endings.items()),
                                             key=lambda kv: -len(kv[0]))),
                                int(item["max_length"]) if item.get("max_length") else None))
    indicators = []
    for item in doc.get("indicators") or []:
        if not isinstance(item, dict) or not item.get("keyword") or not item.get("indicator"):
            raise IfkgError("each indicator rule needs 'keyword' and 'indicator'", path,
                            line_of(item))
        indicators.append((str(item["keyword"]), str(item["indicator"])))
    mw = doc.get("measure_words") or {}
    if not isinstance(mw, dict):
        raise IfkgError("'measure_words' must map a measure word to an indicator", path,
                        line_of(doc, "measure_words"))
    unit_kinds = {k: tuple(v) for k, v in (doc.get("unit_kinds") or UNIT_KINDS_DEFAULT).items()}
    enumerations = []
    for item in doc.get("enumerations") or []:
        if not isinstance(item, dict) or not item.get("after") or not item.get("class"):
            raise IfkgError("each enumeration rule needs 'after' and 'class'", path, line_of(item))
        enumerations.append((str(item["after"]), str(item["class"])))
    gaz = doc.get("gazetteer") or {}
    if not isinstance(gaz, dict):
        raise IfkgError("'gazetteer' must map a class to a list of names", path,
                        line_of(doc, "gazetteer"))
    gazetteer = sorted(((str(n), str(c)) for c, names in gaz.items() for n in names or []),
                       key=lambda x: -len(x[0]))
    titles = doc.get("title_endings") or {}
    if not isinstance(titles, dict):
        raise IfkgError("'title_endings' must map an ending to a class", path,
                        line_of(doc, "title_endings"))
    return Rules(
        suffixes=tuple(sorted(suffixes, key=lambda r: -len(r.suffix))),
        quotes=tuple(quotes),
        quote_max_length=int(doc.get("quote_max_length", 20)),
        quote_stop_marks=str(doc.get("quote_stop_marks", "，。；：")),
        boundary_words=_strs(doc, "boundary_words", path),
        keep_words=_strs(doc, "keep_words", path),
        min_name_length=int(doc.get("min_name_length", 2)),
        max_name_length=int(doc.get("max_name_length", 24)),
        stop_names=frozenset(_strs(doc, "stop_names", path)),
        drop_prefixes=tuple(sorted(_strs(doc, "drop_prefixes", path), key=len, reverse=True)),
        counted_groups=bool(doc.get("counted_groups", True)),
        enumerations=tuple(enumerations),
        gazetteer=tuple(gazetteer),
        person_titles=tuple((str(k), str(v)) for k, v in (doc.get("person_titles") or {}).items()),
        title_endings=tuple(sorted(((str(k), str(v)) for k, v in titles.items()),
                                   key=lambda x: -len(x[0]))),
        measure_words={str(k): str(v) for k, v in mw.items()},
        hanzi_measure_words=str(doc.get("hanzi_measure_words", "")),
        unitless_after=_strs(doc, "unitless_after", path),
        indicators=tuple(indicators),
        revision_words=_strs(doc, "revision_words", path),
        as_of_words=_strs(doc, "as_of_words", path),
        year_end_words=_strs(doc, "year_end_words", path),
        month_end_words=_strs(doc, "month_end_words", path),
        now_words=_strs(doc, "now_words", path),
        period_words=_strs(doc, "period_words", path),
        as_of_kinds=frozenset(_strs(doc, "as_of_kinds", path)),
        unit_kinds=unit_kinds,
    )


# --------------------------------------------------------------------------- the draft


@dataclass(frozen=True)
class KnownEntity:
    """An entity of the graph, as far as the drafter needs it."""

    id: str
    names: tuple[str, ...]
    group: bool


@dataclass
class DraftEntity:
    """An entity the draft mentions: a known one (``known``) or a new candidate."""

    id: str
    zh: str
    known: bool
    classes: list[str]
    member_class: str | None
    reason: str
    start: int  # folded offsets of the occurrence quoted
    end: int
    aliases: list[str] = field(default_factory=list)
    quote: str = ""
    span: Span | None = None
    checks: list[str] = field(default_factory=list)


@dataclass
class DraftFigure:
    """A candidate measurement."""

    id: str
    reported: str
    figure: Figure
    start: int  # original offsets of the reported figure
    end: int
    indicator: str | None
    keyword: str | None
    about: str | None
    qualifier: str
    as_of: str | None
    period: str | None
    revision_of: str | None
    quote: str
    span: Span | None
    checks: list[str] = field(default_factory=list)

    @property
    def value(self) -> Decimal:
        return self.figure.value


@dataclass
class Draft:
    source: str
    entities: list[DraftEntity]
    figures: list[DraftFigure]
    years: list[tuple[str, str]]  # (year, quote)

    @property
    def new_entities(self) -> list[DraftEntity]:
        return [e for e in self.entities if not e.known]


class _Text:
    """The folded text with its sentence and clause boundaries."""

    def __init__(self, text: str) -> None:
        self.index = SourceIndex(text)
        self.text = text
        self.f = self.index.folded
        self.pos = self.index.positions
        starts = {0, len(self.f)}
        # sentence starts of the evidence module, moved to folded offsets
        for b in self.index._boundaries:  # noqa: SLF001 (the one definition of a sentence)
            starts.add(bisect.bisect_left(self.pos, b))
        self.sentences = sorted(starts)
        clause = set(self.sentences)
        for i, ch in enumerate(self.f):
            if ch in CLAUSE_MARKS or ch in SENTENCE_END:
                clause.add(i)
                clause.add(i + 1)
        self.clauses = sorted(clause)

    def bounds(self, cuts: list[int], i: int) -> tuple[int, int]:
        k = bisect.bisect_right(cuts, i) - 1
        return cuts[k], cuts[min(k + 1, len(cuts) - 1)]

    def sentence(self, i: int) -> tuple[int, int]:
        return self.bounds(self.sentences, i)

    def clause(self, i: int) -> tuple[int, int]:
        return self.bounds(self.clauses, i)

    def original(self, a: int, b: int) -> tuple[int, int]:
        """Original offsets of folded ``[a, b)``."""
        return self.pos[a], self.pos[b - 1] + 1

    def display(self, a: int, b: int) -> str:
        """The original text of folded ``[a, b)``, markdown marks dropped, spaces tidied."""
        s, e = self.original(a, b)
        raw = re.sub(r"[#*]", "", self.text[s:e])
        raw = re.sub(r"\s+", " ", raw).strip()
        return re.sub(r"(?<=[\u3000-\u9fff\uff00-\uffef]) (?=[\u3000-\u9fff\uff00-\uffef])", "",
                      raw)

    def quote(self, a: int, b: int) -> tuple[str, Span] | None:
        """The shortest run of whole clauses around folded ``[a, b)`` that occurs once in the
        text and stays in one sentence."""
        ss, se = self.sentence(a)
        lo, _ = self.clause(a)
        _, hi = self.clause(max(a, b - 1))
        lo, hi = max(lo, ss), min(max(hi, b), se)
        for _ in range(40):
            qa, qb = lo, hi
            while qa < qb and (self.f[qa] in CLAUSE_MARKS or self.f[qa] in SENTENCE_END):
                qa += 1
            while qb > qa and (self.f[qb - 1] in CLAUSE_MARKS or self.f[qb - 1] in SENTENCE_END):
                qb -= 1
            if qa < qb:
                text = self.display(qa, qb)
                try:
                    return text, self.index.find(text)
                except QuoteError:
                    pass
            if lo > ss:
                lo = self.bounds(self.clauses, lo - 1)[0]
                lo = max(lo, ss)
            elif hi < se:
                hi = min(self.bounds(self.clauses, hi)[1], se)
            else:
                return None
        return None


def _slug_from(name: str) -> str:
    try:
        from pypinyin import lazy_pinyin  # optional: readable ids for Hanzi names
        parts = lazy_pinyin(name)
    except ImportError:  # pragma: no cover - without pypinyin the id is a digest
        parts = [] if re.search(r"[\u3400-\u9fff]", name) else [name]
    words: list[str] = []
    for p in parts:
        words += re.findall(r"[a-z0-9]+", p.lower())
    slug = "-".join(words[:8])
    if not slug:
        slug = "entity-" + hashlib.sha1(name.encode("utf-8")).hexdigest()[:8]
    return slug


def _unique(slug: str, taken: set[str]) -> str:
    out, n = slug, 2
    while out in taken:
        out, n = f"{slug}-{n}", n + 1
    taken.add(out)
    return out


def _fold_name(name: str) -> str:
    return re.sub(r"[\s#*]", "", name)


class Drafter:
    """Applies the rules to one text."""

    def __init__(self, text: str, rules: Rules, known: list[KnownEntity],
                 indicator_kinds: dict[str, str], source: str, date: str | None,
                 taken_ids: set[str]) -> None:
        self.t = _Text(text)
        self.rules = rules
        self.known = known
        self.kinds = indicator_kinds
        self.source = source
        self.date = date
        self.taken = set(taken_ids)

    # ---- names

    def _known_matches(self) -> list[tuple[int, int, KnownEntity]]:
        f = self.t.f
        out = []
        for e in self.known:
            for name in {_fold_name(n) for n in e.names if _fold_name(n)}:
                i = f.find(name)
                while i >= 0:
                    out.append((i, i + len(name), e))
                    i = f.find(name, i + 1)
        return out

    def _keep_mask(self, a: int, b: int) -> list[bool]:
        f, mask = self.t.f, [False] * (b - a)
        for k in self.rules.keep_words:
            i = f.find(k, max(0, a - len(k)))
            while 0 <= i < b:
                for j in range(max(i, a), min(i + len(k), b)):
                    mask[j - a] = True
                i = f.find(k, i + 1)
        return mask

    def _name_start(self, end_of_run: int) -> int:
        """Where a name ending (before its suffix) at folded ``end_of_run`` starts."""
        f, r = self.t.f, self.rules
        a = end_of_run
        floor = self.t.sentence(max(0, end_of_run - 1))[0]
        mws = re.escape("".join(r.measure_words))
        number_end = re.compile(r"\d(?:余|多)?(?:亿元|万元|亿|万|元|年|月|日|号|[" + mws + r"])$")
        while a > floor and end_of_run - a < r.max_name_length:
            ch = f[a - 1]
            if number_end.search(f[max(0, a - 4):a]):  # 8 家…, 50 亿元…: a figure ends here
                break
            if ch == "”":  # a quoted name begins this name; two quotes in a row end it
                o = f.rfind("“", 0, a - 1)
                if o < 0 or a - 1 - o > r.quote_max_length:
                    break
                if o > 0 and f[o - 1] == "”":
                    break
                a = o
                break
            if not NAME_CHAR.match(ch):
                break
            a -= 1
        keep = self._keep_mask(a, end_of_run)
        cut = a
        for j in range(end_of_run, a, -1):
            for w in r.boundary_words:
                s = j - len(w)
                if s >= a and f[s:j] == w and not any(keep[s - a:j - a]):
                    cut = j
                    break
            if cut != a:
                break
        return cut

    def _ends_name(self, end: int) -> bool:
        """Whether a name can end at folded ``end``: punctuation, a number or a boundary word
        follows."""
        f = self.t.f
        if end >= len(f) or not NAME_CHAR.match(f[end]) or end in self.t.sentences:
            return True
        words = [w for w in self.rules.boundary_words if f.startswith(w, end)]
        if not words:
            return False
        keep = self._keep_mask(end, end + max(map(len, words)))
        return any(not any(keep[:len(w)]) for w in words)

    def _suffix_candidates(self) -> list[tuple[int, int, SuffixRule, str]]:
        f, r = self.t.f, self.rules
        found: dict[tuple[int, int], tuple[SuffixRule, str]] = {}
        for rule in r.suffixes:
            i = f.find(rule.suffix)
            while i >= 0:
                end = i + len(rule.suffix)
                if rule.strict and not self._ends_name(end):
                    i = f.find(rule.suffix, i + 1)
                    continue
                start = self._name_start(i)
                key = (start, end)
                if key not in found:  # the longest suffix came first
                    found[key] = (rule, f"suffix {rule.suffix}")
                i = f.find(rule.suffix, i + 1)
        out = []
        suffix_set = {x.suffix for x in r.suffixes}
        for (s, e), (rule, why) in found.items():
            name = f[s:e]
            if len(name) < r.min_name_length:
                continue
            # a name that a longer one with the same start continues is not a name of its own,
            # unless the longer one is exactly this name followed by a suffix (产业 + 基金)
            longer = [e2 for (s2, e2) in found if s2 == s and e2 > e]
            if any(f[e:e2] not in suffix_set for e2 in longer):
                continue
            out.append((s, e, rule, why))
        return out

    def _quote_candidates(self) -> list[tuple[int, int, str, str]]:
        f, r = self.t.f, self.rules
        out = []
        for rule in r.quotes:
            n = rule.max_length or r.quote_max_length
            pat = re.compile(re.escape(rule.open) + r"([^" + re.escape(rule.open + rule.close)
                             + r"]{1," + str(n) + r"})" + re.escape(rule.close))
            for m in pat.finditer(f):
                name = m.group(1)
                if any(c in r.quote_stop_marks for c in name):
                    continue
                cls, why = rule.class_of(name)
                if cls is None:
                    continue
                out.append((m.start(1), m.end(1), cls, why))
        return out

    def _count_after(self, end: int) -> int | None:
        """End of a count (``6500 余户``, ``超 1000 家``) right after folded ``end``, if any."""
        mws = "".join(self.rules.measure_words)
        pre = "|".join(sorted(PREFIX_QUALIFIERS, key=len, reverse=True))
        m = re.compile(r"(?:" + pre + r")?\d+(余|多)?[" + re.escape(mws) + r"]").match(
            self.t.f, end)
        return m.end() if m else None

    def _enumerations(self) -> list[tuple[int, int, str, str]]:
        f, out = self.t.f, []
        for after, cls in self.rules.enumerations:
            i = f.find(after)
            while i >= 0:
                lo = i
                while lo > 0 and (NAME_CHAR.match(f[lo - 1]) or f[lo - 1] == "、") \
                        and lo not in self.t.sentences:
                    lo -= 1
                items = f[lo:i].split("、")
                if len(items) > 1:
                    pos = lo
                    for k, item in enumerate(items):
                        s = pos
                        if k == 0:
                            s = self._name_start(pos + len(item))
                        if pos + len(item) - s >= self.rules.min_name_length:
                            out.append((s, pos + len(item), cls, f"listed before '{after}'"))
                        pos += len(item) + 1
                i = f.find(after, i + 1)
        return out

    def _gazetteer(self) -> list[tuple[int, int, str, str]]:
        f, out, covered = self.t.f, [], set()
        for name, cls in self.rules.gazetteer:
            i = f.find(name)
            while i >= 0:
                if not covered & set(range(i, i + len(name))):
                    out.append((i, i + len(name), cls, "place name of the rules' gazetteer"))
                    covered.update(range(i, i + len(name)))
                i = f.find(name, i + 1)
        return out

    def _persons(self) -> list[tuple[int, int, str, str]]:
        out = []
        for title, cls in self.rules.person_titles:
            for m in re.finditer(r"(?m)^[ \t]*([\u4e00-\u9fff]{2,4}?)" + re.escape(title) + "[：:]",
                                 self.t.text):
                a = bisect.bisect_left(self.t.pos, m.start(1))
                out.append((a, a + len(m.group(1)), cls, f"addressed as {title}"))
        return out

    def _titles(self) -> list[tuple[int, int, str, str]]:
        t, out, offset = self.t, [], 0
        for line in t.text.splitlines(keepends=True):
            body = line.strip()
            if body.startswith("#"):
                title = re.sub(r"[#*\s]", "", body)
                for ending, cls in self.rules.title_endings:
                    if title.endswith(ending):
                        s = offset + line.index(body)
                        a = bisect.bisect_left(t.pos, s)
                        i = t.f.find(title, a)
                        if i >= 0:
                            out.append((i, i + len(title), cls, f"heading ending in {ending}"))
                        break
            offset += len(line)
        return out

    def _count_before(self, start: int) -> int | None:
        """Start of a count (``8 家``) right before folded ``start``, if any."""
        f = self.t.f
        mws = "".join(self.rules.measure_words)
        hz = re.escape(self.rules.hanzi_measure_words)
        m = re.search(r"(?:\d+(余|多)?[" + re.escape(mws) + r"]|[一二两三四五六七八九十]{1,3}[" + hz
                      + r"])$", f[max(0, start - 12):start])
        return start - len(m.group(0)) if m else None

    def entities(self) -> list[DraftEntity]:
        t, r = self.t, self.rules
        by_name: dict[str, KnownEntity] = {}
        for e in self.known:
            for n in e.names:
                by_name.setdefault(_fold_name(n), e)
        raw: list[tuple[int, int, str, str | None, str]] = []  # start, end, class, member, why
        quoted = self._quote_candidates()
        for s, e, cls, why in quoted:
            raw.append((s, e, cls, None, f"quoted name {why}"))
        patterns = self._titles() + self._persons() + self._enumerations() + self._gazetteer()
        for s, e, cls, why in patterns:
            raw.append((s, e, cls, None, why))
        for s, e, rule, why in self._suffix_candidates():
            if any(qs <= s and e == qe for qs, qe, *_ in quoted):
                continue  # the tail of a quoted name
            name = t.f[s:e]
            if name not in r.stop_names:
                if rule.group:
                    raw.append((s, e, "EntityGroup", rule.cls, f"group noun ({why})"))
                else:
                    raw.append((s, e, rule.cls, None, why))
            if r.counted_groups and rule.group:
                c = self._count_before(s)
                if c is not None:
                    raw.append((c, e, "EntityGroup", rule.cls, f"counted group ({why})"))
                c = self._count_after(e)
                if c is not None and name not in r.stop_names:
                    raw.append((s, c, "EntityGroup", rule.cls, f"counted group ({why})"))

        # known entities: linked wherever the text names them outside a longer name
        spans = [(s, e) for s, e, *_ in raw]
        kms = self._known_matches()
        spans += [(s, e) for s, e, _ in kms]
        result: dict[str, DraftEntity] = {}

        def inside_longer(s: int, e: int) -> bool:
            return any(s2 <= s and e <= e2 and (e2 - s2) > (e - s) for s2, e2 in spans)

        for s, e, k in sorted(kms, key=lambda x: x[0]):
            if k.id in result:
                continue
            if k.group and inside_longer(s, e):
                continue
            result[k.id] = DraftEntity(k.id, t.f[s:e], True, [], None,
                                       f"known entity, named '{t.display(s, e)}'", s, e)

        # new candidates, merged by name; a candidate named like a known entity is a link
        new: dict[str, DraftEntity] = {}
        for s, e, cls, member, why in sorted(raw, key=lambda x: (x[0], -x[1])):
            name = t.f[s:e]
            known = by_name.get(name)
            if known is not None:
                if known.id not in result:
                    result[known.id] = DraftEntity(known.id, name, True, [], None,
                                                   f"known entity, named '{name}'", s, e)
                continue
            if name in new:
                continue
            new[name] = DraftEntity("", t.display(s, e), False, [cls], member, why, s, e)

        # names differing by a leading 上海/市 are one entity
        for name in list(new):
            for p in r.drop_prefixes:
                if name.startswith(p) and len(name) - len(p) >= r.min_name_length:
                    short = name[len(p):]
                    if short in by_name and by_name[short].id in result:
                        result[by_name[short].id].checks.append(
                            f"also written '{new[name].zh}': add it to aliases")
                        del new[name]
                        break
                    if short in new:
                        new[short].aliases.append(new[name].zh)
                        new[short].checks.append(f"also written '{new[name].zh}' (kept as alias)")
                        del new[name]
                        break
        for d in sorted(new.values(), key=lambda d: d.start):
            d.id = _unique(_slug_from(d.zh), self.taken)
            result[d.id] = d
        out = sorted(result.values(), key=lambda d: (d.start, d.id))
        for d in out:
            q = t.quote(d.start, d.end)
            if q is None:
                d.checks.append("no unique quote found: write one")
            else:
                d.quote, d.span = q
        return out

    # ---- figures

    def _figure_matches(self) -> list[tuple[int, int]]:
        f, r = self.t.f, self.rules
        mws = "".join(r.measure_words)
        pre = "|".join(sorted(PREFIX_QUALIFIERS, key=len, reverse=True))
        units = "|".join(sorted(CURRENCY_SCALE, key=len, reverse=True))
        arabic = re.compile(
            r"(?<![\d.])(?:" + pre + r")?\d+(?:\.\d+)?(?:余|多)?(?:" + units + r"|%|["
            + re.escape(mws) + r"])(?:/年)?(?:余|以上|以下|以内|左右)?")
        hanzi = re.compile(r"[一二两三四五六七八九十]{1,3}[" + re.escape(r.hanzi_measure_words)
                           + r"]") if r.hanzi_measure_words else None
        out = [(m.start(), m.end()) for m in arabic.finditer(f)]
        if hanzi:
            out += [(m.start(), m.end()) for m in hanzi.finditer(f)]
        for kw in r.unitless_after:
            for m in re.finditer(re.escape(kw) + r"(\d+(?:\.\d+)?)(?![\d.%])", f):
                out.append((m.start(1), m.end(1)))
        return sorted(set(out))

    def _indicator(self, a: int, b: int, unit: str) -> tuple[str | None, str | None, int]:
        """Suggested indicator, its keyword and where the keyword starts (folded)."""
        t, r = self.t, self.rules
        allowed = set(r.unit_kinds.get(unit, ()))
        cs, ce = t.clause(a)
        ss, se = t.sentence(a)

        def fits(ind: str) -> bool:
            return self.kinds.get(ind) in allowed

        def best(lo: int, hi: int, before: bool) -> tuple[str, str, int] | None:
            hits = []
            for order, (kw, ind) in enumerate(r.indicators):
                if not fits(ind):
                    continue
                i = t.f.find(kw, lo)
                while 0 <= i and i + len(kw) <= hi:
                    if (before and i + len(kw) <= a) or (not before and i >= b):
                        dist = a - (i + len(kw)) if before else i - b
                        hits.append((dist, -len(kw), order, kw, ind, i))
                    i = t.f.find(kw, i + 1)
            if not hits:
                return None
            hits.sort()
            _, _, _, kw, ind, i = hits[0]
            return ind, kw, i

        found = best(cs, ce, True) or best(cs, ce, False)
        if found is None and unit == "NUM":
            for mw, ind in r.measure_words.items():
                if t.f[b - 1] == mw or t.f[a:b].rstrip("余多以上").endswith(mw):
                    return ind, None, a
        found = found or best(ss, se, True) or best(ss, se, False)
        if found is None:
            return None, None, a
        return found

    def _dates(self, a: int, kind: str | None) -> tuple[str | None, str | None, str | None]:
        """(as_of, period, why) from the markers before folded ``a`` in its sentence."""
        t, r = self.t, self.rules
        ss, _ = t.sentence(a)
        head = t.f[ss:a]
        as_of = period = None
        why = None
        ye = "|".join(map(re.escape, r.year_end_words)) or "(?!)"
        me = "|".join(map(re.escape, r.month_end_words)) or "(?!)"
        hits: list[tuple[int, str, str]] = []
        for m in re.finditer(r"(\d{4})年(\d{1,2})(?:" + me + ")", head):
            y, mo = int(m.group(1)), int(m.group(2))
            if 1 <= mo <= 12:
                day = calendar.monthrange(y, mo)[1]
                hits.append((m.start(), "as_of", f"{y:04d}-{mo:02d}-{day:02d}"))
        for m in re.finditer(r"(\d{4})(?:" + ye + ")", head):
            hits.append((m.start(), "as_of", f"{m.group(1)}-12-31"))
        for w in r.now_words:
            for m in re.finditer(re.escape(w), head):
                if self.date:
                    hits.append((m.start(), "as_of", self.date))
        for m in re.finditer(r"(\d{4})年(?![\d底末])", head):
            hits.append((m.start(), "period", m.group(1)))
        for w in r.period_words:
            for m in re.finditer(re.escape(w), head):
                years = [h for h in hits if h[0] < m.start()] or []
                y = next((h[2][:4] for h in sorted(years, reverse=True)), None)
                if y is None:
                    prev = re.findall(r"(\d{4})年", t.f[max(0, ss - 400):ss])
                    y = prev[-1] if prev else None
                if y:
                    hits.append((m.start(), "period", y))
        if not hits:
            return None, None, None
        hits.sort()
        pos, what, value = hits[-1]
        stock = kind in r.as_of_kinds
        if what == "as_of":
            if stock:
                as_of, why = value, "date from the text before the figure"
            else:
                period, why = value[:4], "year from the text before the figure"
        else:
            period, why = value, "year from the text before the figure"
            if stock:
                why += " (a stock: give as_of if the text says when)"
        return as_of, period, why

    def figures(self, entities: list[DraftEntity]) -> list[DraftFigure]:
        t, r = self.t, self.rules
        occ: list[tuple[int, int, DraftEntity]] = []
        for d in entities:
            for name in {_fold_name(d.zh), *(_fold_name(a) for a in d.aliases)}:
                i = t.f.find(name)
                while i >= 0:
                    occ.append((i, i + len(name), d))
                    i = t.f.find(name, i + 1)
        out: list[DraftFigure] = []
        taken: set[str] = set()
        last_by_clause: dict[int, DraftFigure] = {}
        for a, b in self._figure_matches():
            reported = t.display(a, b)
            try:
                fig = parse_figure(reported)
            except ValueError:
                continue
            checks: list[str] = []
            ind, kw, kpos = self._indicator(a, b, fig.unit)
            if ind is None:
                checks.append("no indicator keyword: choose one from indicators.yaml")
            elif kw is None:
                checks.append(f"indicator from the measure word of '{reported}'")
            else:
                checks.append(f"indicator from keyword '{kw}'")
            # about: the counted group holding the figure, else the nearest name before it
            ss, _ = t.sentence(a)
            holders = [d for s, e, d in occ if s <= a and b <= e and not d.known]
            before = [(e, -(e - s), d) for s, e, d in occ if e <= a and s >= ss]
            about = None
            if holders:
                about = holders[0].id
                checks.append("about: the counted group named with the figure")
            elif before:
                about = max(before, key=lambda x: (x[0], x[1]))[2].id
                checks.append("about: the nearest name before the figure")
            else:
                checks.append("about: no name before the figure in its sentence")
            as_of, period, why = self._dates(a, self.kinds.get(ind or ""))
            if why:
                checks.append(why)
            # "从 X 提升至 Y": Y revises X
            revision_of = None
            cs, _ = t.clause(a)
            prev = last_by_clause.get(ss)
            if prev is not None and any(t.f[max(0, a - len(w)):a] == w for w in
                                        r.revision_words):
                revision_of = prev.id
                ind = ind or prev.indicator
                checks.append(f"revision of {prev.id} (raised/lowered to)")
            lo = min(kpos, a) if kpos >= t.sentence(a)[0] else a
            q = t.quote(lo, b)
            quote, span = (q if q else ("", None))
            if q is None:
                checks.append("no unique quote found: write one")
            sid = _unique(re.sub(r"-+", "-", f"{about or 'x'}-{ind or 'figure'}"
                                 f"-{(as_of or period or 'n')[:4]}").strip("-"), taken)
            s0, e0 = t.original(a, b)
            f_ = DraftFigure(sid, reported, fig, s0, e0, ind, kw, about,
                             fig.qualifier or "exact", as_of, period, revision_of, quote, span,
                             checks)
            out.append(f_)
            last_by_clause[ss] = f_
        return out

    def years(self) -> list[tuple[str, str]]:
        t, out, seen = self.t, [], set()
        for m in re.finditer(r"(?<!\d)((?:19|20)\d{2})年(?!\d{1,2}月\d)", t.f):
            y = m.group(1)
            if y in seen:
                continue
            seen.add(y)
            q = t.quote(m.start(), m.end())
            if q:
                out.append((y, q[0]))
        return out

    def draft(self) -> Draft:
        entities = self.entities()
        return Draft(self.source, entities, self.figures(entities), self.years())


# --------------------------------------------------------------------------- project level


def _known_entities(corpus_entities: dict[str, Any], only: set[str] | None = None
                    ) -> list[KnownEntity]:
    return [KnownEntity(e.id, tuple(e.names), "EntityGroup" in e.classes)
            for e in corpus_entities.values() if only is None or e.id in only]


def source_dir(project: Any, arg: str) -> Path:
    """The folder of a source: a folder, a text file in one, or a source id."""
    p = Path(arg)
    if p.is_dir():
        return p.resolve()
    if p.is_file():
        return p.resolve().parent
    candidate = project.graph_dir / "sources" / arg
    if candidate.is_dir():
        return candidate
    raise IfkgError(f"no such source folder, text file or source id: {arg}")


def _text_of(sdir: Path) -> tuple[Path, str, dict]:
    meta: dict = {}
    meta_file = sdir / "source.yaml"
    if meta_file.exists():
        doc = load_yaml(meta_file)
        meta = dict(doc) if isinstance(doc, dict) else {}
    text_file = sdir / str(meta.get("text") or "text.txt")
    if not text_file.exists():
        txts = sorted(sdir.glob("*.txt"))
        if len(txts) != 1:
            raise IfkgError("put the source text into text.txt", sdir)
        text_file = txts[0]
    try:
        return text_file, text_file.read_text(encoding="utf-8"), meta
    except UnicodeDecodeError:
        raise IfkgError("source text is not UTF-8", text_file) from None


def _read_entities(project: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """Entities and indicator kinds through ifkg.curation (the ontology checks them)."""
    from .curation import load_corpus
    from .ontology import read_terms

    corpus, _ = load_corpus(project, read_terms(project.ontology_file))
    return corpus, {i.id: i.kind for i in corpus.indicators.values()}


def make_draft(project: Any, sdir: Path, blind_to: str | None = None) -> tuple[Draft, dict]:
    """Draft the source in ``sdir``. With ``blind_to`` the entities only that source mentions
    are treated as unknown (to measure the drafter on a source that is already curated)."""
    text_file, text, meta = _text_of(sdir)
    corpus, kinds = _read_entities(project)
    only = None
    if blind_to is not None:
        only = {m.entity for s in corpus.sources.values() if s.id != blind_to
                for m in s.mentions}
    rules = load_rules(project.graph_dir / RULES_FILE)
    date = meta.get("date")
    date = str(date) if date else None
    sid = str(meta.get("id") or sdir.name)
    taken = set(corpus.entities) if blind_to is None else set(only or ())
    drafter = Drafter(text, rules, _known_entities(corpus.entities, only), kinds, sid, date, taken)
    return drafter.draft(), {"text_file": text_file, "meta": meta, "text": text}


# --------------------------------------------------------------------------- writing


def _q(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


def render_facts(d: Draft, entities_file: str) -> str:
    """The draft facts file: YAML with ``status: draft`` and a ``# check:`` on every item."""
    lines = [
        f"# Draft facts of {d.source}, written by `ifkg draft`. Review every item: check each",
        "# `# check:` note, fix or delete the item, add relations, then remove `status: draft`.",
        f"# New entities are proposed in {entities_file} (marked draft: true).",
        f"source: {d.source}",
        "status: draft",
        "mentions:",
    ]
    for e in d.entities:
        lines.append(f"  # check: {'known' if e.known else 'NEW'} {e.id}: {e.reason}"
                     + "".join(f"; {c}" for c in e.checks))
        lines.append(f"  - entity: {e.id}")
        lines.append(f"    quote: {_q(e.quote)}")
    lines.append("relations: []  # check: add the relations the text states")
    lines.append("measurements:")
    for m in d.figures:
        lines.append("  # check: " + "; ".join(m.checks))
        lines.append(f"  - id: {m.id}")
        lines.append(f"    about: {m.about or 'null'}")
        lines.append(f"    indicator: {m.indicator or 'null'}")
        lines.append(f"    reported: {_q(m.reported)}")
        lines.append(f"    value: {_q(decimal_lexical(m.value))}")
        lines.append(f"    unit: {m.figure.unit}")
        lines.append(f"    qualifier: {m.qualifier}")
        if m.as_of:
            lines.append(f"    as_of: {m.as_of}")
        if m.period:
            lines.append(f"    period: {m.period}")
        if m.revision_of:
            lines.append(f"    revision_of: {m.revision_of}")
        lines.append(f"    quote: {_q(m.quote)}")
    if d.years:
        lines.append("# Years the text names (dates of relations):")
        for y, q in d.years:
            lines.append(f"#   {y}: {q}")
    return "\n".join(lines) + "\n"


def render_entities(d: Draft) -> str:
    """The draft entities file: one item per new candidate, each ``draft: true``."""
    lines = [f"# New entities proposed by `ifkg draft` for {d.source}. For each: keep, merge",
             "# into an existing entity, or delete; correct class, id and en; then remove",
             "# `draft: true` (the build refuses draft entities). Move them into a family file",
             "# under graph/entities/ if you like."]
    if not d.new_entities:
        lines.append("[]")
    for e in d.new_entities:
        lines.append("")
        lines.append(f"# check: {e.reason}" + "".join(f"; {c}" for c in e.checks))
        lines.append(f"- id: {e.id}")
        cls = e.classes[0] if len(e.classes) == 1 else "[" + ", ".join(e.classes) + "]"
        lines.append(f"  class: {cls}")
        if e.member_class:
            lines.append(f"  member_class: {e.member_class}")
        lines.append(f"  zh: {_q(e.zh)}")
        lines.append("  en: null")
        if e.aliases:
            lines.append("  aliases: [" + ", ".join(_q(a) for a in e.aliases) + "]")
        lines.append("  draft: true")
    return "\n".join(lines) + "\n"


def render_source(sid: str, text_file: Path, text: str) -> str:
    """A source.yaml skeleton with the text's sha256 and what the text says about itself."""
    digest = hashlib.sha256(text_file.read_bytes()).hexdigest()
    number = re.search(r"[\u4e00-\u9fff]+〔\d{4}〕\d+号", text)
    dates = re.findall(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日", text)
    date = f"{dates[-1][0]}-{int(dates[-1][1]):02d}-{int(dates[-1][2]):02d}" if dates else None
    title = next((re.sub(r"[#*]", "", ln).strip() for ln in text.splitlines()
                  if ln.strip().startswith("#")), None)
    return "\n".join([
        "# check: written by `ifkg draft`; fill in title_en, issuer and document (entity ids),",
        "# check the date and the number, then remove `status: draft`.",
        f"id: {sid}",
        f"text: {text_file.name}",
        f"sha256: {digest}",
        "document: null  # check: the entity id of this document (add it to graph/entities/)",
        f"title: {_q(title) if title else 'null'}",
        "title_en: null",
        "issuer: null  # check: the entity id of the issuer",
        f"number: {_q(number.group(0)) if number else 'null'}",
        f"date: {date or 'null'}",
        "language: zh",
        "url: null",
        "status: draft",
    ]) + "\n"


@dataclass
class Written:
    facts: Path
    entities: Path
    source: Path | None
    draft: Draft


def write_draft(project: Any, arg: str, out: Path | None = None, force: bool = False) -> Written:
    """Draft a source and write the files; refuses to overwrite curated files unless ``force``."""
    sdir = source_dir(project, arg)
    _, _, meta = _text_of(sdir)
    sid = str(meta.get("id") or sdir.name)
    facts = out or sdir / "facts.yaml"
    ent = project.graph_dir / "entities" / f"new-{sid}.yaml"
    if out is not None:
        ent = out.with_name(out.stem + ".entities.yaml")
    for p in (facts, ent):
        if p.exists() and not force:
            raise IfkgError(f"{p.name} exists: give --out FILE (or --force to overwrite)", p)
    draft, info = make_draft(project, sdir)
    facts.parent.mkdir(parents=True, exist_ok=True)
    facts.write_text(render_facts(draft, str(ent)), encoding="utf-8")
    ent.write_text(render_entities(draft), encoding="utf-8")
    src = None
    if not (sdir / "source.yaml").exists():
        src = sdir / "source.yaml"
        src.write_text(render_source(sdir.name, info["text_file"], info["text"]),
                       encoding="utf-8")
    return Written(facts, ent, src, draft)


# --------------------------------------------------------------------------- evaluation


@dataclass
class Evaluation:
    source: str
    entities: int
    entities_proposed: int
    figures: int
    figures_proposed: int
    figures_right_value: int
    figures_right_indicator: int
    figures_right_date: int
    draft_entities: int
    draft_figures: int
    missed_entities: list[str]
    missed_figures: list[str]
    wrong_values: list[str]

    def lines(self) -> list[str]:
        def pct(a: int, b: int) -> str:
            return f"{a}/{b} ({100 * a / b:.1f}%)" if b else f"{a}/{b}"

        out = [
            f"source {self.source}",
            f"entities proposed (linked or new, by name): "
            f"{pct(self.entities_proposed, self.entities)}",
            f"figures proposed (same figure in the curated quote): "
            f"{pct(self.figures_proposed, self.figures)}",
            f"figures with the right normalised value and unit: "
            f"{pct(self.figures_right_value, self.figures)}",
            "figures with the curated indicator: "
            f"{pct(self.figures_right_indicator, self.figures)}",
            "figures with the curated as_of/period: "
            f"{pct(self.figures_right_date, self.figures)}",
            f"draft size: {self.draft_entities} entities, {self.draft_figures} figures "
            f"(precision: {pct(self.entities_proposed, self.draft_entities)} entities)",
        ]
        out += [f"  missed entity: {m}" for m in self.missed_entities]
        out += [f"  missed figure: {m}" for m in self.missed_figures]
        out += [f"  wrong value: {m}" for m in self.wrong_values]
        return out


def evaluate(project: Any, source_id: str) -> Evaluation:
    """Draft ``source_id`` as if its own entities were unknown and compare with its curation."""
    from .evidence import fold

    corpus, _ = _read_entities(project)
    src = corpus.sources.get(source_id)
    if src is None:
        raise IfkgError(f"no curated source '{source_id}' (sources: {', '.join(corpus.sources)})")
    draft, _ = make_draft(project, src.dir, blind_to=source_id)
    names = {fold(e.zh) for e in draft.entities}
    for e in draft.entities:
        names.update(fold(a) for a in e.aliases)
    linked = {e.id for e in draft.entities if e.known}
    curated = sorted({m.entity for m in src.mentions})
    missed = []
    for eid in curated:
        ent = corpus.entities[eid]
        if eid in linked or any(fold(n) in names for n in ent.names):
            continue
        missed.append(f"{eid} ({ent.zh})")
    proposed = right = right_ind = right_date = 0
    missed_f, wrong = [], []
    for m in src.measurements:
        # the reported figure's own place inside the curated quote
        exact_f = fold(m.span.exact)
        k = exact_f.find(fold(m.reported))
        idx = SourceIndex(src.text)
        qstart = bisect.bisect_left(idx.positions, m.span.start)
        a = idx.positions[qstart + k]
        b = idx.positions[qstart + k + len(fold(m.reported)) - 1] + 1
        hits = [f for f in draft.figures if f.start < b and a < f.end]
        if not hits:
            missed_f.append(f"{m.id} ({m.reported})")
            continue
        proposed += 1
        if any(f.value == m.value and f.figure.unit == m.unit for f in hits):
            right += 1
        else:
            wrong.append(f"{m.id}: curated {decimal_lexical(m.value)} {m.unit}, draft "
                         + ", ".join(f"{decimal_lexical(f.value)} {f.figure.unit}" for f in hits))
        if any(f.indicator == m.indicator for f in hits):
            right_ind += 1
        if any((f.as_of, f.period) == (m.as_of, m.period) for f in hits):
            right_date += 1
    return Evaluation(source_id, len(curated), len(curated) - len(missed),
                      len(src.measurements), proposed, right, right_ind, right_date,
                      len(draft.entities), len(draft.figures), missed, missed_f, wrong)
