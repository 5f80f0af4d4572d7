"""The expected answers of the named questions (``tests/queries/*.json``, written from the source): one
case read, and an answer's rows compared with it as a set (column order and row order do not count;
``token_sets`` columns compare their space-separated words as sets)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def read_case(case: Path) -> tuple[str, dict[str, Any]]:
    """The named question a case asks (``query``, or the file stem before ``--``) and the case itself."""
    spec = json.loads(case.read_text(encoding="utf-8"))
    return spec.get("query", case.stem.split("--")[0]), spec


def answer_rows(spec: dict[str, Any], data: dict[str, Any]) -> tuple[list[tuple], set[tuple]]:
    """The rows of a SPARQL JSON answer, normalised, in order (to spot duplicates), and the expected rows."""
    columns = spec["columns"] or data["head"]["vars"]
    tokens = set(spec.get("token_sets", []))

    def norm(row: tuple) -> tuple:
        return tuple(" ".join(sorted((v or "").split())) if c in tokens else v for c, v in zip(columns, row))

    got = [norm(tuple(b.get(c, {}).get("value") for c in columns)) for b in data["results"]["bindings"]]
    return got, {norm(tuple(row)) for row in spec["expected"]}
