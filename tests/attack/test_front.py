"""The front of ``rkg serve`` against slow and hostile clients, over loopback sockets to real servers.

The attack this answers: clients that send their request one byte per second held gunicorn's worker
threads (8 connections silenced the writable server, 50 the read-only one), an 8 MB URL cost 12.7 s of
CPU, and bad request lines filled the log with tracebacks. The front now reads whole requests on an event
loop, within time limits, before a thread is used. Servers here run with short limits so that the tests stay
short: ``--header-timeout 4 --body-timeout 4 --max-request-bytes 65536``. Every socket goes to 127.0.0.1,
every loop is bounded (at most 50 slow clients, about 10 s).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.build import make_store
from support.server import TOKEN, Server, start_server, stop_server

pytestmark = pytest.mark.server

HEADER_TIMEOUT = 4.0
BODY_TIMEOUT = 4.0
LIMIT = 65536
LIMITS = ["--header-timeout", f"{HEADER_TIMEOUT:g}", "--body-timeout", f"{BODY_TIMEOUT:g}", "--max-request-bytes", str(LIMIT)]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Read-only, default workers (2) and sandboxes, short limits."""
    s = start_server(LIMITS, tmp_path_factory.mktemp("front") / "server.log")
    try:
        yield s
    finally:
        stop_server(s)


def port(server: Server) -> int:
    return int(server.base.rsplit(":", 1)[1])


def exchange(server: Server, data: bytes, timeout: float = 10.0, source: str = "127.0.0.1") -> tuple[bytes, float]:
    """Send ``data`` on a fresh connection (from the loopback address ``source``) and read until the server
    closes it (or ``timeout``): the bytes received and the seconds it took."""
    t0 = time.monotonic()
    out = b""
    with socket.create_connection(("127.0.0.1", port(server)), timeout=timeout, source_address=(source, 0)) as s:
        try:
            s.sendall(data)
        except OSError:  # closed before we were done sending: what it answered may still be readable
            pass
        try:
            while time.monotonic() - t0 < timeout:
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
        except OSError:
            pass
    return out, time.monotonic() - t0


def status(answer: bytes) -> int:
    assert answer.startswith(b"HTTP/1."), answer[:200]
    return int(answer.split(b" ", 2)[1])


def probe(server: Server, timeout: float = 1.0, source: str = "127.0.0.1") -> float:
    """Seconds GET /health took on a fresh connection; fails unless it is 200 within ``timeout``."""
    t0 = time.monotonic()
    answer, _ = exchange(server, b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", timeout,
                         source)
    took = time.monotonic() - t0
    assert answer and status(answer) == 200, f"no answer to the probe within {timeout} s: {answer[:100]!r}"
    assert took < timeout
    return took


class SlowClients:
    """``count`` connections, each sending ``prefix`` at once, then one byte of ``trickle`` per ``tick()``."""

    def __init__(self, server: Server, count: int, prefix: bytes, trickle: bytes) -> None:
        self.trickle, self.step, self.started = trickle, 0, time.monotonic()
        self.socks: list[socket.socket] = []
        self.closed: dict[int, float] = {}
        self.answers: dict[int, bytes] = {}
        for _ in range(count):
            s = socket.create_connection(("127.0.0.1", port(server)), timeout=2)
            if prefix:
                s.sendall(prefix)
            s.setblocking(False)
            self.socks.append(s)

    def tick(self) -> None:
        for i, s in enumerate(self.socks):
            if i in self.closed:
                continue
            try:
                data = s.recv(4096)
                if data:
                    self.answers[i] = data
                self.closed[i] = time.monotonic() - self.started
                continue
            except BlockingIOError:
                pass
            except OSError:
                self.closed[i] = time.monotonic() - self.started
                continue
            try:
                s.send(self.trickle[self.step:self.step + 1])
            except BlockingIOError:
                pass
            except OSError:
                self.closed[i] = time.monotonic() - self.started
        self.step += 1

    def close(self) -> None:
        for s in self.socks:
            s.close()


def trickle_and_probe(server: Server, clients: SlowClients, seconds: float, source: str = "127.0.0.1") -> list[float]:
    """One byte per slow client and one probe each second, for ``seconds``; the probes' times."""
    times = []
    try:
        while time.monotonic() - clients.started < seconds:
            tick = time.monotonic()
            clients.tick()
            times.append(probe(server, source=source))
            time.sleep(max(0.0, 1.0 - (time.monotonic() - tick)))
        clients.tick()
    finally:
        clients.close()
    return times


SLOW_HEAD = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow\r\nX-Slow: " + b"s" * 100


def test_probe_answered_while_50_clients_trickle_headers(server: Server) -> None:
    """50 connections sending one header byte per second: the probe is answered within 1 s every second,
    and each slow connection is closed once it has had ``--header-timeout`` seconds for its head."""
    clients = SlowClients(server, 50, b"", SLOW_HEAD)
    times = trickle_and_probe(server, clients, HEADER_TIMEOUT + 4)
    assert len(times) >= 7 and max(times) < 1.0
    assert len(clients.closed) == 50, f"{50 - len(clients.closed)} slow connections still open"
    assert all(HEADER_TIMEOUT - 1 <= t <= HEADER_TIMEOUT + 3 for t in clients.closed.values()), clients.closed
    assert not clients.answers, "a head that never ends gets no answer, the connection is closed"


def test_slow_body_is_dropped_after_the_body_timeout(server: Server) -> None:
    """Whole heads announcing 1,000 bytes of body, sent one byte per second: the probe is still answered,
    and each slow client gets 408 once ``--body-timeout`` has passed, then the connection is closed."""
    head = (b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/sparql-query\r\n"
            b"Content-Length: 1000\r\n\r\n")
    clients = SlowClients(server, 20, head, b"#" * 1000)
    times = trickle_and_probe(server, clients, BODY_TIMEOUT + 4)
    assert max(times) < 1.0
    assert len(clients.closed) == 20
    assert all(BODY_TIMEOUT - 1 <= t <= BODY_TIMEOUT + 3 for t in clients.closed.values()), clients.closed
    assert {status(a) for a in clients.answers.values()} == {408}
    assert all(b"did not arrive within" in a for a in clients.answers.values())


RUNAWAY = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } # "


def test_writable_server_answers_while_clients_trickle_and_run_away(nquads: Path, tmp_path: Path) -> None:
    """The writable server has one worker: 30 slow connections (more than its app threads) and 24 runaway
    queries from one other address (127.0.0.2; queries wait at most ``--queue-wait`` for a process, then
    ``--time-limit``) do not silence it for a third client (127.0.0.3): that address's requests never wait
    behind the attacker's for a thread."""
    store = make_store(tmp_path / "store", nquads)  # the bundled graph: the cross product runs away
    s = start_server(["--location", str(store), "--allow-update", "--workers", "1", "--time-limit", "3",
                      "--queue-wait", "2", *LIMITS], tmp_path / "server.log", {"RKG_UPDATE_TOKEN": TOKEN})
    answers: list[int] = []

    def runaway(i: int) -> None:
        body = f"{RUNAWAY}{i} {time.monotonic()}".encode()
        head = (b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/sparql-query\r\n"
                b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(body))
        answer, _ = exchange(s, head + body, timeout=15, source="127.0.0.2")
        answers.append(status(answer) if answer else 0)

    attackers = [threading.Thread(target=runaway, args=(i,), daemon=True) for i in range(24)]
    try:
        for t in attackers:
            t.start()
        times = trickle_and_probe(s, SlowClients(s, 30, b"", SLOW_HEAD), 6, source="127.0.0.3")
        assert max(times) < 1.0
        for t in attackers:
            t.join(20)
        # every runaway query got an answer: stopped at the time limit (503), refused for waiting (429/503)
        assert len(answers) == 24 and set(answers) <= {200, 429, 503}, answers
    finally:
        stop_server(s)


def test_request_line_over_8_kib_is_414(server: Server) -> None:
    answer, took = exchange(server, b"GET /health?x=" + b"a" * 9216 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert status(answer) == 414 and b"POST" in answer and took < 2
    assert b"connection: close" in answer.lower()
    # just under the limit: served
    ok, _ = exchange(server, b"GET /health?x=" + b"a" * 8000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    assert status(ok) == 200


def test_huge_request_line_is_refused_at_once(server: Server) -> None:
    """8 MB of URL (12.7 s of CPU under gunicorn without a limit): refused within the front's 72 KiB buffer,
    with 431 (head too large) or 414, in well under a second."""
    answer, took = exchange(server, b"GET /sparql?query=" + b"a" * 8_000_000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert took < 2
    assert not answer or status(answer) in (414, 431)
    probe(server)


def test_header_flood_is_431(server: Server) -> None:
    """200 header fields of 8 KiB: 431 as soon as the head passes 72 KiB; 101 small fields: 431 too
    (the front takes 100 at most)."""
    big = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"".join(b"X-F%d: %s\r\n" % (i, b"f" * 8192) for i in range(200)) + b"\r\n"
    answer, took = exchange(server, big)
    assert status(answer) == 431 and took < 2
    many = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"".join(b"X-F%d: f\r\n" % i for i in range(101)) + b"\r\n"
    assert status(exchange(server, many)[0]) == 431
    fine = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + b"".join(b"X-F%d: f\r\n" % i for i in range(50)) + b"\r\n"
    assert status(exchange(server, fine)[0]) == 200


def test_body_over_the_limit_is_413(server: Server) -> None:
    """A declared length over ``--max-request-bytes`` is refused before any byte of the body is read; a
    chunked body as soon as it passes the limit."""
    head = (b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/sparql-query\r\n"
            b"Content-Length: %d\r\n\r\n" % (LIMIT + 1))
    answer, took = exchange(server, head)  # no body sent at all: the answer does not wait for it
    assert status(answer) == 413 and b"larger than 65536 bytes" in answer and took < 2
    chunk = b"#" * 8192
    chunked = (b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/sparql-query\r\n"
               b"Transfer-Encoding: chunked\r\n\r\n" + (b"%x\r\n%s\r\n" % (len(chunk), chunk)) * 9)
    answer, took = exchange(server, chunked)  # 73,728 bytes, no last chunk
    assert status(answer) == 413 and took < 2
    ok = (b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/sparql-query\r\n"
          b"Accept: application/sparql-results+json\r\nConnection: close\r\nContent-Length: 6\r\n\r\nASK {}")
    assert status(exchange(server, ok)[0]) == 200


GARBAGE = {
    "tls-hello": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(256)) + b"\r\n\r\n",
    "nul-in-method": b"GE\x00T / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    "no-version": b"GET /health\r\n\r\n",
    "space-in-target": b"GET /a b c HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    "bad-header-line": b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nno colon here\r\n\r\n",
    "bad-content-length": b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -5\r\n\r\n",
    "two-content-lengths": b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
    "binary": bytes(range(255, -1, -1)) * 4 + b"\r\n\r\n",
    "lone-newlines": b"\n\n\n\n\n\n\n\n",
}


@pytest.mark.parametrize("data", GARBAGE.values(), ids=GARBAGE.keys())
def test_garbage_is_400(server: Server, data: bytes) -> None:
    answer, took = exchange(server, data, timeout=HEADER_TIMEOUT + 3)
    if data == GARBAGE["lone-newlines"]:  # empty lines before a request are allowed: a head that never comes
        assert answer == b"" and took >= HEADER_TIMEOUT - 1
        return
    assert status(answer) == 400 and took < 2


def test_no_traceback_in_the_log(server: Server) -> None:
    """After everything above (and a few more bad requests), the log holds no traceback and no logging error."""
    for data in GARBAGE.values():
        if data != GARBAGE["lone-newlines"]:
            exchange(server, data, timeout=3)
    exchange(server, b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n\r\nab", timeout=1)  # gone mid-body
    probe(server)
    time.sleep(0.5)
    log = server.log_text()
    assert "Traceback" not in log and "Logging error" not in log, log[-3000:]
    assert "serving" in log
