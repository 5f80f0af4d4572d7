"""Shared fixtures: the bundled graph (built, in a store, beside other référentiels), the catalogue, a
throw-away copy of the project, the ``rkg`` command, and the servers. Helpers and constants are in
tests/support (imported as ``support``); tests/support/server.py starts the servers.

Servers (session-scoped, started on first use):

* ``app_server``: the app in-process on the bundled graph, default settings.
* ``endpoint``: a real ``rkg serve`` (granian master, forked worker processes, their sandbox processes)
  on a free loopback port: the bundled graph in memory, default settings.
* ``store_endpoint``: a real server on a persistent store holding the bundled graph plus the W3C
  protocol test data (data1–3.nt in the named graphs the W3C manifest names), read-only, with small
  limits (``--time-limit 2`` for the runaway-query test, ``--max-rows 1000``, ``--max-request-bytes 65536``).
* ``update_endpoint``: a real, writable server on a persistent store with the W3C data only
  (``--allow-update``, token ``support.server.TOKEN`` in ``RKG_UPDATE_TOKEN``), for the W3C update cases.

Real servers are stopped with their whole process group at the end of the session, sandboxes included.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from support.build import ensure_built, make_store
from support.paths import DEMO_DATA, ESCO_FIXTURES, ROOT, VERSIONS_DATA
from support.server import TOKEN, AppServer, Server, in_process, serving

from rkg.build import NQUADS_NAME, build
from rkg.catalog import Catalog
from rkg.project import Project
from rkg.store import EmbeddedStore

REAL_SERVERS = {"endpoint", "store_endpoint", "update_endpoint"}
"""The fixtures below that start an ``rkg serve`` process."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that uses a real server is marked ``server`` even where its module does not say so."""
    for item in items:
        if REAL_SERVERS & set(getattr(item, "fixturenames", ())) and item.get_closest_marker("server") is None:
            item.add_marker(pytest.mark.server)


@pytest.fixture(scope="session")
def bundled_store() -> EmbeddedStore:
    return EmbeddedStore.from_quads(build(ROOT).quads)


@pytest.fixture(scope="session")
def multi_store() -> EmbeddedStore:
    """The bundled référentiel and the made-up one of tests/fixtures/demo in one dataset."""
    return EmbeddedStore.from_quads(build(ROOT, [DEMO_DATA]).quads)


@pytest.fixture(scope="session")
def versions_store() -> EmbeddedStore:
    """The bundled référentiel and the made-up two-version one of tests/fixtures/versions."""
    return EmbeddedStore.from_quads(build(ROOT, [VERSIONS_DATA]).quads)


@pytest.fixture(scope="session")
def esco_store(tmp_path_factory: pytest.TempPathFactory) -> EmbeddedStore:
    """The bundled référentiel and its mappings, with the sample ESCO dump imported (tests/fixtures/esco)."""
    from rkg.interop.esco import import_rdf

    imports = tmp_path_factory.mktemp("esco-build") / "imports"
    import_rdf(ESCO_FIXTURES / "sample-dump.ttl", imports / "esco-sample.nt")
    return EmbeddedStore.from_quads(build(ROOT, imports=imports).quads)


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return Catalog.from_folder(ROOT / "queries")


@pytest.fixture()
def project_copy(tmp_path: Path) -> Project:
    """A throw-away copy of the project's sources, safe to break."""
    import shutil

    for folder in ("ontology", "data", "shapes", "queries"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    return Project.locate(tmp_path)


@pytest.fixture(scope="session")
def rkg() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run the installed ``rkg`` command (as a user would) and capture its output."""

    def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "rkg", *args], cwd=cwd, capture_output=True, text=True, timeout=300)

    return run


@pytest.fixture(scope="session")
def built_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled graph built into a folder of the tests (rkg.nq, rkg.trig, rkg.ttl, manifest.json)."""
    out = tmp_path_factory.mktemp("build")
    ensure_built(out)
    return out


@pytest.fixture(scope="session")
def app_server(built_dir: Path) -> Iterator[AppServer]:
    """The app in-process on the bundled graph, default settings (read-only), spoken to through
    ``requests`` (``app_server.request``) or Flask's test client (``app_server.client()``)."""
    server = in_process(built_dir)
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def nquads(built_dir: Path) -> Path:
    """The built graph (of the sources only), as ``rkg serve`` builds it."""
    return built_dir / NQUADS_NAME


@pytest.fixture(scope="session")
def endpoint(built_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The bundled graph in memory, default settings (read-only, time limit 10 s, 1 MiB requests)."""
    with serving(built_dir, log=tmp_path_factory.mktemp("endpoint") / "server.log") as server:
        yield server


@pytest.fixture(scope="session")
def store_endpoint(built_dir: Path, nquads: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Persistent read-only store: bundled graph + W3C data; ``--time-limit 2``, ``--max-rows 1000``,
    ``--max-request-bytes 65536``."""
    folder = make_store(tmp_path_factory.mktemp("w3c-store") / "store", nquads)
    with serving(built_dir, log=tmp_path_factory.mktemp("store-endpoint") / "server.log", location=folder,
                 time_limit=2, max_rows=1000, max_request_bytes=65536) as server:
        yield server


@pytest.fixture(scope="session")
def update_endpoint(built_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Writable persistent store holding the W3C data only; updates need ``Authorization: Bearer TOKEN``."""
    folder = make_store(tmp_path_factory.mktemp("w3c-update-store") / "store", None)
    with serving(built_dir, log=tmp_path_factory.mktemp("update-endpoint") / "server.log", location=folder,
                 update_token=TOKEN, workers=1) as server:
        yield server
