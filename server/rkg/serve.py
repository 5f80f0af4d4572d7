"""``rkg serve``: the web app behind a front that buffers, never Flask's development server.

The front is granian (a Rust HTTP server: hyper on tokio) in its ASGI interface, with a small adapter,
``Front``, between it and the Flask (WSGI) app:

* granian reads and parses each request head on its event loop. A head that is not complete
  ``header_timeout`` seconds after the connection opened (or after the previous answer on a keep-alive
  connection) gets the connection closed; a request target over 64 KiB is answered 414, a head over
  ``HEAD_LIMIT`` bytes or with more than 100 header fields 431, a malformed request line 400, all before
  any Python code runs.
* ``Front`` then, still on the event loop, refuses a request line over ``REQUEST_LINE_LIMIT`` bytes
  (414) and a declared body over ``max_request_bytes`` (413), and reads the body, counting it (413 as
  soon as it passes the limit, for chunked bodies) within ``body_timeout`` seconds of the head (else
  408 and the connection closed).
* Only the whole request, buffered, is handed to a thread of the worker's pool (``threads``), which runs
  the WSGI app and buffers its answer. One client (its address, or the one a trusted proxy names) holds at
  most ``PER_CLIENT`` of those threads; its other requests wait on the event loop, ``queue_wait`` seconds at
  most (then 429), so requests that wait inside the app for a query process cannot take every thread.

A slow client therefore holds a socket and a little memory on the event loop, never a thread. Several
worker processes share the listening socket; each builds its own app (and starts its own query sandboxes)
after the fork, so the master never opens the store.
"""

from __future__ import annotations

import asyncio
import io
import logging
import sys
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, Callable
from urllib.parse import unquote_to_bytes

from .settings import Config, FrontConfig
from .errors import RkgError
from .web.errors import HttpError, answer, bug
from .web.state import client_address

REQUEST_LINE_LIMIT = 8192
"""Bytes of the request line (method, target, version) accepted; longer: 414."""
HEAD_LIMIT = 73728
"""Bytes of the request head (request line and header fields) the front buffers; more: 431. It is more than
hyper's own limit on the request target (65,534 bytes, 414), so that an over-long URL is always 414."""
BODY_TIMEOUT = FrontConfig().body_timeout
"""Default seconds a client has, once the head is in, to send the whole body (``rkg serve --body-timeout``)."""
THREADS = 16
"""Threads per worker running the app on whole requests."""
PER_CLIENT = 4
"""Of those, how many one client (its address, as the app sees it) may hold at once; its other requests wait
on the event loop, not in a thread, at most ``queue_wait`` seconds (then 429), so that a client whose
requests wait for a query process cannot take every thread."""

log = logging.getLogger("rkg.serve")

WSGIApp = Callable[[dict, Callable], Any]


class Refused(HttpError):
    """An answer of the front itself; ``close``: the request was not read to its end, so the connection ends."""

    def __init__(self, status: int, message: str, close: bool = True, headers: tuple = ()) -> None:
        super().__init__(status, message, headers)
        self.close = close


class Disconnected(RkgError):
    """The client went away before its request was whole."""


class Front:
    """ASGI application that buffers a whole request (bounded in size and time) on the event loop, then
    runs the WSGI ``app`` on it in a thread of its pool and sends the buffered answer."""

    def __init__(self, app: WSGIApp, *, max_body: int, body_timeout: float = BODY_TIMEOUT,
                 threads: int = THREADS, per_client: int = PER_CLIENT, queue_wait: float = 5.0,
                 trusted_proxies: frozenset[str] = frozenset()) -> None:
        self.app, self.max_body, self.body_timeout = app, max_body, body_timeout
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="rkg-app")
        self.per_client, self.queue_wait, self.trusted = max(1, min(per_client, threads)), queue_wait, trusted_proxies
        self.holding: dict[str, int] = {}
        """Threads each client holds now."""
        self.waiting: dict[str, deque[asyncio.Future]] = {}
        """Requests of each client waiting for one of its slots, first come first served."""
        self.base = {
            "wsgi.version": (1, 0), "wsgi.errors": sys.stderr, "wsgi.multithread": True,
            "wsgi.multiprocess": True, "wsgi.run_once": False, "wsgi.input_terminated": True, "SCRIPT_NAME": "",
        }

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":  # no lifespan (asginl), no websockets
            return
        try:
            try:
                environ = await self._request(scope, receive)
                client = client_address(environ, self.trusted)
                await self._enter(client)
            except Refused as e:
                status, headers, body = answer(e, "/", None)
                headers += [("Access-Control-Allow-Origin", "*"), ("X-Content-Type-Options", "nosniff")]
                await _send(send, status, headers + [("Connection", "close")] if e.close else headers, body)
                return
            try:
                status, headers, body = await asyncio.get_running_loop().run_in_executor(self.pool, self._call, environ)
            finally:
                self._leave(client)
            await _send(send, status, headers, body)
        except (Disconnected, OSError):
            pass  # the client went away: nobody to answer (granian drops what is sent after that)

    async def _request(self, scope: dict, receive: Callable) -> dict:
        method: str = scope["method"]
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        query: bytes = scope["query_string"]
        if len(method) + len(raw_path) + (len(query) + 1 if query else 0) + 11 > REQUEST_LINE_LIMIT:
            raise Refused(414, f"the request line is longer than {REQUEST_LINE_LIMIT} bytes: send long queries with POST")
        environ = dict(self.base)
        length: int | None = None
        chunked = False
        for name, value in scope["headers"]:
            key = name.decode("latin-1")
            if "_" in key:  # X_Forwarded_For would pass for X-Forwarded-For in the environ: dropped
                continue
            text = value.decode("latin-1")
            if key == "content-length":  # granian answers 400 to a malformed or repeated one already
                if not text.isdigit():
                    raise Refused(400, "the Content-Length header is not a number")
                length = int(text)
                environ["CONTENT_LENGTH"] = text
                continue
            if key == "content-type":
                environ["CONTENT_TYPE"] = text
                continue
            if key == "transfer-encoding":
                chunked = True  # the body is handed on de-chunked, with its length
                continue
            key = "HTTP_" + key.upper().replace("-", "_")
            if key in environ:
                environ[key] += ("; " if key == "HTTP_COOKIE" else ", ") + text
            else:
                environ[key] = text
        if length is not None and length > self.max_body:
            raise Refused(413, f"the request body is larger than {self.max_body} bytes")
        body = b""
        if chunked or length:
            try:
                async with asyncio.timeout(self.body_timeout):
                    body = await self._body(receive)
            except TimeoutError:
                raise Refused(408, f"the request body did not arrive within {self.body_timeout:g} s") from None
            environ["CONTENT_LENGTH"] = str(len(body))
        server = scope.get("server") or ("", 0)
        client = scope.get("client") or ("", 0)
        target = raw_path.decode("latin-1")
        environ.update({
            "REQUEST_METHOD": method,
            "PATH_INFO": unquote_to_bytes(raw_path).decode("latin-1"),
            "QUERY_STRING": query.decode("latin-1"),
            "RAW_URI": target + ("?" + query.decode("latin-1") if query else ""),
            "SERVER_NAME": str(server[0]), "SERVER_PORT": str(server[1]),
            "REMOTE_ADDR": str(client[0]), "REMOTE_PORT": str(client[1]),
            "SERVER_PROTOCOL": "HTTP/" + scope.get("http_version", "1.1"),
            "wsgi.url_scheme": scope.get("scheme", "http"),
            "wsgi.input": io.BytesIO(body),
        })
        environ["REQUEST_URI"] = environ["RAW_URI"]
        return environ

    async def _enter(self, client: str) -> None:
        """Take one of ``client``'s slots, waiting (on the loop) for one at most ``queue_wait`` seconds."""
        held = self.holding.get(client, 0)
        if held < self.per_client:
            self.holding[client] = held + 1
            return
        slot = asyncio.get_running_loop().create_future()
        queue = self.waiting.setdefault(client, deque())
        queue.append(slot)
        try:
            async with asyncio.timeout(self.queue_wait):
                await slot  # _leave hands the slot over: holding[client] is unchanged
        except TimeoutError:
            if slot.done() and not slot.cancelled():
                return  # handed over just as the wait ended: it is ours
            if slot in queue:
                queue.remove(slot)
            raise Refused(429, f"this client already has {self.per_client} requests in progress; retry later",
                          close=False, headers=(("Retry-After", "1"),)) from None
        finally:
            if not queue:
                self.waiting.pop(client, None)

    def _leave(self, client: str) -> None:
        queue = self.waiting.get(client)
        while queue:
            slot = queue.popleft()
            if not slot.done():  # a waiter that timed out or went away is cancelled: skipped
                slot.set_result(None)
                return
        n = self.holding.get(client, 0) - 1
        if n > 0:
            self.holding[client] = n
        else:
            self.holding.pop(client, None)

    async def _body(self, receive: Callable) -> bytes:
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                raise Disconnected
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                raise Refused(413, f"the request body is larger than {self.max_body} bytes")
            chunks.append(chunk)
            if not message.get("more_body"):
                return b"".join(chunks)

    def _call(self, environ: dict) -> tuple[int, list[tuple[str, str]], bytes]:
        """The WSGI call, in a pool thread; the answer is buffered whole."""
        started: list = []
        written: list[bytes] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None):
            if exc_info and started:
                raise exc_info[1].with_traceback(exc_info[2])
            started[:] = [status, headers]
            return written.append

        try:
            result = self.app(environ, start_response)
            try:
                written.extend(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        except Exception:  # the app answers its own errors; this is a defect of a layer around it
            request_id = environ.get("rkg.request_id", "-")
            log.exception("request %s: the app failed on %s %s", request_id, environ.get("REQUEST_METHOD"),
                          environ.get("PATH_INFO"))
            status, headers, body = answer(bug(request_id, "the application failed"), "/", None, request_id)
            return status, headers, body
        status, headers = started
        return int(status[:3]), headers, b"".join(written)


async def _send(send: Callable, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]})
    await send({"type": "http.response.body", "body": body})


def configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    # One access line per request: skip the record fields the format does not show (logging HOWTO, "Optimization").
    logging._srcfile = None  # no stack walk to find the caller of log.info
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False


def load(config: Config, body_timeout: float, threads: int) -> Front:
    """Called in each worker process after the fork: each gets its own app, sandboxes, cache and threads."""
    from .web import create_app

    configure_logging()
    app = create_app(config)
    app.extensions["rkg"].pool  # start the query processes now, not on the first request
    return Front(app, max_body=config.max_request_bytes, body_timeout=body_timeout, threads=threads,
                 queue_wait=config.queue_wait, trusted_proxies=config.trusted_proxies)


def _loop() -> Any:
    """uvloop when it is installed (a dependency; 20–30 % more cached answers per second than asyncio's loop
    on this front, bench/summary.md), else asyncio's."""
    from granian.constants import Loops

    try:
        import uvloop  # noqa: F401
    except ImportError:
        return Loops.asyncio
    return Loops.uvloop


def run(config: Config, front: FrontConfig, threads: int = THREADS) -> None:
    """Serve the app for ``config`` behind granian as ``front`` says (both checked here too)."""
    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP1Settings
    from granian.log import LogLevels
    from granian.server import Server

    config.check()
    front.check(config)
    configure_logging()
    server = Server(
        "rkg.serve:load", address=front.host, port=front.port, interface=Interfaces.ASGINL,
        workers=front.worker_count(config), loop=_loop(), http=HTTPModes.http1, websockets=False,
        log_level=LogLevels.warning, log_access=False,
        http1_settings=HTTP1Settings(header_read_timeout=round(front.header_timeout * 1000), keep_alive=True,
                                     max_buffer_size=HEAD_LIMIT),
        workers_kill_timeout=max(10, int(config.time_limit) + 5), respawn_failed_workers=True,
    )
    server.serve(target_loader=partial(load, config, front.body_timeout, max(1, threads)), wrap_loader=False)
