"""The NetworkX projection and its algorithms, checked against what the reply states."""

from __future__ import annotations

import doctest
import re
import shutil
from pathlib import Path

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ifkg
import ifkg.network as network
from cli_helpers import run_ifkg
from conftest import ROOT, sparql_values
from ifkg.build import open_store
from ifkg.errors import IfkgError
from ifkg.export import write_atomically
from ifkg.network import (
    communities,
    find_paths,
    kind_subgraph,
    neighbourhood,
    path_nodes,
    project_graph,
    rank,
)
from ifkg.ontology import read_terms
from ifkg.project import Project

BASE = "https://w3id.org/ifkg/"
E = BASE + "id/entity/"

# entities of the reply, by id
SFGF = E + "shanghai-financing-guarantee-fund"          # 市担保基金
SPECIAL_FUND = E + "sfgf-sci-tech-special-fund"         # 50 亿元科创企业融资担保专项资金
SCI_TECH_SMES = E + "sci-tech-innovation-smes"          # 科技创新类中小企业
CENTER = E + "shanghai-financing-guarantee-center"      # 市融资担保中心
SPDB = E + "spd-bank"                                   # 浦发银行
KEDANDAI = E + "kedandai"                               # 科担贷
TECH_SMALL = E + "tech-small-micro-enterprises"         # 科技小微企业
HKZD, HKZT = E + "hukezhuandai", E + "hukezhuantie"     # 沪科专贷, 沪科专贴
FIRMS_6500 = E + "hukezhuan-beneficiaries"              # 科创企业 6500 余户
FENGXIAN, LINGANG = E + "fengxian-guarantee", E + "lingang-guarantee"
LINCHUANGBAO = E + "linchuangbao"                       # 临创保
JIADING, JIAZE, GUOXIN = E + "jiading-guarantee", E + "jiaze-media", E + "jiading-guoxin-microloan"
ZHAOBAODAI = E + "zhaobaodai"                           # 招保贷
STIC = E + "shanghai-stic-group"                        # 上海市科创集团
EIGHT = E + "eight-district-guarantee-institutions"     # 8 家区级融资担保机构


@pytest.fixture(scope="module")
def G(store) -> nx.MultiDiGraph:
    return project_graph(store, BASE)


@pytest.fixture(scope="module")
def fast_root(built, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project whose exports/ is current, so each CLI run loads it in a blink."""
    root = tmp_path_factory.mktemp("project")
    for d in ("graph", "ontology"):
        shutil.copytree(ROOT / d, root / d)
    write_atomically(built.files, root / "exports")
    return root


def chain(G: nx.MultiDiGraph, path: list[tuple[str, str, str]], source: str) -> list[str]:
    """A path as [node id, key, node id, key, …] in walking order, for readable asserts."""
    nodes = path_nodes(path, source)
    out = [nodes[0].rsplit("/", 1)[-1]]
    for (_, _, k), n in zip(path, nodes[1:], strict=True):
        out += [k, n.rsplit("/", 1)[-1]]
    return out


# ---------------------------------------------------------------------------------------------
# projection


def test_only_entities_are_nodes(G, store):
    entities = {r[0] for r in sparql_values(store, "SELECT DISTINCT ?e WHERE { "
                                                   "?e ifkg:mentionedIn ?src }")}
    assert set(G) == entities
    assert len(G) > 100
    for n in G:
        assert n.startswith(E), n  # no measurement, evidence, statement, indicator or source
    measurements = sparql_values(store, "SELECT ?m WHERE { ?m a ifkg:Measurement }")
    assert measurements and not any(m in G for (m,) in measurements)


def test_every_relation_triple_is_an_edge(G, store):
    """Lossless: each object-property triple of the facts graph between two entities is an
    edge keyed by the predicate, and nothing else is."""
    rows = sparql_values(store, f"""SELECT ?s ?p ?o WHERE {{ GRAPH <{BASE}graph/facts> {{
        ?s ?p ?o . ?s a ?cs . ?o a ?co }}
        FILTER(STRSTARTS(STR(?s), "{E}") && STRSTARTS(STR(?o), "{E}")) }}""")
    triples = {(s, o, p.rsplit("#", 1)[-1]) for s, p, o in rows}
    assert len(triples) > 150
    assert set(G.edges(keys=True)) == triples
    for s, o, k in triples:
        assert G.edges[s, o, k]["predicate_iri"] == network.IFKG + k


def test_two_predicates_between_one_pair_stay_two_edges(G):
    # 上海市科创集团战略投资入股本市 8 家区级融资担保机构，引导融资担保机构立足本区
    assert set(G[STIC][EIGHT]) == {"investsIn", "guides"}
    assert G.edges[STIC, EIGHT, "investsIn"]["kinds"] == {"funding"}
    assert G.edges[STIC, EIGHT, "guides"]["kinds"] == {"governance"}


def test_edge_kinds_are_read_from_the_ontology(G, project):
    terms = read_terms(project.ontology_file)
    for _, _, k, d in G.edges(keys=True, data=True):
        assert d["kinds"] == terms.kind_of(k), k
    # a joint launch is funding and collaboration at once (rdfs:subPropertyOf both)
    assert G.edges[SPDB, KEDANDAI, "launches"]["kinds"] == {"funding", "collaboration"}


def test_changing_the_ontology_changes_the_kind_without_code(mini: Project):
    ttl = mini.ontology_file.read_text(encoding="utf-8")
    old = "ifkg:lendsTo a owl:ObjectProperty ;\n    rdfs:subPropertyOf ifkg:fundingRelation ;"
    assert old in ttl
    mini.ontology_file.write_text(ttl.replace(old, old.replace("fundingRelation",
                                                               "placeRelation")), "utf-8")
    G = project_graph(open_store(mini), mini.base)
    edge = (E + "demo-loan", E + "tech-small-firms", "lendsTo")
    assert G.edges[edge]["kinds"] == {"place"}
    assert find_paths(G, E + "demo-bank", E + "tech-small-firms", kind="funding") == []
    assert find_paths(G, E + "demo-loan", E + "tech-small-firms", kind="place") == [[edge]]


def test_mini_project(mini: Project):
    """The small fixture: two launchers of one loan, which lends to a group of firms."""
    G = project_graph(open_store(mini), mini.base)
    assert set(G.edges(keys=True)) == {
        (E + "demo-bank", E + "demo-loan", "launches"),
        (E + "demo-centre", E + "demo-loan", "launches"),
        (E + "demo-loan", E + "tech-small-firms", "lendsTo")}
    assert G.nodes[E + "demo-centre"]["zh"] == "示例担保中心"
    reported = sorted(f["reported"] for f in G.nodes[E + "demo-centre"]["figures"])
    assert reported == ["12.5 亿元", "2000 万元", "3.5%", "3000 万元"]
    funding = project_graph(open_store(mini), mini.base, kind="funding")
    assert E + "demo-reply" not in funding  # no funding edge: not in the funding graph
    assert all("funding" in d["kinds"] for *_, d in funding.edges(data=True))


def test_node_and_edge_attributes(G):
    n = G.nodes[SFGF]
    assert (n["zh"], n["classes"], n["id"]) == ("市担保基金", ["GuaranteeFund"],
                                                "shanghai-financing-guarantee-fund")
    assert n["en"].startswith("Shanghai Municipal")
    balance = [f for f in n["figures"] if f["reported"] == "994.5 亿元"]
    assert len(balance) == 1
    f = balance[0]
    assert (f["indicator"], f["value"], f["unit"], f["asOf"]) == (
        "在保余额", "99450000000", "CCY_CNY", "2024-12-31")
    assert "市担保基金在" in f["sentence"] and f["measurement"].startswith(BASE + "id/measurement/")

    d = G.edges[SPDB, KEDANDAI, "launches"]
    assert (d["predicate"], d["label_zh"], d["label_en"]) == ("launches", "推出", "launches")
    assert "联合推出“科担贷”线上批次担保业务方案" in d["sentence"]
    assert "科担贷" in d["exact"]
    assert d["statement"].startswith(BASE + "id/statement/shstc-reply-2025-27/")
    eight = [f for f in G.nodes[EIGHT]["figures"] if f["reported"] == "8 家"]
    assert [f["value"] for f in eight] == ["8"]


def test_kind_graph_keeps_only_that_kind(store):
    F = project_graph(store, BASE, kind="funding")
    assert F.number_of_edges() > 40
    assert all("funding" in d["kinds"] for *_, d in F.edges(data=True))
    assert all(F.degree(n) > 0 for n in F)
    with pytest.raises(IfkgError, match="unknown edge kind 'money'"):
        project_graph(store, BASE, kind="money")
    # the commission issues, guides and implements, but funds nobody
    with pytest.raises(IfkgError, match=r"'shanghai-stc' is not in the graph \(it has no "
                                        r"funding relations\)"):
        find_paths(F, E + "shanghai-stc", SPDB, kind="funding")


# ---------------------------------------------------------------------------------------------
# funding paths the reply states


def test_funding_from_spdb_and_the_centre_through_kedandai(G):
    # 浦发银行与市融资担保中心…联合推出“科担贷”…为科技小微企业提供…信用担保贷款
    for launcher in (SPDB, CENTER):
        paths = find_paths(G, launcher, TECH_SMALL, kind="funding")
        assert chain(G, paths[0], launcher) == [
            launcher.rsplit("/", 1)[-1], "launches", "kedandai", "lendsTo",
            "tech-small-micro-enterprises"]


def test_funding_from_the_relending_tools_to_the_6500_firms(G):
    # 累计发放“沪科专贷”“沪科专贴”资金超 500 亿元，惠及科创企业 6500 余户
    for tool in (HKZD, HKZT):
        assert find_paths(G, tool, FIRMS_6500, kind="funding")[0] == [
            (tool, FIRMS_6500, "lendsTo")]
        # the text does not say who runs the tools, so nothing funds them
        assert not any("funding" in d["kinds"] for *_, d in G.in_edges(tool, data=True))
    count = [f for f in G.nodes[FIRMS_6500]["figures"] if f["reported"] == "6500 余户"]
    assert [(f["value"], f["qualifier"]) for f in count] == [("6500", "more-than")]


def test_municipal_guarantee_fund_special_fund_and_the_tech_smes(G):
    # 市担保基金单列 50 亿元科创企业融资担保专项资金，加大对科技创新类中小企业支持力度
    assert find_paths(G, SPECIAL_FUND, SCI_TECH_SMES, kind="funding")[0] == [
        (SPECIAL_FUND, SCI_TECH_SMES, "supports")]
    via_fund = [chain(G, p, SFGF) for p in find_paths(G, SFGF, SCI_TECH_SMES, max_hops=2)]
    assert ["shanghai-financing-guarantee-fund", "establishes", "sfgf-sci-tech-special-fund",
            "supports", "sci-tech-innovation-smes"] in via_fund
    # and the fund reaches the SMEs with money: it re-guarantees the government-backed
    # guarantors, which guarantee the SMEs (…鼓励政府性融资担保机构对科技创新类中小企业…)
    assert find_paths(G, SFGF, SCI_TECH_SMES, kind="funding")


def test_stic_group_stake_in_the_eight_district_guarantors(G):
    # 上海市科创集团战略投资入股本市 8 家区级融资担保机构
    assert find_paths(G, STIC, EIGHT, kind="funding") == [[(STIC, EIGHT, "investsIn")]]
    assert "战略投资入股" in G.edges[STIC, EIGHT, "investsIn"]["sentence"]
    assert "EntityGroup" in G.nodes[EIGHT]["classes"]


def test_funding_never_walks_an_edge_backwards(G):
    assert find_paths(G, TECH_SMALL, SPDB, kind="funding") == []
    assert find_paths(G, SCI_TECH_SMES, SPECIAL_FUND, kind="funding") == []
    back = find_paths(G, TECH_SMALL, SPDB, kind="any")
    assert back and back[0] == [(KEDANDAI, TECH_SMALL, "lendsTo"), (SPDB, KEDANDAI, "launches")]


# ---------------------------------------------------------------------------------------------
# collaboration paths


def test_spdb_and_the_centre_through_kedandai(G):
    paths = [chain(G, p, SPDB) for p in find_paths(G, SPDB, CENTER, kind="collaboration")]
    assert paths[0] == ["spd-bank", "cooperatesWith", "shanghai-financing-guarantee-center"]
    assert ["spd-bank", "launches", "kedandai", "launches",
            "shanghai-financing-guarantee-center"] in paths


def test_guarantee_fund_with_fengxian_and_lingang_through_linchuangbao(G):
    # 与上海奉贤融资担保有限公司及上海临港新片区融资担保有限公司联合推出“临创保”批次担保业务
    for partner in (FENGXIAN, LINGANG):
        paths = find_paths(G, SFGF, partner, kind="collaboration")
        assert [(SFGF, LINCHUANGBAO, "launches"), (partner, LINCHUANGBAO, "launches")] in paths
    assert find_paths(G, FENGXIAN, LINGANG, kind="collaboration", max_hops=2) == [
        [(FENGXIAN, LINCHUANGBAO, "launches"), (LINGANG, LINCHUANGBAO, "launches")],
        [(SFGF, FENGXIAN, "cooperatesWith"), (SFGF, LINGANG, "cooperatesWith")]]


def test_jiading_with_jiaze_and_guoxin_through_zhaobaodai(G):
    # 联合上海嘉泽文化传媒有限公司、嘉定国鑫小贷公司形成“招保贷”联合服务
    for partner in (JIAZE, GUOXIN):
        paths = find_paths(G, JIADING, partner, kind="collaboration")
        assert [(JIADING, ZHAOBAODAI, "launches"), (partner, ZHAOBAODAI, "launches")] in paths
    assert [(JIAZE, ZHAOBAODAI, "launches"), (GUOXIN, ZHAOBAODAI, "launches")] in find_paths(
        G, JIAZE, GUOXIN, kind="collaboration")


def test_path_arguments_are_checked(G):
    with pytest.raises(IfkgError, match="same entity"):
        find_paths(G, SPDB, SPDB)
    with pytest.raises(IfkgError, match="max-hops"):
        find_paths(G, SPDB, CENTER, max_hops=0)
    with pytest.raises(IfkgError, match="unknown edge kind"):
        find_paths(G, SPDB, CENTER, kind="friendship")
    assert len(find_paths(G, SFGF, FENGXIAN, limit=1)) == 1


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_paths_match_networkx_simple_paths(G, data):
    """find_paths lists exactly networkx's simple paths (funding: directed; otherwise over
    an undirected multigraph), shortest first."""
    nodes = sorted(n for n in G if G.degree(n) > 0)
    kind = data.draw(st.sampled_from(["funding", "collaboration", "any"]))
    s = data.draw(st.sampled_from(nodes))
    t = data.draw(st.sampled_from([n for n in nodes if n != s]))
    hops = data.draw(st.integers(1, 4))
    got = find_paths(G, s, t, kind=kind, max_hops=hops, limit=10**6)
    H = kind_subgraph(G, kind)
    if kind == "funding":
        expected = {tuple(p) for p in nx.all_simple_edge_paths(H, s, t, cutoff=hops)}
    else:
        U = nx.MultiGraph()
        U.add_nodes_from(H)
        U.add_edges_from((u, v, (u, v, k)) for u, v, k in H.edges(keys=True))
        expected = {tuple(k for _, _, k in p)
                    for p in nx.all_simple_edge_paths(U, s, t, cutoff=hops)}
    assert {tuple(p) for p in got} == expected
    assert len(got) == len(expected)
    assert [len(p) for p in got] == sorted(len(p) for p in got)
    for p in got:
        walk = path_nodes(p, s)
        assert walk[-1] == t and len(set(walk)) == len(walk)
        if kind == "funding":
            assert all(u == walk[i] for i, (u, _, _) in enumerate(p))


# ---------------------------------------------------------------------------------------------
# neighbourhood, ranking, communities


def test_neighbourhood_of_kedandai(G):
    H = neighbourhood(G, KEDANDAI, hops=1)
    assert set(H) == {KEDANDAI, SPDB, CENTER, TECH_SMALL}
    assert H.nodes[SPDB]["distance"] == 1
    assert (SPDB, CENTER, "cooperatesWith") in H.edges(keys=True)
    F = neighbourhood(G, KEDANDAI, hops=1, kind="funding")
    assert set(F) == {KEDANDAI, SPDB, CENTER, TECH_SMALL}
    assert (SPDB, CENTER, "cooperatesWith") not in F.edges(keys=True)
    two = neighbourhood(G, SPDB, hops=2, kind="collaboration")
    assert set(two) == {SPDB, KEDANDAI, CENTER}


def test_betweenness_top_worked_out_by_hand(G):
    """The top of the collaboration betweenness ranking: 市担保基金 with 52.

    Unnormalised betweenness on the undirected collaboration graph: the sum over unordered
    pairs {s, t} of other entities of the share of shortest s–t paths through 市担保基金 (F).
    F's component has 13 entities. F is adjacent to nine: 临创保 (L), 奉贤 (FX), 临港 (LG),
    上海金开 (J), 湾区贷 (W), 相关部门 (XG), 商会批次贷 (SH), 各区, 区级融资担保机构.
    The other edges: L–FX, L–LG (临创保 launched with both), FX–科易保, FX–五类产品, LG–知识
    产权质押融资担保专项产品 (IP), J–W (湾区贷), XG–SH (商会批次贷). Without F the rest falls
    into five blocks: A = {L, FX, LG, 科易保, 五类产品, IP} (6), B = {J, W} (2),
    C = {XG, SH} (2), {各区} (1), {区级融资担保机构} (1).
    * Pairs in different blocks meet only through F: (12² − (6² + 2² + 2² + 1 + 1)) / 2 = 49.
    * Inside A, a pair between {FX, 科易保, 五类产品} and {LG, IP} has exactly two shortest
      paths, one by L and one by F (e.g. FX–L–LG and FX–F–LG): 3 × 2 pairs × ½ = 3.
      Every other pair in A, and the pairs J–W and XG–SH, are adjacent or go round F.
    Total 49 + 3 = 52.
    """
    top = rank(G, by="betweenness", kind="collaboration")
    assert top[0] == (SFGF, 52.0)
    assert top[1][1] < 52.0
    assert rank(G, by="betweenness")[0][0] == SFGF  # also the top over every kind of edge


def test_rank_by_degree_and_class(G):
    top = rank(G, by="degree")
    assert top[0][0] == SFGF and top[0][1] == float(G.degree(SFGF))
    guarantors = [n for n, _ in rank(G, by="degree", cls="FinancingGuaranteeInstitution")]
    # subclasses count: district guarantee companies and the municipal centre
    assert {FENGXIAN, LINGANG, JIADING, CENTER} <= set(guarantors)
    assert SFGF not in guarantors  # a GuaranteeFund is not a guarantee institution
    banks = rank(G, by="degree", cls="Bank")
    assert SPDB in [n for n, _ in banks]
    with pytest.raises(IfkgError, match="did you mean: Bank"):
        rank(G, cls="Bnak")
    with pytest.raises(IfkgError, match="unknown ranking"):
        rank(G, by="fame")


def test_pagerank_sums_to_one_and_favours_receivers(G):
    pr = rank(G, by="pagerank", kind="funding")
    assert abs(sum(s for _, s in pr) - 1.0) < 1e-9
    # money flows to firms: the top of the funding PageRank is a group of enterprises
    assert "EntityGroup" in G.nodes[pr[0][0]]["classes"]


def test_communities(G):
    groups = communities(G)
    assert groups == communities(G)  # fixed seed: same answer every time
    members = [n for g in groups for n in g]
    assert len(members) == len(set(members))
    assert all(G.degree(n) > 0 for n in members)
    where = {n: i for i, g in enumerate(groups) for n in g}
    assert where[JIADING] == where[JIAZE] == where[GUOXIN] == where[ZHAOBAODAI]
    assert where[SPDB] == where[CENTER] == where[KEDANDAI]
    for g in groups:
        names = [(G.nodes[n]["zh"], n) for n in g]
        assert names == sorted(names)


def test_doctests_run():
    result = doctest.testmod(network)
    assert result.attempted >= 10 and result.failed == 0


def test_python_api(fast_root: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("IFKG_HOME", str(fast_root))
    F = ifkg.network(kind="funding")
    assert isinstance(F, nx.MultiDiGraph)
    assert (STIC, EIGHT, "investsIn") in F.edges(keys=True)
    assert all("funding" in d["kinds"] for *_, d in F.edges(data=True))
    assert ifkg.network.find_paths is find_paths  # still the module for everything else


# ---------------------------------------------------------------------------------------------
# the commands


def test_cli_funding_path(fast_root: Path):
    r = run_ifkg(fast_root, "paths", "浦发银行", "科技小微企业", "--kind", "funding")
    assert r.returncode == 0, r.stderr
    assert "1. 浦发银行 —推出/launches→ 科担贷 —贷款/lends to→ 科技小微企业" in r.stdout
    assert "Shanghai Pudong Development Bank —launches→" in r.stdout
    assert r.stdout.count("「如浦发银行与市融资担保中心通过产品融合和系统对接") == 2  # per hop


def test_cli_collaboration_path(fast_root: Path):
    r = run_ifkg(fast_root, "paths", "浦发银行", "市融资担保中心", "--kind", "collaboration",
                 "--max-hops", "2", "--limit", "5")
    assert r.returncode == 0, r.stderr
    assert "2. 浦发银行 —推出/launches→ 科担贷 ←推出/launches— 市融资担保中心" in r.stdout
    r = run_ifkg(fast_root, "paths", "上海市科创集团", "8 家区级融资担保机构", "--kind",
                 "funding")
    assert "1. 上海市科创集团 —投资入股/invests in→ 8 家区级融资担保机构" in r.stdout
    assert "上海市科创集团战略投资入股本市8家区级融资担保机构" in r.stdout


def test_cli_no_path_and_bad_names(fast_root: Path):
    r = run_ifkg(fast_root, "paths", "科技小微企业", "浦发银行", "--kind", "funding")
    assert r.returncode == 1 and "no funding path" in r.stdout
    r = run_ifkg(fast_root, "paths", "浦发银航", "科担贷")
    assert r.returncode == 2
    assert r.stderr.strip() == "ifkg: error: unknown entity '浦发银航'; did you mean: 浦发银行?"
    r = run_ifkg(fast_root, "paths", "融资担保有限公司", "科担贷")
    assert r.returncode == 2 and "ambiguous name '融资担保有限公司'" in r.stderr
    assert "嘉定融资担保有限公司 (jiading-guarantee)" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    r = run_ifkg(fast_root, "rank", "--class", "Bnak")
    assert r.returncode == 2 and "did you mean: Bank" in r.stderr
    r = run_ifkg(fast_root, "paths", "浦发银行", "科担贷", "--kind", "money")
    assert r.returncode == 2 and "unknown edge kind 'money'" in r.stderr


def test_cli_html(fast_root: Path, tmp_path: Path):
    out = tmp_path / "paths.html"
    r = run_ifkg(fast_root, "paths", "嘉定融资担保有限公司", "嘉定国鑫小贷公司", "--kind",
                 "collaboration", "--html", str(out))
    assert r.returncode == 0, r.stderr
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    for node in ("jiading-guarantee", "zhaobaodai", "jiading-guoxin-microloan"):
        assert node in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)  # works offline


def test_paths_html_fallback(G):
    from ifkg.cli_network import paths_html

    paths = find_paths(G, SPDB, CENTER, kind="collaboration")
    page = paths_html(G, paths, SPDB, "浦发银行 → 市融资担保中心")
    assert page.count("<svg") == len(paths) == 2
    assert "marker-start" in page  # the hop walked against 推出 points back
    assert "联合推出“科担贷”" in page
    assert "<script" not in page and "http://www.w3.org/2000/svg" in page


def test_cli_neighbors_rank_communities(fast_root: Path):
    r = run_ifkg(fast_root, "neighbors", "科担贷", "--hops", "1")
    assert r.returncode == 0, r.stderr
    assert "3 entities within 1 hop" in r.stdout
    assert "浦发银行 —推出/launches→ 科担贷" in r.stdout
    r = run_ifkg(fast_root, "rank", "--by", "betweenness", "--kind", "collaboration", "--top",
                 "1")
    assert r.returncode == 0, r.stderr
    assert re.search(r"^\s+1\s+52\s+市担保基金 / ", r.stdout, re.M)
    r = run_ifkg(fast_root, "communities")
    assert r.returncode == 0, r.stderr
    assert re.search(r"^\d+ communities of \d+ entities \(any edges, Louvain, seed 42", r.stdout)
    block = next(b for b in r.stdout.split("community ") if "招保贷" in b)
    assert "上海嘉泽文化传媒有限公司" in block and "嘉定国鑫小贷公司" in block
