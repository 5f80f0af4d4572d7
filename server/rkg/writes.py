"""Writes on the persistent store (runs inside the store's sandbox process)."""

from __future__ import annotations

import pyoxigraph as ox

from .executor import Outcome, StoreSpec, UpdateJob


def apply_update(store: ox.Store, job: UpdateJob, spec: StoreSpec) -> Outcome:
    try:
        store.update(job.text)
    except SyntaxError as e:
        return Outcome(400, message=f"SPARQL syntax error: {e}")
    return Outcome(204)
