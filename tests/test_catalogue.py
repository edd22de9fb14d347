"""The catalogue of research queries: headers, safe parameters, the answers the reply gives,
and the same answers on rdflib's own memory store."""

from __future__ import annotations

import hashlib
import shutil
from decimal import Decimal
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli_helpers import run_ifkg
from ifkg import catalogue, sparql
from ifkg.build import BuildResult, build
from ifkg.errors import IfkgError
from ifkg.namespaces import prefixes
from ifkg.project import Project

BASE = "https://w3id.org/ifkg/"
ENT = BASE + "id/entity/"
IFKG = "https://w3id.org/ifkg/def#"
XSD = "http://www.w3.org/2001/XMLSchema#"
NUMERIC = {XSD + t for t in ("decimal", "integer", "double", "float", "int", "long",
                             "nonNegativeInteger")}
SOURCE = "shstc-reply-2025-27"

# rdflib's Dataset warns on every triple lookup of its memory store; the flood slows it down
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def short(term: object) -> object:
    """A term as a plain value: entity ids, ifkg local names, numbers as Decimal."""
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        v = term.value
        for ns in (ENT, IFKG, BASE + "id/indicator/", BASE + "id/source/"):
            if v.startswith(ns):
                return v[len(ns):]
        return v
    if isinstance(term, ox.Literal):
        if term.datatype.value in NUMERIC:
            return Decimal(term.value)
        return term.value
    return str(term)


def run(store: ox.Store, name: str, **params: str) -> list[dict[str, object]]:
    cq = catalogue.get(name)
    values = catalogue.bindings(store, cq, params, BASE)
    result = sparql.execute(store, sparql.prepare(cq.text, base=BASE, name=name),
                            bindings=values)
    return [{v: short(t) for v, t in zip(result.variables, row, strict=True)}
            for row in result.rows()]


# ---------------------------------------------------------------------------------------------
# the files


def test_catalogue_has_at_least_15_queries_with_full_headers() -> None:
    cat = catalogue.catalogue()
    assert len(cat) >= 15
    for name, cq in cat.items():
        assert cq.title and cq.title_zh and cq.description, name
        assert any("\u4e00" <= ch <= "\u9fff" for ch in cq.title_zh), name
        for p in cq.params:
            assert p.type in catalogue.PARAM_TYPES and p.meaning, (name, p)
        prepared = sparql.prepare(cq.text, base=BASE, name=name)
        assert prepared.form == "SELECT"
    # a description runs over several "#   …" lines
    assert "ending at a financial product" in cat["funding-channels"].description


def test_queries_read_edge_kinds_from_the_ontology(project: Project) -> None:
    """A query names a relation property only to ask for it with its sub-properties."""
    import re

    from ifkg.ontology import read_terms

    terms = read_terms(project.ontology_file)
    for name, cq in catalogue.catalogue().items():
        body = "\n".join(line for line in cq.text.splitlines() if not line.startswith("#"))
        for prop in terms.relations:
            for m in re.finditer(rf"(\S+)\s+ifkg:{prop}\b", body):
                assert m.group(1) in ("rdfs:subPropertyOf*", "rdfs:subPropertyOf+"), (name, prop)


def test_header_parsing_reports_file_and_line() -> None:
    with pytest.raises(IfkgError) as err:
        catalogue.parse_header("x", "# title: t\n# title_zh: 题\n# description: d\n"
                                    "# param: oops\nSELECT * {}")
    assert (err.value.first.file, err.value.first.line) == ("x.rq", 4)
    with pytest.raises(IfkgError, match="type"):
        catalogue.parse_header("x", "# title: t\n# title_zh: 题\n# description: d\n"
                                    "# param: a — b (type colour)\nSELECT * {}")
    with pytest.raises(IfkgError, match="title_zh"):
        catalogue.parse_header("x", "# title: t\n# description: d\nSELECT * {}")
    cq = catalogue.parse_header("x", "# param: who — a name (with a note) (type entity; "
                                     "default 临创保)\nSELECT * {}", strict=False)
    assert cq.params[0] == catalogue.Param("who", "a name (with a note)", "entity", "临创保")


def test_unknown_names_and_parameters_are_clear_errors(store: ox.Store) -> None:
    with pytest.raises(IfkgError, match="joint-products"):
        catalogue.get("joint-product")
    cq = catalogue.get("entity-figures")
    with pytest.raises(IfkgError, match="no parameter 'who'.*entity"):
        catalogue.bindings(store, cq, {"who": "x"}, BASE)
    with pytest.raises(IfkgError, match="unknown entity"):
        catalogue.bindings(store, cq, {"entity": "没有这个机构"}, BASE)
    with pytest.raises(IfkgError, match="unknown class 'Guarantee'.*GuaranteeFund"):
        catalogue.bindings(store, catalogue.get("products-by-kind"), {"kind": "Guarantee"}, BASE)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(st.text(max_size=30) | st.sampled_from(['"}', "'} UNION { ?s ?p ?o }", "临创保\" }",
                                               "> } DELETE WHERE { ?s ?p ?o } #", "\\u0022"]))
def test_a_parameter_is_one_term_whatever_it_holds(store: ox.Store, value: str) -> None:
    """A string parameter holding braces or quotes matches exactly that string, no more."""
    cq = catalogue.parse_header("by-label", "# param: label — a zh label (type string)\n"
                                "SELECT ?label ?e WHERE { ?e skos:prefLabel ?l "
                                "FILTER(STR(?l) = ?label) }", strict=False)
    values = catalogue.bindings(store, cq, {"label": value}, BASE)
    result = sparql.execute(store, sparql.prepare(cq.text, base=BASE), bindings=values,
                            timeout=None)
    want = {q.subject.value for q in store.quads_for_pattern(
        None, ox.NamedNode("http://www.w3.org/2004/02/skos/core#prefLabel"), None, None)
        if q.object.value == value}
    assert {row[1].value for row in result.rows()} == want


def test_entity_parameters_are_resolved_not_spliced(store: ox.Store) -> None:
    for hostile in ['临创保" } UNION { ?s ?p ?o', "临创保> } #", "}"]:
        with pytest.raises(IfkgError, match="entity"):
            run(store, "entity-figures", entity=hostile)
    # ids, zh and en names and aliases all work
    by_id = run(store, "joint-products", product="linchuangbao")
    assert run(store, "joint-products", product="临创保") == by_id
    assert run(store, "joint-products", product="Linchuangbao (Lingang innovation guarantee) "
                                                "batch guarantee") == by_id


# ---------------------------------------------------------------------------------------------
# each query, and the answer the reply gives


def test_entity_figures_of_the_municipal_guarantee_fund(store: ox.Store) -> None:
    rows = run(store, "entity-figures")  # default: 市担保基金
    assert {r["entity"] for r in rows} == {"shanghai-financing-guarantee-fund"}
    (balance,) = [r for r in rows if r["indicator"] == "outstanding-guarantee-balance"]
    assert balance["reported"] == "994.5 亿元"
    assert balance["value"] == Decimal("99450000000")
    assert balance["as_of"] == "2024-12-31" and balance["qualifier"] == "exact"
    assert balance["unit"] == "http://qudt.org/vocab/unit/CCY_CNY"
    assert "市担保基金在保余额994.5亿元" in balance["sentence"].replace(" ", "")
    assert balance["source"] == SOURCE
    fee = [r for r in rows if r["indicator"] == "guarantee-fee-rate"]
    assert [(r["reported"], r["value"]) for r in fee] == [("0.5%/年", Decimal("0.5"))]
    pudong = run(store, "entity-figures", entity="浦东科技融资担保有限公司")
    assert [(r["reported"], r["value"], r["period"]) for r in pudong
            if r["indicator"] == "inclusive-tech-guarantee-total"] == \
        [("16 亿元", Decimal("1600000000"), "2024")]


def test_joint_products_linchuangbao_and_its_three_launchers(store: ox.Store) -> None:
    rows = run(store, "joint-products")
    by_product: dict[str, set] = {}
    for r in rows:
        by_product.setdefault(r["product"], set()).add(r["partner"])
        assert r["partners"] == len({x["partner"] for x in rows if x["product"] == r["product"]})
    assert by_product["linchuangbao"] == {"shanghai-financing-guarantee-fund",
                                          "fengxian-guarantee", "lingang-guarantee"}
    assert by_product["kedandai"] == {"spd-bank", "shanghai-financing-guarantee-center"}
    assert by_product["zhaobaodai"] == {"jiading-guarantee", "jiaze-media",
                                        "jiading-guoxin-microloan"}
    assert by_product["wanqudai"] == {"shanghai-financing-guarantee-fund", "jinkai-guarantee"}
    assert all(len(v) > 1 for v in by_product.values())
    assert "meigudai" not in by_product  # one provider only
    one = run(store, "joint-products", product="临创保")
    assert {r["partner"] for r in one} == by_product["linchuangbao"]
    assert all("临创保" in r["quote"] for r in one)
    assert rows[0]["partners"] == 3  # most partners first


def test_products_by_kind_and_provider(store: ox.Store) -> None:
    insurance = run(store, "products-by-kind", kind="InsuranceProduct")
    cpic = {r["product"] for r in insurance if r["provider"] == "cpic"}
    assert cpic == {"tech-achievement-transfer-cost-loss-insurance",
                    "hnte-accreditation-cost-compensation-insurance",
                    "rd-project-cost-loss-insurance", "pct-patent-application-cost-insurance"}
    assert {r["kind"] for r in insurance} == {"InsuranceProduct"}
    batch = run(store, "products-by-kind", kind="ifkg:BatchGuaranteeProduct")
    assert {"linchuangbao", "wanqudai", "kedandai", "shanghui-picidai"} <= \
        {r["product"] for r in batch}
    every = run(store, "products-by-kind")
    assert {r["kind"] for r in every} == {"FinancialProduct"}
    classes = {(r["product"], r["class"]) for r in every}
    assert {("kedandai", "BatchGuaranteeProduct"), ("kedandai", "LoanProduct"),
            ("hukezhuandai", "RelendingTool")} <= classes
    assert [r["provider"] for r in every if r["product"] == "hukezhuandai"] == [None]
    assert not any(r["product"] == "linked-financing-products" for r in every)  # a group


def test_guarantee_institutions_balances_growth_and_share(store: ox.Store) -> None:
    rows = run(store, "guarantee-institutions")
    got = {(r["institution"], r["indicator"]): (r["value"], r["as_of"] or r["period"])
           for r in rows}
    assert got[("shanghai-financing-guarantee-fund", "outstanding-guarantee-balance")] == \
        (Decimal("99450000000"), "2024-12-31")
    assert got[("shanghai-guarantee-institutions", "tech-guarantee-balance")] == \
        (Decimal("12814000000"), "2024-12-31")
    assert got[("shanghai-guarantee-institutions", "yoy-growth")][0] == Decimal("27.35")
    assert got[("shanghai-guarantee-institutions", "share-of-total-guarantee-balance")][0] == 11
    assert got[("three-tech-focused-guarantee-institutions",
                "share-of-tech-guarantee-business")][0] == 50
    assert got[("shanghai-financing-guarantee-fund", "yoy-growth")] == (Decimal("27.86"), "2024")
    assert not any(k[1] == "guarantee-fee-rate" for k in got)  # a rate, not growth
    one = run(store, "guarantee-institutions", institution="市担保基金")
    assert {r["institution"] for r in one} == {"shanghai-financing-guarantee-fund"}


def test_timeline_of_funds_and_policies(store: ox.Store) -> None:
    rows = run(store, "timeline")
    dates = [r["date"] for r in rows]
    assert dates == sorted(dates)
    events = {(r["date"], r["actor"], r["relation"], r["object"]) for r in rows}
    assert ("2010", "shanghai-municipality", "establishes", "shanghai-vc-guidance-fund") in events
    assert ("2014", "shanghai-municipality", "establishes", "shanghai-angel-guidance-fund") \
        in events
    assert ("2024", "shanghai-municipality", "establishes", "future-industry-fund") in events
    assert ("2024", "party-committee-financial-office", "issues",
            "five-major-articles-action-plan") in events
    assert ("2025-05-19", "shanghai-stc", "issues", "reply-2025-27") in events
    group = [r for r in rows if r["object"] == "three-leading-industry-funds"]
    assert [r["class"] for r in group] == ["IndustryFund"]  # the class of its members
    assert not any(r["relation"] in ("cooperatesWith", "guides") for r in rows)


def test_policy_documents_and_issuers(store: ox.Store) -> None:
    rows = run(store, "policy-documents")
    issuers: dict[str, set] = {}
    for r in rows:
        issuers.setdefault(r["document"], set()).add((r["issuer"], r["date"]))
    both = {("party-committee-financial-office", "2024"), ("pboc-shanghai-head-office", "2024")}
    assert issuers["five-major-articles-action-plan"] == both
    assert issuers["tech-finance-service-capacity-action-plan"] == both
    assert issuers["special-guarantee-plan-notice"] == {(None, None)}  # issuer not named
    assert issuers["reply-2025-27"] == {("shanghai-stc", "2025-05-19"),
                                        ("shanghai-stc-office", "2025-05-19")}
    assert {r["class"] for r in rows if r["document"] == "policy-document-series"} == \
        {"PolicyDocument"}


def test_parks_and_zones_with_their_partners(store: ox.Store) -> None:
    rows = run(store, "parks-and-partners")
    pairs = {(r["place"], r["partner"], r["relation"]) for r in rows}
    assert ("eight-featured-industrial-parks", "jiading-guarantee", "cooperatesWith") in pairs
    assert ("three-economic-cities", "jiading-guarantee", "cooperatesWith") in pairs
    assert ("tech-parks", "district-government-guarantee-institutions", "cooperatesWith") in pairs
    assert ("tech-parks", "eight-district-guarantee-institutions", "cooperatesWith") in pairs
    assert ("lingang-special-area", "lingang-guarantee", "locatedIn") in pairs
    nusp = {r["district"] for r in rows if r["place"] == "national-university-science-parks"}
    assert nusp == {"xuhui", "changning"}
    assert not any(r["place"] in ("xuhui", "jiading") for r in rows)  # districts are not parks
    one = run(store, "parks-and-partners", place="8 个特色产业园区")
    assert {r["partner"] for r in one} == {"jiading-guarantee"}


def test_policy_parameters_before_and_after(store: ox.Store) -> None:
    rows = run(store, "policy-changes")
    got = {(r["entity"], r["indicator"]): (r["before"], r["before_value"], r["after"],
                                           r["after_value"], r["change"]) for r in rows}
    assert got == {
        ("shanghai-financing-guarantee-fund", "single-borrower-guarantee-cap"):
            ("2000 万元", 20000000, "3000 万元", 30000000, 10000000),
        ("tech-special-batch-package", "compensation-cap"): ("3%", 3, "5%", 5, 2),
        ("tech-special-reguarantee-batch-package", "compensation-cap"): ("4%", 4, "5%", 5, 1),
        ("policy-agri-credit-guarantee-fund", "fund-size"):
            ("2 亿元", 200000000, "5 亿元", 500000000, 300000000),
        ("startup-guaranteed-loan-fund", "fund-size"):
            ("2 亿元", 200000000, "5 亿元", 500000000, 300000000),
    }
    assert all(r["before"].replace(" ", "") in r["quote"].replace(" ", "") and
               r["after"].replace(" ", "") in r["quote"].replace(" ", "") for r in rows)


def test_subsidy_programmes_rates_and_caps(store: ox.Store) -> None:
    rows = run(store, "subsidy-programmes")
    facts = {(r["programme"], r["aspect"], r["value"], r["number"]) for r in rows}
    assert len(facts) == len(rows)   # one row per fact, no cartesian product of aspects
    clinical = {f[1:] for f in facts if f[0] == "clinical-trial-insurance-compensation-mechanism"}
    assert clinical == {("rate", "50%", 50), ("cap", "最高50万元", 500000),
                        ("covers", "clinical-trial-liability-insurance", None),
                        ("beneficiary", "medical-institutions", None),
                        ("beneficiary", "clinical-trial-insured-enterprises", None)}
    premium = {f[1:] for f in facts if f[0] == "loan-performance-insurance-premium-subsidy"}
    assert {v for a, v, _ in premium if a == "covers"} == {
        "loan-performance-guarantee-insurance", "keji-lvyue-dai", "kechuang-zhuli-dai",
        "xiaojuren-xinyong-dai"}
    assert not {a for a, _, _ in premium} & {"rate", "cap"}  # the text gives no rate for it


def test_the_sentence_behind_an_edge(store: ox.Store, project: Project) -> None:
    text = (project.graph_dir / "sources" / SOURCE / "text.txt").read_text(encoding="utf-8")
    rows = run(store, "edge-evidence", subject="市担保基金", object="临创保")
    assert len(rows) == 1
    (r,) = rows
    assert r["relation"] == "launches" and r["source"] == SOURCE
    assert text[int(r["start"]):int(r["end"])] == r["quote"]
    assert "联合推出“临创保”批次担保业务" in r["quote"]
    assert r["quote"].replace("\n", "") in r["sentence"].replace("\n", "") or \
        "临创保" in r["sentence"]
    from ruamel.yaml import YAML

    facts = YAML(typ="safe").load((project.graph_dir / "sources" / SOURCE / "facts.yaml")
                                  .read_text(encoding="utf-8"))
    every = run(store, "edge-evidence")
    assert len(every) == len(facts["relations"])  # one row per relation statement
    assert all(text[int(x["start"]):int(x["end"])] == x["quote"] for x in every)
    dated = [x for x in every if x["subject"] == "shanghai-municipality"
             and x["object"] == "shanghai-vc-guidance-fund"]
    assert [x["date"] for x in dated] == ["2010"]


def test_coverage_by_district(store: ox.Store) -> None:
    rows = run(store, "coverage-by-district")
    items: dict[str, set] = {}
    for r in rows:
        items.setdefault(r["district"], set()).add((r["item"], r["via"]))
        assert r["items"] == len({x["item"] for x in rows if x["district"] == r["district"]})
    assert {i for i, _ in items["jiading"]} == {"jiading-guarantee", "jiading-kejia-demo-park",
                                                "jiading-new-city-hq-business-district"}
    assert ("minhang-dalinghao-financing-service-center-station", "dalinghao-bay") in \
        items["minhang"]
    assert {"national-university-science-parks", "incubators"} <= {i for i, _ in items["xuhui"]}
    assert {"pudong-tech-guarantee", "pudong-citizen-service-center-station"} <= \
        {i for i, _ in items["pudong"]}
    assert {i for i, _ in items["fengxian"]} == {"fengxian-guarantee"}


def test_organisations_in_more_than_one_role(store: ox.Store) -> None:
    rows = run(store, "multi-role-organisations")
    kinds: dict[str, set] = {}
    for r in rows:
        kinds.setdefault(r["organisation"], set()).add(r["kind"])
        assert r["kinds"] >= 2
    for org, ks in kinds.items():
        assert {r["kinds"] for r in rows if r["organisation"] == org} == {len(ks)}
    assert kinds["shanghai-financing-guarantee-fund"] == {
        "fundingRelation", "collaborationRelation", "governanceRelation"}
    sfgf = {(r["kind"], r["relation"]): r["edges"] for r in rows
            if r["organisation"] == "shanghai-financing-guarantee-fund"}
    assert sfgf[("fundingRelation", "launches")] == 3  # 湾区贷, 临创保, 商会批次贷
    assert sfgf[("governanceRelation", "establishes")] == 1
    assert "lingang-guarantee" in kinds and "placeRelation" in kinds["lingang-guarantee"]


def test_funding_channels_from_government_bodies(store: ox.Store) -> None:
    rows = run(store, "funding-channels")
    paths = {tuple(r[k] for k in ("government", "step1", "node1", "step2", "node2", "step3",
                                  "recipient")) for r in rows}
    assert ("party-committee-and-government", "funds", "shanghai-financing-guarantee-fund",
            "launches", None, None, "linchuangbao") in paths
    assert ("party-committee-and-government", "funds", "shanghai-financing-guarantee-fund",
            "reGuarantees", "government-guarantee-institutions", "guarantees",
            "sci-tech-innovation-smes") in paths
    assert ("shanghai-municipality", "establishes", "shanghai-vc-guidance-fund", "investsIn",
            None, None, "vc-target-startups") in paths
    assert ("party-committee-financial-office", "establishes", None, None, None, None,
            "linked-financing-products") in paths
    one = run(store, "funding-channels", government="市委市政府")
    assert {r["government"] for r in one} == {"party-committee-and-government"}
    assert len(one) == len([p for p in paths if p[0] == "party-committee-and-government"])


def test_sources_with_their_counts(store: ox.Store, project: Project) -> None:
    from ruamel.yaml import YAML

    facts = YAML(typ="safe").load((project.graph_dir / "sources" / SOURCE / "facts.yaml")
                                  .read_text(encoding="utf-8"))
    rows = run(store, "sources")
    (r,) = [x for x in rows if x["source"] == SOURCE]
    assert (r["number"], r["issuer"], r["issued"]) == ("沪科建复〔2025〕27号", "shanghai-stc",
                                                       "2025-05-19")
    assert r["statements"] == len(facts["relations"])
    assert r["figures"] == len(facts["measurements"])
    assert r["mentions"] == len({m["entity"] for m in facts["mentions"]})
    sha = hashlib.sha256((project.graph_dir / "sources" / SOURCE / "text.txt").read_bytes())
    assert r["sha256"] == sha.hexdigest()


def test_entities_by_class(store: ox.Store) -> None:
    banks = run(store, "entities-by-class", **{"class": "Bank"})
    names = {r["entity"]: r for r in banks}
    assert names["spd-bank"]["zh"] == "浦发银行" and names["spd-bank"]["sources"] == 1
    assert names["commercial-banks"]["member_class"] == "Bank"  # a group of banks counts
    assert "cpic" not in names
    orgs = run(store, "entities-by-class")  # default: Organization
    assert {"spd-bank", "cpic", "shanghai-stc", "jiaze-media"} <= {r["entity"] for r in orgs}
    assert "linchuangbao" not in {r["entity"] for r in orgs}


def test_edge_kinds_read_from_the_ontology(store: ox.Store, project: Project) -> None:
    from ruamel.yaml import YAML

    from ifkg.ontology import read_terms

    terms = read_terms(project.ontology_file)
    rows = run(store, "edge-kinds")
    got: dict[str, set] = {}
    for r in rows:
        got.setdefault(r["relation"], set()).add(r["kind"].removesuffix("Relation"))
    assert {k: frozenset(v) for k, v in got.items()} == dict(terms.kinds)
    facts = YAML(typ="safe").load((project.graph_dir / "sources" / SOURCE / "facts.yaml")
                                  .read_text(encoding="utf-8"))
    launches = sum(1 for x in facts["relations"] if x["predicate"] == "launches")
    assert {r["edges"] for r in rows if r["relation"] == "launches"} == {launches}


def test_no_conflicting_figures_in_the_reply(store: ox.Store) -> None:
    assert run(store, "conflicting-figures") == []


def _add_second_source(root: Path, balance: str) -> None:
    """A second document that reports the demo centre's balance at the same date."""
    text = f"# 示例通报\n\n截至 2024 年底，示例担保中心在保余额 {balance}。\n"
    folder = root / "graph" / "sources" / "demo2"
    folder.mkdir()
    (folder / "text.txt").write_text(text, encoding="utf-8")
    sha = hashlib.sha256(text.encode()).hexdigest()
    (folder / "source.yaml").write_text(
        f"id: demo2\ntext: text.txt\nsha256: {sha}\ndocument: demo-notice\ntitle: 示例通报\n"
        "issuer: demo-centre\ndate: 2025-02-03\nlanguage: zh\nurl: null\n", encoding="utf-8")
    (folder / "facts.yaml").write_text(
        "source: demo2\nmentions:\n  - entity: demo-notice\n    quote: 示例通报\n"
        "  - entity: demo-centre\n    quote: 示例担保中心在保余额\nrelations: []\n"
        "measurements:\n  - id: centre-balance-2024\n    about: demo-centre\n"
        "    indicator: outstanding-guarantee-balance\n"
        f"    reported: {balance}\n    as_of: 2024-12-31\n"
        f"    quote: 截至 2024 年底，示例担保中心在保余额 {balance}\n", encoding="utf-8")
    entities = root / "graph" / "entities" / "demo.yaml"
    entities.write_text(entities.read_text(encoding="utf-8") +
                        "- id: demo-notice\n  class: PolicyDocument\n  zh: 示例通报\n"
                        "  en: A sample notice\n", encoding="utf-8")


def test_conflicting_figures_from_two_sources(mini: Project) -> None:
    _add_second_source(mini.root, "13 亿元")
    store = build(mini, write=False).compiled.store()
    rows = run(store, "conflicting-figures")
    assert len(rows) == 1
    (r,) = rows
    assert (r["entity"], r["indicator"], r["when"]) == ("demo-centre",
                                                        "outstanding-guarantee-balance",
                                                        "2024-12-31")
    assert {(r["reported_a"], r["value_a"], r["source_a"]),
            (r["reported_b"], r["value_b"], r["source_b"])} == {
        ("12.5 亿元", Decimal("1250000000"), "demo"), ("13 亿元", Decimal("1300000000"), "demo2")}
    assert run(store, "conflicting-figures", entity="示例担保中心") == rows
    # a revision within one source (2000 → 3000 万元) is a change, not a conflict
    assert not any(x["indicator"] == "single-borrower-cap" for x in rows)


def test_the_same_figure_from_two_sources_is_no_conflict(mini: Project) -> None:
    _add_second_source(mini.root, "12.5 亿元")
    assert run(build(mini, write=False).compiled.store(), "conflicting-figures") == []


# ---------------------------------------------------------------------------------------------
# the command line on the real graph


@pytest.fixture(scope="module")
def real_copy(built: BuildResult, project: Project,
              tmp_path_factory: pytest.TempPathFactory) -> Project:
    """The repository's graph/ and ontology/ with current exports, in a temporary folder."""
    root = tmp_path_factory.mktemp("real") / "ifkg"
    shutil.copytree(project.graph_dir, root / "graph")
    shutil.copytree(project.ontology_dir, root / "ontology")
    (root / "exports").mkdir()
    for name, data in built.files.items():
        (root / "exports" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "exports" / name).write_bytes(data)
    return Project(root)


def test_cli_lists_the_catalogue(real_copy: Project) -> None:
    r = run_ifkg(real_copy.root, "queries")
    assert r.returncode == 0
    for name, cq in catalogue.catalogue().items():
        line = next(x for x in r.stdout.splitlines() if x.startswith(name + " "))
        assert cq.title_zh in line
    shown = run_ifkg(real_copy.root, "queries", "joint-products")
    assert "--param product=" in shown.stdout and "SELECT" in shown.stdout


def test_cli_runs_a_catalogue_query_with_a_parameter(real_copy: Project) -> None:
    from ifkg.build import is_current

    assert is_current(real_copy)  # so the command reads exports/ifkg.nq, compiling nothing
    r = run_ifkg(real_copy.root, "query", "--name", "joint-products", "--param",
                 "product=临创保", "--format", "table")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["product", "partners", "partner", "relation", "quote"]
    partners = {line.split()[2] for line in lines[2:] if line.startswith("临创保")}
    assert partners == {"市担保基金", "奉贤融资担保有限公司", "临港新片区融资担保有限公司"}
    assert lines[-1] == "(3 rows)"
    csv = run_ifkg(real_copy.root, "query", "--name", "policy-changes", "--format", "csv")
    parsed = rdflib.query.Result.parse(__import__("io").BytesIO(csv.stdout.encode()),
                                       format="csv")
    caps = {(str(b[rdflib.Variable("before")]), str(b[rdflib.Variable("after")]))
            for b in parsed.bindings}
    assert {("2000 万元", "3000 万元"), ("3%", "5%"), ("4%", "5%")} <= caps
    bad = run_ifkg(real_copy.root, "query", "--name", "joint-products", "--param", "nope=1")
    assert bad.returncode == 2 and "no parameter 'nope'" in bad.stderr


# ---------------------------------------------------------------------------------------------
# the same answers on rdflib's own memory store


def normalise(term: object) -> object:
    """An RDF term as a comparable value: numbers by value, language tags in lower case,
    plain and xsd:string literals alike; blank nodes all alike."""
    if term is None:
        return None
    if isinstance(term, ox.NamedNode | rdflib.URIRef):
        return ("iri", term.value if isinstance(term, ox.NamedNode) else str(term))
    if isinstance(term, ox.BlankNode | rdflib.BNode):
        return ("bnode",)
    if isinstance(term, ox.Literal):
        value, lang = term.value, term.language
        dtype = None if lang else term.datatype.value
    else:
        value, lang = str(term), term.language
        dtype = None if lang else (str(term.datatype) if term.datatype else None)
    if dtype in NUMERIC:
        return ("number", Decimal(value).normalize())
    if dtype == XSD + "string":
        dtype = None
    return ("literal", value, (lang or "").lower(), dtype)


def test_normalise_equates_what_the_two_engines_write_differently() -> None:
    assert normalise(ox.Literal("a")) == normalise(rdflib.Literal("a", datatype=XSD + "string"))
    assert normalise(ox.Literal("x", language="zh-Hans")) == normalise(
        rdflib.Literal("x", lang="zh-hans"))
    assert normalise(ox.Literal("99450000000", datatype=ox.NamedNode(XSD + "decimal"))) == \
        normalise(rdflib.Literal("99450000000.0", datatype=XSD + "decimal"))
    assert normalise(ox.Literal("1")) != normalise(
        ox.Literal("1", datatype=ox.NamedNode(XSD + "integer")))
    assert normalise(ox.Literal("a", language="en")) != normalise(ox.Literal("a"))


@pytest.fixture(scope="module")
def memory_dataset(built: BuildResult) -> rdflib.Dataset:
    """rdflib's plain memory store, parsed from the TriG export; the default graph is the union."""
    ds = rdflib.Dataset(default_union=True)
    ds.parse(data=built.files["ifkg.trig"].decode(), format="trig")
    return ds


EQUIVALENCE_CASES = [(name, {}) for name in sorted(catalogue.catalogue())] + [
    ("joint-products", {"product": "临创保"}),
    ("edge-evidence", {"subject": "市担保基金", "object": "临创保"}),
    ("products-by-kind", {"kind": "GuaranteeProduct"}),
    ("entity-figures", {"entity": "本市融资担保机构"}),
    ("funding-channels", {"government": "本市"}),
    ("coverage-by-district", {"district": "jiading"}),
]


@pytest.mark.parametrize("name,params", EQUIVALENCE_CASES,
                         ids=[f"{n}{'-' + '-'.join(p) if p else ''}" for n, p in EQUIVALENCE_CASES])
def test_same_answers_on_rdflib_memory_store(store: ox.Store, memory_dataset: rdflib.Dataset,
                                             name: str, params: dict[str, str]) -> None:
    from oxrdflib._converter import from_ox

    cq = catalogue.get(name)
    values = catalogue.bindings(store, cq, params, BASE)
    ours = sparql.execute(store, sparql.prepare(cq.text, base=BASE), bindings=values)
    theirs = memory_dataset.query(cq.text, initNs=prefixes(BASE), base=BASE,
                                  initBindings={k: from_ox(v) for k, v in values.items()})
    assert [str(v) for v in theirs.vars] == ours.variables
    mine = sorted((tuple(normalise(t) for t in row) for row in ours.rows()), key=repr)
    other = sorted((tuple(normalise(b.get(rdflib.Variable(v))) for v in ours.variables)
                    for b in theirs.bindings), key=repr)
    assert mine == other
    assert mine or name == "conflicting-figures"  # every other query answers something


def test_load_gives_an_rdflib_graph_with_the_same_answers(real_copy: Project,
                                                          store: ox.Store) -> None:
    import ifkg

    ds = ifkg.load(str(real_copy.root))
    cq = catalogue.get("policy-changes")
    rows = list(ds.query(cq.text))
    ours = sparql.execute(store, sparql.prepare(cq.text, base=BASE))
    assert sorted(tuple(normalise(t) for t in r) for r in rows) == \
        sorted(tuple(normalise(t) for t in r) for r in ours.rows())


def test_every_catalogue_query_is_documented(project: Project) -> None:
    doc = (project.root / "docs" / "queries.md").read_text(encoding="utf-8")
    for name, cq in catalogue.catalogue().items():
        assert f"### `{name}` — {cq.title_zh}" in doc, name
        for p in cq.params:
            assert f"`--param {p.name}=…`" in doc.split(f"### `{name}`")[1].split("### ")[0]
