"""The two remote engines of issue 12, each started once per session on free loopback ports and loaded
with the bundled graph by ``rkg build --target`` (each with its loader):

* ``oxigraph_url``: Oxigraph server (PyPI ``oxigraph``, the ``test`` extra), in memory, ``--timeout-s``;
* ``virtuoso_url``: Virtuoso Open Source 7 (Debian ``virtuoso-opensource-7-bin``, installed by .ci/run),
  ``virtuoso-t +foreground`` with an ini written here, loaded through ``isql-vt`` (``ld_dir``).

A missing engine fails the tests (CI installs both), it never skips them.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.paths import ROOT
from support.server import free_port, launch, terminate, wait_ready

ENGINE_TIMEOUT = 3
"""Oxigraph server's own time limit (--timeout-s), the Virtuoso ini's MaxQueryExecutionTime is longer."""


def _rkg(*args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "rkg", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done


@pytest.fixture(scope="session")
def remote_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("remote-build")
    _rkg("build", "--root", str(ROOT), "--build-dir", str(out), "-q")
    return out


@pytest.fixture(scope="session")
def oxigraph_url(tmp_path_factory: pytest.TempPathFactory, remote_build: Path) -> Iterator[str]:
    binary = Path(sys.executable).parent / "oxigraph"
    if not binary.exists():
        binary = Path(shutil.which("oxigraph") or "oxigraph")
    assert binary.exists(), "Oxigraph server is missing: pip install -e '.[test]' (PyPI oxigraph)"
    folder = tmp_path_factory.mktemp("oxigraph")
    port = free_port()
    log = folder / "oxigraph.log"
    process = launch([str(binary), "serve", "--bind", f"127.0.0.1:{port}", "--union-default-graph",
                      "--timeout-s", str(ENGINE_TIMEOUT)], log)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(process, base + "/query?query=ASK%7B%7D", log, 60, name="oxigraph serve")
        _rkg("build", "--root", str(ROOT), "--build-dir", str(remote_build), "-q", "--target", base + "/query")
        yield base + "/query"
    finally:
        terminate(process)


VIRTUOSO_INI = """\
[Database]
DatabaseFile = {db}/virtuoso.db
ErrorLogFile = {db}/virtuoso.log
LockFile = {db}/virtuoso.lck
TransactionFile = {db}/virtuoso.trx
xa_persistent_file = {db}/virtuoso.pxa
MaxCheckpointRemap = 2000
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {db}/virtuoso.tdb
TransactionFile = {db}/virtuoso.ttr

[Parameters]
ServerPort = {sql}
DisableUnixSocket = 1
CheckpointInterval = 60
NumberOfBuffers = 20000
MaxDirtyBuffers = 15000
DirsAllowed = ., {load}
ThreadsPerQuery = 2
MaxClientConnections = 10

[HTTPServer]
ServerPort = {http}
ServerRoot = {db}
MaxClientConnections = 10
ServerThreads = 10

[SPARQL]
ResultSetMaxRows = 1000000
MaxQueryExecutionTime = 60
MaxQueryCostEstimationTime = 0
"""


@pytest.fixture(scope="session")
def virtuoso_url(tmp_path_factory: pytest.TempPathFactory, remote_build: Path) -> Iterator[str]:
    binary = shutil.which("virtuoso-t")
    assert binary, "Virtuoso is missing: apt-get install virtuoso-opensource-7-bin (.ci/run does)"
    assert shutil.which("isql-vt"), "isql-vt is missing: apt-get install virtuoso-opensource-7-bin"
    folder = tmp_path_factory.mktemp("virtuoso")
    (folder / "db").mkdir()
    (folder / "load").mkdir()
    sql, http = free_port(), free_port()
    ini = folder / "virtuoso.ini"
    ini.write_text(textwrap.dedent(VIRTUOSO_INI.format(db=folder / "db", load=folder / "load", sql=sql, http=http)))
    log = folder / "virtuoso.out"
    process = launch([binary, "+foreground", "+configfile", str(ini)], log)
    base = f"http://127.0.0.1:{http}"
    try:
        wait_ready(process, base + "/sparql?query=ASK%7B%7D", log, 120, name="virtuoso-t")
        _rkg("build", "--root", str(ROOT), "--build-dir", str(remote_build), "-q", "--target", base + "/sparql",
             "--loader", "virtuoso-isql", "--isql", f"localhost:{sql}", "--load-dir", str(folder / "load"))
        yield base + "/sparql"
    finally:
        terminate(process)


@pytest.fixture(scope="session", params=["oxigraph", "virtuoso"])
def engine_url(request: pytest.FixtureRequest) -> str:
    """Each engine in turn."""
    return request.getfixturevalue(f"{request.param}_url")
