"""The ``rkg`` command as a user runs it: subprocess, exit codes, formats, errors on stderr."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from rdflib import Graph, Literal
from rdflib.namespace import SH

from support.paths import DEMO_DATA, ROOT

SUBCOMMANDS = ["build", "validate", "query", "stats"]


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli-build")


def test_top_level_help(rkg) -> None:
    r = rkg("--help")
    assert r.returncode == 0
    for name in SUBCOMMANDS:
        assert name in r.stdout


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_subcommand_help(rkg, name: str) -> None:
    r = rkg(name, "--help")
    assert r.returncode == 0 and "usage: rkg " + name in r.stdout and "--root" in r.stdout


BAD_INVOCATIONS = [  # {tmp}: a fresh folder; the serve cases are refused before anything is built
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    (["validate", "--fail-on", "sometimes"], "invalid choice: 'sometimes'"),
    (["stats", "--root", "{tmp}"], "not an rkg project"),
    (["import", "moodle", "{tmp}/missing.csv", "--programme", "x", "--build-dir", "{tmp}"], "no such file"),
    (["serve", "--max-rows", "many"], "invalid int value: 'many'"),
    (["serve", "--time-limit", "0"], "rkg: error: --time-limit / RKG_TIME_LIMIT must be positive, not 0"),
    (["serve", "--cache-bytes", "-1"], "--cache-bytes / RKG_CACHE_BYTES must be zero or more, not -1"),
    (["serve", "--header-timeout", "0.5"], "--header-timeout must be between 1 and 60 seconds"),
    (["serve", "--allow-update", "--token-file", "{tmp}/missing"], "cannot read the token file"),
    (["serve", "--allow-update", "--token-file", "{tmp}/token"], "updates need the persistent store"),
    (["serve", "--allow-update", "--token-file", "{tmp}/empty", "--location", "{tmp}/s"], "token must not be empty"),
    (["serve", "--allow-update", "--token-file", "{tmp}/token", "--location", "{tmp}/s", "--workers", "2"],
     "use --workers 1"),
]


@pytest.mark.parametrize("args, message", BAD_INVOCATIONS)
def test_bad_invocation_exit_2(rkg, tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "token").write_text("s3cret\n")
    (tmp_path / "empty").write_text("\n")
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    if args[0] == "serve":
        args += ["--build-dir", str(tmp_path / "build")]
    r = rkg(*args)
    assert r.returncode == 2 and message in r.stderr, r.stderr
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "build").exists()


def test_errors_are_caught_once_in_main(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from rkg import cli
    from rkg.errors import NotFound

    def raises(error: BaseException):
        def command(args) -> int:
            raise error
        return command

    monkeypatch.setattr(cli, "cmd_stats", raises(NotFound("no such thing")))
    assert cli.main(["stats"]) == 2
    assert capsys.readouterr().err == "rkg: error: no such thing\n"
    monkeypatch.setattr(cli, "cmd_stats", raises(BrokenPipeError()))
    assert cli.main(["stats"]) == 0
    monkeypatch.setattr(cli, "cmd_stats", raises(ZeroDivisionError("division by zero")))
    assert cli.main(["stats"]) == 3  # a bug: its traceback, and a line saying so
    err = capsys.readouterr().err
    assert "Traceback" in err and "ZeroDivisionError: division by zero" in err and "bug in rkg" in err


def test_build_prints_counts_and_progress(rkg, build_dir: Path) -> None:
    r = rkg("build", "--build-dir", str(build_dir))
    assert r.returncode == 0, r.stderr
    assert "https://w3id.org/rkg/graph/rncp31854-pif/2024-2028/referentiel" in r.stdout
    assert r.stdout.splitlines()[-1].split()[0] == "total"
    assert "[1/" in r.stderr  # progress
    assert {p.name for p in build_dir.iterdir()} >= {"rkg.nq", "rkg.trig", "rkg.ttl"}


def test_build_syntax_error_exit_2_with_position(rkg, tmp_path: Path) -> None:
    for folder in ("ontology", "data"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    shutil.copy(ROOT / "tests" / "cases" / "build-errors" / "missing-dot.ttl", tmp_path / "data" / "oops.ttl")
    r = rkg("build", "--root", str(tmp_path))
    assert r.returncode == 2
    assert "rkg: error: data/oops.ttl:4:1: A dot is expected" in r.stderr
    assert not (tmp_path / "build" / "rkg.nq").exists()


def test_not_a_project(rkg, tmp_path: Path) -> None:
    r = rkg("stats", "--root", str(tmp_path))
    assert r.returncode == 2 and "not an rkg project" in r.stderr


def test_validate_text_exit_codes(rkg, build_dir: Path) -> None:
    r = rkg("validate", "--build-dir", str(build_dir), "--lang", "en")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "== Warnings" in r.stdout and "0 violation(s)" in r.stdout
    r = rkg("validate", "--build-dir", str(build_dir), "--fail-on", "warning", "-q")
    assert r.returncode == 1
    assert "== Avertissements" in r.stdout  # French by default


def test_validate_json(rkg, build_dir: Path) -> None:
    r = rkg("validate", "--build-dir", str(build_dir), "--format", "json", "-q")
    assert r.returncode == 0
    report = json.loads(r.stdout)
    assert report["conforms"] is True and report["counts"]["violation"] == 0 and report["counts"]["warning"] > 0
    assert all({"fr", "en"} <= set(f["message"]) for f in report["findings"])


def test_validate_turtle(rkg, build_dir: Path) -> None:
    r = rkg("validate", "--build-dir", str(build_dir), "--format", "turtle", "-q")
    g = Graph().parse(data=r.stdout, format="turtle")
    assert (None, SH.conforms, Literal(True)) in g


def test_validate_bad_shapes_exit_2(rkg, tmp_path: Path) -> None:
    for folder in ("ontology", "data", "shapes", "queries"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    (tmp_path / "shapes" / "broken.ttl").write_text("@prefix sh: <http://www.w3.org/ns/shacl#> .\n<a:b> sh:path \n")
    r = rkg("validate", "--root", str(tmp_path), "-q")
    assert r.returncode == 2 and "shapes/broken.ttl:" in r.stderr


def test_validate_finds_violation_exit_1(rkg, tmp_path: Path) -> None:
    for folder in ("ontology", "data", "shapes", "queries"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    (tmp_path / "data" / "bad.ttl").write_text(
        "<https://w3id.org/rkg/id/rncp31854-pif/competency/C.9.9> a <https://w3id.org/rkg/ontology#Competency> .\n")
    r = rkg("validate", "--root", str(tmp_path), "--format", "json", "-q")
    assert r.returncode == 1
    focus = {f["focus"] for f in json.loads(r.stdout)["findings"] if f["severity"] == "violation"}
    assert "https://w3id.org/rkg/id/rncp31854-pif/competency/C.9.9" in focus


def test_query_csv_and_json(rkg, build_dir: Path) -> None:
    r = rkg("query", "uncovered-dimensions", "--format", "csv", "--build-dir", str(build_dir), "-q")
    assert r.returncode == 0
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert {row["dimension"] for row in rows} == {"5", "10"}
    r = rkg("query", "uncovered-dimensions", "--format", "json", "--build-dir", str(build_dir), "-q")
    data = json.loads(r.stdout)
    assert data["head"]["vars"] == ["dimension", "label"]
    assert {b["label"]["xml:lang"] for b in data["results"]["bindings"]} == {"fr"}


def test_query_with_parameter_and_table(rkg, build_dir: Path) -> None:
    r = rkg("query", "ues-covering-dimension", "-p", "dimension=https://w3id.org/rkg/id/rncp31854-pif/dimension/3",
            "--build-dir", str(build_dir), "-q")
    assert r.returncode == 0
    assert r.stdout.splitlines()[0].split() == ["unit", "block"]
    assert "(25 rows)" in r.stdout  # BC03 lists 14 codes, BC04 11


@pytest.mark.parametrize("args, message", [
    (["units-by-block", "-p", "rollup=maybe"], "allowed values: false, true"),
    (["units-by-block", "-p", "rollup"], "--param expects name=value"),
    (["ues-covering-dimension"], "needs parameter 'dimension'"),
    (["no-such-query"], "no query named 'no-such-query'"),
])
def test_query_input_errors_exit_2(rkg, build_dir: Path, args: list[str], message: str) -> None:
    r = rkg("query", *args, "--build-dir", str(build_dir), "-q")
    assert r.returncode == 2 and message in r.stderr


def test_query_file_and_list(rkg, build_dir: Path, tmp_path: Path) -> None:
    f = tmp_path / "mine.rq"
    f.write_text("SELECT (COUNT(*) AS ?n) WHERE { ?s a <https://w3id.org/rkg/ontology#CompetencyBlock> }")
    r = rkg("query", str(f), "--format", "csv", "--build-dir", str(build_dir), "-q")
    assert r.returncode == 0 and r.stdout.splitlines()[1] == "4"
    r = rkg("query", "--list")
    assert "uncovered-dimensions" in r.stdout and "qc/entity-without-source" in r.stdout


def test_query_syntax_error_exit_2(rkg, build_dir: Path, tmp_path: Path) -> None:
    f = tmp_path / "bad.rq"
    f.write_text("SELECT ?x WHERE { ?x ?y }")
    r = rkg("query", str(f), "--build-dir", str(build_dir), "-q")
    assert r.returncode == 2 and "rkg: error:" in r.stderr


def test_stats_per_programme(rkg, tmp_path: Path) -> None:
    r = rkg("stats", "--format", "json", "--data", str(DEMO_DATA), "--build-dir", str(tmp_path), "-q")
    assert r.returncode == 0, r.stderr
    progs = json.loads(r.stdout)["programmes"]
    assert progs["https://w3id.org/rkg/id/rncp31854-pif"]["counts"]["CriticalLearning"] == 36
    assert progs["https://w3id.org/rkg/id/rncp99999-demo"]["counts"]["CriticalLearning"] == 3
    assert progs["https://w3id.org/rkg/id/rncp31854-pif"]["coverage"]["dimensions mobilised"] == {"covered": 8, "total": 10}
