"""The pages of ``ifkg serve`` in Debian's headless Chromium (Playwright), with every request that
leaves 127.0.0.1 aborted and recorded. A missing /usr/bin/chromium fails these tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote

import pytest

from conftest import watch_page
from ifkg.serve import App, Settings, make_server, serve_in_thread

BALANCE = ("SELECT ?value ?date WHERE { ?m ifkg:about ent:shanghai-financing-guarantee-fund ; "
           "ifkg:indicator ind:outstanding-guarantee-balance ; schema:value ?value ; "
           "ifkg:asOf ?date }")



@pytest.fixture(scope="module")
def url(project, built):
    app = App(project, Settings(), store=built.compiled.store(), files=built.files)
    server = make_server(project, "127.0.0.1", 0, app=app, quiet=True)
    serve_in_thread(server)
    yield server.url
    server.shutdown()
    server.server_close()


@dataclass
class Opened:
    page: object
    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def clean(self, origin: str) -> None:
        assert self.blocked == [], f"requests left 127.0.0.1: {self.blocked}"
        assert all(u.startswith(origin) for u in self.requests), self.requests
        assert self.errors == [], f"console errors: {self.errors}"


def open_page(browser, target: str, block: tuple[str, ...] = ()) -> Opened:
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    page = context.new_page()
    out = Opened(page)

    watch_page(context, page, out, lambda u: u.startswith("http://127.0.0.1:")
               and not any(b in u for b in block))
    page.goto(target)
    return out


def test_query_page_runs_a_query_offline_and_shows_the_results(browser, url) -> None:
    p = open_page(browser, url + "query")
    page = p.page
    page.wait_for_selector(".yasqe .CodeMirror", timeout=30_000)
    assert page.locator("#ifkg-query-form").is_hidden()  # YASGUI replaced the plain form
    page.evaluate("q => window.ifkgYasgui.getTab().getYasqe().setValue(q)",
                  "PREFIX ifkg: <https://w3id.org/ifkg/def#>\nPREFIX schema: <https://schema.org/>\n"
                  "PREFIX ent: <https://w3id.org/ifkg/id/entity/>\n"
                  "PREFIX ind: <https://w3id.org/ifkg/id/indicator/>\n" + BALANCE)
    page.locator(".yasqe_queryButton").first.click()
    page.wait_for_selector(".yasr table.dataTable td:has-text('99450000000')", timeout=30_000)
    cells = page.locator(".yasr table.dataTable tbody td").all_inner_texts()
    assert any("99450000000" in c for c in cells) and any("2024-12-31" in c for c in cells)
    assert any(r.endswith("/sparql") for r in p.requests)
    # the editor was given the predeclared prefixes it needs; autocompletion asked only us
    text = page.evaluate("window.ifkgYasgui.getTab().getYasqe().getValue()")
    assert text.startswith("PREFIX ifkg:")
    p.clean(url)
    page.context.close()


def test_query_page_default_query_and_catalogue_links(browser, url) -> None:
    p = open_page(browser, url + "query")
    page = p.page
    page.wait_for_selector(".yasqe_queryButton", timeout=30_000)
    page.locator(".yasqe_queryButton").first.click()
    page.wait_for_selector(".yasr table.dataTable td:has-text('市担保基金')", timeout=30_000)
    page.locator("#catalogue a", has_text="融资担保机构：在保余额、增速与科技占比").click()
    page.wait_for_selector("table.results", timeout=30_000)
    assert "994.5 亿元" in page.locator("table.results").inner_text()
    p.clean(url)
    page.context.close()


def test_without_yasgui_the_plain_form_still_runs_queries(browser, url) -> None:
    p = open_page(browser, url + "query", block=("yasgui.min.js",))
    page = p.page
    page.wait_for_selector("#ifkg-query-form", state="visible")
    page.fill("#ifkg-query", BALANCE)
    page.click("#ifkg-run")
    page.wait_for_selector("#ifkg-results table.results td:has-text('99450000000')",
                           timeout=30_000)
    assert page.locator("#ifkg-results .count").inner_text() == "1 rows"
    assert [u for u in p.blocked if "yasgui.min.js" not in u] == []
    page.context.close()


def test_entity_iri_opens_its_page_with_launchers_and_evidence(browser, url) -> None:
    p = open_page(browser, url + "id/entity/linchuangbao")
    page = p.page
    page.wait_for_selector("#relations")
    assert page.url.endswith("/id/entity/linchuangbao.html")  # followed the 303
    rows = page.locator("#relations tr.edge-in")
    assert rows.count() == 3
    names = {rows.nth(i).locator("td").nth(2).locator("a").inner_text() for i in range(3)}
    assert names == {"市担保基金", "奉贤融资担保有限公司", "临港新片区融资担保有限公司"}
    assert "联合推出“临创保”批次担保业务" in rows.first.locator("mark").inner_text()
    # the stylesheet from /static applies under the page's CSP
    colour = page.evaluate("getComputedStyle(document.querySelector('nav.site')).backgroundColor")
    assert colour == "rgb(31, 58, 95)"
    page.locator("#relations a", has_text="临港新片区融资担保有限公司").click()
    page.wait_for_url("**/id/entity/lingang-guarantee.html")
    assert "69%" in page.locator("#figures").inner_text()
    p.clean(url)
    page.context.close()


def test_graph_page_draws_under_the_servers_csp(browser, url) -> None:
    p = open_page(browser, url + "graph")
    p.page.wait_for_function("window.ifkgReady !== undefined", timeout=60_000)
    assert p.page.evaluate("document.querySelectorAll('canvas').length") >= 1
    p.clean(url)
    p.page.context.close()


def test_catalogue_page_with_parameter_form(browser, url) -> None:
    p = open_page(browser, url + "queries/entity-figures.html?entity=" + quote("市担保基金"))
    page = p.page
    page.wait_for_selector("table.results")
    assert "994.5 亿元" in page.locator("table.results").inner_text()
    page.fill("input[name=entity]", "临港新片区融资担保有限公司")
    page.locator("#ifkg-params button").click()
    page.wait_for_selector("table.results:has-text('69%')")
    assert "994.5 亿元" not in page.locator("table.results").inner_text()
    p.clean(url)
    page.context.close()
