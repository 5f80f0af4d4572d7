"""Servers for the tests and the benchmarks, started one way: the app in-process (a Flask app over
``create_app(Config(...))``, spoken to through ``requests`` without a socket), or ``rkg serve`` as a
real process (granian master, forked workers, their sandbox processes) on a free loopback port.

Both are parametrised by the same settings, named after the fields of ``rkg.settings.Config``
(``time_limit=2``, ``max_rows=1000``, ``update_token=TOKEN``, ``location=DIR``, …) plus, for a real
process, those of ``rkg.settings.FrontConfig`` (``workers``, ``header_timeout``, ``body_timeout``), and
``data`` (extra data folders, ``--data``)::

    with serving(build_dir, process=False, time_limit=2) as server:      # in-process
        server.request("GET", server.sparql, params={"query": "ASK {}"})
    with serving(build_dir, log=tmp / "server.log", update_token=TOKEN, location=tmp / "store") as server:
        ...                                                               # rkg serve --allow-update …

``start_server(args, log)`` / ``stop_server(server)`` start and stop a real server from raw ``rkg
serve`` flags; ``launch``, ``wait_ready`` and ``terminate`` are the process steps under them, which the
benchmarks use for their servers too (bench/endpoint.py).
"""

from __future__ import annotations

import dataclasses
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers

from .build import ensure_built, make_store
from .paths import ROOT

STARTUP_TIMEOUT = 120.0
"""Seconds a real server has to answer /health with all its sandboxes up (two cores shared by the suite)."""
TOKEN = "protocol-test-token"
"""The update token of the tests' writable servers (``RKG_UPDATE_TOKEN``)."""


# ---------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def group_processes(pgid: int) -> list[tuple[int, str]]:
    """(pid, command line) of the non-zombie processes in process group ``pgid`` (Linux /proc)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            fields = stat[stat.rindex(")") + 2:].split()
            if fields[0] == "Z" or int(fields[2]) != pgid:
                continue
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, ValueError, IndexError):
            continue
        out.append((int(entry.name), cmd))
    return out


def log_text(log: Path, last: int | None = None) -> str:
    """What a server wrote (its ``last`` lines only, if given)."""
    text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    return text if last is None else "\n".join(text.splitlines()[-last:])


def launch(command: Sequence[str], log: Path, env: dict[str, str] | None = None, append: bool = False) -> subprocess.Popen:
    """``command`` in a session (process group) of its own, from the repository's root, its output in
    ``log`` (added at its end with ``append``). ``python -m rkg`` works from a checkout that is not
    installed too (server/ on PYTHONPATH); ``RKG_UPDATE_TOKEN`` is passed only when ``env`` gives it."""
    full = {k: v for k, v in os.environ.items() if k != "RKG_UPDATE_TOKEN"}
    full["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT / "server"), full.get("PYTHONPATH")) if p)
    full.update(env or {})
    with log.open("ab" if append else "wb") as out:
        return subprocess.Popen(list(command), cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True, env=full)


def wait_ready(process: subprocess.Popen, url: str, log: Path, timeout: float = STARTUP_TIMEOUT,
               ready: Callable[[], bool] = lambda: True, name: str = "the server") -> None:
    """Wait until ``url`` answers 200 and ``ready()`` holds. If the process exits first, or ``timeout``
    passes (the process is then stopped), raise with what it wrote."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}:\n{log_text(log, 100)}")
        try:
            request = urllib.request.Request(url, headers={"Accept": "application/json"})
            with urllib.request.urlopen(request, timeout=5) as r:
                if r.status == 200 and ready():
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    terminate(process)
    raise RuntimeError(f"{name} was not up on {url} within {timeout:g} s:\n{log_text(log, 100)}")


def terminate(process: subprocess.Popen, wait: float = 30.0) -> list[tuple[int, str]]:
    """Stop ``process`` as a service manager would (SIGTERM to the leader of its process group, which
    stops its own children), wait for its group to empty, then kill what is left of it. Returns the
    processes that were left (empty when the stop was clean)."""
    pgid = process.pid  # launch(): the process leads its own process group
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(wait)
        except subprocess.TimeoutExpired:
            pass
    deadline = time.monotonic() + 10
    while group_processes(pgid) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = group_processes(pgid)
    if left or process.poll() is None:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if process.poll() is None:
            process.wait(5)
        deadline = time.monotonic() + 5
        while group_processes(pgid) and time.monotonic() < deadline:
            time.sleep(0.05)
    return left


# ---------------------------------------------------------------- the two kinds of server


class Endpoints:
    """The URLs of a server under ``base``."""

    base: str

    @property
    def sparql(self) -> str:
        return self.base + "/sparql"

    @property
    def store(self) -> str:
        return self.base + "/store"


@dataclass
class Server(Endpoints):
    """A real ``rkg serve`` process."""

    base: str
    """``http://127.0.0.1:PORT``"""
    process: subprocess.Popen
    log: Path
    sandbox_count: int
    """Sandbox processes the server runs when every worker is up (per worker: its sandboxes, the spare
    and, with writes, the writer)."""

    def request(self, method: str, url: str, **kw: Any) -> requests.Response:
        """One request over a fresh connection (``requests.request``)."""
        return requests.request(method, url, **kw)

    def sandboxes(self) -> list[int]:
        """Process ids of the live sandbox processes of this server (Linux /proc)."""
        return [pid for pid, cmd in group_processes(self.process.pid) if "multiprocessing.spawn" in cmd]

    def log_text(self) -> str:
        return log_text(self.log)


class _WSGIAdapter(BaseAdapter):
    """A ``requests`` transport that hands each request to a WSGI app (werkzeug's test client) and
    turns its answer into a ``requests.Response``: the same test code talks to either kind of server."""

    def __init__(self, app: Any) -> None:
        super().__init__()
        self.app = app

    def send(self, request: requests.PreparedRequest, stream: bool = False, timeout: Any = None,
             verify: Any = True, cert: Any = None, proxies: Any = None) -> requests.Response:
        from werkzeug.test import Client

        url = urlsplit(request.url)
        body = request.body
        if body is not None and not isinstance(body, (bytes, str)):
            body = b"".join(body)  # a generator (chunked upload): the whole body at once
        if isinstance(body, str):
            body = body.encode("utf-8")
        answer = Client(self.app, use_cookies=False).open(
            url.path, base_url=f"{url.scheme}://{url.netloc}", query_string=url.query, method=request.method,
            headers=list(request.headers.items()), data=body or b"", environ_base={"REMOTE_ADDR": "127.0.0.1"})
        r = requests.Response()
        r.status_code = answer.status_code
        r.reason = answer.status.partition(" ")[2]
        headers: CaseInsensitiveDict = CaseInsensitiveDict()
        for name, value in answer.headers.items():  # repeated fields joined, as urllib3 does
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        r.headers = headers
        r._content = answer.get_data()
        r.encoding = get_encoding_from_headers(headers)
        r.url, r.request, r.connection = request.url, request, self
        return r

    def close(self) -> None:
        pass


class AppServer(Endpoints):
    """The app in-process: what a worker of ``rkg serve`` runs, without granian's front (so without its
    header and body timeouts and its body-size check on the socket)."""

    base = "http://localhost"

    def __init__(self, app: Any) -> None:
        self.app = app
        self.session = requests.Session()
        self.session.mount(self.base + "/", _WSGIAdapter(app))

    def request(self, method: str, url: str, **kw: Any) -> requests.Response:
        return self.session.request(method, url, **kw)

    def client(self) -> Any:
        """Flask's own test client on the app."""
        return self.app.test_client()

    def close(self) -> None:
        self.app.extensions["rkg"].close()


# ---------------------------------------------------------------- settings


def _config_fields() -> set[str]:
    from rkg.settings import Config

    return {f.name for f in dataclasses.fields(Config)}


def serve_args(*, location: Path | None = None, update_token: str | None = None, data: Sequence[Path] = (),
               **settings: Any) -> tuple[list[str], dict[str, str]]:
    """The ``rkg serve`` flags (and environment) for ``settings``, from the settings' declarations
    (rkg.settings: ``Config`` and ``FrontConfig``): each its option, in the option's unit, repeatable
    ones once per value; ``update_token`` → ``--allow-update`` with ``RKG_UPDATE_TOKEN``."""
    from rkg.settings import Config, FrontConfig

    args: list[str] = [a for d in data for a in ("--data", str(d))]
    env: dict[str, str] = {}
    if location is not None:
        args += ["--location", str(location)]
    if update_token is not None:
        args.append("--allow-update")
        env["RKG_UPDATE_TOKEN"] = update_token
    declared = {name: (kind, d) for name, _, kind, d in [*Config.declarations(), *FrontConfig.declarations()]}
    for name, value in settings.items():
        if name not in declared or declared[name][1].flag is None or name in ("host", "port"):
            raise TypeError(f"not a setting rkg serve takes here: {name!r}")
        kind, d = declared[name]
        if kind == "frozenset[str]":
            args += [a for v in value for a in (d.flag, str(v))]
        elif kind == "bool":
            args += [d.flag] if value else []
        elif value is not None:
            value = value // d.unit if d.unit != 1 else value
            args += [d.flag, f"{value:g}" if isinstance(value, float) else str(value)]
    return args, env


def app_config(build_dir: Path, *, location: Path | None = None, update_token: str | None = None,
               data: Sequence[Path] = (), **settings: Any) -> Any:
    """The ``Config`` ``rkg serve --build-dir build_dir`` would give its workers for ``settings``: the
    graph built (if stale) into ``build_dir``, a persistent store created from it if ``location`` is
    empty, the project's queries and shapes."""
    from rkg.project import Project
    from rkg.settings import Config

    unknown = set(settings) - _config_fields()
    if unknown:
        raise TypeError(f"not settings of the in-process app (rkg.settings.Config): {', '.join(sorted(unknown))}")
    nquads = ensure_built(build_dir, data)
    if location is not None and (not location.exists() or not any(location.iterdir())):
        make_store(location, nquads, w3c=False)
    project = Project.locate(ROOT, build_dir, data)
    settings.setdefault("version", "test")
    return Config(nquads=None if location else nquads, location=location, update_token=update_token,
                  shapes=project.shapes, queries=project.queries,
                  assets=project.assets if project.assets.is_dir() else None, **settings)


def in_process(build_dir: Path, **settings: Any) -> AppServer:
    """The app for ``settings`` (see ``app_config``); ``close()`` it at the end (its sandboxes)."""
    from rkg.web import create_app

    return AppServer(create_app(app_config(build_dir, **settings)))


def start_server(args: Sequence[str], log: Path, env: dict[str, str] | None = None,
                 timeout: float = STARTUP_TIMEOUT) -> Server:
    """``rkg serve`` with the flags ``args`` on a free port, in a session of its own; returned once
    /health answers and every worker has started its sandboxes. Unless ``args`` name one, the build
    folder is one of the tests' (next to ``log``), never the developer's build/, which may hold imports."""
    args = list(args)
    if "--build-dir" not in args:
        args += ["--build-dir", str(log.parent / "build")]
    port = free_port()
    process = launch([sys.executable, "-m", "rkg", "serve", "--root", str(ROOT), "--port", str(port), "-q", *args],
                     log, env)

    def option(name: str, default: int) -> int:
        return int(args[args.index(name) + 1]) if name in args else default

    writable = "--allow-update" in args
    # Per worker: the read pool (--sandboxes) and its spare, plus the writer when writes are enabled.
    count = option("--workers", 1 if writable else 2) * (option("--sandboxes", 2) + 1 + writable)
    server = Server(f"http://127.0.0.1:{port}", process, log, count)
    wait_ready(process, server.base + "/health", log, timeout, lambda: len(server.sandboxes()) >= count,
               name="rkg serve")
    return server


def stop_server(server: Server) -> None:
    """Stop the server (``terminate``: SIGTERM to the granian master, which stops its workers, whose
    daemonic sandboxes end with them); processes of its group left after that are killed and reported."""
    left = terminate(server.process)
    if left:
        raise RuntimeError(f"processes left after stopping the server (now killed): {left}\n{server.log_text()}")


@contextmanager
def serving(build_dir: Path, *, process: bool = True, log: Path | None = None,
            **settings: Any) -> Iterator[Server | AppServer]:
    """A server on the graph built into ``build_dir`` (built first if missing or stale), for the
    duration of the ``with`` block: a real ``rkg serve`` (``process=True``; its output in ``log``) or
    the app in-process. ``settings``: see the module's docstring."""
    if not process:
        server = in_process(build_dir, **{k: v for k, v in settings.items() if k != "workers"})
        try:
            yield server
        finally:
            server.close()
        return
    if log is None:
        raise TypeError("a real server needs a log file")
    ensure_built(build_dir, settings.get("data", ()))  # built here, once, not by each server on it
    args, env = serve_args(**settings)
    server = start_server([*args, "--build-dir", str(build_dir)], log, env)
    try:
        yield server
    finally:
        stop_server(server)
