"""Real ``rkg serve`` processes for the protocol tests: each fixture starts the command a user would run
(granian master, forked worker processes, their sandbox processes) on a free loopback port and stops
the whole process group at the end of the session, sandboxes included.

Servers (session-scoped, started on first use):

* ``endpoint``: the bundled graph in memory, default settings.
* ``store_endpoint``: a persistent store holding the bundled graph plus the W3C protocol test data
  (data1–3.nt in the named graphs the W3C manifest names), read-only, with small limits
  (``--time-limit 2`` for the runaway-query test, ``--max-rows 1000``, ``--max-request-bytes 65536``).
* ``update_endpoint``: a writable persistent store with the W3C data only (``--allow-update``, token in
  ``RKG_UPDATE_TOKEN``), for the W3C update cases.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

import pytest
from rdflib import Graph, Namespace, URIRef
from rdflib.namespace import RDFS

ROOT = Path(__file__).resolve().parents[2]
W3C = ROOT / "tests" / "reference" / "w3c-sparql11-protocol"
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
TOKEN = "protocol-test-token"
STARTUP_TIMEOUT = 60.0


@dataclass
class Server:
    base: str
    """``http://127.0.0.1:PORT``"""
    process: subprocess.Popen
    log: Path
    sandbox_count: int
    """Sandbox processes the server runs when every worker is up (per worker: its sandboxes, the spare
    and, with writes, the writer)."""

    @property
    def sparql(self) -> str:
        return self.base + "/sparql"

    def sandboxes(self) -> list[int]:
        """Process ids of the live sandbox processes of this server (Linux /proc)."""
        return [pid for pid, cmd in group_processes(self.process.pid) if "multiprocessing.spawn" in cmd]

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def group_processes(pgid: int) -> list[tuple[int, str]]:
    """(pid, command line) of the non-zombie processes in process group ``pgid``."""
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


def option(args: list[str], name: str, default: int) -> int:
    return int(args[args.index(name) + 1]) if name in args else default


def start_server(args: list[str], log: Path, env: dict[str, str] | None = None) -> Server:
    """``rkg serve`` on a free port, in a session of its own; returned once /health answers and every
    worker has started its sandboxes. Unless ``args`` name one, the build folder is one of the tests'
    (next to ``log``), never the developer's build/, which may hold imports."""
    port = free_port()
    if "--build-dir" not in args:
        args = [*args, "--build-dir", str(log.parent / "build")]
    cmd = [sys.executable, "-m", "rkg", "serve", "--port", str(port), "-q", *args]
    with log.open("wb") as out:
        process = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True, env={**os.environ, **(env or {})})
    writable = "--allow-update" in args
    # Per worker: the read pool (--sandboxes) and its spare, plus the writer when writes are enabled.
    count = option(args, "--workers", 1 if writable else 2) * (option(args, "--sandboxes", 2) + 1 + writable)
    server = Server(f"http://127.0.0.1:{port}", process, log, count)
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"rkg serve exited with {process.returncode}:\n{server.log_text()}")
        try:
            with urllib.request.urlopen(server.base + "/health", timeout=2) as r:
                if r.status == 200 and len(server.sandboxes()) >= count:
                    return server
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    stop_server(server)
    raise RuntimeError(f"rkg serve was not up within {STARTUP_TIMEOUT} s:\n{server.log_text()}")


def stop_server(server: Server) -> None:
    """Stop the server as a service manager would (SIGTERM to the granian master, which stops its
    workers, whose daemonic sandboxes end with them), then check that no process of its group is left:
    leftovers are killed and reported."""
    pgid = server.process.pid  # start_new_session: the master leads its own process group
    if server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(30)
        except subprocess.TimeoutExpired:
            pass
    deadline = time.monotonic() + 10
    while group_processes(pgid) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = group_processes(pgid)
    if left:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if server.process.poll() is None:
            server.process.wait(5)
        raise RuntimeError(f"processes left after stopping the server (now killed): {left}")


@pytest.fixture(scope="session")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tests' own build folder: what a developer imported into build/ stays out of the tests."""
    return tmp_path_factory.mktemp("served-build")


@pytest.fixture(scope="session")
def nquads(build_dir: Path) -> Path:
    """The built graph (of the sources only), as ``rkg serve`` builds it."""
    from rkg import build as build_mod
    from rkg.project import Project

    project = Project.locate(ROOT, build_dir)
    project.build()
    return project.build_dir / build_mod.NQUADS_NAME


def w3c_graphs() -> dict[URIRef, Path]:
    """Named graph IRI → data file, as the W3C manifest's ut:graphData entries name them."""
    manifest = Graph().parse(W3C / "manifest.ttl", format="turtle", publicID=(W3C / "manifest.ttl").as_uri())
    graphs: dict[URIRef, Path] = {}
    for data in manifest.objects(None, UT.graphData):
        file, label = manifest.value(data, UT.graph), manifest.value(data, RDFS.label)
        graphs[URIRef(str(label))] = Path(url2pathname(urlparse(str(file)).path))
    return graphs


def make_store(folder: Path, nquads: Path | None) -> Path:
    import pyoxigraph as ox

    store = ox.Store(str(folder))
    if nquads is not None:
        store.bulk_load(path=str(nquads), format=ox.RdfFormat.N_QUADS)
    for graph, file in w3c_graphs().items():
        store.bulk_load(path=str(file), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(str(graph)))
    store.flush()
    del store
    return folder


def _serve(tmp_path_factory: pytest.TempPathFactory, name: str, args: list[str],
           env: dict[str, str] | None = None) -> Iterator[Server]:
    server = start_server(args, tmp_path_factory.mktemp(name) / "server.log", env)
    try:
        yield server
    finally:
        stop_server(server)


@pytest.fixture(scope="session")
def endpoint(nquads: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The bundled graph in memory, default settings (read-only, time limit 10 s, 1 MiB requests)."""
    yield from _serve(tmp_path_factory, "endpoint", [])


@pytest.fixture(scope="session")
def store_endpoint(nquads: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Persistent read-only store: bundled graph + W3C data; ``--time-limit 2``, ``--max-rows 1000``,
    ``--max-request-bytes 65536``."""
    folder = make_store(tmp_path_factory.mktemp("w3c-store") / "store", nquads)
    yield from _serve(tmp_path_factory, "store-endpoint", ["--location", str(folder), "--time-limit", "2",
                                                                 "--max-rows", "1000", "--max-request-bytes", "65536"])


@pytest.fixture(scope="session")
def update_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Writable persistent store holding the W3C data only; updates need ``Authorization: Bearer TOKEN``."""
    folder = make_store(tmp_path_factory.mktemp("w3c-update-store") / "store", None)
    yield from _serve(tmp_path_factory, "update-endpoint",
                      ["--location", str(folder), "--allow-update", "--workers", "1"], {"RKG_UPDATE_TOKEN": TOKEN})
