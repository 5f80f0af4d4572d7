"""Sandboxed query processes: the time limit really stops a runaway query, others are answered meanwhile."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from rkg.build import NQUADS_NAME
from rkg.executor import Busy, Pool, QueryJob, StatsJob, StoreSpec, Timeout

RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
SIMPLE = "SELECT ?b WHERE { ?b a <https://w3id.org/rkg/ontology#CompetencyBlock> }"
JSON = "application/sparql-results+json"


@pytest.fixture(scope="module")
def pool(built_dir: Path):
    p = Pool(StoreSpec("memory", str(built_dir / NQUADS_NAME)), size=2)
    yield p
    p.close()


def job(text: str, **kw) -> QueryJob:
    return QueryJob(text, JSON, "text/turtle", **kw)


def test_answers_and_counts(pool: Pool) -> None:
    out = pool.run(job(SIMPLE), 10)
    assert out.status == 200 and out.media == JSON
    assert len(json.loads(out.body)["results"]["bindings"]) == 4
    stats = pool.run(StatsJob(), 10).extra
    assert stats["triples"] == sum(stats["graphs"].values()) and stats["default"] == 0


def test_syntax_error_is_an_answer(pool: Pool) -> None:
    out = pool.run(job("SELECT ?x WHERE { ?x ?y }"), 10)
    assert out.status == 400 and "syntax error" in out.message and "1:" in out.message


def test_row_cap(pool: Pool) -> None:
    out = pool.run(job("SELECT * WHERE { ?s ?p ?o }", max_rows=10), 10)
    assert out.status == 200 and out.rows == 10 and out.truncated


def test_runaway_stopped_while_others_answered(pool: Pool) -> None:
    limit = 2.0
    outcome: dict = {}

    def runaway() -> None:
        started = time.monotonic()
        try:
            pool.run(job(RUNAWAY), limit)
        except Timeout:
            outcome["timeout"] = time.monotonic() - started

    t = threading.Thread(target=runaway)
    t.start()
    time.sleep(0.3)
    started = time.monotonic()
    assert pool.run(job(SIMPLE), limit).status == 200  # the other sandbox answers meanwhile
    assert time.monotonic() - started < 1.0
    t.join(limit + 5)
    assert limit <= outcome["timeout"] < limit + 1.0
    # The killed sandbox is replaced: both slots answer again.
    deadline = time.monotonic() + 30
    while pool._idle.qsize() < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert pool._idle.qsize() == 2
    assert pool.run(job(SIMPLE), limit).status == 200


def test_busy_when_every_sandbox_is_taken(built_dir: Path) -> None:
    single = Pool(StoreSpec("memory", str(built_dir / NQUADS_NAME)), size=1)
    try:
        t = threading.Thread(target=lambda: pytest.raises(Timeout, single.run, job(RUNAWAY), 1.5))
        t.start()
        time.sleep(0.2)
        with pytest.raises(Busy):
            single.run(job(SIMPLE), 0.5)
        t.join(10)
    finally:
        single.close()


def test_bad_store_fails_clearly_and_leaves_no_process(tmp_path: Path) -> None:
    import multiprocessing

    spec = StoreSpec("memory", str(tmp_path / "missing.nq"))
    with pytest.raises(RuntimeError, match="could not open the store"):
        Pool(spec, size=2)
    # Only this pool's processes (other tests' pools may be restarting sandboxes meanwhile).
    assert [p for p in multiprocessing.active_children() if spec in getattr(p, "_args", ())] == []
