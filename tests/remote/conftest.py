"""The two remote engines of issue 12, each started once per session on free loopback ports
(tests/support/engines.py, shared with bench/scale.py) and loaded with the bundled graph by
``rkg build --target`` (each with its loader):

* ``oxigraph_url``: Oxigraph server (PyPI ``oxigraph``, the ``test`` extra), in memory, ``--timeout-s``;
* ``virtuoso_url``: Virtuoso Open Source 7 (Debian ``virtuoso-opensource-7-bin``, installed by .ci/run),
  ``virtuoso-t +foreground`` with an ini written there, loaded through ``isql-vt`` (``ld_dir``).

A missing engine fails the tests (CI installs both), it never skips them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import engines
from support.paths import ROOT


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
def built_counts(remote_build: Path) -> dict:
    """What the build loaded into each engine, as its manifest records it (triples of the union, graphs)."""
    manifest = json.loads((remote_build / "manifest.json").read_text())
    return {"triples": manifest["triples"], "graphs": len(manifest["graphs"]), "names": sorted(manifest["graphs"])}


def _loaded(engine: engines.Engine, build: Path) -> str:
    _rkg("build", "--root", str(ROOT), "--build-dir", str(build), "-q", "--target", engine.url, *engine.load_args)
    return engine.url


@pytest.fixture(scope="session")
def oxigraph_url(tmp_path_factory: pytest.TempPathFactory, remote_build: Path) -> Iterator[str]:
    with engines.oxigraph(tmp_path_factory.mktemp("oxigraph")) as engine:
        yield _loaded(engine, remote_build)


@pytest.fixture(scope="session")
def virtuoso_url(tmp_path_factory: pytest.TempPathFactory, remote_build: Path) -> Iterator[str]:
    with engines.virtuoso(tmp_path_factory.mktemp("virtuoso")) as engine:
        yield _loaded(engine, remote_build)


@pytest.fixture(scope="session", params=["oxigraph", "virtuoso"])
def engine_url(request: pytest.FixtureRequest) -> str:
    """Each engine in turn."""
    return request.getfixturevalue(f"{request.param}_url")
