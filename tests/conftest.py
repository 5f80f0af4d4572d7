"""Shared fixtures: the project's folders, the bundled graph, and the bundled graph beside a second référentiel."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from rkg.build import build, write
from rkg.catalog import Catalog
from rkg.project import Project
from rkg.store import EmbeddedStore

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "tests" / "reference"
"""Outside material the tests read, copied with its source, version and licence (tests/reference/README.md)."""
SEED = ROOT / "data" / "rncp31854-pif" / "source" / "000_5ad04cdbbef53940.txt"
"""The source document the bundled data transcribes (its provenance, so it lives beside the data)."""
DEMO_DATA = ROOT / "tests" / "fixtures" / "demo"
VERSIONS_DATA = ROOT / "tests" / "fixtures" / "versions"
ESCO_FIXTURES = ROOT / "tests" / "fixtures" / "esco"
PIF = "https://w3id.org/rkg/id/rncp31854-pif"
DEMO = "https://w3id.org/rkg/id/rncp99999-demo"


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
    out = tmp_path_factory.mktemp("build")
    write(build(ROOT), out)
    return out
