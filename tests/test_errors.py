"""Every exception class rkg defines derives from rkg.errors.RkgError (one root: the CLI and the web layer
catch that once, and anything else reaching them is a bug)."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

import rkg
from rkg.errors import InputError, NotFound, Refused, RkgError, SetupError

NOT_IMPORTED = {"rkg.__main__": "runs the command line when imported"}
"""Modules read as source instead of imported (each one checked to define no class at all)."""


def _modules() -> tuple[list[str], dict[str, str]]:
    names, failed = [], {}
    for info in pkgutil.walk_packages(rkg.__path__, "rkg.", onerror=lambda name: failed.setdefault(name, "walk")):
        if info.name in NOT_IMPORTED:
            continue
        try:
            importlib.import_module(info.name)
        except Exception as e:  # reported by test_every_module_imports, never skipped silently
            failed[info.name] = f"{type(e).__name__}: {e}"
            continue
        names.append(info.name)
    return ["rkg", *names], failed


MODULES, IMPORT_FAILURES = _modules()


def _classes() -> list[type[BaseException]]:
    seen: dict[str, type[BaseException]] = {}
    for name in MODULES:
        for _, obj in inspect.getmembers(importlib.import_module(name), inspect.isclass):
            if issubclass(obj, BaseException) and obj.__module__ == name:
                seen[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return [seen[k] for k in sorted(seen)]


CLASSES = _classes()


def test_every_module_imports() -> None:
    assert IMPORT_FAILURES == {}
    assert len(MODULES) > 30  # the walk found the package's modules


@pytest.mark.parametrize("name", sorted(NOT_IMPORTED))
def test_modules_not_imported_define_no_class(name: str) -> None:
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.origin is not None
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    assert not [n.name for n in ast.walk(tree) if isinstance(n, ast.ClassDef)]


def test_the_walk_finds_the_exceptions() -> None:
    names = {f"{c.__module__}.{c.__qualname__}" for c in CLASSES}
    assert {"rkg.errors.RkgError", "rkg.guard.Forbidden", "rkg.interop.table._Bad", "rkg.catalog.UnknownQuery"} <= names


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: f"{c.__module__}.{c.__qualname__}")
def test_derives_from_rkg_error(cls: type[BaseException]) -> None:
    assert issubclass(cls, RkgError), f"{cls.__module__}.{cls.__qualname__} bases: {cls.__mro__[1:]}"


@pytest.mark.parametrize("name, kind", [
    ("rkg.catalog.ParameterError", InputError),
    ("rkg.catalog.UnknownProgramme", InputError),
    ("rkg.catalog.QueryFileError", InputError),
    ("rkg.catalog.UnknownQuery", NotFound),
    ("rkg.store.QueryError", InputError),
    ("rkg.guard.Forbidden", Refused),
    ("rkg.guard.Unreadable", InputError),
    ("rkg.guard.TooDeep", InputError),
    ("rkg.isolation.IsolationError", SetupError),
    ("rkg.reasoning.ReasonerUnavailable", SetupError),
    ("rkg.project.ProjectError", InputError),
    ("rkg.build.BuildError", InputError),
    ("rkg.interop.imports.ImportFailed", InputError),
    ("rkg.interop.orebut.OrebutError", InputError),
    ("rkg.interop.esco.EscoError", InputError),
    ("rkg.interop.rncp.RncpError", InputError),
    ("rkg.interop.sssom.SssomError", InputError),
    ("rkg.interop.elm.ElmError", InputError),
    ("rkg.interop.table.TableError", InputError),
    ("rkg.interop.moodle.MoodleError", InputError),
])
def test_each_kind(name: str, kind: type[RkgError]) -> None:
    module, _, attr = name.rpartition(".")
    assert issubclass(getattr(importlib.import_module(module), attr), kind)
