"""The settings, declared once (rkg.settings): ``rkg serve``'s options, ``Config.from_env``, the rules, the
README's table, and the app under an outside WSGI server configured by ``RKG_*`` variables alone."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from rkg.build import NQUADS_NAME
from rkg.cli import parser
from rkg.errors import InputError
from rkg.settings import MIB, Config, FrontConfig, table

ROOT = Path(__file__).resolve().parents[1]

EVERY = {  # a value other than the default for every variable but RKG_NQUADS (Config wants one graph)
    "RKG_LOCATION": "store", "RKG_SHAPES": "shapes", "RKG_QUERIES": "queries", "RKG_ROOT": "project", "RKG_ASSETS": "node_modules",
    "RKG_VERSION": "v9", "RKG_SANDBOXES": "3", "RKG_TIME_LIMIT": "2.5", "RKG_MAX_ROWS": "7",
    "RKG_MAX_REQUEST_BYTES": "4096", "RKG_UPDATE_TOKEN": " s3cret ",
    "RKG_FEDERATION_ALLOW": "http://a.example/sparql, http://b.example/sparql,", "RKG_MAX_DEPTH": "9",
    "RKG_MAX_ANSWER_BYTES": "1000", "RKG_QUEUE_WAIT": "0.5", "RKG_CLIENT_CONCURRENCY": "2",
    "RKG_TRUSTED_PROXIES": "10.0.0.1,10.0.0.2", "RKG_SANDBOX_MEMORY": "100", "RKG_CACHE_BYTES": "8",
    "RKG_CACHE_ENTRIES": "0", "RKG_CACHE_MAX_BODY": "10", "RKG_VALIDATION_TIME_LIMIT": "60",
    "RKG_INSECURE_NETWORK": "yes",
}


def test_from_env_reads_every_setting() -> None:
    declared = {Config.env_name(name) for name, _, _, d in Config.declarations() if d.env}
    assert declared == set(EVERY) | {"RKG_NQUADS", "RKG_STORE"}  # a new setting gets a line above (RKG_STORE: tests/remote)
    config = Config.from_env({**EVERY, "PATH": "/bin", "HOME": "x"})  # other variables are not ours
    assert config == Config(
        location=Path("store"), shapes=Path("shapes"), queries=Path("queries"), root=Path("project"), assets=Path("node_modules"),
        version="v9", sandboxes=3, time_limit=2.5, max_rows=7, max_request_bytes=4096, update_token="s3cret",
        federation_allow=frozenset({"http://a.example/sparql", "http://b.example/sparql"}), max_depth=9,
        max_answer_bytes=1000, queue_wait=0.5, client_concurrency=2,
        trusted_proxies=frozenset({"10.0.0.1", "10.0.0.2"}), sandbox_memory=100 * MIB, cache_bytes=8 * MIB,
        cache_entries=0, cache_max_body=10, validation_time_limit=60.0, insecure_network=True)
    assert Config.from_env({"RKG_NQUADS": "g.nq"}) == Config(nquads=Path("g.nq"))
    assert Config.from_env({"RKG_NQUADS": "g.nq", "RKG_SANDBOX_MEMORY": "", "RKG_INSECURE_NETWORK": "off"}) \
        == Config(nquads=Path("g.nq"))


@pytest.mark.parametrize("env, words", [
    ({"RKG_TIME_LIMIT": "soon"}, ["RKG_TIME_LIMIT='soon'", "expected a finite number"]),
    ({"RKG_MAX_ROWS": "1.5"}, ["RKG_MAX_ROWS='1.5'", "expected a whole number"]),
    ({"RKG_INSECURE_NETWORK": "maybe"}, ["RKG_INSECURE_NETWORK='maybe'", "true or false"]),
    ({"RKG_CACHE_BYTES": "lots"}, ["RKG_CACHE_BYTES='lots'", "whole number in MiB"]),
    ({"RKG_TIME_LIMT": "3"}, ["RKG_TIME_LIMT is not a setting", "RKG_TIME_LIMIT"]),
    ({"RKG_PORT": "80"}, ["RKG_PORT is not a setting"]),
    ({"RKG_TIME_LIMIT": "0"}, ["--time-limit / RKG_TIME_LIMIT must be positive, not 0"]),
    ({"RKG_SANDBOX_MEMORY": "-1"}, ["--sandbox-memory / RKG_SANDBOX_MEMORY must be zero or more, not -1"]),
    ({"RKG_NQUADS": None}, ["either a built graph (RKG_NQUADS)", "--location / RKG_LOCATION"]),
    ({"RKG_LOCATION": "s"}, ["either a built graph"]),
    ({"RKG_UPDATE_TOKEN": "t"}, ["updates need the persistent store"]),
])
def test_from_env_bad_values_name_the_variable(env: dict[str, str | None], words: list[str]) -> None:
    environ = {k: v for k, v in {"RKG_NQUADS": "g.nq", **env}.items() if v is not None}
    with pytest.raises(InputError) as caught:
        Config.from_env(environ)
    for w in words:
        assert w in str(caught.value)


def test_options_default_to_the_declared_defaults() -> None:
    args = parser().parse_args(["serve"])
    assert Config(**Config.from_args(args), nquads=Path("g.nq")) == Config(nquads=Path("g.nq"))
    assert FrontConfig(**FrontConfig.from_args(args)) == FrontConfig()
    args = parser().parse_args(["serve", "--cache-bytes", "8", "--sandbox-memory", "0", "--trusted-proxy", "a",
                                "--trusted-proxy", "b", "--insecure-network", "--workers", "1", "--port", "9"])
    given = Config.from_args(args)
    assert (given["cache_bytes"], given["sandbox_memory"], given["trusted_proxies"], given["insecure_network"]) \
        == (8 * MIB, 0, frozenset({"a", "b"}), True)
    assert FrontConfig(**FrontConfig.from_args(args)) == FrontConfig(workers=1, port=9)


def test_help_shows_every_option_with_its_default() -> None:
    text = " ".join(parser()._subparsers._group_actions[0].choices["serve"].format_help().split())
    for option in ("--time-limit SECONDS", "(default: 10)", "--cache-bytes MIB", "(default: 32)",
                   "--max-request-bytes MAX_REQUEST_BYTES", "(default: 1 MiB)", "--trusted-proxy ADDRESS",
                   "--header-timeout SECONDS", "--allow-update", "--token-file FILE", "--insecure-network"):
        assert option in text


@pytest.mark.parametrize("front, writable, words", [
    (FrontConfig(header_timeout=0.5), False, "--header-timeout must be between 1 and 60 seconds, not 0.5"),
    (FrontConfig(body_timeout=0), False, "--body-timeout must be positive"),
    (FrontConfig(workers=0), False, "--workers must be positive"),
    (FrontConfig(port=70000), False, "--port must be between 0 and 65535"),
    (FrontConfig(workers=2), True, "use --workers 1"),
])
def test_front_rules(front: FrontConfig, writable: bool, words: str) -> None:
    config = Config(location=Path("s"), update_token="t") if writable else Config(nquads=Path("g.nq"))
    with pytest.raises(InputError, match=words):
        front.check(config)


def test_readme_table_is_the_generated_one() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("<!-- settings table: generated by `python -m rkg.settings` -->\n")
    end = readme.index("<!-- end of settings table -->")
    assert readme[readme.index("\n", start) + 1:end] == table(), "run: python -m rkg.settings, paste into README.md"


# ---------------------------------------------------------------- under an outside WSGI server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def granian_app(built_dir: Path, tmp_path: Path) -> Iterator[str]:
    """``granian --interface wsgi --factory rkg.web:create_app``, configured by RKG_* variables only."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RKG_")}
    env.update({"RKG_NQUADS": str(built_dir / NQUADS_NAME), "RKG_QUERIES": str(ROOT / "queries"),
                "RKG_VERSION": "from-env", "RKG_MAX_ROWS": "3", "RKG_SANDBOXES": "1"})
    log = tmp_path / "granian.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "granian", "--interface", "wsgi", "--factory", "--host", "127.0.0.1",
             "--port", str(port), "--workers", "1", "rkg.web:create_app"],
            cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text(errors="replace")
            try:
                with urllib.request.urlopen(base + "/health", timeout=2):
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                assert time.monotonic() < deadline, log.read_text(errors="replace")
                time.sleep(0.2)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)


@pytest.mark.server
def test_create_app_under_granian_from_the_environment(granian_app: str) -> None:
    with urllib.request.urlopen(granian_app + "/health", timeout=10) as r:
        health = json.load(r)
    assert health["version"] == "from-env" and health["triples"] > 1000 and health["writable"] is False
    query = "SELECT ?s WHERE { ?s a <https://w3id.org/rkg/ontology#CompetencyBlock> }"
    request = urllib.request.Request(granian_app + "/sparql", data=query.encode(), method="POST",
                                     headers={"Content-Type": "application/sparql-query",
                                              "Accept": "application/sparql-results+json"})
    with urllib.request.urlopen(request, timeout=30) as r:
        rows = json.load(r)["results"]["bindings"]
    assert len(rows) == 3  # four blocks, cut at RKG_MAX_ROWS
    with urllib.request.urlopen(granian_app + "/api/queries", timeout=10) as r:
        assert r.status == 200  # RKG_QUERIES was read


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e400", "NaN"])
def test_numbers_are_finite(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    """``float`` reads these; a time limit or a size cannot be one of them (a NaN limit once reached the
    executor and crashed rkg serve with a traceback)."""
    from rkg import cli

    with pytest.raises(InputError, match="finite number"):
        Config.from_env({"RKG_NQUADS": "x.nq", "RKG_TIME_LIMIT": value})
    with pytest.raises(SystemExit) as stop:
        cli.main(["serve", f"--time-limit={value}"])
    assert stop.value.code == 2 and "finite number" in capsys.readouterr().err
