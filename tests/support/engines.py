"""The remote SPARQL engines of issue 12, started and stopped one way for the tests (tests/remote/conftest.py)
and the benchmarks (bench/scale.py):

* Oxigraph server (PyPI ``oxigraph``, the ``test`` extra): ``oxigraph serve`` on a free loopback port,
  ``--union-default-graph``, ``--timeout-s``, in memory or on a store folder (``--location``);
* Virtuoso Open Source 7 (Debian ``virtuoso-opensource-7-bin``): ``virtuoso-t +foreground`` with an ini
  written into its folder (database in ``db/``, free HTTP and SQL ports, ``load/`` in ``DirsAllowed`` for
  the bulk loader), spoken to through ``isql-vt`` too.

Each runs in a process group of its own (``support.server.launch``); ``stop`` ends the group.

    with oxigraph(folder) as engine:                  # engine.url: its query endpoint
        rkg build --target engine.url  *engine.load_args
    with virtuoso(folder) as engine:
        rkg build --target engine.url  *engine.load_args   # --loader virtuoso-isql --isql … --load-dir …
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .server import free_port, launch, terminate, wait_ready

OXIGRAPH_TIMEOUT = 3
"""Oxigraph server's own time limit (--timeout-s) in the tests; the Virtuoso ini's MaxQueryExecutionTime is longer."""


@dataclass
class Engine:
    """A started engine: its process (leader of its group), query endpoint, folder and log."""

    name: str
    process: subprocess.Popen
    url: str
    """The SPARQL query endpoint (what ``rkg build --target`` and ``rkg serve --store`` take)."""
    folder: Path
    log: Path
    sql_port: int | None = None
    """Virtuoso: its SQL port (isql-vt)."""
    load_dir: Path | None = None
    """Virtuoso: the folder of its DirsAllowed where the bulk loader reads files."""
    load_args: list[str] = field(default_factory=list)
    """The flags of ``rkg build --target URL`` that load this engine with its own loader."""

    @property
    def base(self) -> str:
        return self.url.rsplit("/", 1)[0]


def oxigraph_binary() -> str:
    """The ``oxigraph`` command beside this Python (the venv), or on PATH; AssertionError when missing."""
    binary = Path(sys.executable).parent / "oxigraph"
    if not binary.exists():
        binary = Path(shutil.which("oxigraph") or "oxigraph")
    assert binary.exists(), "Oxigraph server is missing: pip install -e '.[test]' (PyPI oxigraph)"
    return str(binary)


def virtuoso_binaries() -> tuple[str, str]:
    """``virtuoso-t`` and ``isql-vt``; AssertionError when missing."""
    binary, isql_ = shutil.which("virtuoso-t"), shutil.which("isql-vt")
    assert binary, "Virtuoso is missing: apt-get install virtuoso-opensource-7-bin (.ci/run does)"
    assert isql_, "isql-vt is missing: apt-get install virtuoso-opensource-7-bin"
    return binary, isql_


def start_oxigraph(folder: Path, port: int | None = None, timeout_s: float = OXIGRAPH_TIMEOUT,
                   location: Path | None = None, ready_timeout: float = 60) -> Engine:
    """``oxigraph serve`` on 127.0.0.1:``port`` (a free one by default) with its union default graph and
    ``--timeout-s``, in memory or on the store folder ``location``; returns once it answers ``ASK {}``."""
    folder.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    log = folder / "oxigraph.log"
    command = [oxigraph_binary(), "serve", "--bind", f"127.0.0.1:{port}", "--union-default-graph",
               "--timeout-s", f"{timeout_s:g}"]
    if location is not None:
        command += ["--location", str(location)]
    process = launch(command, log)
    engine = Engine("oxigraph", process, f"http://127.0.0.1:{port}/query", folder, log)
    wait(engine, ready_timeout)
    return engine


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
NumberOfBuffers = {buffers}
MaxDirtyBuffers = {dirty}
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
"""The minimal ini the README's « Remote stores » points to; NumberOfBuffers are 8 KiB pages."""


def start_virtuoso(folder: Path, buffers: int = 20000, ready_timeout: float = 120) -> Engine:
    """``virtuoso-t +foreground`` with an ini written into ``folder`` (database in ``db/``, ``load/`` in
    DirsAllowed, free HTTP and SQL ports, ``buffers`` pages of cache); returns once ``/sparql`` answers."""
    binary, _ = virtuoso_binaries()
    db, load = folder / "db", folder / "load"
    db.mkdir(parents=True, exist_ok=True)
    load.mkdir(parents=True, exist_ok=True)
    sql, http = free_port(), free_port()
    ini = folder / "virtuoso.ini"
    ini.write_text(textwrap.dedent(VIRTUOSO_INI.format(db=db, load=load, sql=sql, http=http, buffers=buffers,
                                                       dirty=buffers * 3 // 4)))
    log = folder / "virtuoso.out"
    process = launch([binary, "+foreground", "+configfile", str(ini)], log)
    engine = Engine("virtuoso", process, f"http://127.0.0.1:{http}/sparql", folder, log, sql, load,
                    ["--loader", "virtuoso-isql", "--isql", f"localhost:{sql}", "--load-dir", str(load)])
    wait(engine, ready_timeout)
    return engine


def wait(engine: Engine, timeout: float) -> None:
    """Until the engine answers ``ASK {}`` on its query endpoint (RuntimeError with its log otherwise; the
    engine is stopped then)."""
    try:
        wait_ready(engine.process, engine.url + "?query=ASK%7B%7D", engine.log, timeout, name=engine.name)
    except BaseException:  # an interrupted start-up leaves no engine behind
        stop(engine)
        raise


def stop(engine: Engine) -> None:
    """Stop the engine's process group (SIGTERM, then SIGKILL to what is left)."""
    terminate(engine.process, wait=60)


def isql(engine: Engine, statements: str, timeout: float = 3600, user: str = "dba", password: str = "dba") -> str:
    """Run SQL ``statements`` on a Virtuoso engine through ``isql-vt``; their output (RuntimeError on an error)."""
    assert engine.sql_port is not None, f"{engine.name} has no SQL port"
    _, binary = virtuoso_binaries()
    done = subprocess.run([binary, f"localhost:{engine.sql_port}", user, password], input=statements, text=True,
                          capture_output=True, timeout=timeout)
    out = done.stdout + done.stderr
    if done.returncode != 0 or "*** Error" in out:
        raise RuntimeError(f"isql-vt failed ({done.returncode}): {out[-1000:]}")
    return out


@contextmanager
def running(engine: Engine) -> Iterator[Engine]:
    """``engine`` (as ``start_oxigraph`` or ``start_virtuoso`` return it) for the ``with`` block, stopped after."""
    try:
        yield engine
    finally:
        stop(engine)


def oxigraph(folder: Path, **options):
    """``start_oxigraph`` for the ``with`` block."""
    return running(start_oxigraph(folder, **options))


def virtuoso(folder: Path, **options):
    """``start_virtuoso`` for the ``with`` block."""
    return running(start_virtuoso(folder, **options))
