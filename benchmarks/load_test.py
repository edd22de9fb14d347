"""A bounded load test of ``ifkg serve`` on loopback: N clients for S seconds, then a report.

Each client keeps one HTTP/1.1 connection and cycles through a mix of real requests (SPARQL
SELECT as JSON and CSV, an ASK, a catalogue query with a parameter, an entity page in HTML and
Turtle, a named graph). A request counts as an error unless it answers 200 with the expected
content (the guarantee fund's balance 99450000000, the launchers of 临创保, …).

    .venv/bin/python benchmarks/load_test.py                 # starts `ifkg serve`, 8 clients, 20 s
    .venv/bin/python benchmarks/load_test.py --url http://127.0.0.1:8080/ --clients 4 --seconds 3

Only loopback addresses are accepted as targets, clients are capped at 64 and the duration at
300 s: the test stops by itself.
"""

from __future__ import annotations

import argparse
import http.client
import ipaddress
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

MAX_CLIENTS = 64
MAX_SECONDS = 300.0

BALANCE = ("SELECT ?value ?date WHERE { ?m ifkg:about ent:shanghai-financing-guarantee-fund ; "
           "ifkg:indicator ind:outstanding-guarantee-balance ; schema:value ?value ; "
           "ifkg:asOf ?date }")
LAUNCHERS = ("SELECT (COUNT(DISTINCT ?who) AS ?n) WHERE { ?who ifkg:launches ent:linchuangbao }")
ASK = "ASK { ent:shanghai-financing-guarantee-fund ifkg:launches ent:linchuangbao }"


@dataclass(frozen=True)
class Probe:
    name: str
    method: str
    path: str
    headers: dict[str, str]
    expect: str  # a regular expression the body must match
    body: bytes = b""


def probes() -> list[Probe]:
    """The request mix, each with what a correct answer contains."""
    json_h = {"Accept": "application/sparql-results+json"}
    return [
        Probe("sparql-json", "GET", "/sparql?query=" + quote(BALANCE), json_h,
              r'"99450000000".*"2024-12-31"'),
        Probe("sparql-csv-post", "POST", "/sparql", {"Accept": "text/csv",
              "Content-Type": "application/sparql-query"}, r"n\r?\n3\r?\n",
              LAUNCHERS.encode()),
        Probe("sparql-ask-form", "POST", "/sparql", {**json_h, "Content-Type":
              "application/x-www-form-urlencoded"}, r'"boolean"\s*:\s*true',
              ("query=" + quote(ASK)).encode()),
        Probe("catalogue-json", "GET", "/queries/entity-figures.json?entity=" + quote("市担保基金"),
              {}, r"99450000000"),
        Probe("entity-html", "GET", "/id/entity/linchuangbao.html", {"Accept": "text/html"},
              r"临港新片区融资担保有限公司"),
        Probe("entity-turtle", "GET", "/id/entity/linchuangbao.ttl", {}, r"BatchGuaranteeProduct"),
        Probe("graph-facts", "GET", "/graph/facts.nt", {}, r"linchuangbao"),
    ]


@dataclass
class Tally:
    requests: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    by_probe: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, probe: str, seconds: float, error: str | None) -> None:
        with self.lock:
            self.requests += 1
            self.latencies.append(seconds)
            self.by_probe[probe] = self.by_probe.get(probe, 0) + 1
            if error is not None:
                self.errors += 1
                if len(self.failures) < 10:
                    self.failures.append(f"{probe}: {error}")


def check_loopback(host: str) -> None:
    """Refuse any target that is not this machine's loopback."""
    try:
        addrs = {ai[4][0] for ai in socket.getaddrinfo(host, None)}
    except socket.gaierror as exc:
        raise SystemExit(f"load_test: cannot resolve {host}: {exc}") from None
    for a in addrs:
        if not ipaddress.ip_address(a.split("%")[0]).is_loopback:
            raise SystemExit(f"load_test: {host} ({a}) is not a loopback address; refused")


def client(host: str, port: int, deadline: float, offset: int, tally: Tally) -> None:
    mix = probes()
    conn = http.client.HTTPConnection(host, port, timeout=30)
    i = offset
    while time.monotonic() < deadline:
        p = mix[i % len(mix)]
        i += 1
        t0 = time.perf_counter()
        error = None
        try:
            conn.request(p.method, p.path, body=p.body or None, headers=p.headers)
            resp = conn.getresponse()
            body = resp.read().decode("utf-8", "replace")
            if resp.status != 200:
                error = f"HTTP {resp.status}: {body[:120]}"
            elif not re.search(p.expect, body, re.S):
                error = f"unexpected body: {body[:120]}"
            if resp.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=30)
        except (OSError, http.client.HTTPException) as exc:
            error = f"{type(exc).__name__}: {exc}"
            conn.close()
            conn = http.client.HTTPConnection(host, port, timeout=30)
        tally.add(p.name, time.perf_counter() - t0, error)
    conn.close()


def run(url: str, clients: int, seconds: float) -> dict:
    """Run the load test against ``url``; the report as a dict."""
    if not 1 <= clients <= MAX_CLIENTS:
        raise SystemExit(f"load_test: --clients must be 1 to {MAX_CLIENTS}")
    if not 0 < seconds <= MAX_SECONDS:
        raise SystemExit(f"load_test: --seconds must be more than 0 and at most {MAX_SECONDS:g}")
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    check_loopback(host)
    tally = Tally()
    start = time.monotonic()
    deadline = start + seconds
    threads = [threading.Thread(target=client, args=(host, port, deadline, k, tally))
               for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 60)
    elapsed = time.monotonic() - start
    lat = sorted(tally.latencies) or [0.0]
    return {
        "url": url, "clients": clients, "seconds": round(elapsed, 2),
        "requests": tally.requests, "errors": tally.errors,
        "throughput_rps": round(tally.requests / elapsed, 1),
        "latency_ms": {"median": round(statistics.median(lat) * 1000, 1),
                       "p95": round(lat[int(0.95 * (len(lat) - 1))] * 1000, 1),
                       "max": round(lat[-1] * 1000, 1)},
        "by_probe": dict(sorted(tally.by_probe.items())),
        "failures": tally.failures,
    }


def start_server() -> tuple[subprocess.Popen, str]:
    """``ifkg serve --port 0`` in a subprocess; its process and URL."""
    cmd = [sys.executable, "-m", "ifkg.cli", "serve", "--port", "0", "--quiet"]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    stream = proc.stderr
    deadline = time.monotonic() + 180
    while stream is not None and time.monotonic() < deadline:
        line = stream.readline()
        if not line:
            break
        m = re.search(r"serving (http://\S+/)", line)
        if m:
            threading.Thread(target=stream.read, daemon=True).start()
            return proc, m.group(1)
    proc.kill()
    raise SystemExit("load_test: `ifkg serve` did not start")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", help="a running server (default: start `ifkg serve --port 0`)")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--json", action="store_true", help="print the report as JSON")
    args = ap.parse_args(argv)
    proc = None
    url = args.url
    if url is None:
        proc, url = start_server()
    try:
        report = run(url, args.clients, args.seconds)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=1))
    else:
        lat = report["latency_ms"]
        print(f"{report['clients']} clients × {report['seconds']} s on {url}: "
              f"{report['requests']} requests, {report['errors']} errors, "
              f"{report['throughput_rps']} requests/s; latency median {lat['median']} ms, "
              f"p95 {lat['p95']} ms, max {lat['max']} ms")
        for name, n in report["by_probe"].items():
            print(f"  {name:16} {n}")
        for f in report["failures"]:
            print(f"  error: {f}")
    return 1 if report["errors"] else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
