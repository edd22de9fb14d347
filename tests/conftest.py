"""Shared fixtures: one build of the real graph per session, and a small project to break."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ifkg.build import BuildResult, build
from ifkg.project import Project

ROOT = Path(__file__).resolve().parents[1]
MINI = Path(__file__).resolve().parent / "fixtures" / "mini"


@pytest.fixture(scope="session")
def project() -> Project:
    return Project(ROOT)


@pytest.fixture(scope="session")
def built(project: Project, tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    """The real graph, built once into a temporary folder (exports/ is never touched)."""
    return build(project, tmp_path_factory.mktemp("exports"))


@pytest.fixture(scope="session")
def store(built: BuildResult):
    return built.compiled.store()


@pytest.fixture()
def mini(tmp_path: Path) -> Project:
    """A small, valid project (tests/fixtures/mini with the real ontology) that tests may edit."""
    root = tmp_path / "mini"
    shutil.copytree(MINI, root)
    shutil.copytree(ROOT / "ontology", root / "ontology")
    return Project(root)


def sparql_values(store, query: str) -> list[tuple]:
    """Rows of a SELECT as tuples of plain values (IRIs and literal lexical forms)."""
    from ifkg.namespaces import prefixes

    head = "".join(f"PREFIX {k}: <{v}>\n" for k, v in prefixes("https://w3id.org/ifkg/").items())
    res = store.query(head + query, use_default_graph_as_union=True)
    names = [v.value for v in res.variables]
    return [tuple(None if row[n] is None else row[n].value for n in names) for row in res]


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


@pytest.fixture(scope="session")
def browser():
    """One headless Debian Chromium (driven by Playwright) for the whole session; a missing
    browser fails the browser tests instead of skipping them."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium "
                    "(apt-get install chromium); the browser tests must run")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


def watch_page(context, page, out, allow) -> None:
    """Abort and record in ``out.blocked`` every request whose URL ``allow`` refuses; record
    every request in ``out.requests`` and console errors and page errors in ``out.errors``."""

    def route(r) -> None:
        url = r.request.url
        if allow(url):
            r.continue_()
        else:
            out.blocked.append(url)
            r.abort()

    context.route("**/*", route)
    page.on("request", lambda req: out.requests.append(req.url))
    page.on("console", lambda m: out.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: out.errors.append(f"pageerror: {e}"))
