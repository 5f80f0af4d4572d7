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


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The jobs the service runs during a test, in order."""
    jobs: list[object] = []
    real = EndpointState.run

    def recorded(self, job, *a, **k):
        jobs.append(job)
        return real(self, job, *a, **k)

    monkeypatch.setattr(EndpointState, "run", recorded)
    return jobs


@pytest.mark.parametrize("fmt", ["json", "csv", "html"])
def test_a_repeated_question_runs_once(client, runs: list[object], fmt: str) -> None:
    state: EndpointState = client.application.extensions["rkg"]
    state.cache.clear()
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


def test_a_named_question_is_read_as_its_catalogue_text(client, runs: list[object]) -> None:
    """The job of a named question carries the catalogue's unbound text as the text whose reading stands
    for its bound one (``QueryJob.shape_of``: the facts and a remote store's shape are read once per
    question); a client's text on /sparql carries none."""
    from rkg.bindings import bind
    from rkg.catalog import Catalog

    state: EndpointState = client.application.extensions["rkg"]
    state.cache.clear()
    query = Catalog.from_folder(ROOT / "queries").get("search-labels")
    for word in ("evaluation", "knowledge"):
        assert client.get(f"/api/queries/search-labels?text={word}").status_code == 200
        job = runs[-1]
        assert job.shape_of == query.text and job.text == bind(query.text, query.bindings({"text": word}))
    assert client.post("/sparql", data={"query": job.text}).status_code == 200
    assert runs[-1].text == job.text and runs[-1].shape_of is None


@pytest.mark.parametrize("text, cached", [
    ("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", True),
    ("SELECT (RAND() AS ?r) WHERE {}", False),
    ("SELECT (STRUUID() AS ?u) WHERE {}", False),
], ids=["deterministic", "rand", "struuid"])
def test_reads_cache_only_what_answers_the_same(client, runs: list[object], text: str, cached: bool) -> None:
    """The pages' and the API's path (``reads.run``) keeps an answer only when the query's parse says it is the
    same every time, as /sparql does (RAND(), NOW(), UUID()… answer anew)."""
    from rkg.formats import SPARQL_JSON
    from rkg.web import reads

    state: EndpointState = client.application.extensions["rkg"]
    state.cache.clear()
    with client.application.test_request_context("/"):
        reads.run(state, text, SPARQL_JSON, None)
        reads.run(state, text, SPARQL_JSON, None)
    assert len(runs) == (1 if cached else 2)
