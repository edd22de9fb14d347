"""Graphs and pages shared by the viz tests: a synthetic graph, the hostile fixture project."""

from __future__ import annotations

import json
import random
import re
import shutil
from pathlib import Path

import networkx as nx

from ifkg.build import check
from ifkg.project import Project

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = Path(__file__).resolve().parent / "fixtures" / "hostile"
BASE = "https://w3id.org/ifkg/"
ENT = BASE + "id/entity/"
KINDS = ("funding", "collaboration", "governance", "place")
CLASSES = ("Bank", "GuaranteeFund", "Enterprise", "LoanProduct", "Commission", "EntityGroup")

# the title the hostile page is rendered with: every way out of an HTML context
HOSTILE_TITLE = ('<img src=x onerror="window.__pwned=1;alert(1)"></title></script>'
                 '<script>window.__pwned=1</script> "href" & \'quotes\' {{DATA}}')


def synthetic_graph(n: int, seed: int = 7) -> nx.MultiDiGraph:
    """A connected MultiDiGraph shaped like ``network.project_graph``'s, with ``n`` entities,
    about 1.5 edges per entity, some of them parallel (same pair, both directions)."""
    rnd = random.Random(seed)
    G = nx.MultiDiGraph()
    for i in range(n):
        iri = f"{ENT}n{i:04d}"
        figs = []
        if i % 10 == 0:
            figs.append({"indicator": "在保余额", "indicator_en": "balance",
                         "reported": f"{i + 1} 亿元", "value": str((i + 1) * 100_000_000),
                         "unit": "CCY_CNY", "qualifier": "exact", "asOf": "2024-12-31",
                         "period": None, "sentence": f"节点{i}在保余额 {i + 1} 亿元。",
                         "exact": f"在保余额 {i + 1} 亿元"})
        G.add_node(iri, iri=iri, id=f"n{i:04d}", classes=[CLASSES[i % len(CLASSES)]],
                   zh=f"节点{i}", en=f"node {i}", aliases=[], figures=figs)

    def edge(u: int, v: int, pred: str, kind: str) -> None:
        G.add_edge(f"{ENT}n{u:04d}", f"{ENT}n{v:04d}", key=pred, predicate=pred,
                   label_zh=f"{pred}-zh", label_en=pred, kinds=frozenset({kind}),
                   statement=f"{BASE}id/statement/s/{u}-{pred}-{v}",
                   sentence=f"节点{u}与节点{v}{pred}。", exact=f"节点{u}与节点{v}", date=None)

    for i in range(1, n):
        edge(i, rnd.randrange(max(0, i - 40), i), "lendsTo", KINDS[i % 4])
    for _ in range(n // 2):
        a, b = rnd.randrange(n), rnd.randrange(n)
        if a != b:
            edge(a, b, "cooperatesWith", "collaboration")
    edge(1, 0, "guarantees", "funding")      # parallel to 1 -lendsTo-> 0
    edge(0, 1, "cooperatesWith", "collaboration")  # and one back
    return G


def hostile_project(tmp: Path) -> Project:
    """tests/fixtures/hostile with the real ontology plus the fixture's hostile class and
    relation (``ontology-extra.ttl`` appended to ``ifkg.ttl``)."""
    root = tmp / "hostile"
    shutil.copytree(HOSTILE / "graph", root / "graph")
    shutil.copytree(ROOT / "ontology", root / "ontology")
    onto = root / "ontology" / "ifkg.ttl"
    onto.write_text(onto.read_text(encoding="utf-8") + "\n" +
                    (HOSTILE / "ontology-extra.ttl").read_text(encoding="utf-8"),
                    encoding="utf-8")
    return Project(root)


def compiled_store(project: Project):
    """The project's dataset in a pyoxigraph store (checked and compiled, no exports)."""
    _, compiled, problems = check(project)
    errors = [p for p in problems if p.severity == "error"]
    assert compiled is not None and not errors, errors
    return compiled.store()


def payload(page: str) -> dict:
    """The JSON the page embeds."""
    m = re.search(r'<script type="application/json" id="ifkg-data">(.*?)</script>', page, re.S)
    assert m, "no data block"
    return json.loads(m.group(1))
