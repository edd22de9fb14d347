"""Rebuilds: only what changed is compiled and serialised, and the result is the same bytes as
a build from scratch."""

from __future__ import annotations

import filecmp
import shutil
from pathlib import Path

from ifkg.build import build
from ifkg.export import EXPORTS, FRAGMENTED
from ifkg.project import Project

ROOT = Path(__file__).resolve().parents[1]
FUNDS = Path("graph/entities/funds.yaml")
FACTS = Path("graph/sources/shstc-reply-2025-27/facts.yaml")
EN_OLD = "en: Shanghai Municipal Policy-based Financing Guarantee Fund"
EN_NEW = "en: Shanghai Policy-based Financing Guarantee Fund (renamed)"
NOTE_OLD = "note: The third session (三次会议) of the 16th congress, read from the name."
NOTE_NEW = "note: The third session (三次会议) of the 16th congress."


def _copy(where: Path) -> Project:
    where.mkdir()
    for name in ("graph", "ontology"):
        shutil.copytree(ROOT / name, where / name)
    shutil.copy(ROOT / "VERSION", where / "VERSION")
    return Project(where)


def _edit(project: Project, rel: Path, old: str, new: str) -> None:
    path = project.root / rel
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} not once in {rel}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def _same(a: Path, b: Path) -> list[str]:
    return [n for n in EXPORTS if not filecmp.cmp(a / n, b / n, shallow=False)]


def _differs_from_a_cold_build(tmp_path: Path, warm: Project, rel: Path, old: str,
                               new: str) -> list[str]:
    """The exports of ``warm`` that differ from a build from scratch of a copy with the edit."""
    cold = _copy(tmp_path / "cold")
    _edit(cold, rel, old, new)
    build(cold)
    return _same(warm.exports_dir, cold.exports_dir)


def test_a_rebuild_serialises_only_the_changed_group_and_equals_a_cold_build(tmp_path):
    warm = _copy(tmp_path / "warm")
    first = build(warm)
    groups = len(first.compiled.groups)
    assert first.rendered is not None
    assert first.rendered.reused == 0
    assert first.rendered.serialised == groups * len(FRAGMENTED)
    assert first.compiled.reused_sources == []

    # one entity's English name: one group changes, no source is compiled again
    _edit(warm, FUNDS, EN_OLD, EN_NEW)
    second = build(warm)
    assert second.compiled.compiled_sources == []
    assert second.compiled.reused_sources == ["shstc-reply-2025-27"]
    assert second.rendered.serialised == len(FRAGMENTED)
    assert second.rendered.reused == (groups - 1) * len(FRAGMENTED)
    assert EN_NEW.split(": ", 1)[1] in second.files["ifkg.ttl"].decode()

    assert _differs_from_a_cold_build(tmp_path, warm, FUNDS, EN_OLD, EN_NEW) == []


def test_an_edited_source_is_compiled_again_and_its_group_serialised(tmp_path):
    warm = _copy(tmp_path / "warm")
    build(warm)
    _edit(warm, FACTS, NOTE_OLD, NOTE_NEW)
    again = build(warm)
    assert again.compiled.compiled_sources == ["shstc-reply-2025-27"]
    # the note is on a statement, which the source's own group holds
    assert again.rendered.serialised == len(FRAGMENTED)
    assert NOTE_NEW.split(": ", 1)[1] in again.files["ifkg.nt"].decode()
    assert NOTE_OLD.split(": ", 1)[1] not in again.files["ifkg.nt"].decode()

    assert _differs_from_a_cold_build(tmp_path, warm, FACTS, NOTE_OLD, NOTE_NEW) == []


def test_a_cache_file_changed_behind_its_back_is_not_used(tmp_path):
    project = _copy(tmp_path / "p")
    build(project)
    cached = project.root / ".ifkg-cache" / "exports" / "ifkg.ttl"
    data = cached.read_bytes()
    cached.unlink()                    # break the hard link, then tamper with the copy
    cached.write_bytes(data.replace(b"Shanghai", b"Shanghai (tampered)"))
    again = build(project)
    assert b"tampered" not in again.files["ifkg.ttl"]
    assert again.rendered.serialised == len(again.compiled.groups)   # Turtle only, all groups


def test_the_store_based_exports_rendered_in_a_forked_process_are_the_same_bytes(tmp_path,
                                                                                  monkeypatch):
    import ifkg.build

    here = _copy(tmp_path / "here")
    build(here)
    forked = _copy(tmp_path / "forked")
    monkeypatch.setattr(ifkg.build, "BACKGROUND_MIN_QUADS", 0)
    result = build(forked)
    assert "exports: waiting for the store-based exports" in result.timings
    assert result.timings["exports: graph.html"] > 0   # the child's own timing came back
    assert _same(here.exports_dir, forked.exports_dir) == []


def test_a_failing_store_based_export_fails_the_build_and_writes_nothing(tmp_path, monkeypatch):
    import pytest

    import ifkg.build
    import ifkg.export
    from ifkg.errors import IfkgError

    project = _copy(tmp_path / "p")
    build(project)
    before = {n: (project.exports_dir / n).read_bytes() for n in EXPORTS}
    _edit(project, FUNDS, EN_OLD, EN_NEW)
    monkeypatch.setattr(ifkg.build, "BACKGROUND_MIN_QUADS", 0)

    def broken(c, p):
        raise ValueError("layout exploded")

    monkeypatch.setitem(ifkg.export.WHOLE, "graph.html", broken)
    with pytest.raises(IfkgError, match="graph.html.*layout exploded"):
        build(project)
    assert {n: (project.exports_dir / n).read_bytes() for n in EXPORTS} == before


def test_export_files_reads_from_disk_and_a_missing_file_is_a_missing_key(tmp_path):
    from ifkg.export import ExportFiles

    project = _copy(tmp_path / "p")
    build(project)
    files = ExportFiles(project.exports_dir)
    assert set(files) == set(EXPORTS)
    assert files["ifkg.nq"] == (project.exports_dir / "ifkg.nq").read_bytes()
    (project.exports_dir / "graph.html").unlink()
    assert files.get("graph.html") is None and "graph.html" not in set(files)
    assert files.get("../VERSION") is None


def test_the_caches_keep_only_what_the_current_files_need(tmp_path):
    project = _copy(tmp_path / "p")
    build(project)
    cache = project.root / ".ifkg-cache"
    yaml_before = {p.name for p in (cache / "yaml").glob("*.pickle")}
    _edit(project, FUNDS, EN_OLD, EN_NEW)
    (cache / "compiled" / "gone-source.pickle").write_bytes(b"old")
    build(project)
    yaml_after = {p.name for p in (cache / "yaml").glob("*.pickle")}
    assert len(yaml_after) == len(yaml_before)          # funds.yaml's old tree was replaced
    assert yaml_after != yaml_before
    assert sorted(p.name for p in (cache / "compiled").glob("*.pickle")) == [
        "shstc-reply-2025-27.pickle"]
