"""At least 10,000 fuzzed requests against the real read-only server: never a 500, and a 503 only with
Retry-After (the query processes were all busy, or a query ran past the time limit). Eight clients,
each from its own loopback address, as eight users would be."""

from __future__ import annotations

import random
import threading
from collections import Counter
from pathlib import Path

import pytest
import requests

from support.clients import session_from
from support.fuzz import UPDATES, requests_for, seeds
from support.hostile import HOSTILE_QUERIES
from support.server import TOKEN, Server

pytestmark = [pytest.mark.server, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
COUNT = 10_000
CLIENTS = 8


def _fire(server: Server, reqs: list, address: str, statuses: Counter, bad: list, lock: threading.Lock) -> None:
    session = session_from(address)
    for req in reqs:
        try:
            r = session.request(req.method, server.base + req.path, params=req.params, headers=req.headers,
                                data=req.data, timeout=60)
        except requests.RequestException as e:
            with lock:
                bad.append((req, f"{type(e).__name__}: {e}"))
            continue
        with lock:
            statuses[r.status_code] += 1
            if r.status_code >= 500 and not (r.status_code == 503 and r.headers.get("Retry-After")):
                bad.append((req, f"{r.status_code} {r.text[:300]}"))


def fuzz(server: Server, count: int, texts: list[str], seed: int, headers: dict | None = None) -> tuple[Counter, list]:
    rng = random.Random(seed)
    reqs = list(requests_for(rng, texts, count))
    for r in reqs:
        r.headers.update(headers or {})
    statuses: Counter = Counter()
    bad: list = []
    lock = threading.Lock()
    threads = [threading.Thread(target=_fire, args=(server, reqs[i::CLIENTS], f"127.0.0.{20 + i}", statuses, bad, lock))
               for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses, bad


def test_ten_thousand_fuzzed_requests_and_no_500(store_endpoint: Server) -> None:
    texts = seeds(ROOT / "queries", list(HOSTILE_QUERIES.values()))
    statuses, bad = fuzz(store_endpoint, COUNT, texts, seed=9)
    assert sum(statuses.values()) == COUNT
    assert not bad, bad[:5]
    assert statuses[400] > 1000 and statuses[200] > 500, statuses  # the fuzz reaches both sides


def test_fuzzed_updates_and_no_500(update_endpoint: Server) -> None:
    statuses, bad = fuzz(update_endpoint, 1_000, UPDATES, seed=10, headers={"Authorization": f"Bearer {TOKEN}"})
    assert sum(statuses.values()) == 1_000
    assert not bad, bad[:5]
