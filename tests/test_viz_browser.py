"""The viz page in a real browser: Debian's headless Chromium driven by Playwright.

Each page is opened from file:// with every request that does not stay on file:// aborted and
recorded. A missing /usr/bin/chromium fails these tests; it never skips them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import watch_page
from ifkg.network import project_graph
from ifkg.viz import (
    EXPORT_TITLE,
    LABEL_HIDE_PX,
    LABEL_MAX_PX,
    render_html,
    select_view,
    style_from_store,
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



@dataclass
class Loaded:
    page: object
    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    ready_ms: float = 0.0  # navigation start to vis-network's first drawing
    wall_s: float = 0.0

    def clean(self) -> None:
        assert self.blocked == [], f"requests left file://: {self.blocked}"
        assert all(u.startswith("file://") for u in self.requests), self.requests
        assert self.errors == [], f"console errors: {self.errors}"
        assert self.dialogs == [], f"dialogs opened: {self.dialogs}"

    def js(self, expr: str, arg: object = None):
        return self.page.evaluate(expr, arg)


def open_page(browser, path: Path, width: int = 1400, height: int = 900,
              timeout_ms: int = 60_000) -> Loaded:
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    out = Loaded(page)

    watch_page(context, page, out, lambda u: u.startswith("file://"))

    def dialog(d) -> None:
        out.dialogs.append(d.message)
        d.dismiss()

    page.on("dialog", dialog)
    t0 = time.perf_counter()
    page.goto(path.as_uri())
    page.wait_for_function("window.ifkgReady !== undefined", timeout=timeout_ms)
    out.wall_s = time.perf_counter() - t0
    out.ready_ms = page.evaluate("window.ifkgReady.firstDraw")
    return out


def laid_out(p: Loaded) -> dict:
    """What vis-network holds after drawing: positions it laid out, edges it drew."""
    return p.js("""() => {
        const net = window.ifkgNetwork, pos = net.getPositions();
        const drawn = Object.values(net.body.edges).filter(e => e.connected);
        return {positions: pos, edges: net.body.data.edges.length,
                edgeIds: net.body.edgeIndices.slice().sort(), drawnEdges: drawn.length,
                nodeIds: net.body.nodeIndices.slice().sort()};
    }""")


def click_node(p: Loaded, node: str) -> None:
    """Click where vis-network drew ``node`` (its canvas position mapped to the page)."""
    dom = p.js("""(id) => { const net = window.ifkgNetwork;
        return net.canvasToDOM(net.getPositions([id])[id]); }""", node)
    box = p.page.locator("#ifkg-graph").bounding_box()
    p.page.mouse.click(box["x"] + dom["x"], box["y"] + dom["y"])


def hover_node(p: Loaded, node: str) -> None:
    dom = p.js("""(id) => { const net = window.ifkgNetwork;
        return net.canvasToDOM(net.getPositions([id])[id]); }""", node)
    box = p.page.locator("#ifkg-graph").bounding_box()
    p.page.mouse.move(box["x"] + dom["x"] - 30, box["y"] + dom["y"] - 30)
    p.page.mouse.move(box["x"] + dom["x"], box["y"] + dom["y"], steps=4)


def zoom_on(p: Loaded, node: str, scale: float = 1.5) -> None:
    p.js("""([id, s]) => { const net = window.ifkgNetwork;
        net.moveTo({position: net.getPositions([id])[id], scale: s, animation: false}); }""",
         [node, scale])


def search(p: Loaded, text: str) -> None:
    p.page.fill("#ifkg-search", text)
    p.page.press("#ifkg-search", "Enter")


# ---------------------------------------------------------------------------------------------
# the seed graph (the reply)


@pytest.fixture(scope="module")
def seed(store, tmp_path_factory):
    """The whole graph of the reply as exports/graph.html is written, and its NetworkX graph."""
    G = project_graph(store, BASE)
    page = render_html(G, title=EXPORT_TITLE, style=style_from_store(store))
    path = tmp_path_factory.mktemp("viz-seed") / "graph.html"
    path.write_text(page, encoding="utf-8")
    return G, path


@pytest.fixture()
def seed_page(browser, seed):
    p = open_page(browser, seed[1])
    yield p
    p.page.context.close()


def test_seed_page_offline_lays_out_every_entity_and_relation(seed, seed_page, tmp_path):
    G, _ = seed
    p = seed_page
    p.clean()
    got = laid_out(p)
    assert sorted(got["positions"]) == sorted(G.nodes)
    assert got["nodeIds"] == sorted(G.nodes)
    assert got["edges"] == G.number_of_edges() == got["drawnEdges"] == len(got["edgeIds"])
    # physics is off: vis-network drew the layout computed in Python
    data = {n["id"]: (n["x"], n["y"]) for n in payload(seed[1].read_text("utf-8"))["nodes"]}
    assert all((round(v["x"]), round(v["y"])) == data[k] for k, v in got["positions"].items())
    # vis-network holds no title (it would show one as HTML)
    assert p.js("""() => { const d = window.ifkgNetwork.body.data;
        return [...d.nodes.get(), ...d.edges.get()].filter(x => 'title' in x).length; }""") == 0
    # the overview is readable: the whole graph is in view and the five heaviest entities'
    # names are drawn at LABEL_HIDE_PX or more on screen (smaller ones wait for a zoom)
    scale = p.js("window.ifkgNetwork.getScale()")
    heavy = sorted(G.nodes, key=lambda n: (-G.degree(n), n))[:5]
    fonts = p.js("(ids) => ids.map(id => window.ifkgNetwork.body.data.nodes.get(id).font.size)",
                 heavy)
    assert scale > 0.2 and all(f * scale >= LABEL_HIDE_PX for f in fonts), (scale, fonts)
    assert p.js("""(ids) => ids.every(id =>
        window.ifkgNetwork.body.nodes[id].labelModule.visible())""", heavy)
    # the legend names the classes in Chinese, with counts that add up to every entity
    legend = p.page.locator("#ifkg-legend li").all_inner_texts()
    assert any("金融机构" in row for row in legend)
    assert sum(int(row.split()[-1]) for row in legend) == G.number_of_nodes()
    shot = tmp_path / "seed.png"
    p.page.screenshot(path=str(shot))
    assert shot.stat().st_size > 20_000
    print(f"\nseed graph ({G.number_of_nodes()} entities, {G.number_of_edges()} relations): "
          f"first draw {p.ready_ms:.0f} ms after navigation start, {p.wall_s:.2f} s wall, "
          f"initial zoom {scale:.2f}")


def test_search_focuses_and_selects_the_entity(seed_page, tmp_path):
    p = seed_page
    before = p.js("window.ifkgNetwork.getViewPosition()")
    search(p, "市担保基金")
    assert p.js("window.ifkgNetwork.getSelectedNodes()") == [FUND]
    view = p.js("window.ifkgNetwork.getViewPosition()")
    node = p.js(f"window.ifkgNetwork.getPositions(['{FUND}'])['{FUND}']")
    assert abs(view["x"] - node["x"]) < 1 and abs(view["y"] - node["y"]) < 1
    assert (view["x"], view["y"]) != (before["x"], before["y"])
    assert p.js("window.ifkgNetwork.getScale()") >= 1.2
    # zoomed in, no label is drawn larger than LABEL_MAX_PX on screen (heavy nodes' labels are
    # large in canvas units, for the overview)
    drawn = p.js("""() => { const net = window.ifkgNetwork, s = net.getScale();
        return net.body.data.nodes.get().map(n => n.font.size * s); }""")
    assert max(drawn) <= LABEL_MAX_PX + 0.01
    info = p.page.inner_text("#ifkg-info")
    assert "市担保基金" in info and "在保余额: 994.5 亿元" in info
    p.page.screenshot(path=str(tmp_path / "search.png"))
    # a name that is not there says so and changes nothing
    search(p, "不存在的机构")
    assert p.page.inner_text("#ifkg-search-status") == "未找到"
    assert p.js("window.ifkgNetwork.getSelectedNodes()") == [FUND]
    p.clean()


def test_click_on_a_drawn_node_shows_its_evidence(seed, seed_page, tmp_path):
    G, _ = seed
    p = seed_page
    zoom_on(p, FUND)
    click_node(p, FUND)
    assert p.js("window.ifkgNetwork.getSelectedNodes()") == [FUND]
    info = p.page.inner_text("#ifkg-info")
    # the evidence sentence of every figure about the fund, as the reply states it
    sentences = {f["sentence"] for f in G.nodes[FUND]["figures"]}
    assert sentences and all(s in info for s in sentences)
    assert "在保余额: 994.5 亿元 (2024-12-31)" in info
    assert "截至2024年底，市担保基金在保余额994.5亿元" in info
    # and its relations with their evidence, e.g. the 50 亿元 special fund it earmarks
    assert "50 亿元" in info or "50亿元" in info
    assert p.page.locator("#ifkg-info mark").count() >= len(sentences)
    p.page.screenshot(path=str(tmp_path / "click.png"))
    p.clean()


def test_hover_shows_class_figures_and_evidence(seed, seed_page):
    G, _ = seed
    p = seed_page
    zoom_on(p, FUND)
    hover_node(p, FUND)
    p.page.wait_for_selector("#ifkg-tip:not([hidden])", timeout=5000)
    tip = p.page.inner_text("#ifkg-tip")
    assert "市担保基金" in tip and "基金" in tip  # its name and its class
    assert any(f["sentence"] in tip for f in G.nodes[FUND]["figures"])
    p.clean()


def test_language_switch_size_switch_and_class_filter(seed, seed_page):
    G, _ = seed
    p = seed_page
    p.page.select_option("#ifkg-lang", "en")
    assert p.js(f"window.ifkgNetwork.body.data.nodes.get('{FUND}').label") == G.nodes[FUND]["en"]
    assert any("Financial institution" in row
               for row in p.page.locator("#ifkg-legend li").all_inner_texts())
    search(p, G.nodes[FUND]["en"])
    assert p.js("window.ifkgNetwork.getSelectedNodes()") == [FUND]
    p.page.select_option("#ifkg-lang", "zh")
    assert p.js(f"window.ifkgNetwork.body.data.nodes.get('{FUND}').label") == "市担保基金"
    # size by money: the entity with the most CNY is drawn the largest
    p.page.select_option("#ifkg-size", "money")
    sizes = p.js("""() => Object.fromEntries(window.ifkgNetwork.body.data.nodes.get()
                       .map(n => [n.id, n.size]))""")
    money = {n["id"]: n["sm"] for n in payload(p.page.content())["nodes"]}
    richest = max(money, key=money.get)
    assert sizes[richest] == max(sizes.values()) and money[richest] == 1
    # unticking a class hides its entities and their relations; ticking shows them again
    row = p.page.locator("#ifkg-legend li", has_text="金融机构")
    cat_nodes = {n["id"] for n in payload(p.page.content())["nodes"]
                 if n["group"] == "FinancialInstitution"}
    assert cat_nodes
    row.locator("input").uncheck()
    drawn = set(p.js("window.ifkgNetwork.body.nodeIndices"))
    assert drawn == set(G.nodes) - cat_nodes
    assert all(not ({u, v} & cat_nodes) for u, v in G.edges() if u in drawn and v in drawn)
    row.locator("input").check()
    assert set(p.js("window.ifkgNetwork.body.nodeIndices")) == set(G.nodes)
    p.clean()


def test_path_view_keeps_parallel_edges_and_an_edge_click_shows_its_evidence(
        browser, store, tmp_path):
    view = select_view(store, BASE, path=("浦发银行", "市融资担保中心"), kind="collaboration")
    page = render_html(view.graph, title=view.title, style=style_from_store(store),
                       highlight=view.highlight)
    path = tmp_path / "path.html"
    path.write_text(page, encoding="utf-8")
    p = open_page(browser, path)
    try:
        got = laid_out(p)
        assert got["edges"] == view.graph.number_of_edges() == got["drawnEdges"]
        assert "科担贷" in {d["zh"] for _, d in view.graph.nodes(data=True)}
        # click the middle of a straight edge: its evidence sentence shows
        edges = payload(page)["edges"]
        e = next(e for e in edges if e["smooth"] is False)
        mid = p.js("""([a, b]) => { const net = window.ifkgNetwork, pos = net.getPositions([a, b]);
            net.moveTo({position: {x: (pos[a].x + pos[b].x) / 2, y: (pos[a].y + pos[b].y) / 2},
                        scale: 1, animation: false});
            return net.canvasToDOM({x: (pos[a].x + pos[b].x) / 2,
                                    y: (pos[a].y + pos[b].y) / 2}); }""", [e["from"], e["to"]])
        box = p.page.locator("#ifkg-graph").bounding_box()
        p.page.mouse.click(box["x"] + mid["x"], box["y"] + mid["y"])
        assert p.js("window.ifkgNetwork.getSelectedEdges()") == [e["id"]]
        assert e["s"] in p.page.inner_text("#ifkg-info")
        # hovering the edge shows the relation, its kind and its evidence in a tooltip
        p.page.mouse.move(box["x"] + 5, box["y"] + 5)
        p.page.mouse.move(box["x"] + mid["x"], box["y"] + mid["y"], steps=4)
        p.page.wait_for_selector("#ifkg-tip:not([hidden])", timeout=5000)
        tip = p.page.inner_text("#ifkg-tip")
        assert e["lz"] in tip and e["s"] in tip and "合作关系" in tip
        p.page.screenshot(path=str(tmp_path / "path.png"))
        p.clean()
    finally:
        p.page.context.close()


# ---------------------------------------------------------------------------------------------
# hostile names: no script runs, the text shows as text


def test_hostile_names_never_run_and_show_as_text(browser, tmp_path):
    project = hostile_project(tmp_path)
    st = compiled_store(project)
    G = project_graph(st, project.base)
    path = tmp_path / "hostile.html"
    path.write_text(render_html(G, title=HOSTILE_TITLE, style=style_from_store(st)),
                    encoding="utf-8")
    p = open_page(browser, path)
    try:
        pwned = "() => window.__pwned"
        assert p.js(pwned) is None
        assert p.page.title() == HOSTILE_TITLE
        assert p.page.inner_text("#ifkg-title") == HOSTILE_TITLE
        # no element came out of the data: only the page's own markup is there
        assert p.js("document.querySelectorAll('img, svg, a, b, i, iframe, object').length") == 0
        assert p.js("document.scripts.length") == 3
        assert len(laid_out(p)["positions"]) == G.number_of_nodes() == 6
        legend = p.page.inner_text("#ifkg-legend")
        assert '<img src=x onerror="window.__pwned=1;alert(1)">类' in legend

        loan = ENT + "evil-loan"
        search(p, "<svg onload=window.__pwned=1>贷")
        assert p.js("window.ifkgNetwork.getSelectedNodes()") == [loan]
        info = p.page.inner_text("#ifkg-info")
        assert "<svg onload=window.__pwned=1>贷" in info
        assert "{{DATA}}{{VIS_JS}}企业" in info  # a template marker stays text

        centre = ENT + "evil-centre"
        zoom_on(p, centre)
        hover_node(p, centre)
        p.page.wait_for_selector("#ifkg-tip:not([hidden])", timeout=5000)
        tip = p.page.inner_text("#ifkg-tip")
        assert '"href"担保&amp;中心</script>' in tip
        assert "<script>window.__pwned=1</script>在保余额: 12.5 亿元" in tip

        bank = ENT + "evil-bank"
        zoom_on(p, bank)
        click_node(p, bank)
        info = p.page.inner_text("#ifkg-info")
        assert '<img src=x onerror="window.__pwned=1;alert(1)">银行' in info
        assert '<img src=x onerror="window.__pwned=1">关联' in info  # the relation's label
        # two relations between the bank and the centre: neither dropped
        assert len([1 for u, v in G.edges() if {u, v} == {bank, centre}]) == 2
        assert info.count('"href"担保&amp;中心</script>') >= 2

        p.page.select_option("#ifkg-lang", "en")
        info = p.page.inner_text("#ifkg-info")
        assert "</script><script>window.__pwned=1;alert(1)</script> Bank" in info
        assert "</script><script>window.__pwned=1</script> class & \"href\"" in \
            p.page.inner_text("#ifkg-legend")
        assert p.js(f"window.ifkgNetwork.body.data.nodes.get('{centre}').label") == \
            "<a href=\"javascript:window.__pwned=1\">centre</a> & 'quotes'"
        assert p.js(f"window.ifkgNetwork.body.data.nodes.get('{loan}').label") == \
            "loan\u2028line\u2029separators"
        p.page.screenshot(path=str(tmp_path / "hostile.png"))
        assert p.js(pwned) is None
        assert p.js("document.querySelectorAll('img, svg, a, b, i, iframe, object').length") == 0
        p.clean()
    finally:
        p.page.context.close()


# ---------------------------------------------------------------------------------------------
# scale


def test_two_thousand_entities_are_interactive_within_seconds(browser, tmp_path):
    G = synthetic_graph(2000)
    t0 = time.perf_counter()
    page = render_html(G, title="2,000 entities")
    render_s = time.perf_counter() - t0
    path = tmp_path / "big.html"
    path.write_text(page, encoding="utf-8")
    p = open_page(browser, path)
    try:
        p.clean()
        got = laid_out(p)
        assert len(got["positions"]) == 2000
        assert got["edges"] == G.number_of_edges() == got["drawnEdges"]
        assert p.ready_ms < 10_000, f"first draw after {p.ready_ms:.0f} ms"
        # interactive: a search focuses a node at once
        t1 = time.perf_counter()
        search(p, "节点1999")
        assert p.js("window.ifkgNetwork.getSelectedNodes()") == [ENT + "n1999"]
        search_s = time.perf_counter() - t1
        p.page.screenshot(path=str(tmp_path / "big.png"))
        print(f"\n2,000 entities / {G.number_of_edges()} relations: page written in "
              f"{render_s:.2f} s (layout included), first draw {p.ready_ms:.0f} ms after "
              f"navigation start, {p.wall_s:.2f} s wall, search + focus {search_s:.2f} s")
        p.clean()
    finally:
        p.page.context.close()
