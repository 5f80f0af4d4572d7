"""The attacks of issue 9, replayed against the real ``rkg serve`` (read-only with its defaults, and
writable), on loopback only, each bounded in count and time. Outcomes are asserted here; times and
memory are measured by bench/attack.py."""

from __future__ import annotations

import socket
import threading
import time
import uuid

import pytest
import requests

from support.clients import session_from
from support.hostile import _QUERIES, _UPDATES, spelled
from support.listener import listening
from support.server import TOKEN, Server

pytestmark = pytest.mark.server

AUTH = {"Authorization": f"Bearer {TOKEN}"}
JSON = {"Accept": "application/sparql-results+json"}
DIGITS = "{ 0 1 2 3 4 5 6 7 8 9 }"
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { " + " ".join(f"VALUES ?v{i} {DIGITS}" for i in range(10)) + " }"
"""10^10 rows whatever the data: runs until the time limit stops it."""


def test_no_outbound_request_from_any_spelling(endpoint: Server, update_endpoint: Server) -> None:
    with listening() as listener:
        for name, text in spelled(_QUERIES, listener.host).items():
            r = requests.get(endpoint.sparql, params={"query": text}, headers=JSON, timeout=30)
            assert r.status_code in (400, 403), (name, r.status_code, r.text)
        for name, text in spelled(_UPDATES, listener.host).items():
            r = requests.post(update_endpoint.sparql, data={"update": text}, headers=AUTH, timeout=30)
            assert r.status_code in (400, 403), (name, r.status_code, r.text)
        assert listener.accepted == 0


@pytest.mark.parametrize("opening, closing", [("{", "}"), ("OPTIONAL {", "}"), ("{ {} UNION ", "}")],
                         ids=["groups", "optional", "union"])
def test_deep_nesting_is_refused_before_the_engine(endpoint: Server, opening: str, closing: str) -> None:
    before = set(endpoint.sandboxes())
    text = "SELECT * WHERE { " + opening * 5000 + " ?s ?p ?o " + closing * 5000 + " }"
    r = requests.post(endpoint.sparql, data=text.encode(), timeout=30,
                      headers={"Content-Type": "application/sparql-query", **JSON})
    assert r.status_code == 400 and "levels deep" in r.text
    paren = "SELECT * WHERE { FILTER(" + "(" * 5000 + "1" + ")" * 5000 + ") }"
    r = requests.post(endpoint.sparql, data=paren.encode(), timeout=30,
                      headers={"Content-Type": "application/sparql-query", **JSON})
    assert r.status_code == 400 and "levels deep" in r.text
    assert set(endpoint.sandboxes()) == before, "no query process crashed or was replaced"


GLUED_UPDATES = {
    "insert-data": ("PREFIX : <http://ex/attack/{n}/> INSERT DATA { GRAPH:g { :a :b :c } }",
                    "ASK { GRAPH <http://ex/attack/{n}/g> { <http://ex/attack/{n}/a> ?p ?o } }"),
    "insert-where": ("PREFIX : <http://ex/attack/{n}/> INSERT DATA { GRAPH:g { :a :b :c } } ; "
                     "INSERT { GRAPH:h { ?s ?p ?o } } WHERE { GRAPH:g { ?s ?p ?o } }",
                     "ASK { GRAPH <http://ex/attack/{n}/h> { <http://ex/attack/{n}/a> ?p ?o } }"),
    "with": ("PREFIX : <http://ex/attack/{n}/> INSERT DATA { GRAPH:g { :a :b :c } } ; "
             "WITH:g INSERT { ?s ?p 'x' } WHERE { ?s ?p ?o }",
             "ASK { GRAPH <http://ex/attack/{n}/g> { <http://ex/attack/{n}/a> ?p 'x' } }"),
    "copy": ("PREFIX : <http://ex/attack/{n}/> INSERT DATA { GRAPH:g { :a :b :c } } ; COPY:g TO:k",
             "ASK { GRAPH <http://ex/attack/{n}/k> { <http://ex/attack/{n}/a> ?p ?o } }"),
}


@pytest.mark.parametrize("name", sorted(GLUED_UPDATES))
def test_glued_update_is_applied_or_refused(update_endpoint: Server, name: str) -> None:
    """Never 204 without effect: a glued graph name is written where the engine reads it."""
    n = uuid.uuid4().hex[:8]
    update, ask = (t.replace("{n}", n) for t in GLUED_UPDATES[name])
    r = requests.post(update_endpoint.sparql, data={"update": update}, headers=AUTH, timeout=60)
    assert r.status_code in (204, 400), r.text
    if r.status_code == 204:
        answer = requests.get(update_endpoint.sparql, params={"query": ask}, headers=JSON, timeout=30).json()
        assert answer["boolean"] is True, f"{name}: 204 but the write is not there"


def _slow_client(base: str, stop: threading.Event, opened: list[int]) -> None:
    """Sends a request head one byte a second until stopped (or dropped by the server)."""
    host, port = base.removeprefix("http://").split(":")
    try:
        sock = socket.create_connection((host, int(port)), timeout=2)
    except OSError:
        return
    opened.append(1)
    head = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100
    try:
        for byte in head:
            if stop.is_set():
                break
            sock.sendall(bytes([byte]))
            stop.wait(1.0)
    except OSError:
        pass  # dropped by the server's header timeout: what it should do
    finally:
        sock.close()


def test_probe_is_answered_under_slow_clients_and_runaway_queries(store_endpoint: Server) -> None:
    """50 slow clients and 8 runaway queries (from one attacker address) for about 8 s; meanwhile
    another client's health checks and uncached queries are all answered 200."""
    stop = threading.Event()
    opened: list[int] = []
    threads = [threading.Thread(target=_slow_client, args=(store_endpoint.base, stop, opened), daemon=True)
               for _ in range(50)]
    attacker = session_from("127.0.0.2")

    def runaway() -> None:
        try:
            attacker.get(store_endpoint.sparql, params={"query": f"{RUNAWAY} # {uuid.uuid4()}"}, timeout=30)
        except requests.RequestException:
            pass

    threads += [threading.Thread(target=runaway, daemon=True) for _ in range(8)]
    for t in threads:
        t.start()
    probe = session_from("127.0.0.3")
    statuses = []
    try:
        time.sleep(1.0)
        deadline = time.monotonic() + 7
        while time.monotonic() < deadline:
            statuses.append(probe.get(store_endpoint.base + "/health", timeout=5).status_code)
            statuses.append(probe.get(store_endpoint.sparql, params={"query": f"ASK {{ ?s ?p ?o }} # {uuid.uuid4()}"},
                                      headers=JSON, timeout=5).status_code)
            time.sleep(0.3)
    finally:
        stop.set()
        for t in threads:
            t.join(35)
    assert len(opened) == 50
    assert statuses and set(statuses) == {200}, statuses


def test_a_write_does_not_wait_behind_runaway_reads(update_endpoint: Server) -> None:
    """With writes enabled, reads run on snapshots: while two runaway queries (two other clients) hold
    both read processes, a write is applied and the runaways are still running when it is answered."""
    done: list[float] = []

    def runaway(address: str) -> None:
        try:
            session_from(address).get(update_endpoint.sparql, params={"query": f"{RUNAWAY} # {uuid.uuid4()}"},
                                      timeout=60)
        finally:
            done.append(time.monotonic())

    threads = [threading.Thread(target=runaway, args=(a,), daemon=True) for a in ("127.0.0.2", "127.0.0.7")]
    for t in threads:
        t.start()
    time.sleep(1.0)
    n = uuid.uuid4().hex[:8]
    r = session_from("127.0.0.4").post(update_endpoint.sparql, headers=AUTH, timeout=60, data={
        "update": f"INSERT DATA {{ GRAPH <http://ex/attack/{n}> {{ <http://ex/a> <http://ex/b> 1 }} }}"})
    answered = time.monotonic()
    assert r.status_code == 204, r.text
    assert not done, "the write waited for the runaway reads"
    for t in threads:
        t.join(60)
    assert all(d > answered for d in done)


def test_one_client_cannot_take_every_process(store_endpoint: Server) -> None:
    """Runaway queries from one address wait for that client's own slots (then 429 with Retry-After);
    another client is answered meanwhile."""
    attacker = session_from("127.0.0.5")
    statuses: list[requests.Response] = []

    def runaway() -> None:
        statuses.append(attacker.get(store_endpoint.sparql, params={"query": f"{RUNAWAY} # {uuid.uuid4()}"},
                                     timeout=60))

    threads = [threading.Thread(target=runaway, daemon=True) for _ in range(6)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    other = session_from("127.0.0.6").get(store_endpoint.sparql, headers=JSON, timeout=10,
                                          params={"query": f"ASK {{ ?s ?p ?o }} # {uuid.uuid4()}"})
    assert other.status_code == 200
    for t in threads:
        t.join(60)
    assert {r.status_code for r in statuses} <= {429, 503}
    assert all(r.headers.get("Retry-After") for r in statuses)
    assert any(r.status_code == 429 for r in statuses)


def test_allow_listed_federation_reaches_only_its_endpoint(nquads, tmp_path_factory: pytest.TempPathFactory) -> None:
    """With --federation-allow, a checked SERVICE runs in the federation sandbox and reaches the listed
    endpoint; any other endpoint, and a variable one, is refused before execution."""
    from support.server import start_server, stop_server

    with listening() as allowed, listening() as other:
        server = start_server(["--federation-allow", f"http://{allowed.host}/sparql"],
                              tmp_path_factory.mktemp("federation") / "server.log")
        try:
            ok = requests.get(server.sparql, headers=JSON, timeout=30, params={
                "query": f"SELECT * WHERE {{ SERVICE <http://{allowed.host}/sparql> {{ ?s ?p ?o }} }}"})
            assert ok.status_code == 200, ok.text
            assert allowed.accepted >= 1
            for text in (f"SELECT * WHERE {{ SERVICE <http://{other.host}/sparql> {{ ?s ?p ?o }} }}",
                         f"PREFIX : <http://{other.host}/> SELECT * WHERE {{ SERVICE:sparql {{ ?s ?p ?o }} }}",
                         "SELECT * WHERE { SERVICE ?e { ?s ?p ?o } }"):
                r = requests.get(server.sparql, headers=JSON, timeout=30, params={"query": text})
                assert r.status_code == 403, r.text
            assert other.accepted == 0
        finally:
            stop_server(server)
