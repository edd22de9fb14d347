"""The synthetic corpus generator (ifkg.synth) and the benchmark script's smallest run."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from cli_helpers import run_ifkg
from ifkg.build import build, check
from ifkg.errors import IfkgError
from ifkg.project import Project
from ifkg.synth import generate

ROOT = Path(__file__).resolve().parents[1]
REPLY = ROOT / "graph" / "sources" / "shstc-reply-2025-27" / "facts.yaml"


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _facts(path: Path) -> dict:
    return YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def corpus3(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "c3"
    generate(out, 3, seed=7, template=Project(ROOT))
    return out


def test_same_seed_same_bytes_other_seed_other_bytes(corpus3: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    generate(again, 3, seed=7, template=Project(ROOT))
    assert _tree(again) == _tree(corpus3)
    other = tmp_path / "other"
    generate(other, 3, seed=8, template=Project(ROOT))
    assert _tree(other)["graph/sources/synth-00001/text.txt"] != \
        _tree(corpus3)["graph/sources/synth-00001/text.txt"]


def test_each_document_has_the_shape_of_the_reply(corpus3: Path) -> None:
    reply = _facts(REPLY)
    preds = Counter(r["predicate"] for r in reply["relations"])
    for sid in ("synth-00001", "synth-00002", "synth-00003"):
        facts = _facts(corpus3 / "graph" / "sources" / sid / "facts.yaml")
        assert Counter(r["predicate"] for r in facts["relations"]) == preds
        assert len(facts["measurements"]) == len(reply["measurements"])
        assert [m["indicator"] for m in facts["measurements"]] == \
            [m["indicator"] for m in reply["measurements"]]
        assert len(facts["mentions"]) >= len(reply["mentions"])


def test_entities_are_shared_across_documents(corpus3: Path) -> None:
    seen: Counter[str] = Counter()
    for sid in ("synth-00001", "synth-00002", "synth-00003"):
        facts = _facts(corpus3 / "graph" / "sources" / sid / "facts.yaml")
        seen.update({m["entity"] for m in facts["mentions"]})
    shared = [e for e, n in seen.items() if n > 1]
    assert len(shared) > 50           # most slots reuse an entity of an earlier document
    assert len(seen) > len(shared)    # and some are new in each


def test_corpus_checks_clean_and_every_quote_is_found_once(corpus3: Path) -> None:
    corpus, compiled, problems = check(Project(corpus3), shapes=False)
    assert [str(p) for p in problems if p.severity == "error"] == []
    assert compiled is not None and corpus is not None
    assert len(corpus.sources) == 3
    for src in corpus.sources.values():
        for r in src.relations:   # the span is the quote, inside one sentence of the text
            assert src.text[r.span.start:r.span.end] == r.quote
            assert src.text.count(r.quote) == 1


def test_smallest_corpus_builds_with_the_cli(tmp_path: Path) -> None:
    out = tmp_path / "c1"
    r = subprocess.run([sys.executable, "-m", "ifkg.cli", "synth", str(out), "--docs", "1",
                        "--seed", "3"], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert "wrote 1 document(s)" in r.stdout
    built = run_ifkg(out, "build")
    assert built.returncode == 0, built.stderr
    assert "from 1 source(s)" in built.stdout
    assert (out / "exports" / "ifkg.nq").stat().st_size > 100_000
    assert run_ifkg(out, "validate").returncode == 0


def test_bad_arguments_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(IfkgError, match="at least 1"):
        generate(tmp_path / "x", 0)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "f").write_text("x")
    with pytest.raises(IfkgError, match="not empty"):
        generate(tmp_path / "full", 1)
    r = run_ifkg(ROOT, "synth", str(tmp_path / "full"), "--docs", "1")
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "not empty" in r.stderr


def test_mini_project_as_template(mini: Project, tmp_path: Path) -> None:
    out = tmp_path / "from-mini"
    info = generate(out, 4, seed=1, template=mini)
    assert info.relations == 4 * 3 and info.measurements == 4 * 4
    result = build(Project(out), write=False)
    assert len(result.corpus.sources) == 4


# --- SHACL in parts (ifkg.shacl.validate_parts), which the build uses to scale ---------------

SHAPES = ROOT / "ontology" / "shapes.ttl"
SHAPE_FIXTURES = sorted((ROOT / "tests" / "fixtures" / "shacl").glob("*.ttl"))


def _fixture(path: Path) -> list:
    import pyoxigraph as ox

    return [q.triple for q in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE)]


@pytest.mark.parametrize("fixture", SHAPE_FIXTURES, ids=[f.stem for f in SHAPE_FIXTURES])
def test_parts_find_the_same_problems_as_the_whole_graph(fixture: Path) -> None:
    from ifkg.ontology import parse_ontology
    from ifkg.shacl import validate, validate_parts

    onto = parse_ontology(ROOT / "ontology" / "ifkg.ttl")
    data = _fixture(fixture)
    whole = sorted(str(p) for p in validate(data + onto, SHAPES))
    parts = sorted(str(p) for p in validate_parts(data, onto, SHAPES, "https://w3id.org/ifkg/"))
    if "blank-node" in fixture.name:   # blank node labels differ between runs
        whole, parts = [p.split(": ", 2)[2] for p in whole], [p.split(": ", 2)[2] for p in parts]
    assert parts == whole
    assert (fixture.name == "valid.ttl") == (whole == [])


def test_cached_results_are_reused_and_follow_changes(tmp_path: Path) -> None:
    import pyoxigraph as ox

    from ifkg.ontology import parse_ontology
    from ifkg.shacl import validate_parts

    onto = parse_ontology(ROOT / "ontology" / "ifkg.ttl")
    base = "https://w3id.org/ifkg/"
    valid = _fixture(ROOT / "tests" / "fixtures" / "shacl" / "valid.ttl")
    assert validate_parts(valid, onto, SHAPES, base, tmp_path) == []
    cache = list(tmp_path.glob("shacl-*.json"))
    assert len(cache) == 1 and cache[0].stat().st_size > 100
    # a statement loses its evidence: only its source's group is checked again, and fails
    evidence = ox.NamedNode("https://w3id.org/ifkg/def#evidence")
    stmt = next(t.subject for t in valid if t.predicate == evidence
                and "/id/statement/" in t.subject.value)
    broken = [t for t in valid if not (t.subject == stmt and t.predicate == evidence)]
    problems = validate_parts(broken, onto, SHAPES, base, tmp_path)
    assert [stmt.value in str(p) and "evidence" in str(p) for p in problems] == [True]
    assert validate_parts(valid, onto, SHAPES, base, tmp_path) == []


# --- rebuild with the caches gives the bytes of a full build --------------------------------


def test_rebuild_after_adding_a_document_equals_a_full_build(mini: Project, tmp_path: Path
                                                             ) -> None:
    import shutil

    small, big = tmp_path / "small", tmp_path / "big"
    generate(small, 3, seed=5, template=mini)
    generate(big, 4, seed=5, template=mini)       # the same three documents and one more
    build(Project(small))                          # fills .ifkg-cache (YAML, SHACL)
    assert (small / ".ifkg-cache").is_dir()
    shutil.rmtree(small / "graph")
    shutil.copytree(big / "graph", small / "graph")
    rebuilt = build(Project(small))
    full = build(Project(big))
    assert len(rebuilt.corpus.sources) == 4
    for name in sorted(full.files):
        assert (small / "exports" / name).read_bytes() == (big / "exports" / name).read_bytes(), \
            name
    # and an edit: one figure changes in text and facts; the rebuild sees it
    facts = small / "graph" / "sources" / "synth-00002" / "facts.yaml"
    text = small / "graph" / "sources" / "synth-00002" / "text.txt"
    reported = _facts(facts)["measurements"][0]["reported"]
    new = "9" + reported
    facts.write_text(facts.read_text(encoding="utf-8").replace(reported, new), encoding="utf-8")
    text.write_text(text.read_text(encoding="utf-8").replace(reported, new), encoding="utf-8")
    meta = small / "graph" / "sources" / "synth-00002" / "source.yaml"
    import hashlib

    digest = hashlib.sha256(text.read_bytes()).hexdigest()
    meta.write_text("\n".join(f"sha256: {digest}" if line.startswith("sha256:") else line
                              for line in meta.read_text(encoding="utf-8").splitlines()) + "\n",
                    encoding="utf-8")
    edited = build(Project(small))
    assert any(m.reported == new for m in edited.corpus.sources["synth-00002"].measurements)
    fresh = tmp_path / "fresh"
    shutil.copytree(small / "graph", fresh / "graph")
    shutil.copytree(small / "ontology", fresh / "ontology")
    again = build(Project(fresh))
    assert again.files == edited.files


def test_benchmark_quick_run_prints_its_table(tmp_path: Path) -> None:
    """The CI smoke run of benchmarks/run.py at its smallest scale (no time is asserted)."""
    r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick",
                        "--work", str(tmp_path / "bench"), "--out", str(tmp_path / "t.md")],
                       capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    table = (tmp_path / "t.md").read_text(encoding="utf-8")
    assert table.startswith("| what | scale | ifkg median s |")
    for row in ("| build (check, compile, SHACL, all exports) | 1 docs",
                "| rebuild after adding one document | 1 → 2 docs",
                "exports identical to a full build",
                "| query funding-channels (CSV written) |",
                "| network: betweenness (exact) |",
                "| HTML: first stable drawing in headless Chromium |",
                "| CLI: ifkg --help |", "| CLI: ifkg stats |"):
        assert row in table, row
    catalogue = sorted(p.stem for p in (ROOT / "src" / "ifkg" / "queries").glob("*.rq"))
    assert all(f"| query {name} (CSV written) |" in table for name in catalogue)
    assert table in r.stdout


def test_parts_in_worker_processes_match(monkeypatch: pytest.MonkeyPatch) -> None:
    """Large builds validate chunks in `python -m ifkg.shacl` workers: same problems."""
    import ifkg.shacl as shacl
    from ifkg.ontology import parse_ontology

    onto = parse_ontology(ROOT / "ontology" / "ifkg.ttl")
    fixtures = ROOT / "tests" / "fixtures" / "shacl"
    data = _fixture(fixtures / "MeasurementShape-violation-unit.ttl")
    base = "https://w3id.org/ifkg/"
    alone = [str(p) for p in shacl.validate_parts(data, onto, SHAPES, base, workers=1)]
    monkeypatch.setattr(shacl, "PARALLEL_MIN_TRIPLES", 1)
    monkeypatch.setattr(shacl, "CHUNK_TRIPLES", 1)
    together = [str(p) for p in shacl.validate_parts(data, onto, SHAPES, base, workers=2)]
    assert together == alone and len(alone) == 1
