"""The settings of ``rkg serve`` and of the web app, each declared once.

A setting is a field of a frozen dataclass whose ``setting(...)`` declaration carries its default, its help
text and, when it has them, its ``rkg serve`` option (metavar, unit) and its environment variable
``RKG_<NAME>``. Everything else is made from these declarations: the ``rkg serve`` options
(``add_arguments``, ``from_args``), ``Config.from_env`` (the app under another WSGI server), the rules
(``check``) and the README's table (``python -m rkg.settings``).

* ``Config``: the web app's settings (``create_app``), from ``rkg serve``'s options or ``RKG_*`` variables.
* ``FrontConfig``: the front that ``rkg serve`` runs the app behind (``rkg.serve``): options only.

This module imports nothing heavy: the command line's parser reads it before any subcommand runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar, Self

from .errors import InputError

MIB = 1024 * 1024
ENV_PREFIX = "RKG_"


@dataclass(frozen=True)
class Declaration:
    """What is said of one setting besides its name, type and default."""

    help: str
    flag: str | None = None
    """``rkg serve`` option (``--time-limit``); None: none."""
    metavar: str | None = None
    unit: int = 1
    """Size of the option's (and variable's) unit in the field's unit: ``MIB`` for a byte count given in MiB."""
    shown: str | None = None
    """The default as ``--help`` and the README show it; None: the default itself (in the option's unit)."""
    env: bool = True
    """Read from ``RKG_<NAME>`` by ``from_env``."""
    rule: str | None = None
    """``"positive"`` or ``"zero or more"``: checked by ``check``."""


def setting(default: Any, help: str, *, flag: str | None = None, metavar: str | None = None, unit: int = 1,
            shown: str | None = None, env: bool = True, rule: str | None = None) -> Any:
    """A dataclass field declaring a setting (see ``Declaration``)."""
    meta = {"rkg": Declaration(help, flag, metavar, unit, shown, env, rule)}
    if isinstance(default, frozenset):
        return field(default_factory=lambda: default, metadata=meta)
    return field(default=default, metadata=meta)


def _bool(text: str) -> bool:
    low = text.strip().lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(text)


class _NotANumber(InputError, ValueError, argparse.ArgumentTypeError):
    """A bad number: argparse shows its message as it is, ``from_env`` reads it as a ValueError."""


def _number(text: str) -> float:
    """A finite number: ``nan`` and ``inf`` (which ``float`` accepts) are no time limit or size."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if value != value or value in (float("inf"), float("-inf")):
        raise _NotANumber(f"expected a finite number, not {text!r}")
    return value


def _set(text: str) -> frozenset[str]:
    return frozenset(part.strip() for part in text.split(",") if part.strip())


_KINDS: dict[str, tuple[Callable[[str], Any], str]] = {
    # field type (as written below) → (parser of a value, what a value must be)
    "str": (str, "a text"),
    "str | None": (str, "a text"),
    "Path | None": (Path, "a path"),
    "float": (_number, "a finite number"),
    "int": (int, "a whole number"),
    "int | None": (int, "a whole number"),
    "bool": (_bool, "true or false (1/0, yes/no, on/off)"),
    "frozenset[str]": (_set, "a comma-separated list"),
}


class Settings:
    """What the settings dataclasses share: their declarations, made into options, variables and rules."""

    WHAT: ClassVar[str] = ""

    @classmethod
    def declarations(cls) -> list[tuple[str, Any, str, Declaration]]:
        """(name, default, type, declaration) of each setting, in declaration order."""
        out = []
        for f in fields(cls):  # type: ignore[arg-type]
            default = f.default_factory() if callable(f.default_factory) else f.default
            out.append((f.name, default, str(f.type), f.metadata["rkg"]))
        return out

    @classmethod
    def env_name(cls, name: str) -> str:
        return ENV_PREFIX + name.upper()

    @classmethod
    def label(cls, name: str) -> str:
        """How a message names a setting: its option and its variable, whichever it has."""
        d = {n: d for n, _, _, d in cls.declarations()}[name]
        names = [d.flag] if d.flag else []
        if d.env:
            names.append(cls.env_name(name))
        return " / ".join(names) or name

    # ------------------------------------------------------------ command line

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        """One option per setting that has one, with its help text and its default."""
        for name, default, kind, d in cls.declarations():
            if d.flag is None:
                continue
            shown = default_text(default, d)
            help_ = d.help + (f" (default: {shown})" if shown else "")
            if kind == "bool":
                parser.add_argument(d.flag, dest=name, action="store_true", help=help_)
            elif kind == "frozenset[str]":
                parser.add_argument(d.flag, dest=name, action="append", metavar=d.metavar, help=help_)
            else:
                cli_default = default if default is None or d.unit == 1 else default // d.unit
                parser.add_argument(d.flag, dest=name, type=_KINDS[kind][0], default=cli_default,
                                    metavar=d.metavar, help=help_)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> dict[str, Any]:
        """The settings given by ``add_arguments``'s options, in the field's units (keyword arguments)."""
        out: dict[str, Any] = {}
        for name, _, kind, d in cls.declarations():
            if d.flag is None:
                continue
            value = getattr(args, name)
            if kind == "frozenset[str]":
                value = frozenset(value or ())
            elif value is not None and d.unit != 1:
                value = value * d.unit
            out[name] = value
        return out

    # ------------------------------------------------------------ environment

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Self:
        """The settings from ``RKG_<NAME>`` variables (the others keep their defaults), checked. Values are in
        the option's unit; lists are comma-separated; an empty value leaves an optional setting unset."""
        known = {cls.env_name(name): (name, kind, d) for name, _, kind, d in cls.declarations() if d.env}
        values: dict[str, Any] = {}
        for var, text in environ.items():
            if not var.startswith(ENV_PREFIX):
                continue
            if var not in known:
                raise InputError(f"{var} is not a setting of {cls.WHAT}; the variables are: {', '.join(known)}")
            name, kind, d = known[var]
            parse, what = _KINDS[kind]
            if kind.endswith("| None") and not text.strip():
                values[name] = None
                continue
            try:
                value = parse(text.strip())
            except ValueError:
                unit = " in MiB" if d.unit == MIB else ""
                raise InputError(f"{var}={text!r}: expected {what}{unit}") from None
            values[name] = value * d.unit if d.unit != 1 else value
        made = cls(**values)
        made.check()  # type: ignore[attr-defined]
        return made

    # ------------------------------------------------------------ rules

    def check_rules(self) -> None:
        """The ``rule`` of each declaration: InputError naming the setting, its value and what it must be."""
        for name, _, _, d in self.declarations():
            value = getattr(self, name)
            if d.rule is None or value is None:
                continue
            if (d.rule == "positive" and value <= 0) or (d.rule == "zero or more" and value < 0):
                shown = value / d.unit if d.unit != 1 else value
                raise InputError(f"{self.label(name)} must be {d.rule}, not {shown:g}")


def default_text(default: Any, d: Declaration) -> str:
    """The default as shown to users, in the option's unit; "" when there is nothing to show."""
    if d.shown is not None:
        return d.shown
    if default is None or default is False or default == frozenset() or default == "":
        return ""
    if isinstance(default, float):
        return f"{default:g}"
    return str(default // d.unit if d.unit != 1 else default)


@dataclass(frozen=True)
class Config(Settings):
    """Settings of the web app, fixed when it is created (``rkg.web.create_app``)."""

    WHAT: ClassVar[str] = "the web app"

    nquads: Path | None = setting(None, "built graph (N-Quads): each query process loads a copy in memory, or, "
                                        "from 200,000 quads, opens the build's on-disk store beside it read-only "
                                        "(one store, shared); rkg serve: build/rkg.nq")
    location: Path | None = setting(None, "persistent on-disk store (created from build/ if empty) instead of memory",
                                    flag="--location", metavar="DIR")
    store: str | None = setting(None, "URL of a remote SPARQL 1.1 query endpoint (Oxigraph server, Virtuoso) to serve "
                                      "instead of a local store; read-only; only the web process connects to it",
                                flag="--store", metavar="URL")
    shapes: Path | None = setting(None, "SHACL shapes that writes are validated against; rkg serve: shapes/")
    queries: Path | None = setting(None, "folder of named queries served at /api/queries; rkg serve: queries/")
    root: Path | None = setting(None, "project folder whose source files the /validation page names each finding's "
                                      "place in (file and line), as rkg validate does; none: no places; rkg serve: "
                                      "the project folder")
    assets: Path | None = setting(None, "node_modules folder where npm ci installed the front-end files (YASGUI); "
                                        "none: a plain editor; rkg serve: node_modules/ when present")
    version: str = setting("", "version of the graph, shown by /health and used in ETags; "
                               "rkg serve: rkg's version and the build's digest")
    sandboxes: int = setting(2, "query processes per worker", flag="--sandboxes", metavar="SANDBOXES",
                             rule="positive")
    time_limit: float = setting(10.0, "per-query time limit; past it, 503 and the process is replaced", flag="--time-limit",
                                metavar="SECONDS", rule="positive")
    max_rows: int = setting(100_000, "result rows (or triples) returned at most; more are cut and the answer says so", flag="--max-rows", metavar="MAX_ROWS",
                            rule="positive")
    max_request_bytes: int = setting(1_048_576, "largest request body or query string accepted; 413 above", flag="--max-request-bytes",
                                     metavar="MAX_REQUEST_BYTES", shown="1 MiB", rule="positive")
    update_token: str | None = setting(None, "bearer token for SPARQL Update and the Graph Store protocol; unset: "
                                             "read-only (rkg serve reads it only with --allow-update)")
    federation_allow: frozenset[str] = setting(frozenset(), "a SERVICE endpoint the engine may contact; repeatable",
                                               flag="--federation-allow", metavar="IRI", shown="none")
    max_depth: int = setting(128, "deepest nesting of { ( [ accepted in an operation; 400 above", flag="--max-depth",
                             metavar="MAX_DEPTH", rule="positive")
    max_answer_bytes: int = setting(16 * MIB, "largest answer body; rows past it are cut", flag="--max-answer-bytes",
                                    metavar="BYTES", shown="16 MiB", rule="positive")
    queue_wait: float = setting(5.0, "how long a request waits for a free query process before 503 with Retry-After; "
                                     "it then has the whole time limit", flag="--queue-wait", metavar="SECONDS", rule="positive")
    client_concurrency: int = setting(0, "operations one client may run at once per worker; one more is answered 429",
                                      flag="--client-concurrency", metavar="N", shown="sandboxes - 1, at least 1",
                                      rule="zero or more")
    trusted_proxies: frozenset[str] = setting(frozenset(), "a reverse proxy whose X-Forwarded-For names the client; "
                                                           "repeatable", flag="--trusted-proxy", metavar="ADDRESS",
                                              shown="none")
    sandbox_memory: int | None = setting(None, "data memory of each query process in MiB, RLIMIT_DATA; 0: no limit",
                                         flag="--sandbox-memory", metavar="MIB", unit=MIB,
                                         shown="512, or 8 times the data for a large graph", rule="zero or more")
    cache_bytes: int = setting(32 * MIB, "result cache of each worker in MiB", flag="--cache-bytes", metavar="MIB",
                               unit=MIB, rule="zero or more")
    cache_entries: int = setting(1024, "responses kept in the result cache (0 disables it)", rule="zero or more")
    cache_max_body: int = setting(1_048_576, "largest response body the cache keeps, in bytes", rule="zero or more")
    validation_time_limit: float = setting(300.0, "seconds the validation report of the served graph may take "
                                                  "(the /validation page)", rule="positive")
    insecure_network: bool = setting(False, "do not close the query processes' network (seccomp); only for kernels "
                                            "without seccomp", flag="--insecure-network")

    @property
    def memory_limit(self) -> int:
        """The sandboxes' RLIMIT_DATA: as set, or 512 MiB, raised to 8 times the size of the data for a
        large graph (an in-memory store takes 2 to 3 times its N-Quads file)."""
        if self.sandbox_memory is not None:
            return self.sandbox_memory
        data = 0
        if self.nquads is not None and self.nquads.exists():
            data = self.nquads.stat().st_size
        elif self.location is not None and self.location.is_dir():
            data = sum(f.stat().st_size for f in self.location.iterdir() if f.is_file())
        return max(512 * MIB, 8 * data)

    @property
    def writable(self) -> bool:
        return self.update_token is not None

    @property
    def per_client(self) -> int:
        return self.client_concurrency or max(1, self.sandboxes - 1)

    def check(self) -> None:
        """Every rule of the settings: InputError naming the setting and how to fix it."""
        if self.store is not None:
            from urllib.parse import urlsplit

            parts = urlsplit(self.store)
            if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
                raise InputError(f"{self.label('store')} must be the http:// or https:// URL of a SPARQL query "
                                 f"endpoint, without credentials, not {self.store!r}")
            if self.nquads is not None or self.location is not None:
                raise InputError(f"give either a remote store ({self.label('store')}) or a local graph "
                                 f"({self.label('nquads')} / {self.label('location')}), not both")
            if self.writable:
                raise InputError(f"a remote store ({self.label('store')}) is served read-only: rkg validates each "
                                 "write against the shapes inside the store's transaction, which an engine over "
                                 "HTTP does not allow; load new data with rkg build --target instead")
        elif (self.nquads is None) == (self.location is None):
            raise InputError(f"give either a built graph ({self.label('nquads')}) or a store folder "
                             f"({self.label('location')}), one of them")
        if self.writable and self.location is None:
            raise InputError(f"updates need the persistent store: {self.label('location')}")
        if self.writable and not self.update_token:
            raise InputError("the update token must not be empty: set RKG_UPDATE_TOKEN "
                             "(or, for rkg serve, pass --token-file FILE)")
        self.check_rules()


@dataclass(frozen=True)
class FrontConfig(Settings):
    """Settings of the front ``rkg serve`` runs the app behind (``rkg.serve.run``); command-line options only."""

    WHAT: ClassVar[str] = "rkg serve's front"

    host: str = setting("127.0.0.1", "address to listen on", flag="--host", metavar="HOST", env=False)
    port: int = setting(8000, "port", flag="--port", metavar="PORT", env=False)
    workers: int | None = setting(None, "web worker processes", flag="--workers", metavar="WORKERS",
                                  shown="2, or 1 with --allow-update, which allows only 1", env=False,
                                  rule="positive")
    header_timeout: float = setting(10.0, "a client that has not sent its whole request head within this time (from "
                                          "the connection or the previous answer) is disconnected; 1 to 60", flag="--header-timeout", metavar="SECONDS",
                                    env=False)
    body_timeout: float = setting(30.0, "a client that has not sent its whole request body within this time after "
                                        "the head is answered 408 and disconnected", flag="--body-timeout",
                                  metavar="SECONDS", env=False, rule="positive")

    def worker_count(self, config: Config) -> int:
        return self.workers or (1 if config.writable else 2)

    def check(self, config: Config | None = None) -> None:
        """The front's rules, and with ``config`` the rule they share: one process owns a writable store."""
        self.check_rules()
        if not 1 <= self.header_timeout <= 60:
            raise InputError(f"{self.label('header_timeout')} must be between 1 and 60 seconds, not {self.header_timeout:g}")
        if not 0 <= self.port <= 65535:
            raise InputError(f"{self.label('port')} must be between 0 and 65535, not {self.port}")
        if config is not None and config.writable and self.workers not in (None, 1):
            raise InputError("with --allow-update one process owns the store: use --workers 1")


# ---------------------------------------------------------------- the README's table


def table() -> str:
    """The settings as a Markdown table (option, variable, default, meaning): the README holds this text."""
    lines = ["| option | environment variable | default | meaning |", "|---|---|---|---|"]
    for cls in (FrontConfig, Config):
        for name, default, kind, d in cls.declarations():
            option = f"`{d.flag}{'' if kind == 'bool' else ' ' + (d.metavar or name.upper())}`" if d.flag else "—"
            var = f"`{cls.env_name(name)}`" if d.env else "—"
            shown = default_text(default, d) or ("off" if kind == "bool" else "none")
            lines.append(f"| {option} | {var} | {shown} | {d.help.replace('|', '/')} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(table())
