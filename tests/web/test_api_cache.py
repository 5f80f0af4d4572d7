"""The named-query API answers from the same version-keyed result cache as /sparql and the pages: a
repeated question runs no job, answers with an ETag, and ``If-None-Match`` gets 304; a write (a new graph
version) makes it run again."""

from __future__ import annotations

import pytest

from support.build import ensure_built
from support.paths import ROOT
from rkg.web import create_app
from rkg.web.config import Config
from rkg.web.state import EndpointState


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory):
    nquads = ensure_built(tmp_path_factory.mktemp("api-cache-build"))
    app = create_app(Config(nquads=nquads, queries=ROOT / "queries", version="test"))
    yield app.test_client()
    app.extensions["rkg"].close()


@pytest.mark.parametrize("fmt", ["json", "csv", "html"])
def test_a_repeated_question_runs_once(client, monkeypatch: pytest.MonkeyPatch, fmt: str) -> None:
    state: EndpointState = client.application.extensions["rkg"]
    state.cache.clear()
    runs: list[object] = []
    real = EndpointState.run

    def counted(self, job, *a, **k):
        runs.append(job)
        return real(self, job, *a, **k)

    monkeypatch.setattr(EndpointState, "run", counted)
    url = f"/api/queries/block-summary?format={fmt}"
    first = client.get(url)
    assert first.status_code == 200 and runs
    n = len(runs)
    second = client.get(url)
    assert second.status_code == 200 and len(runs) == n
    assert second.get_data() == first.get_data()
    if fmt != "html":
        assert second.headers["ETag"] == first.headers["ETag"]
        assert client.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    state.written()  # a new graph version: the question runs again
    assert client.get(url).status_code == 200 and len(runs) > n


def test_content_type_is_the_api_format(client) -> None:
    assert client.get("/api/queries/block-summary").mimetype == "application/json"
    assert client.get("/api/queries/block-summary?format=csv").headers["Content-Type"] == "text/csv; charset=utf-8"
