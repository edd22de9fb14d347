"""One benchmark of ifkg: build, rebuild, catalogue queries, network, HTML view and CLI.

    .venv/bin/python benchmarks/run.py            # the full table (about 1M triples; long)
    .venv/bin/python benchmarks/run.py --quick    # smallest scale: the CI smoke run

Every measured step runs in a fresh child process (this script with ``--child``), so each row
reports the peak resident memory of the process that did the work (``os.wait4``'s
``ru_maxrss``; for Chromium, the summed RSS of its process tree sampled with psutil). Times are
medians over repeated runs; baselines run on the same data in the same script: rdflib's memory
store and raw pyoxigraph for queries, an rdflib parse-and-write for builds, NetworkX called
directly for the network, the bare interpreter for the CLI. Corpora are synthetic
(``ifkg.synth``, shaped like the curated reply) and are written under a temporary folder.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SEED = 1
TARGET_TRIPLES = 1_000_000
QUERY_LIMIT = 60.0    # seconds one run of one query may take (rdflib at 1M can take much longer)
SECTIONS = ("build", "queries", "network", "html", "cli")
T = time.perf_counter


# ---------------------------------------------------------------------------------------------
# running children


def child(step: str, *args: Any, timeout: float = 3600) -> tuple[dict[str, Any], float]:
    """Run ``step`` in a fresh interpreter; its JSON answer and its peak RSS in MB."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", step, json.dumps(args)]
    env = {k: v for k, v in os.environ.items() if k not in ("IFKG_HOME", "IFKG_BASE")}
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=ROOT, env=env)
        deadline = time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"{step} timed out after {timeout} s")
            time.sleep(0.02)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text, errors = out.read().decode(), err.read().decode()
    if proc.returncode != 0:
        raise RuntimeError(f"{step} failed ({proc.returncode}):\n{errors[-3000:]}")
    answer = json.loads(text.strip().splitlines()[-1])
    peak = max(usage.ru_maxrss / 1024, answer.pop("peak_mb", 0.0))
    return answer, peak


def wall(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Wall time and peak RSS (MB) of one command."""
    start = T()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
                            cwd=cwd)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = T() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {proc.stderr.read().decode()[-2000:]}")
    proc.stderr.close()
    return elapsed, usage.ru_maxrss / 1024


# ---------------------------------------------------------------------------------------------
# child steps (run with --child NAME ARGS)


def _project(root: str):
    from ifkg.project import Project

    return Project(Path(root))


def step_build(root: str) -> dict[str, Any]:
    """A cold build: no SHACL cache, no exports."""
    from ifkg.build import build

    project = _project(root)
    shutil.rmtree(project.root / ".ifkg-cache", ignore_errors=True)
    start = T()
    result = build(project)
    return {"seconds": T() - start, "quads": result.compiled.n_quads,
            "entities": len(result.corpus.entities), "timings": result.timings}


def step_rdflib_io(root: str) -> dict[str, Any]:
    """Baseline: rdflib's memory store parses the N-Quads export and writes it as Turtle."""
    import rdflib

    start = T()
    ds = rdflib.Dataset()
    ds.parse(Path(root) / "exports" / "ifkg.nq", format="nquads")
    ds.serialize(format="trig")
    return {"seconds": T() - start}


def step_rebuild(base: str, bigger: str, work: str) -> dict[str, Any]:
    """Copy the built ``base`` corpus (exports and SHACL cache included), add the one document
    that ``bigger`` has more, and build again; compare with ``bigger``'s own full build."""
    from ifkg.build import build

    w = Path(work)
    shutil.rmtree(w, ignore_errors=True)
    shutil.copytree(base, w, symlinks=True)
    shutil.rmtree(w / "graph", ignore_errors=True)
    shutil.copytree(Path(bigger) / "graph", w / "graph")
    start = T()
    result = build(_project(work))
    seconds = T() - start
    ref = Path(bigger) / "exports"
    differ = sorted(f.name for f in ref.iterdir()
                    if f.is_file() and (w / "exports" / f.name).read_bytes() != f.read_bytes())
    if not differ:
        shutil.rmtree(w, ignore_errors=True)
    return {"seconds": seconds, "identical": not differ, "differ": differ,
            "timings": result.timings}


def _stages(timings: dict[str, float]) -> str:
    """The build's own stage timings, in short (``ifkg build --timings`` prints them all)."""
    parts = {"read and check": 0.0, "compile": 0.0, "SHACL": 0.0, "RDF exports": 0.0,
             "other exports": 0.0, "written": 0.0}
    for stage, secs in timings.items():
        if stage.startswith("read"):
            parts["read and check"] += secs
        elif stage in ("compile", "SHACL"):
            parts[stage] += secs
        elif "ifkg.nq" in stage:
            parts["RDF exports"] += secs
        elif "written" in stage:
            parts["written"] += secs
        elif "waiting" in stage:
            continue
        else:
            parts["other exports"] += secs
    return "stages: " + ", ".join(f"{k} {v:.1f} s" for k, v in parts.items())


def _catalogue_jobs(store, base: str) -> list[tuple[str, str, dict]]:
    """(name, text, bindings) of every catalogue query; entity parameters whose default names
    an entity the corpus lacks get its best-connected entity."""
    from ifkg import catalogue
    from ifkg.errors import IfkgError

    hub = None
    jobs = []
    for name, q in catalogue.catalogue().items():
        try:
            binds = catalogue.bindings(store, q, {}, base)
        except IfkgError:
            if hub is None:
                rows = store.query(
                    "SELECT ?e (COUNT(*) AS ?n) WHERE { ?e <https://w3id.org/ifkg/def#evidence> "
                    "?ev } GROUP BY ?e ORDER BY DESC(?n) ?e LIMIT 1",
                    use_default_graph_as_union=True)
                hub = next(iter(rows))["e"].value
            given = {p.name: hub for p in q.params if p.default and p.type == "entity"}
            binds = catalogue.bindings(store, q, given, base)
        jobs.append((name, q.text, binds))
    return jobs


def step_queries(root: str, engine: str, repeats: int, budget: float) -> dict[str, Any]:
    """Every catalogue query, CSV written, on one engine: ifkg (the CLI's path: ifkg.sparql,
    forked with a time limit), raw pyoxigraph, or rdflib's memory store."""
    import io

    import pyoxigraph as ox

    from ifkg import sparql
    from ifkg.namespaces import prefixes

    project = _project(root)
    nq = project.root / "exports" / "ifkg.nq"
    start = T()
    if engine == "ifkg":   # the CLI's way: exports/ifkg.nq when it is current
        from ifkg.build import open_store

        store = open_store(project)
    else:
        store = ox.Store()
        store.bulk_load(path=str(nq), format=ox.RdfFormat.N_QUADS)
    jobs = _catalogue_jobs(store, project.base)
    head = "".join(f"PREFIX {k}: <{v}>\n" for k, v in prefixes(project.base).items())
    if engine == "ifkg":
        # many queries on one unchanging store: kept forked workers, as `ifkg serve` does
        # (`ifkg query` forks one worker per invocation: 13-25 ms more at 1M quads)
        sparql.reuse_workers(store)
        graphs = [g.value for g in store.named_graphs()]
        prepared = {n: sparql.prepare(t, base=project.base, name=n, graphs=graphs)
                    for n, t, _ in jobs}
    elif engine == "rdflib":
        import rdflib

        ds = rdflib.Dataset(default_union=True)
        ds.parse(nq, format="nquads")
    load = T() - start

    def run(name: str, text: str, binds: dict) -> int:
        if engine == "ifkg":
            result = sparql.execute(store, prepared[name], bindings=binds, output="csv")
            return len(sparql.to_bytes(result, "csv"))
        if engine == "pyoxigraph":
            res = store.query(head + text, use_default_graph_as_union=True,
                              substitutions={ox.Variable(k): v for k, v in binds.items()})
            buf = io.BytesIO()
            res.serialize(buf, format=ox.QueryResultsFormat.CSV)
            return len(buf.getvalue())
        init = {k: _to_rdflib(v) for k, v in binds.items()}
        res = ds.query(head + text, initBindings=init)
        return len(res.serialize(format="csv"))

    out = {}
    import signal

    def expire(signum, frame):  # noqa: ARG001
        raise TimeoutError

    signal.signal(signal.SIGALRM, expire)
    for name, text, binds in jobs:
        times: list[float] = []
        size = 0
        timed_out = False
        while len(times) < repeats and (not times or sum(times) < budget):
            s = T()
            signal.setitimer(signal.ITIMER_REAL, QUERY_LIMIT)   # rdflib cannot be interrupted
            try:                                                # otherwise
                size = run(name, text, binds)
            except TimeoutError:
                timed_out = True
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            times.append(T() - s)
            if timed_out:
                break
        out[name] = {"times": times, "bytes": size, "timed_out": timed_out}
    return {"load": load, "queries": out}


def _to_rdflib(term):
    import pyoxigraph as ox
    import rdflib

    if isinstance(term, ox.NamedNode):
        return rdflib.URIRef(term.value)
    if term.language:
        return rdflib.Literal(term.value, lang=term.language)
    return rdflib.Literal(term.value, datatype=rdflib.URIRef(term.datatype.value))


def step_network(root: str, repeats: int) -> dict[str, Any]:
    """Projection, paths, neighbourhood and betweenness through ifkg.network, and the same
    NetworkX algorithms called directly on a plain graph of the same edges."""
    import networkx as nx

    from ifkg import network
    from ifkg.build import open_store

    project = _project(root)
    store = open_store(project)
    s = T()
    G = network.project_graph(store, project.base)
    projection = T() - s
    U = nx.Graph(network.simple_graph(G))
    hub = max(U, key=lambda n: (U.degree(n), n))
    dist = nx.single_source_shortest_path_length(U, hub)
    far = max((d, n) for n, d in dist.items() if d <= 4)[1]

    def median(fn) -> float:
        times = []
        for _ in range(repeats):
            s = T()
            fn()
            times.append(T() - s)
        return statistics.median(times)

    rows = {
        "paths (up to 4 hops, 10 paths)": (
            median(lambda: network.find_paths(G, hub, far)),
            median(lambda: list(itertools.islice(nx.shortest_simple_paths(U, hub, far), 10))),
            repeats),
        "neighbourhood (2 hops of the hub)": (
            median(lambda: network.neighbourhood(G, hub, 2)),
            median(lambda: nx.ego_graph(U, hub, radius=2)), repeats),
    }
    bet_repeats = 1 if U.number_of_nodes() > 2000 else repeats
    s = T()
    for _ in range(bet_repeats):
        network.rank(G, "betweenness")
    ours = (T() - s) / bet_repeats
    # the same computation as rank: exact up to EXACT_BETWEENNESS_MAX entities, else the
    # estimate from BETWEENNESS_SAMPLE sources with the same seed
    exact = U.number_of_nodes() <= network.EXACT_BETWEENNESS_MAX
    k = None if exact else network.BETWEENNESS_SAMPLE
    s = T()
    for _ in range(bet_repeats):
        nx.betweenness_centrality(U, k=k, normalized=False, seed=network.COMMUNITY_SEED)
    theirs = (T() - s) / bet_repeats
    label = "exact" if exact else f"estimated from {network.BETWEENNESS_SAMPLE} sources"
    rows[f"betweenness ({label})"] = (ours, theirs, bet_repeats)
    return {"projection": projection, "nodes": G.number_of_nodes(),
            "edges": G.number_of_edges(), "rows": rows}


def step_html(root: str, n_nodes: int, page: str) -> dict[str, Any]:
    """The HTML page of the ``n_nodes`` entities nearest the best-connected one."""
    import networkx as nx

    from ifkg import network, viz
    from ifkg.build import check

    project = _project(root)
    _, compiled, problems = check(project, shapes=False)
    store = compiled.store()
    G = network.project_graph(store, project.base)
    U = nx.Graph(network.simple_graph(G))
    hub = max(U, key=lambda n: (U.degree(n), n))
    order = list(nx.bfs_tree(U, hub))
    if len(order) < n_nodes:   # other components, largest first
        for comp in sorted(nx.connected_components(U), key=len, reverse=True):
            order += [n for n in sorted(comp) if n not in set(order)]
    H = G.subgraph(order[:n_nodes]).copy()
    style = viz.style_from_store(store)
    s = T()
    html = viz.render_html(H, title=f"benchmark {n_nodes}", style=style)
    seconds = T() - s
    Path(page).write_text(html, encoding="utf-8")
    return {"seconds": seconds, "nodes": H.number_of_nodes(), "edges": H.number_of_edges(),
            "bytes": len(html.encode())}


def step_browser(page: str, repeats: int) -> dict[str, Any]:
    """Time from navigation to the first complete drawing (the page's layout is precomputed, so
    the first drawing is the stable one) in headless Chromium; peak RSS of its processes."""
    import threading

    import psutil
    from playwright.sync_api import sync_playwright

    peak = [0.0]
    stop = threading.Event()

    def sample(root_pid: int) -> None:
        me = psutil.Process(root_pid)
        while not stop.is_set():
            total = 0
            try:
                for p in [me, *me.children(recursive=True)]:
                    try:
                        total += p.memory_info().rss
                    except psutil.Error:
                        pass
            except psutil.Error:
                pass
            peak[0] = max(peak[0], total / 2**20)
            time.sleep(0.05)

    times = []
    with sync_playwright() as pw:   # Playwright gives Chromium a fresh profile of its own
        browser = pw.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run"])
        watcher = threading.Thread(target=sample, args=(os.getpid(),), daemon=True)
        watcher.start()
        for _ in range(repeats):
            tab = browser.new_page(viewport={"width": 1400, "height": 900})
            tab.goto(Path(page).resolve().as_uri(), wait_until="domcontentloaded")
            tab.wait_for_function("window.ifkgReady && window.ifkgReady.firstDraw",
                                  timeout=300_000)
            first = tab.evaluate("window.ifkgReady.firstDraw")
            physics = tab.evaluate("!!(window.ifkgNetwork && window.ifkgNetwork.physics"
                                   " && window.ifkgNetwork.physics.options.enabled)")
            times.append(first / 1000)
            tab.close()
        stop.set()
        browser.close()
    return {"times": times, "physics": physics, "peak_mb": peak[0]}


STEPS = {"build": step_build, "rdflib_io": step_rdflib_io, "rebuild": step_rebuild,
         "queries": step_queries, "network": step_network, "html": step_html,
         "browser": step_browser}


# ---------------------------------------------------------------------------------------------
# the table


class Table:
    def __init__(self) -> None:
        self.rows: list[list[str]] = []

    def add(self, what: str, scale: str, ours: float | None, runs: int, peak: float | None,
            baseline: str = "", theirs: float | None = None, their_peak: float | None = None,
            note: str = "") -> None:
        ratio = f"{ours / theirs:.2f}" if ours and theirs else ""
        self.rows.append([what, scale, _s(ours), str(runs), _mb(peak), baseline, _s(theirs),
                          _mb(their_peak), ratio, note])
        print("  " + " | ".join(self.rows[-1]), flush=True)

    def markdown(self) -> str:
        head = ["what", "scale", "ifkg median s", "runs", "peak MB", "baseline",
                "baseline median s", "baseline peak MB", "ifkg ÷ baseline", "note"]
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(r) + " |" for r in self.rows]
        return "\n".join(lines)


def _s(x: float | None) -> str:
    if x is None:
        return ""
    return f"{x:.3f}" if x < 1 else f"{x:.2f}" if x < 100 else f"{x:.0f}"


def _mb(x: float | None) -> str:
    return "" if x is None else f"{x:.0f}"


def _median_runs(step: str, args: tuple, runs: int, key: str = "seconds"
                 ) -> tuple[float, float, list[dict]]:
    answers, peaks = [], []
    for _ in range(runs):
        a, p = child(step, *args)
        answers.append(a)
        peaks.append(p)
    return statistics.median(a[key] for a in answers), max(peaks), answers


def corpus(work: Path, docs: int) -> Path:
    from ifkg.project import Project
    from ifkg.synth import generate

    out = work / f"corpus-{docs}"
    if not (out / "graph").exists():
        shutil.rmtree(out, ignore_errors=True)
        generate(out, docs, seed=SEED, template=Project(ROOT))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="smallest scale (CI smoke run)")
    ap.add_argument("--work", type=Path, help="folder for corpora (default: a temp folder)")
    ap.add_argument("--out", type=Path, help="also write the table (Markdown) here")
    ap.add_argument("--sections", default=",".join(SECTIONS),
                    help=f"comma-separated subset of {','.join(SECTIONS)}; without build, "
                         "corpora already built in --work are used")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("args", nargs="?", help=argparse.SUPPRESS)
    opts = ap.parse_args()
    if opts.child:
        answer = STEPS[opts.child](*json.loads(opts.args))
        print(json.dumps(answer))
        return

    quick = opts.quick
    work = opts.work or Path(tempfile.mkdtemp(prefix="ifkg-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    runs = 1 if quick else 3
    table = Table()
    started = T()
    print(f"ifkg benchmark ({'quick' if quick else 'full'}), corpora in {work}", flush=True)

    sections = set(opts.sections.split(","))
    # --- build ---------------------------------------------------------------------------
    sizes = [1] if quick else [1, 10, 100]
    per_doc = None
    built: dict[int, Path] = {}
    if "build" not in sections:   # reuse what an earlier run built in --work
        for d in work.glob("corpus-*"):
            if (d / "exports" / "ifkg.nq").exists():
                built[int(d.name.split("-")[1])] = d
        built = {n: built[n] for n in sorted(built)[:-1] or sorted(built)}  # not the N+1 one
        sizes = []
    for n in sizes:
        root = corpus(work, n)
        n_runs = 1 if n >= 100 else runs
        secs, peak, answers = _median_runs("build", (str(root),), n_runs)
        quads = answers[0]["quads"]
        per_doc = quads / n
        base_s, base_peak, _ = _median_runs("rdflib_io", (str(root),), n_runs)
        table.add("build (check, compile, SHACL, all exports)", f"{n} docs, {quads:,} quads",
                  secs, n_runs, peak, "rdflib parse N-Quads + write TriG", base_s, base_peak,
                  note=_stages(answers[0]["timings"]))
        built[n] = root
    if not quick and per_doc and "build" in sections:
        n = max(1, round(TARGET_TRIPLES / per_doc))
        root = corpus(work, n)
        secs, peak, answers = _median_runs("build", (str(root),), 1)
        quads = answers[0]["quads"]
        base_s, base_peak, _ = _median_runs("rdflib_io", (str(root),), 1)
        table.add("build (check, compile, SHACL, all exports)", f"{n} docs, {quads:,} quads",
                  secs, 1, peak, "rdflib parse N-Quads + write TriG", base_s, base_peak,
                  note=_stages(answers[0]["timings"]) + "; the store-based exports (void.ttl, "
                  "graph.html) run in a forked process alongside")
        built[n] = root
    largest = max(built)
    big = built[largest]

    # --- rebuild after adding one document ----------------------------------------------
    if "build" in sections:
        plus = corpus(work, largest + 1)
        child("build", str(plus))          # the reference: a full build of the same inputs
        secs, peak, answers = _median_runs("rebuild",
                                           (str(big), str(plus), str(work / "rebuild")), runs)
        differ = sorted({f for a in answers for f in a["differ"]})
        table.add("rebuild after adding one document", f"{largest} → {largest + 1} docs", secs,
                  runs, peak, note=("exports identical to a full build" if not differ else
                                    f"EXPORTS DIFFER from a full build: {', '.join(differ)}")
                  + "; " + _stages(answers[0]["timings"]))

    # --- catalogue queries ----------------------------------------------------------------
    for root, label in [] if "queries" not in sections else sorted({(built[min(built)], f"{min(built)} doc(s)"),
                               (big, f"{largest} doc(s)")}):
        reps = 3 if quick else 5
        budget = 5.0 if quick else 20.0
        res = {}
        for engine in ("ifkg", "pyoxigraph", "rdflib"):
            res[engine] = child("queries", str(root), engine, reps, budget)
        for name in res["ifkg"][0]["queries"]:
            ours = res["ifkg"][0]["queries"][name]["times"]
            ox_t = res["pyoxigraph"][0]["queries"][name]["times"]
            rd_t = res["rdflib"][0]["queries"][name]["times"]
            o, x, r = (statistics.median(t) for t in (ours, ox_t, rd_t))
            rd_late = res["rdflib"][0]["queries"][name]["timed_out"]
            r_text = f"> {QUERY_LIMIT:.0f} s (stopped)" if rd_late else f"{_s(r)} s"
            table.add(f"query {name} (CSV written)", label, o, len(ours), res["ifkg"][1],
                      "raw pyoxigraph", x, res["pyoxigraph"][1],
                      note=f"rdflib memory store {r_text} ({len(rd_t)} runs, peak "
                           f"{_mb(res['rdflib'][1])} MB): ifkg {'>' if rd_late else ''}"
                           f"{r / o:.0f}x faster")
        table.add("query engines: load the store", label, res["ifkg"][0]["load"], 1,
                  res["ifkg"][1], "rdflib memory store", res["rdflib"][0]["load"],
                  res["rdflib"][1])

    # --- network ----------------------------------------------------------------------------
    for root in sorted({built[min(built)], big}) if "network" in sections else []:
        ans, peak = child("network", str(root), 1 if quick else 3)
        scale = f"{ans['nodes']:,} nodes, {ans['edges']:,} edges"
        table.add("network: project the store onto NetworkX", scale, ans["projection"], 1, peak)
        for name, (ours, theirs, n_runs) in ans["rows"].items():
            table.add(f"network: {name}", scale, ours, n_runs, peak,
                      "networkx on a plain Graph", theirs)

    # --- HTML view --------------------------------------------------------------------------
    targets = [] if "html" not in sections else [150] if quick else [500, 2000, 10000]
    for n in targets:
        root = big
        if n > 0.9 * _count_entities(big):
            # enough entities: a corpus with about n / 0.9 entities (compiled without SHACL)
            root = corpus(work, _docs_for_entities(big, largest, int(n * 1.1)))
        page = work / f"graph-{n}.html"
        ans, peak = child("html", str(root), n, str(page))
        b, bpeak = child("browser", str(page), 1 if quick else 3)
        scale = f"{ans['nodes']:,} nodes, {ans['edges']:,} edges"
        table.add("HTML: render the page (layout included)", scale, ans["seconds"], 1, peak,
                  note=f"{ans['bytes'] / 2**20:.1f} MB page")
        table.add("HTML: first stable drawing in headless Chromium", scale,
                  statistics.median(b["times"]), len(b["times"]), bpeak,
                  note="physics off (precomputed layout)" if not b["physics"] else "physics on")

    # --- CLI at seed scale ------------------------------------------------------------------
    if "cli" in sections:
        cli_rows(work, table, quick)
    finish(opts, work, table, started, quick)


def cli_rows(work: Path, table: Table, quick: bool) -> None:
    """``ifkg --help``, ``stats`` and a catalogue query on a copy of this checkout's graph."""
    seed = work / "seed"
    shutil.rmtree(seed, ignore_errors=True)
    for part in ("graph", "ontology"):
        shutil.copytree(ROOT / part, seed / part)
    env = {k: v for k, v in os.environ.items() if k not in ("IFKG_HOME", "IFKG_BASE")}
    env["IFKG_HOME"] = str(seed)
    ifkg = str(Path(sys.executable).with_name("ifkg"))
    wall([ifkg, "build"], env, seed)
    b, bpeak = child("browser", str(seed / "exports" / "graph.html"), 3)
    table.add("HTML: first stable drawing in headless Chromium", "seed: exports/graph.html",
              statistics.median(b["times"]), len(b["times"]), bpeak,
              note="physics off (precomputed layout)" if not b["physics"] else "physics on")
    cli_runs = 3 if quick else 7
    base = [wall([sys.executable, "-c", "pass"], env, seed) for _ in range(cli_runs)]
    base_s = statistics.median(b[0] for b in base)
    base_peak = max(b[1] for b in base)
    for args in (["--help"], ["stats"], ["query", "--name", "funding-channels", "-F", "csv"]):
        got = [wall([ifkg, *args], env, seed) for _ in range(cli_runs)]
        table.add(f"CLI: ifkg {' '.join(args)}", "seed (the reply), exports current",
                  statistics.median(g[0] for g in got), cli_runs, max(g[1] for g in got),
                  "python -c pass", base_s, base_peak)


def finish(opts: argparse.Namespace, work: Path, table: Table, started: float,
           quick: bool) -> None:
    total = T() - started
    info = (f"Machine: {platform.machine()}, {os.cpu_count()} cores, "
            f"{_mem_gib():.0f} GiB RAM, Python {platform.python_version()}, "
            f"load average at the end {os.getloadavg()[0]:.1f}; total {total:.0f} s.")
    text = table.markdown() + "\n\n" + info + "\n"
    print()
    print(text)
    if opts.out:
        opts.out.write_text(text, encoding="utf-8")
    if not opts.work and not quick:
        print(f"corpora kept in {work}")
    elif not opts.work:
        shutil.rmtree(work, ignore_errors=True)


def _count_entities(root: Path) -> int:
    return sum(f.read_text(encoding="utf-8").count("\n- id: ") + 1
               for f in (root / "graph" / "entities").glob("*.yaml"))


def _docs_for_entities(root: Path, docs: int, want: int) -> int:
    """Documents needed for ``want`` entities, from the entities ``root`` has per document."""
    have = _count_entities(root)
    first = _count_entities(corpus(root.parent, 1))
    per_doc = max(1.0, (have - first) / max(1, docs - 1))
    return max(docs, int((want - first) / per_doc) + 2)


def _mem_gib() -> float:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        return 0.0


if __name__ == "__main__":
    main()
