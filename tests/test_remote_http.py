"""``rkg.remote.Http``, the remote store's pool of ``http.client`` connections, against a scripted server on loopback: each
way an answer's body can be framed (Content-Length, chunked, the end of the connection), the byte cap,
interim answers, kept-alive connections (reused; one the engine closed is replaced once), and the errors
it turns into Timeout or Unreachable. The real engines are in tests/remote."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from rkg.jobs import Timeout
from rkg.remote import Http, Unreachable

MAX_HEAD = 65536  # http.client refuses a header line longer than this

Answer = Callable[[socket.socket, bytes], bool]
"""Writes an answer to the request (head and body as read) on the socket; False: close the connection."""


def send(*parts: bytes, keep: bool = True, pause: float = 0.0) -> Answer:
    def answer(conn: socket.socket, _request: bytes) -> bool:
        for p in parts:
            conn.sendall(p)
            if pause:
                time.sleep(pause)
        return keep
    return answer


def ok(body: bytes, *headers: str) -> bytes:
    head = "".join(h + "\r\n" for h in headers)
    return f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n{head}\r\n".encode() + body


def chunked(*chunks: bytes, trailer: bytes = b"") -> bytes:
    out = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n"
    for c in chunks:
        out += f"{len(c):x};ext=1\r\n".encode() + c + b"\r\n"
    return out + b"0\r\n" + trailer + b"\r\n"


class Scripted:
    """A server on 127.0.0.1 answering each request with the next of ``answers``; it records the requests
    and counts its connections."""

    def __init__(self, answers: list[Answer]) -> None:
        self.answers = list(answers)
        self.requests: list[bytes] = []
        self.connections = 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/sparql"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._connection, args=(conn,), daemon=True).start()

    def _connection(self, conn: socket.socket) -> None:
        with conn:
            buf = b""
            while self.answers:
                while b"\r\n\r\n" not in buf:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                head, _, buf = buf.partition(b"\r\n\r\n")
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                while len(buf) < length:
                    buf += conn.recv(65536)
                self.requests.append(head + b"\r\n\r\n" + buf[:length])
                buf = buf[length:]
                if not self.answers.pop(0)(conn, self.requests[-1]):
                    return

    def close(self) -> None:
        self.sock.close()


@pytest.fixture()
def serve() -> Iterator[Callable[..., tuple[Scripted, Http]]]:
    made: list[tuple[Scripted, Http]] = []

    def make(*answers: Answer) -> tuple[Scripted, Http]:
        server = Scripted(list(answers))
        made.append((server, Http(server.url)))
        return made[-1]

    yield make
    for server, http in made:
        http.close()
        server.close()


def ask(http: Http, limit: int = 1 << 20, wait: float = 5.0, body: bytes | None = b"query=ASK%7B%7D",
        method: str = "POST") -> tuple[int, dict[str, str], bytes, bool]:
    return http.request(method, http.target(), body, {"Content-Type": "application/x-www-form-urlencoded"},
                        time.monotonic() + wait, limit)


def test_content_length_and_one_connection_kept(serve) -> None:
    server, http = serve(send(ok(b'{"boolean": true}', "Content-Type: application/json")), send(ok(b"second")))
    status, headers, body, cut = ask(http)
    assert (status, body, cut) == (200, b'{"boolean": true}', False)
    assert headers["content-type"] == "application/json"
    assert ask(http)[2] == b"second"
    assert server.connections == 1
    first = server.requests[0]
    assert first.startswith(b"POST /sparql HTTP/1.1\r\n") and first.endswith(b"\r\n\r\nquery=ASK%7B%7D")
    host = server.url.split("/")[2].encode()
    assert b"\r\nHost: " + host + b"\r\n" in first and b"\r\nContent-Length: 15\r\n" in first


def test_chunked_with_extensions_and_trailer(serve) -> None:
    _, http = serve(send(chunked(b"abc", b"", b"defg", trailer=b"X-Trailer: 1\r\n")[:40],
                         chunked(b"abc", b"", b"defg", trailer=b"X-Trailer: 1\r\n")[40:], pause=0.05),
                    send(ok(b"next")))
    # an empty chunk ends the body: "abc" only; the rest of the stream is not HTTP, so the connection is not reused
    assert ask(http)[2:] == (b"abc", False)
    _, http = serve(send(chunked(b"abc", b"defg", trailer=b"X-Trailer: 1\r\n")), send(ok(b"next")))
    assert ask(http)[2:] == (b"abcdefg", False)
    assert ask(http)[2] == b"next"


def test_interim_answers_are_skipped_and_close_is_obeyed(serve) -> None:
    server, http = serve(send(b"HTTP/1.1 100 Continue\r\n\r\n" + ok(b"final", "Connection: close"), keep=False),
                         send(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", keep=False), send(ok(b"third")))
    assert ask(http)[:3:2] == (200, b"final")
    assert ask(http)[2] == b"ok"  # HTTP/1.0 without keep-alive: closed after
    assert ask(http)[2] == b"third"
    assert server.connections == 3


def test_body_to_the_end_of_the_connection(serve) -> None:
    _, http = serve(send(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n", b"all ", b"of it", keep=False, pause=0.02))
    assert ask(http)[2:] == (b"all of it", False)


@pytest.mark.parametrize("answer", [
    ok(b"x" * 5000),
    chunked(b"x" * 3000, b"x" * 2000),
    b"HTTP/1.1 200 OK\r\n\r\n" + b"x" * 5000,
], ids=["length", "chunked", "close"])
def test_the_byte_cap_cuts(serve, answer: bytes) -> None:
    server, http = serve(send(answer, keep=False), send(ok(b"fresh")))
    status, _, body, cut = ask(http, limit=1000)
    assert (status, body, cut) == (200, b"x" * 1000, True)
    assert ask(http)[2] == b"fresh" and server.connections == 2  # a cut answer's connection is not reused


def test_a_connection_the_engine_closed_is_replaced_once(serve) -> None:
    server, http = serve(send(ok(b"one"), keep=False), send(ok(b"two")))
    assert ask(http)[2] == b"one"
    time.sleep(0.1)  # the engine has closed the kept-alive connection meanwhile
    assert ask(http)[2] == b"two"
    assert server.connections == 2


def test_an_answer_ended_early_is_a_timeout(serve) -> None:
    _, http = serve(send(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial", keep=False))
    with pytest.raises(Timeout, match="ended its answer early"):
        ask(http)
    _, http = serve(send(chunked(b"abc")[:-10], keep=False))
    with pytest.raises(Timeout, match="ended its answer early"):
        ask(http)
    # a chunk size that is not a number: http.client reads it as an answer cut short, too
    _, http = serve(send(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", keep=False))
    with pytest.raises(Timeout, match="ended its answer early"):
        ask(http)


def test_no_answer_within_the_deadline_is_a_timeout(serve) -> None:
    _, http = serve(send(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", pause=3))
    started = time.monotonic()
    with pytest.raises(Timeout):
        ask(http, wait=0.5)
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("answer", [b"SPARQL/1.0 200 OK\r\n\r\n",
                                    b"HTTP/1.1 200 OK\r\nX-Long: " + b"a" * (MAX_HEAD + 10) + b"\r\n\r\n"],
                         ids=["status", "too-long"])
def test_what_is_not_http_is_unreachable(serve, answer: bytes) -> None:
    _, http = serve(send(answer, keep=False))
    with pytest.raises(Unreachable, match="cannot be reached"):
        ask(http)


def test_nothing_listening_is_unreachable() -> None:
    with socket.create_server(("127.0.0.1", 0)) as s:
        port = s.getsockname()[1]
    http = Http(f"http://127.0.0.1:{port}/sparql")
    with pytest.raises(Unreachable, match="cannot be reached"):
        ask(http)


def test_a_file_body_and_no_body(serve, tmp_path: Path) -> None:
    """The loader's requests: a file posted with its Content-Length, a DELETE without a body; 204 has none."""
    data = tmp_path / "rkg.nq"
    data.write_bytes(b"<urn:a> <urn:b> <urn:c> .\n" * 1000)
    server, http = serve(send(b"HTTP/1.1 204 No Content\r\n\r\n"), send(b"HTTP/1.1 204 No Content\r\n\r\n"))
    with data.open("rb") as f:
        status, _, body, _ = http.request("POST", http.target("/store", {"no_transaction": ""}), f,
                                          {"Content-Length": str(data.stat().st_size)}, time.monotonic() + 5, 1 << 20)
    assert (status, body) == (204, b"")
    assert server.requests[0].startswith(b"POST /store?no_transaction= HTTP/1.1\r\n")
    assert server.requests[0].endswith(data.read_bytes())
    assert ask(http, method="DELETE", body=None)[:3:2] == (204, b"")
    assert b"Content-Length" not in server.requests[1] and server.connections == 1
