"""The viz page without a browser: pinned bundle, escaping, determinism, style from the ontology,
the data handed to vis-network, the layout, the views and the ``ifkg viz`` command."""

from __future__ import annotations

import base64
import hashlib
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import networkx as nx
import numpy as np
import pyoxigraph as ox
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cli_helpers import run_ifkg
from conftest import sparql_values
from ifkg.errors import IfkgError
from ifkg.namespaces import EDGE_KINDS, IFKG
from ifkg.network import project_graph
from ifkg.viz import (
    EDGE_LENGTH,
    FONT_SIZE,
    KK_MAX,
    LABEL_INSIDE,
    STATIC,
    VIS_NETWORK_SHA256,
    VIS_NETWORK_VERSION,
    layout,
    render_export,
    render_html,
    script_json,
    select_view,
    style_from_store,
    vis_network_js,
)
from viz_helpers import (
    ENT,
    HOSTILE_TITLE,
    compiled_store,
    hostile_project,
    payload,
    synthetic_graph,
)

BASE = "https://w3id.org/ifkg/"
FUND = ENT + "shanghai-financing-guarantee-fund"  # 市担保基金
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def G(store):
    return project_graph(store, BASE)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    project = hostile_project(tmp_path_factory.mktemp("viz-hostile"))
    st_ = compiled_store(project)
    return project, st_, project_graph(st_, project.base)


# ---------------------------------------------------------------------------------------------
# the vendored bundle


def test_vendored_vis_network_is_the_recorded_file():
    data = (STATIC / "vis-network.min.js").read_bytes()
    assert hashlib.sha256(data).hexdigest() == VIS_NETWORK_SHA256
    assert f"@version {VIS_NETWORK_VERSION}" in data[:1000].decode()
    record = (STATIC / "VENDORED.md").read_text(encoding="utf-8")
    assert VIS_NETWORK_SHA256 in record and VIS_NETWORK_VERSION in record
    for licence in ("vis-network.LICENSE-MIT", "vis-network.LICENSE-APACHE-2.0"):
        assert licence in record and (STATIC / licence).stat().st_size > 1000
    assert "</script" not in vis_network_js().lower()


# ---------------------------------------------------------------------------------------------
# escaping


@settings(max_examples=300, deadline=None)
@given(st.text(), st.lists(st.text(alphabet="<>&/\"'\u2028\u2029script", max_size=12)))
def test_script_json_round_trips_and_cannot_end_the_script(text, parts):
    data = {"t": text, "l": parts, "s": "".join(parts)}
    out = script_json(data)
    assert not set(out) & set("<>&\u2028\u2029")
    assert json.loads(out) == data


def test_page_is_self_contained_and_every_text_is_escaped(hostile):
    _, st_, H = hostile
    page = render_html(H, title=HOSTILE_TITLE, style=style_from_store(st_))
    # only our three script elements: the JSON data, vis-network, the page's own script
    opens = re.findall(r"<script[^>]*>", page)
    assert opens == ['<script type="application/json" id="ifkg-data">', "<script>", "<script>"]
    assert page.count("</script>") == 3
    # no payload arrives as markup anywhere (vis-network's own code mentions <b> and <i>)
    ours = page.replace(vis_network_js(), "")
    for raw in ("<img", "<svg", "<a ", "<b>", "<i>", "</title></script>"):
        assert raw not in ours
    assert "<title>&lt;img src=x onerror=&quot;window.__pwned=1;alert(1)&quot;&gt;&lt;/title&gt;" \
        in page
    # a name that spells a template marker stays data; the bundle is inlined exactly once
    assert payload(page)["nodes"][[n["id"] for n in payload(page)["nodes"]].index(
        ENT + "evil-firms")]["zh"] == "{{DATA}}{{VIS_JS}}企业"
    assert page.count(vis_network_js()[:300]) == 1
    # nothing is fetched: no URL in a src or href, and a CSP that forbids the network
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", re.sub(
        r"<script[^>]*>.*?</script>", "", page, flags=re.S))
    csp = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', page)
    assert csp and "default-src &#x27;none&#x27;" in csp.group(1)
    scripts = re.findall(r"<script>(.*?)</script>", page, re.S)
    for body in scripts:
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"sha256-{digest}" in csp.group(1)
    assert "unsafe-eval" not in csp.group(1) and "connect-src" not in csp.group(1)


# ---------------------------------------------------------------------------------------------
# the export: the whole graph, deterministic


def test_export_draws_every_entity_and_relation(built, G):
    data = payload(built.files["graph.html"].decode("utf-8"))
    assert sorted(n["id"] for n in data["nodes"]) == sorted(G.nodes)
    assert len(data["edges"]) == G.number_of_edges()
    assert len({e["id"] for e in data["edges"]}) == len(data["edges"])
    assert sorted((e["from"], e["to"], e["p"]) for e in data["edges"]) == \
        sorted((u, v, k) for u, v, k in G.edges(keys=True))
    # a relation's colour is that of its first edge kind in the ontology's order
    for e in data["edges"]:
        kinds = G.edges[e["from"], e["to"], e["p"]]["kinds"]
        assert e["k"] == next((k for k in EDGE_KINDS if k in kinds), "")
    # Chinese names first, English ones carried for the switch
    fund = next(n for n in data["nodes"] if n["id"] == FUND)
    assert data["lang"] == "zh" and fund["zh"] == "市担保基金"
    assert fund["en"] == G.nodes[FUND]["en"]


def test_parallel_relations_are_kept_and_drawn_apart():
    H = synthetic_graph(60)
    pairs: dict[tuple[str, str], int] = {}
    for u, v in H.edges():
        pairs[tuple(sorted((u, v)))] = pairs.get(tuple(sorted((u, v))), 0) + 1
    multi = {p for p, n in pairs.items() if n > 1}
    assert (ENT + "n0000", ENT + "n0001") in multi
    data = payload(render_html(H, title="t"))
    assert len(data["edges"]) == H.number_of_edges()
    for pair in multi:
        drawn = [e for e in data["edges"] if tuple(sorted((e["from"], e["to"]))) == pair]
        assert len(drawn) == pairs[pair]
        # each edge curves differently (relative to the pair's direction): none hides another
        shapes = {(e["smooth"] if e["smooth"] is False else
                   (e["smooth"]["type"] if e["from"] < e["to"] else
                    {"curvedCW": "curvedCCW", "curvedCCW": "curvedCW"}[e["smooth"]["type"]],
                    e["smooth"]["roundness"])) for e in drawn}
        assert len(shapes) == len(drawn)


def _sha_in_subprocess(code: str, seed: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         cwd=ROOT, timeout=300, check=True)
    return out.stdout.strip()


def test_export_bytes_do_not_depend_on_the_hash_seed(built, project):
    code = ("import hashlib; from ifkg.build import check; from ifkg.project import Project; "
            "from ifkg.viz import render_export; "
            f"p = Project(__import__('pathlib').Path({str(project.root)!r})); "
            "c = check(p, shapes=False)[1]; "
            "print(hashlib.sha256(render_export(c, p)).hexdigest())")
    mine = hashlib.sha256(built.files["graph.html"]).hexdigest()
    assert _sha_in_subprocess(code, "7") == mine
    assert render_export(built.compiled, project) == built.files["graph.html"]


def test_large_layout_is_deterministic_across_hash_seeds():
    # 600 entities in one component: more than KK_MAX, so pivot MDS, the force layout summed on
    # a grid (FFT), a seeded shake and overlap removal by a k-d tree, all of which must repeat
    assert 600 > KK_MAX
    code = ("import hashlib, sys; sys.path.insert(0, 'tests'); "
            "from viz_helpers import synthetic_graph; from ifkg.viz import render_html; "
            "print(hashlib.sha256(render_html(synthetic_graph(600), title='t').encode())"
            ".hexdigest())")
    assert _sha_in_subprocess(code, "1") == _sha_in_subprocess(code, "2") == hashlib.sha256(
        render_html(synthetic_graph(600), title="t").encode()).hexdigest()


# ---------------------------------------------------------------------------------------------
# style, sizes and layout


def test_colours_and_shapes_come_from_the_ontology(store):
    style = style_from_store(store)
    own = sparql_values(store, """SELECT ?c ?colour ?shape WHERE {
        ?c ifkg:displayColour ?colour ; ifkg:displayShape ?shape }""")
    assert len(own) >= 10
    for c, colour, shape in own:
        h = style.hint([c.rsplit("#", 1)[-1]])
        assert (h.name, h.colour, h.shape) == (c.rsplit("#", 1)[-1], colour, shape)
    # a class without a hint takes its nearest superclass's: a bank is a financial institution
    assert not sparql_values(store, "SELECT ?c WHERE { ifkg:Bank ifkg:displayColour ?c }")
    [(fi_colour,)] = sparql_values(
        store, "SELECT ?c WHERE { ifkg:FinancialInstitution ifkg:displayColour ?c }")
    bank = style.hint(["Bank"])
    assert (bank.name, bank.colour) == ("FinancialInstitution", fi_colour)
    assert bank.zh == "金融机构"
    for kind in EDGE_KINDS:
        [(colour,)] = sparql_values(
            store, f"SELECT ?c WHERE {{ ifkg:{kind}Relation ifkg:edgeKindColour ?c }}")
        assert style.kinds[kind].colour == colour


def test_a_bad_display_hint_is_one_clear_error():
    s = ox.Store()
    s.add(ox.Quad(ox.NamedNode(IFKG + "Bank"), ox.NamedNode(IFKG + "displayColour"),
                  ox.Literal("red;}</style>")))
    with pytest.raises(IfkgError, match="displayColour of ifkg:Bank"):
        style_from_store(s)
    s = ox.Store()
    s.add(ox.Quad(ox.NamedNode(IFKG + "Bank"), ox.NamedNode(IFKG + "displayShape"),
                  ox.Literal("blob")))
    with pytest.raises(IfkgError, match="displayShape of ifkg:Bank"):
        style_from_store(s)


def test_sizes_follow_degree_and_the_sum_of_cny_figures(built, G):
    data = payload(built.files["graph.html"].decode("utf-8"))
    nodes = {n["id"]: n for n in data["nodes"]}
    top = max(G.nodes, key=G.degree)
    assert nodes[top]["sd"] == 1 and nodes[top]["deg"] == G.degree(top)
    cny = sum(float(f["value"]) for f in G.nodes[FUND]["figures"] if f["unit"] == "CCY_CNY")
    assert cny > 99_450_000_000  # at least the 994.5 亿元 outstanding balance
    assert nodes[FUND]["money"] == f"{cny:,.0f} CNY"
    richest = max(nodes.values(), key=lambda n: n["sm"])
    assert richest["sm"] == 1 and all(n["sm"] == 0 for n in nodes.values() if not n["money"])


def test_layout_is_deterministic_and_keeps_nodes_apart():
    H = synthetic_graph(120)
    H.add_edge(ENT + "lone-a", ENT + "lone-b", key="x")  # a second component
    pos = layout(H)
    assert pos == layout(H.copy())
    assert len(set(pos.values())) == len(pos)
    main = [pos[n] for n in H if not n.startswith(ENT + "lone")]
    lone = [pos[ENT + "lone-a"], pos[ENT + "lone-b"]]
    # components are packed side by side, never on top of each other
    box = (min(x for x, _ in main), max(x for x, _ in main),
           min(y for _, y in main), max(y for _, y in main))
    assert all(not (box[0] <= x <= box[1] and box[2] <= y <= box[3]) for x, y in lone)


def test_layout_keeps_room_for_wide_nodes_and_packs_components_largest_first():
    H = nx.MultiDiGraph([("a", "b"), ("c", "d"), ("d", "e")])
    small = layout(H)
    wide = layout(H, radius={"a": 100.0, "b": 100.0})
    # an edge is EDGE_LENGTH plus both nodes' reach long
    for pos, want in ((small, EDGE_LENGTH + 20), (wide, EDGE_LENGTH + 200)):
        assert abs(math.dist(pos["a"], pos["b"]) - want) <= 1.5
    # components never overlap, and the larger one (c-d-e) comes first: above, or on the left
    cde = [small[n] for n in "cde"]
    ab = [small[n] for n in "ab"]
    top = (min(y for _, y in cde), min(y for _, y in ab))
    assert top[0] < top[1] - 20 or max(x for x, _ in cde) < min(x for x, _ in ab) - 20
    # a component larger than KK_MAX gets the force layout: every node its own place, and no
    # two nodes closer than both reaches (10 each by default) and the gap between them
    big = synthetic_graph(KK_MAX + 550)
    pos = layout(big)
    assert len(pos) == big.number_of_nodes() == len(set(pos.values()))
    xy = np.array([pos[n] for n in sorted(big)], dtype=float)
    gaps = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    np.fill_diagonal(gaps, np.inf)
    assert gaps.min() >= 2 * 10 + 0.3 * EDGE_LENGTH - 1.5  # rounding to integers
    # and linked nodes are drawn near each other: the median edge is well under the median
    # distance between any two nodes
    lengths = [math.dist(pos[u], pos[v]) for u, v in big.edges() if u != v]
    assert np.median(lengths) < 0.5 * np.median(gaps[np.triu_indices(len(xy), 1)])
    # a few wide nodes (labels inside a box) keep every other node off their own reach
    wide = {n: 100.0 if i % 25 == 0 else 10.0 for i, n in enumerate(sorted(big))}
    pos = layout(big, radius=wide)
    reach = np.array([wide[n] for n in sorted(big)])
    xy = np.array([pos[n] for n in sorted(big)], dtype=float)
    gaps = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    np.fill_diagonal(gaps, np.inf)
    assert (gaps >= reach[:, None] + reach[None, :] + 0.3 * EDGE_LENGTH - 1.5).all()


def test_nodes_edges_and_options_come_from_a_pyvis_network(built, G):
    data = payload(built.files["graph.html"].decode("utf-8"))
    nodes = {n["id"]: n for n in data["nodes"]}
    fund = nodes[FUND]
    # add_node: our attributes, the label in the page's first language, the class as group
    assert (fund["label"], fund["group"], fund["physics"]) == ("市担保基金", "Fund", False)
    assert isinstance(fund["x"], int) and isinstance(fund["y"], int)
    # a directed pyvis Network's add_edge marks each edge with an arrow, and keeps them all
    assert {e["arrows"] for e in data["edges"]} == {"to"}
    assert len(data["edges"]) == G.number_of_edges()
    # nothing carries a title (vis-network would show it as HTML)
    assert not any("title" in item for item in [*data["nodes"], *data["edges"]])
    options = data["options"]
    # set through pyvis's API (physics off, no stabilisation, own edge colours) ...
    assert options["configure"] == {"enabled": False}
    assert options["physics"]["enabled"] is False
    assert options["physics"]["stabilization"]["enabled"] is False
    assert options["edges"]["color"]["inherit"] is False
    assert options["edges"]["smooth"]["enabled"] is False
    # ... and merged as a dict: set_options would have stripped the spaces of the font face
    assert options["nodes"]["font"]["face"] == "Noto Sans CJK SC, sans-serif"
    # every class in the legend is a vis-network group with the ontology's colour and shape
    for row in data["legend"]:
        group = options["groups"][row["key"]]
        assert (group["color"]["background"], group["shape"]) == (row["colour"], row["shape"])
    assert {n["group"] for n in nodes.values()} == set(options["groups"])
    # the heaviest node has the largest label; labels inside a shape have no white stroke
    top = max(G.nodes, key=G.degree)
    assert nodes[top]["font"]["size"] == max(n["font"]["size"] for n in nodes.values())
    assert min(n["font"]["size"] for n in nodes.values()) == FONT_SIZE
    for n in nodes.values():
        assert (n["font"].get("strokeWidth") == 0) == (n["shape"] in LABEL_INSIDE)


# ---------------------------------------------------------------------------------------------
# views


def test_focus_view_is_the_neighbourhood(store, G):
    v = select_view(store, BASE, focus="市担保基金", hops=1)
    expected = {FUND} | set(G.successors(FUND)) | set(G.predecessors(FUND))
    assert set(v.graph.nodes) == expected
    assert v.highlight == [FUND] and v.title.startswith("市担保基金")
    assert payload(render_html(v.graph, title=v.title, highlight=v.highlight))["nodes"][
        sorted(expected).index(FUND)]["hl"] is True


def test_path_view_draws_the_paths(store):
    v = select_view(store, BASE, path=("浦发银行", "市融资担保中心"), kind="collaboration")
    names = {d["zh"] for _, d in v.graph.nodes(data=True)}
    assert {"浦发银行", "市融资担保中心", "科担贷"} <= names
    assert all("collaboration" in d["kinds"] for *_, d in v.graph.edges(data=True))


def test_class_and_kind_views(store, G):
    banks = {n for n, cs in G.nodes(data="classes") if "Bank" in cs}
    assert ENT + "spd-bank" in banks
    v0 = select_view(store, BASE, cls="Bank", hops=0)
    assert set(v0.graph.nodes) == banks
    v1 = select_view(store, BASE, cls="Bank", hops=1)
    assert set(v1.graph.nodes) == banks | {m for b in banks for m in
                                           (*G.successors(b), *G.predecessors(b))}
    # a superclass takes in its subclasses
    assert banks <= set(select_view(store, BASE, cls="FinancialInstitution", hops=0).graph)
    vf = select_view(store, BASE, kind="funding")
    assert vf.graph.number_of_edges() == sum(1 for *_, d in G.edges(data=True)
                                             if "funding" in d["kinds"])
    assert all(vf.graph.degree(n) > 0 for n in vf.graph)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"focus": "市担保基金", "cls": "Bank"}, "choose one of"),
    ({"cls": "Bnk"}, "unknown class 'Bnk'; did you mean: Bank"),
    ({"focus": "没有这个机构"}, "unknown entity"),
    ({"focus": "市担保基金", "hops": -1}, "--hops must be at least 0"),
    ({"kind": "money"}, "unknown edge kind 'money'"),
    ({"path": ("市担保基金", "浦发银行"), "kind": "funding", "max_hops": 1}, "no funding path"),
])
def test_bad_view_requests_are_one_clear_error(store, kwargs, message):
    with pytest.raises(IfkgError, match=re.escape(message)):
        select_view(store, BASE, **kwargs)


# ---------------------------------------------------------------------------------------------
# the command


def test_viz_command_writes_the_export_and_views_and_refuses_bad_input(hostile, tmp_path):
    project, _, H = hostile
    r = run_ifkg(project.root, "build")
    assert r.returncode == 0, r.stderr
    built_page = (project.exports_dir / "graph.html").read_bytes()
    (project.exports_dir / "graph.html").unlink()
    # without options: exports/graph.html, byte for byte as the build writes it
    r = run_ifkg(project.root, "viz")
    assert r.returncode == 0, r.stderr
    assert (project.exports_dir / "graph.html").read_bytes() == built_page

    out = tmp_path / "loan.html"
    r = run_ifkg(project.root, "viz", "--focus", "<svg onload=window.__pwned=1>贷", "--hops",
                 "1", "-o", str(out), "--lang", "en")
    assert r.returncode == 0, r.stderr
    assert f"wrote {out} (" in r.stdout
    page = out.read_text(encoding="utf-8")
    data = payload(page)
    assert data["lang"] == "en"
    assert {n["id"] for n in data["nodes"]} == {ENT + "evil-loan"} | set(
        H.successors(ENT + "evil-loan")) | set(H.predecessors(ENT + "evil-loan"))
    assert "<title>&lt;svg onload=window.__pwned=1&gt;贷 · 1 跳 / hops</title>" in page
    for args, message in [
        (("viz", "--class", "Bnk", "-o", str(tmp_path / "x.html")), "unknown class 'Bnk'"),
        (("viz", "--focus", "<svg onload=window.__pwned=1>贷"), "needs --out FILE"),
        (("viz", "--size-by", "weight", "-o", str(tmp_path / "x.html")),
         "unknown --size-by 'weight' (use one of: degree, money)"),
        (("viz", "--kind", "money", "-o", str(tmp_path / "x.html")), "unknown --kind 'money'"),
    ]:
        r = run_ifkg(project.root, *args)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert r.stderr.startswith("ifkg: error: ") and message in r.stderr
        assert r.stderr.count("\n") == 1
    assert not (tmp_path / "x.html").exists()
