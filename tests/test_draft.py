"""The drafter (ifkg.draft, `ifkg draft`), draft refusal, and sources that disagree.

The second document (tests/fixtures/second-source) was written for these tests: it names
entities of the reply and new ones, and gives 995.2 亿元 for the outstanding guarantee balance
of 市担保基金 at the end of 2024, where the reply says 994.5 亿元.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli_helpers import run_ifkg
from conftest import ROOT, sparql_values
from ifkg.build import build, check
from ifkg.draft import (
    Drafter,
    evaluate,
    load_rules,
    make_draft,
    write_draft,
)
from ifkg.errors import IfkgError
from ifkg.evidence import SourceIndex, fold
from ifkg.numbers import parse_figure
from ifkg.ontology import read_terms
from ifkg.project import Project
from ifkg.yamlio import load_yaml

SECOND = Path(__file__).resolve().parent / "fixtures" / "second-source"
SID = "shfgc-notice-2025-06"
REPLY = "shstc-reply-2025-27"
RULES = ROOT / "graph" / "draft-rules.yaml"


def _copy_project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    shutil.copytree(ROOT / "graph", root / "graph")
    shutil.copytree(ROOT / "ontology", root / "ontology")
    return root


@pytest.fixture()
def fresh(tmp_path: Path) -> Project:
    """The real project plus only the text of the second source, as a researcher brings it."""
    root = _copy_project(tmp_path)
    sdir = root / "graph" / "sources" / SID
    sdir.mkdir()
    shutil.copy(SECOND / "graph" / "sources" / SID / "text.txt", sdir / "text.txt")
    return Project(root)


@pytest.fixture()
def confirmed(tmp_path: Path) -> Project:
    """The real project plus the second source as the curator confirmed it."""
    root = _copy_project(tmp_path)
    shutil.copytree(SECOND / "graph", root / "graph", dirs_exist_ok=True)
    return Project(root)


@pytest.fixture(scope="module")
def confirmed_build(tmp_path_factory: pytest.TempPathFactory):
    """One real build (with SHACL) of the project with the confirmed second source."""
    root = _copy_project(tmp_path_factory.mktemp("confirmed"))
    shutil.copytree(SECOND / "graph", root / "graph", dirs_exist_ok=True)
    project = Project(root)
    return project, build(project, write=False)


@pytest.fixture(scope="module")
def second_draft(tmp_path_factory: pytest.TempPathFactory):
    root = _copy_project(tmp_path_factory.mktemp("draft"))
    sdir = root / "graph" / "sources" / SID
    sdir.mkdir()
    shutil.copy(SECOND / "graph" / "sources" / SID / "text.txt", sdir / "text.txt")
    project = Project(root)
    return project, write_draft(project, str(sdir))


# --- the draft of the second document -------------------------------------------------------


def test_draft_links_known_entities_by_name_and_alias(second_draft):
    _, w = second_draft
    known = {e.id for e in w.draft.entities if e.known}
    # 上海临港新片区融资担保有限公司 is an alias of lingang-guarantee in the reply's entities
    assert {"spd-bank", "shanghai-financing-guarantee-fund", "shanghai-financing-guarantee-center",
            "linchuangbao", "lingang-guarantee", "tech-smes"} <= known


def test_draft_never_duplicates_a_known_entity(second_draft, project):
    _, w = second_draft
    names = set()
    for doc in (load_yaml(p) for p in (project.graph_dir / "entities").glob("*.yaml")):
        for e in doc:
            names.update(fold(n) for n in [e["zh"], *(e.get("aliases") or [])])
    dupes = [e.zh for e in w.draft.new_entities if fold(e.zh) in names]
    assert dupes == []


def test_draft_proposes_new_entities_with_class_and_ascii_id(second_draft):
    _, w = second_draft
    new = {fold(e.zh): e for e in w.draft.new_entities}
    assert new["上海农商银行"].classes == ["Bank"]
    assert new["上海农商银行"].id == "shang-hai-nong-shang-yin-hang"
    assert new["鑫科贷"].classes == ["LoanProduct"]
    assert new["紫竹科创保"].classes == ["GuaranteeProduct"]
    assert new["科技型中小企业312户"].classes == ["EntityGroup"]
    assert new["科技型中小企业312户"].member_class == "Enterprise"
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", e.id) for e in w.draft.entities)


def test_draft_figures_have_value_unit_indicator_and_date(second_draft):
    _, w = second_draft
    figs = {fold(f.reported): f for f in w.draft.figures}
    old = figs["995.2亿元"]
    assert (old.value, old.figure.unit, old.indicator, old.as_of) == (
        Decimal("99520000000"), "CNY", "outstanding-guarantee-balance", "2024-12-31")
    assert old.about == "shanghai-financing-guarantee-fund"
    new = figs["1021.3亿元"]
    assert (new.value, new.as_of) == (Decimal("102130000000"), "2025-05-31")
    cap = figs["最高1000万元"]
    assert (cap.value, cap.qualifier, cap.indicator) == (Decimal("10000000"), "at-most",
                                                         "max-loan-amount")
    fee = figs["0.6%/年"]
    assert (fee.value, fee.figure.unit, fee.indicator) == (Decimal("0.6"), "PERCENT",
                                                           "guarantee-fee-rate")
    assert figs["312户"].indicator == "member-count"
    assert len(w.draft.figures) == 9


def test_every_candidate_quote_occurs_once_with_its_offsets(second_draft):
    project, w = second_draft
    text = (project.graph_dir / "sources" / SID / "text.txt").read_text(encoding="utf-8")
    index = SourceIndex(text)
    for e in w.draft.entities:
        span = index.find(e.quote)
        assert span == e.span
        assert fold(e.zh) in fold(span.exact) or any(fold(a) in fold(span.exact)
                                                     for a in e.aliases)
    for f in w.draft.figures:
        span = index.find(f.quote)
        assert (span.start, span.end) == (f.span.start, f.span.end)
        assert span.start <= f.start < f.end <= span.end
        assert fold(text[f.start:f.end]) == fold(f.reported)


def test_draft_writes_source_skeleton_with_sha256(second_draft):
    project, w = second_draft
    assert w.source is not None
    meta = load_yaml(w.source)
    text = (project.graph_dir / "sources" / SID / "text.txt").read_bytes()
    assert meta["sha256"] == hashlib.sha256(text).hexdigest()
    assert str(meta["date"]) == "2025-06-16"
    assert meta["number"] == "沪融担〔2025〕3号"
    assert meta["status"] == "draft"


def test_draft_files_are_yaml_marked_as_drafts_with_checks(second_draft):
    _, w = second_draft
    facts_text = w.facts.read_text(encoding="utf-8")
    facts = load_yaml(w.facts)
    assert facts["status"] == "draft"
    assert facts_text.count("# check:") >= len(facts["mentions"]) + len(facts["measurements"])
    entities = load_yaml(w.entities)
    assert entities and all(e["draft"] is True for e in entities)


def test_build_refuses_a_draft_naming_file_and_line(second_draft):
    project, w = second_draft
    res = run_ifkg(project.root, "validate")
    assert res.returncode == 2
    status_line = w.facts.read_text(encoding="utf-8").splitlines().index("status: draft") + 1
    assert f"{w.facts}:{status_line}: facts file is a draft" in res.stderr
    ent_line = w.entities.read_text(encoding="utf-8").splitlines().index("  draft: true") + 1
    assert f"{w.entities}:{ent_line}: entity is a draft" in res.stderr
    assert "source is a draft" in res.stderr
    build_res = run_ifkg(project.root, "build", "--out", str(project.root / "out"))
    assert build_res.returncode == 2
    assert "is a draft" in build_res.stderr
    assert not (project.root / "out").exists()


def test_draft_cli_writes_to_out_and_never_overwrites(fresh):
    out = fresh.root / "elsewhere" / "draft.yaml"
    res = run_ifkg(fresh.root, "draft", SID, "--out", str(out))
    assert res.returncode == 0, res.stderr
    assert "known entities linked" in res.stdout and "9 figures" in res.stdout
    assert load_yaml(out)["status"] == "draft"
    assert load_yaml(out.with_name("draft.entities.yaml"))[0]["draft"] is True
    again = run_ifkg(fresh.root, "draft", SID, "--out", str(out))
    assert again.returncode == 2
    assert "draft.yaml exists" in again.stderr


def test_draft_of_a_missing_source_is_one_clear_error(fresh):
    res = run_ifkg(fresh.root, "draft", "no-such-source")
    assert res.returncode == 2
    assert res.stderr.startswith("ifkg: error: no such source folder")


# --- the confirmed second source in one graph -----------------------------------------------


def test_confirmed_second_source_builds_one_graph(confirmed_build):
    store = confirmed_build[1].compiled.store()
    rows = sparql_values(store, """SELECT ?src WHERE {
        ent:spd-bank ifkg:mentionedIn ?src } ORDER BY ?src""")
    assert [r[0].rsplit("/", 1)[1] for r in rows] == [SID, REPLY]
    rows = sparql_values(store, """SELECT (COUNT(DISTINCT ?e) AS ?n) WHERE {
        ?e skos:prefLabel "浦发银行"@zh }""")
    assert rows == [("1",)]
    rows = sparql_values(store, """SELECT ?who WHERE { ?who ifkg:launches ent:xinkedai }
        ORDER BY ?who""")
    assert [r[0].rsplit("/", 1)[1] for r in rows] == ["shanghai-financing-guarantee-fund",
                                                      "shanghai-rural-commercial-bank"]


def test_sources_that_disagree_both_stay_and_later_date_is_new(confirmed_build):
    store = confirmed_build[1].compiled.store()
    rows = sparql_values(store, """SELECT ?when ?value ?src WHERE {
        ?m ifkg:about ent:shanghai-financing-guarantee-fund ;
           ifkg:indicator <https://w3id.org/ifkg/id/indicator/outstanding-guarantee-balance> ;
           ifkg:asOf ?when ; schema:value ?value ; prov:wasDerivedFrom ?src }
        ORDER BY ?when ?value""")
    assert [(w, v, s.rsplit("/", 1)[1]) for w, v, s in rows] == [
        ("2024-12-31", "99450000000", REPLY),
        ("2024-12-31", "99520000000", SID),
        ("2025-05-31", "102130000000", SID),
    ]


def test_validate_warns_about_disagreeing_sources_at_the_later_one(confirmed_build):
    project, result = confirmed_build
    warnings = [p for p in result.warnings if "sources disagree" in p.message]
    assert len(warnings) == 1
    w = warnings[0]
    assert w.severity == "warning"
    facts = project.graph_dir / "sources" / SID / "facts.yaml"
    assert Path(w.file) == facts
    lines = facts.read_text(encoding="utf-8").splitlines()
    assert lines[w.line - 1] == "  - id: sfgf-outstanding-balance-2024"
    assert "994.5 亿元" in w.message and "995.2 亿元" in w.message
    assert str(w).startswith(f"{facts}:{w.line}: warning: sources disagree")


def test_no_warning_when_the_sources_agree(confirmed):
    facts = confirmed.graph_dir / "sources" / SID / "facts.yaml"
    text = facts.read_text(encoding="utf-8").replace("在保余额 995.2 亿元", "在保余额 994.5 亿元")
    text = text.replace("reported: 995.2 亿元", "reported: 994.5 亿元")
    facts.write_text(text, encoding="utf-8")
    src = confirmed.graph_dir / "sources" / SID
    body = (src / "text.txt").read_text(encoding="utf-8").replace("995.2", "994.5")
    (src / "text.txt").write_text(body, encoding="utf-8")
    meta = (src / "source.yaml").read_text(encoding="utf-8")
    digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
    (src / "source.yaml").write_text(re.sub(r"sha256: \w+", f"sha256: {digest}", meta),
                                     encoding="utf-8")
    _, _, problems = check(confirmed, shapes=False)
    assert [p for p in problems if p.severity == "error"] == []
    assert [p for p in problems if "sources disagree" in p.message] == []


def test_entity_marked_draft_is_refused_in_mini(mini):
    path = mini.graph_dir / "entities" / "demo.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("  zh: 示例银行\n", "  zh: 示例银行\n  draft: true\n", 1),
                    encoding="utf-8")
    with pytest.raises(IfkgError) as exc:
        build(mini, write=False)
    p = exc.value.first
    assert "entity is a draft" in p.message
    assert (Path(p.file).name, p.line) == ("demo.yaml", 4)


# --- evaluation -----------------------------------------------------------------------------


def test_evaluate_on_the_second_document(confirmed):
    ev = evaluate(confirmed, SID)
    assert (ev.figures, ev.figures_proposed, ev.figures_right_value) == (9, 9, 9)
    assert ev.entities == 16
    assert ev.entities_proposed >= 14
    # the shared entities are known to the blind draft (from the reply), so they are linked
    draft, _ = make_draft(confirmed, confirmed.graph_dir / "sources" / SID, blind_to=SID)
    assert "spd-bank" in {e.id for e in draft.entities if e.known}


def test_evaluate_on_the_reply_meets_the_aims(project):
    """`ifkg draft --evaluate` on the reply: ≥ 90% of entities, ≥ 95% of figures and values."""
    res = run_ifkg(project.root, "draft", "--evaluate", REPLY)
    assert res.returncode == 0, res.stderr

    def ratio(label: str) -> tuple[int, int]:
        m = re.search(re.escape(label) + r".*?: (\d+)/(\d+)", res.stdout)
        assert m, (label, res.stdout)
        return int(m.group(1)), int(m.group(2))

    got, total = ratio("entities proposed")
    assert total >= 150 and got / total >= 0.90, res.stdout
    got, total = ratio("figures proposed")
    assert total >= 45 and got / total >= 0.95, res.stdout
    got, total = ratio("figures with the right normalised value")
    assert got / total >= 0.95, res.stdout


# --- the rules are data ---------------------------------------------------------------------


def test_rules_name_only_ontology_classes_and_known_indicators(project):
    rules = load_rules(RULES)
    terms = read_terms(project.ontology_file)
    classes = {r.cls for r in rules.suffixes} | {c for _, c in rules.enumerations}
    classes |= {c for _, c in rules.gazetteer} | {c for _, c in rules.title_endings}
    for q in rules.quotes:
        classes |= {c for _, c in q.endings} | ({q.cls} if q.cls else set())
    assert classes - terms.classes == set()
    indicators = {i["id"] for i in load_yaml(project.graph_dir / "indicators.yaml")}
    used = {i for _, i in rules.indicators} | set(rules.measure_words.values())
    assert used - indicators == set()


def test_a_bad_rule_names_file_and_line(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text("suffixes:\n  - {suffix: 银行, class: Bank}\n  - {suffix: 集团}\n",
                    encoding="utf-8")
    with pytest.raises(IfkgError) as exc:
        load_rules(path)
    assert (exc.value.first.line, "needs 'suffix' and 'class'" in exc.value.first.message) == (
        3, True)


def test_a_new_suffix_in_the_rules_needs_no_code(tmp_path):
    rules_text = RULES.read_text(encoding="utf-8").replace(
        "suffixes:\n", "suffixes:\n  - {suffix: 开发区, class: Park}\n", 1)
    path = tmp_path / "rules.yaml"
    path.write_text(rules_text, encoding="utf-8")
    text = "市担保基金与紫竹高新技术产业开发区合作推出“紫竹科创保”。"
    d = Drafter(text, load_rules(path), [], {}, "t", None, set()).draft()
    assert ("紫竹高新技术产业开发区", ["Park"]) in [(e.zh, e.classes) for e in d.entities]


_CHARS = st.sampled_from(list("市担保基金银行有限公司与联合推出截至年底在保余额亿元万家户个"
                              "%，。、“”《》0123456789. \n#*上海浦发科技企业"))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(_CHARS, min_size=1, max_size=120))
def test_drafter_survives_any_text_and_quotes_what_it_finds(text):
    rules = load_rules(RULES)
    d = Drafter(text, rules, [], {"member-count": "count"}, "t", "2025-01-01", set()).draft()
    index = SourceIndex(text)
    for e in d.entities:
        if e.span is not None:
            assert index.find(e.quote) == e.span
    for f in d.figures:
        assert parse_figure(f.reported).value == f.value
        assert fold(text[f.start:f.end]) == fold(f.reported)
