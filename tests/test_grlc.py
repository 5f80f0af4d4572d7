"""The queries/ folder also serves with grlc: grlc builds its API spec from the same headers.

grlc pins exact versions of Flask, rdflib, requests and gunicorn, so it gets a virtual environment of its
own (build/grlc-venv, created on first use, reused afterwards), never the project's.
"""

from __future__ import annotations

import json
import subprocess
import venv
from pathlib import Path

import pytest

from support.paths import ROOT
from rkg.catalog import Catalog

GRLC_VENV = ROOT / "build" / "grlc-venv"
SCRIPT = """
import json
from grlc import utils
spec = utils.build_swagger_spec(None, None, None, None, None, "localhost", None)
print("SPEC:" + json.dumps(spec))
"""


def grlc_python() -> Path:
    python = GRLC_VENV / "bin" / "python"
    if not (GRLC_VENV / "ok").exists():
        venv.create(GRLC_VENV, with_pip=True, clear=True)
        r = subprocess.run([str(python), "-m", "pip", "install", "-q", "grlc"], capture_output=True, text=True, timeout=900)
        assert r.returncode == 0, f"could not install grlc in its own venv:\n{r.stderr[-2000:]}"
        (GRLC_VENV / "ok").write_text("grlc installed\n")
    return python


@pytest.fixture(scope="module")
def grlc_spec(tmp_path_factory: pytest.TempPathFactory) -> dict:
    work = tmp_path_factory.mktemp("grlc")
    # grlc reads config.ini from its working folder; the endpoint is never contacted (no #+ enumerate).
    (work / "config.ini").write_text(
        f"[defaults]\nsparql_endpoint = http://127.0.0.1:9/sparql\n[local]\nlocal_sparql_dir = {ROOT / 'queries'}\n")
    r = subprocess.run([str(grlc_python()), "-c", SCRIPT], cwd=work, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    line = next(x for x in r.stdout.splitlines() if x.startswith("SPEC:"))
    return json.loads(line[len("SPEC:"):])


def test_grlc_builds_an_operation_per_question(grlc_spec: dict) -> None:
    ours = {n for n, q in Catalog.from_folder(ROOT / "queries").queries.items() if not q.qc}
    assert set(grlc_spec["paths"]) == {f"/{n}" for n in ours}


def test_grlc_reads_our_parameters_and_defaults(grlc_spec: dict) -> None:
    catalog = Catalog.from_folder(ROOT / "queries")
    for name, path in grlc_spec["paths"].items():
        q = catalog.queries[name.lstrip("/")]
        theirs = {p["name"]: p for p in path["get"]["parameters"] if p["name"] != "endpoint"}
        assert set(theirs) == {p.name for p in q.parameters}, name
        for p in q.parameters:
            assert theirs[p.name].get("default") == p.default, (name, p.name)
            assert bool(theirs[p.name].get("required")) == p.required, (name, p.name)
