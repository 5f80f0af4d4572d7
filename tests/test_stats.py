"""Issue 12: no scan on the hot path, internal jobs apart from the clients' processes, one shared on-disk
store, and a build whose memory does not grow with the size of the imports."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support.paths import ROOT
from rkg.build import MANIFEST_NAME, NQUADS_NAME, STORE_NAME, read_manifest
from rkg.executor import OneShot, Pool
from rkg.jobs import QueryJob, StatsJob, ValidationJob
from rkg.web import create_app
from rkg.web.config import Config
from rkg.web.state import INTERNAL_TIME_LIMIT, EndpointState

JSON = "application/sparql-results+json"


@pytest.fixture()
def jobs(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, float]]:
    """Every job run, as (executor class, job class, time limit)."""
    seen: list[tuple[str, str, float]] = []
    for cls in (Pool, OneShot):
        real = cls.run

        def run(self, job, timeout, *a, _real=real, **k):
            seen.append((type(self).__name__, type(job).__name__, timeout))
            return _real(self, job, timeout, *a, **k)

        monkeypatch.setattr(cls, "run", run)
    return seen


def test_health_answers_from_the_manifest_without_any_job(built_dir: Path, jobs: list) -> None:
    app = create_app(Config(nquads=built_dir / NQUADS_NAME, version="test"))
    try:
        client = app.test_client()
        for _ in range(3):
            r = client.get("/health")
            assert r.status_code == 200
        health = r.get_json()
        m = read_manifest(built_dir)
        assert (health["triples"], health["quads"], health["graphs"]) == (m["triples"], m["quads"], len(m["graphs"]))
        void = client.get("/.well-known/void", headers={"Accept": "application/n-triples"})
        assert void.status_code == 200 and str(m["triples"]).encode() in void.data
        assert jobs == []  # no StatsJob, no query: nothing ran, and no query process was even started
        assert app.extensions["rkg"]._pool is None
    finally:
        app.extensions["rkg"].close()


def test_small_graph_in_memory_large_graph_shared(built_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import rkg.web.state as state_mod

    assert read_manifest(built_dir)["quads"] < state_mod.SHARED_STORE_MIN_QUADS
    assert EndpointState(Config(nquads=built_dir / NQUADS_NAME, version="test")).spec.mode == "memory"
    monkeypatch.setattr(state_mod, "SHARED_STORE_MIN_QUADS", read_manifest(built_dir)["quads"])
    assert EndpointState(Config(nquads=built_dir / NQUADS_NAME, version="test")).spec.mode == "readonly"


def test_shared_store_opened_read_only_by_every_sandbox(built_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import rkg.web.state as state_mod

    monkeypatch.setattr(state_mod, "SHARED_STORE_MIN_QUADS", 0)  # as for a graph above the threshold
    state = EndpointState(Config(nquads=built_dir / NQUADS_NAME, version="test", sandboxes=2))
    try:
        spec = state.spec
        assert (spec.mode, Path(spec.path)) == ("readonly", built_dir / STORE_NAME)
        pool = state.pool
        text = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
        out = pool.run(QueryJob(text, JSON, None), 30)
        assert json.loads(out.body)["results"]["bindings"][0]["n"]["value"] == str(read_manifest(built_dir)["triples"])
        sandboxes = list(pool._all) + ([pool._spare] if pool._spare else [])
        assert len(sandboxes) == 3
        store = str(built_dir / STORE_NAME)
        for sandbox in sandboxes:  # each has the one store's files open; none loaded rkg.nq
            fds = [os.readlink(f"/proc/{sandbox.process.pid}/fd/{fd}") for fd in os.listdir(f"/proc/{sandbox.process.pid}/fd")]
            assert any(f.startswith(store + "/") for f in fds), fds
            assert not any(f.endswith(NQUADS_NAME) for f in fds)
    finally:
        state.close()


def test_memory_mode_without_a_built_store(built_dir: Path, tmp_path: Path) -> None:
    """A graph without the build's store beside it (an rkg.nq of elsewhere) is still loaded in memory."""
    shutil.copy(built_dir / NQUADS_NAME, tmp_path / NQUADS_NAME)
    state = EndpointState(Config(nquads=tmp_path / NQUADS_NAME, version="test"))
    assert state.spec.mode == "memory"


def test_internal_jobs_never_under_the_query_time_limit(built_dir: Path, tmp_path: Path, jobs: list) -> None:
    """A store without a manifest is counted once, before the readers start, in an internal process with its
    own limit; validation too. The clients' processes are never used, so never killed, for them."""
    location = tmp_path / "store"
    shutil.copytree(built_dir / STORE_NAME, location)
    config = Config(location=location, version="test", time_limit=0.5, sandboxes=1,
                    shapes=ROOT / "shapes", queries=ROOT / "queries", validation_time_limit=600)
    state = EndpointState(config)
    try:
        pool = state.pool
        pids = {s.process.pid for s in pool._all}
        assert ("OneShot", "StatsJob", INTERNAL_TIME_LIMIT) in jobs
        assert state.stats(wait=0.0)["triples"] == read_manifest(built_dir)["triples"]  # known before any request
        report = state.validation()
        assert report["counts"] == {s: sum(f["severity"] == s for f in report["findings"]) for s in ("violation", "warning", "info")}
        assert report["counts"]["warning"] >= 23 and report["conforms"] is True  # the bundled graph's warnings
        assert ("OneShot", "ValidationJob", 600) in jobs
        assert not [j for j in jobs if j[0] == "Pool" and j[1] in (StatsJob.__name__, ValidationJob.__name__)]
        assert {s.process.pid for s in pool._all} == pids  # no client process was killed or replaced
        n = len(jobs)
        for _ in range(5):
            state.stats()
        assert len(jobs) == n  # once per version
    finally:
        state.close()


def test_stats_recounted_once_after_a_write(built_dir: Path, tmp_path: Path, jobs: list) -> None:
    state = EndpointState(Config(nquads=built_dir / NQUADS_NAME, version="test"))
    before = state.stats()
    assert before is state._built
    state.pool  # noqa: B018
    state.written()  # as after an update (memory mode cannot write; the counting path is the same)
    after = state.stats()
    assert after["triples"] == before["triples"]
    assert [j for j in jobs if j[1] == "StatsJob"] == [("OneShot", "StatsJob", INTERNAL_TIME_LIMIT)]
    state.close()


def _build_peak(tmp_path: Path, triples: int) -> int:
    """Peak RSS (bytes) of ``rkg build`` with ``triples`` ESCO-shaped imported triples."""
    sys.path.insert(0, str(ROOT / "bench"))
    from scale import write_esco

    build_dir = tmp_path / f"build-{triples}"
    write_esco(build_dir / "imports" / "esco-synthetic.nt", triples)
    code = ("import resource, subprocess, sys; "
            f"subprocess.run([sys.executable, '-m', 'rkg', 'build', '--root', {str(ROOT)!r}, '--build-dir', "
            f"{str(build_dir)!r}, '-q'], check=True, stdout=subprocess.DEVNULL); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=900)
    assert (build_dir / MANIFEST_NAME).exists()
    return int(out.stdout.split()[-1]) * 1024


@pytest.mark.slow
def test_build_memory_flat_in_the_size_of_the_imports(tmp_path: Path) -> None:
    small, large = _build_peak(tmp_path, 50_000), _build_peak(tmp_path, 400_000)
    # 8 times the imports: the old build (every quad a Python object) took about 6 times the memory.
    assert large < small * 2 + 100 * 2**20, (small, large)
