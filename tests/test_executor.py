"""Sandboxed query processes: the time limit really stops a runaway query, others are answered meanwhile."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from rkg.build import NQUADS_NAME
from rkg.executor import Pool
from rkg.jobs import Busy, Kind, QueryJob, StatsJob, StoreSpec, Timeout

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
    assert out.kind is Kind.ANSWER and out.media == JSON
    assert len(json.loads(out.body)["results"]["bindings"]) == 4
    stats = pool.run(StatsJob(), 10).extra
    assert stats["triples"] == sum(stats["graphs"].values()) and stats["default"] == 0


def test_syntax_error_is_an_answer(pool: Pool) -> None:
    out = pool.run(job("SELECT ?x WHERE { ?x ?y }"), 10)
    assert out.kind is Kind.BAD_INPUT and "syntax error" in out.message and "1:" in out.message


def test_row_cap(pool: Pool) -> None:
    out = pool.run(job("SELECT * WHERE { ?s ?p ?o }", max_rows=10), 10)
    assert out.kind is Kind.ANSWER and out.rows == 10 and out.truncated


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
    assert pool.run(job(SIMPLE), limit).kind is Kind.ANSWER  # the other sandbox answers meanwhile
    assert time.monotonic() - started < 1.0
    t.join(limit + 5)
    assert limit <= outcome["timeout"] < limit + 1.0
    # The killed sandbox is replaced: both slots answer again.
    deadline = time.monotonic() + 30
    while pool._idle.qsize() < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert pool._idle.qsize() == 2
    assert pool.run(job(SIMPLE), limit).kind is Kind.ANSWER


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


# ---------------------------------------------------------------- limits of issue 9


def test_queue_wait_and_run_time_are_separate(built_dir: Path) -> None:
    """A request that waited for a process still gets its whole time limit; one that cannot get a
    process within the queue wait gets Busy quickly, not after the time limit."""
    single = Pool(StoreSpec("memory", str(built_dir / NQUADS_NAME)), size=1)
    try:
        slow = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f } # slow"
        held = threading.Thread(target=lambda: single.run(job(slow), 30))
        held.start()
        time.sleep(0.2)
        started = time.monotonic()
        with pytest.raises(Busy):
            single.run(job(SIMPLE), 30, wait=0.3)
        assert time.monotonic() - started < 2
        held.join(60)
        assert single.run(job(SIMPLE), 5, wait=0.01).kind is Kind.ANSWER
    finally:
        single.close()


CAPPED = {
    "construct-turtle": ("CONSTRUCT { ?a ?b ?c . ?d ?e ?f } WHERE { ?a ?b ?c . ?d ?e ?f }", None, "text/turtle"),
    "select-json": ("SELECT * WHERE { ?a ?b ?c . ?d ?e ?f }", "application/sparql-results+json", None),
    "select-csv": ("SELECT * WHERE { ?a ?b ?c . ?d ?e ?f }", "text/csv", None),
}


@pytest.mark.parametrize("text, results, graph", CAPPED.values(), ids=CAPPED.keys())
def test_answers_are_capped_in_bytes(pool: Pool, text: str, results: str | None, graph: str | None) -> None:
    cap = 200_000
    out = pool.run(QueryJob(text, results, graph, max_bytes=cap), 30)
    assert out.kind is Kind.ANSWER and out.truncated and f"cut at {cap} bytes" in out.message
    assert 0 < len(out.body) <= cap


@pytest.mark.parametrize("text", ["SELECT (<urn:no-such-function>(1) AS ?x) WHERE {}",
                                  "SELECT * WHERE { ?s ?p ?o FILTER(<http://ex/f>(?o)) }"])
def test_unknown_function_is_a_client_error(pool: Pool, text: str) -> None:
    out = pool.run(job(text), 10)
    assert out.kind is Kind.BAD_INPUT and "not supported" in out.message


def test_a_crashed_process_is_logged_with_its_signal_and_request(built_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    import os
    import signal

    single = Pool(StoreSpec("memory", str(built_dir / NQUADS_NAME)), size=1)
    try:
        (sandbox,) = list(single._all)
        threading.Timer(0.5, lambda: os.kill(sandbox.process.pid, signal.SIGSEGV)).start()
        with caplog.at_level("ERROR", logger="rkg.executor"):
            out = single.run(job(RUNAWAY), 30, request_id="req-42")
        assert out.kind is Kind.TOO_COSTLY and "SIGSEGV" in out.message and "req-42" in out.message
        assert any("req-42" in r.getMessage() and "SIGSEGV" in r.getMessage() for r in caplog.records)
        deadline = time.monotonic() + 30
        while single._idle.qsize() < 1 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert single.run(job(SIMPLE), 10).kind is Kind.ANSWER  # replaced
    finally:
        single.close()


def test_snapshots_follow_the_writer(tmp_path: Path, built_dir: Path) -> None:
    """With writes enabled, readers open the writer's latest snapshot: a read never holds the store a
    write needs, and sees each committed write."""
    from rkg.executor import current_snapshot, snapshots_folder
    from rkg.jobs import UpdateJob

    location = tmp_path / "store"
    writer = Pool(StoreSpec("readwrite", str(location), str(Path(__file__).parents[1] / "shapes")), 1)
    readers = Pool(StoreSpec("snapshot", str(location)), 1)
    try:
        first = current_snapshot(str(location))
        ask = "ASK { GRAPH <http://ex/g> { <http://ex/a> ?p ?o } }"
        assert b"false" in readers.run(job(ask), 10).body
        out = writer.run(UpdateJob("INSERT DATA { GRAPH <http://ex/g> { <http://ex/a> <http://ex/b> 1 } }"), 30)
        assert out.kind is Kind.APPLIED, out
        assert current_snapshot(str(location)) != first
        assert b"true" in readers.run(job(ask), 10).body
        assert (Path(snapshots_folder(str(location))) / "CURRENT").exists()
    finally:
        readers.close()
        writer.close()
