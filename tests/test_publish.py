"""``ifkg publish``: every named graph to its own graph IRI with the SPARQL 1.1 Graph Store HTTP
Protocol, against the real Oxigraph server and against a local double demanding Basic, Digest or
a bearer token."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
import socket
import subprocess
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pyoxigraph as ox
import pytest

from cli_helpers import run_ifkg
from ifkg.errors import IfkgError
from ifkg.publish import Credentials, graph_url, payloads, publish

ROOT = Path(__file__).resolve().parents[1]
OXIGRAPH = ROOT / ".venv" / "bin" / "oxigraph"
BASE = "https://w3id.org/ifkg/"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def graph_counts(built) -> dict[str, int]:
    return {g.value: sum(1 for q in built.compiled.quads if q.graph_name == g)
            for g in built.compiled.graphs.values()}


@pytest.fixture()
def oxigraph_server(tmp_path: Path):
    """The `oxigraph` server from PyPI on a free loopback port, with an on-disk store."""
    if not OXIGRAPH.exists():
        pytest.fail(f"{OXIGRAPH} is missing: pip install oxigraph (the test extra)")
    port = free_port()
    proc = subprocess.Popen([str(OXIGRAPH), "serve", "--location", str(tmp_path / "store"),
                             "--bind", f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(url + "/query?query=ASK%7B%7D", timeout=2):
                break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail("the oxigraph server did not start: "
                            + proc.stderr.read().decode(errors="replace")[-500:])
            time.sleep(0.1)
    yield url
    proc.terminate()
    proc.wait(timeout=30)


def counts_in(url: str) -> dict[str, int]:
    q = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
    req = urllib.request.Request(f"{url}/query?{urlencode({'query': q})}",
                                 headers={"Accept": "application/sparql-results+json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        rows = json.load(r)["results"]["bindings"]
    return {row["g"]["value"]: int(row["n"]["value"]) for row in rows}


def test_publish_to_oxigraph_gives_back_each_graphs_triples(project, built, oxigraph_server) -> None:
    """The real command, the real server: counts per graph equal the built graph's."""
    r = run_ifkg(ROOT, "publish", "--endpoint", oxigraph_server + "/store")
    assert r.returncode == 0, r.stderr
    expected = graph_counts(built)
    assert counts_in(oxigraph_server) == expected
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 3
    for line in lines:
        name, triples, graph, status = line.split("\t")
        assert graph == f"<{BASE}graph/{name}>"
        assert int(triples.split()[0]) == expected[f"{BASE}graph/{name}"]
        assert status in ("HTTP 201", "HTTP 204", "HTTP 200")
    # publishing again replaces each graph, it does not add to it
    again = list(publish(project, oxigraph_server + "/store", store=built.compiled.store(),
                         fmt="turtle"))
    assert [u.status for u in again] and all(200 <= u.status < 300 for u in again)
    assert counts_in(oxigraph_server) == expected


def test_graph_prefix_names_the_target_graphs(project, built, oxigraph_server) -> None:
    prefix = "http://example.org/mirror/ifkg-"
    done = list(publish(project, oxigraph_server + "/store", graph_prefix=prefix,
                        store=built.compiled.store()))
    assert [u.graph for u in done] == [prefix + n for n in ("facts", "ontology", "provenance")]
    by_name = {u.name: u.triples for u in done}
    counts = counts_in(oxigraph_server)
    assert counts == {prefix + n: by_name[n] for n in by_name}
    assert by_name["facts"] == graph_counts(built)[BASE + "graph/facts"]


def test_payloads_parse_back_to_the_same_triples(built) -> None:
    store = built.compiled.store()
    for fmt, rdf in (("ntriples", ox.RdfFormat.N_TRIPLES), ("turtle", ox.RdfFormat.TURTLE)):
        for p in payloads(store, BASE, fmt=fmt):
            assert len(list(ox.parse(p.body, rdf))) == p.triples
    assert graph_url("http://h/x?a=1", BASE + "graph/facts").startswith("http://h/x?a=1&graph=")


# --------------------------------------------------------------------------------------------
# A Graph Store double that demands authentication


@dataclass
class Received:
    puts: list[tuple[str, str, bytes]] = field(default_factory=list)  # graph, content type, body
    auth_headers: list[str] = field(default_factory=list)


def digest_fields(header: str) -> dict[str, str]:
    return {k: v.strip('"') for k, v in re.findall(r'(\w+)=("[^"]*"|[^,\s]+)', header)}


def make_store_double(scheme: str, user: str = "curator", password: str = "s3cret pass",
                      token: str = "tok-123"):
    """A Graph Store endpoint at /gsp that answers 401 unless the request authenticates."""
    got = Received()
    realm, nonce = "ifkg-test", secrets.token_hex(8)

    class H(BaseHTTPRequestHandler):
        def log_message(self, *a) -> None:
            pass

        def authorised(self) -> bool:
            header = self.headers.get("Authorization", "")
            got.auth_headers.append(header)
            if scheme == "basic":
                want = base64.b64encode(f"{user}:{password}".encode()).decode()
                return header == f"Basic {want}"
            if scheme == "bearer":
                return header == f"Bearer {token}"
            if not header.startswith("Digest "):
                return False
            f = digest_fields(header[7:])
            if f.get("username") != user or f.get("nonce") != nonce:
                return False
            ha1 = hashlib.md5(f"{user}:{realm}:{password}".encode()).hexdigest()
            ha2 = hashlib.md5(f"{self.command}:{f['uri']}".encode()).hexdigest()
            want = hashlib.md5(f"{ha1}:{nonce}:{f['nc']}:{f['cnonce']}:{f['qop']}:{ha2}"
                               .encode()).hexdigest()
            return f.get("response") == want and f["uri"] == self.path

        def do_PUT(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if not self.authorised():
                self.send_response(401)
                challenge = {"basic": f'Basic realm="{realm}"', "bearer": "Bearer",
                             "digest": f'Digest realm="{realm}", nonce="{nonce}", '
                                       'qop="auth", algorithm=MD5'}[scheme]
                self.send_header("WWW-Authenticate", challenge)
                self.send_header("Content-Length", "12")
                self.end_headers()
                self.wfile.write(b"unauthorised")
                return
            parts = urlsplit(self.path)
            graph = parse_qs(parts.query)["graph"][0]
            got.puts.append((graph, self.headers.get("Content-Type", ""), body))
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/gsp", got


@pytest.fixture()
def small_store() -> ox.Store:
    """Two named graphs, a few triples: what the double receives is checked exactly."""
    s = ox.Store()
    for g, n in (("facts", 3), ("provenance", 2)):
        for i in range(n):
            s.add(ox.Quad(ox.NamedNode(f"{BASE}id/entity/e{i}"), ox.NamedNode(BASE + "def#p"),
                          ox.Literal(f"值{i}", language="zh"), ox.NamedNode(f"{BASE}graph/{g}")))
    return s


@pytest.mark.parametrize("scheme,creds", [
    ("basic", Credentials(user="curator", password="s3cret pass")),
    ("digest", Credentials(user="curator", password="s3cret pass", scheme="digest")),
    ("bearer", Credentials(token="tok-123")),
])
def test_authenticated_upload(project, small_store, scheme, creds) -> None:
    server, url, got = make_store_double(scheme)
    try:
        done = list(publish(project, url, credentials=creds, store=small_store))
    finally:
        server.shutdown()
        server.server_close()
    assert [(u.name, u.triples, u.status) for u in done] == [("facts", 3, 204),
                                                            ("provenance", 2, 204)]
    assert [(g, t) for g, t, _ in got.puts] == [(BASE + "graph/facts", "application/n-triples"),
                                               (BASE + "graph/provenance", "application/n-triples")]
    facts = list(ox.parse(got.puts[0][2], ox.RdfFormat.N_TRIPLES))
    assert sorted(t.object.value for t in facts) == ["值0", "值1", "值2"]
    if scheme == "digest":  # challenged first, then answered; the password never sent
        assert got.auth_headers[0] == "" and got.auth_headers[1].startswith("Digest ")
        assert "s3cret" not in "".join(got.auth_headers)


@pytest.mark.parametrize("scheme,creds", [
    ("basic", Credentials(user="curator", password="wrong")),
    ("digest", Credentials(user="curator", password="wrong", scheme="digest")),
    ("bearer", Credentials(token="nope")),
    ("basic", None),
])
def test_wrong_or_missing_credentials_fail_with_one_clear_line(project, small_store, scheme,
                                                               creds) -> None:
    server, url, got = make_store_double(scheme)
    try:
        with pytest.raises(IfkgError) as exc:
            list(publish(project, url, credentials=creds, store=small_store))
    finally:
        server.shutdown()
        server.server_close()
    msg = exc.value.one_line()
    assert "HTTP 401" in msg and "authentication failed" in msg and "\n" not in msg
    assert got.puts == []


def test_cli_refuses_bad_arguments(project) -> None:
    r = run_ifkg(ROOT, "publish", "--endpoint", "ftp://example.org/store")
    assert r.returncode == 2 and "must be an http:// or https:// URL" in r.stderr
    r = run_ifkg(ROOT, "publish", "--endpoint", "http://127.0.0.1:9/store", "--token", "t",
                 "--user", "u")
    assert r.returncode == 2 and "not both" in r.stderr
    r = run_ifkg(ROOT, "publish", "--endpoint", "http://127.0.0.1:9/store", "--user", "u",
                 "--auth", "kerberos")
    assert r.returncode == 2 and "unknown --auth 'kerberos'" in r.stderr


def test_unreachable_store_is_one_line(project, small_store) -> None:
    port = free_port()  # nothing listens there
    with pytest.raises(IfkgError, match=f"cannot reach http://127.0.0.1:{port}/store"):
        list(publish(project, f"http://127.0.0.1:{port}/store", store=small_store, timeout=5))


def test_password_from_the_environment(project, small_store) -> None:
    server, url, got = make_store_double("basic")
    try:
        env = {"IFKG_PUBLISH_PASSWORD": "s3cret pass"}
        r = run_ifkg(ROOT, "publish", "--endpoint", url, "--user", "curator", env=env)
    finally:
        server.shutdown()
        server.server_close()
    assert r.returncode == 0, r.stderr
    assert {g for g, _, _ in got.puts} == {BASE + f"graph/{g}" for g in
                                           ("facts", "ontology", "provenance")}
    assert os.environ.get("IFKG_PUBLISH_PASSWORD") is None
