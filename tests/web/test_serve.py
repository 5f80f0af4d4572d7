"""``rkg serve`` as a user starts it: start-up lines, /health, and a persistent store created from build/."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest

from support.server import start_server, stop_server

pytestmark = pytest.mark.server


def test_location_created_from_build_and_reported(tmp_path: Path) -> None:
    store = tmp_path / "store"
    server = start_server(["--workers", "1", "--sandboxes", "1", "--location", str(store)], tmp_path / "server.log")
    try:
        with urllib.request.urlopen(server.base + "/health", timeout=10) as r:
            health = json.loads(r.read())
    finally:
        stop_server(server)
    assert any(store.iterdir())  # the store folder was created and filled
    log = server.log_text()
    assert f"serving {health['triples']} triples (graph version {health['version']})" in log
    assert f"SPARQL endpoint: {server.sparql}" in log
    assert health["status"] == "ok" and health["endpoint"].endswith("/sparql") and health["triples"] > 2000
    assert server.process.returncode == 0
