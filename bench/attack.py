"""Attack benchmark of ``rkg serve`` (issue 9, "Security and robustness"): hostile loads, side by side, in one run.

The script starts the real server itself (``python -m rkg serve`` on a free loopback port, in a session of
its own, with its own build folder and stores in a temporary folder), runs the scenarios below against it,
and stops it. Everything stays on 127.0.0.0/8: each client binds its own 127.0.0.x source address, since
the server counts operations per client address. Every loop is bounded in count and in time; the default
run takes about four minutes, ``--quick`` about one, plus at most ``--quiet-wait`` seconds at each of six
points for other processes to leave the CPU (the machine may be shared).

Scenarios (targets in brackets):

1. ``slow``: 50 sockets trickling a request head one byte per second (re-opened when the server closes
   them) and 8 runaway queries (a three-way cross product, a unique comment each; sent again as soon as
   answered) from one attacker address, 127.0.0.2, while a probe (127.0.0.3) sends every 0.5 s an uncached
   ASK and ``GET /health`` (and, on the writable server, an ``INSERT DATA`` into a test graph): probe
   latency p50/p99/max and statuses [every probe answered 2xx, within 1 s]. Against the read-only server
   (defaults) and the writable one (``--location``, ``--allow-update``, 1 worker).
2. ``construct``: 2 KB CONSTRUCTs that multiply triples (a three-way cross product with 27 template
   triples; triples whose object is a literal built by doubling ``CONCAT``: 1 MiB each, and one of
   ``--literal-mib``), then a burst of the 1 MiB one from 4 clients at once: answer size and the
   ``X-RKG-Truncated`` header [≤ ``--max-answer-bytes``, 16 MiB, header present], peak RSS of every
   sandbox [≤ 512 MiB] and RSS growth of every web worker [≤ 50 MiB]. Repeated on a server started with
   ``--sandbox-memory`` (``--memory-limit-mib``, default 512) to show what that limit does.
3. ``flood``: 300 distinct queries of about 1 MiB each (a long comment) with small answers [web worker
   RSS growth ≤ 50 MiB]; then, with the same target, distinct 16 KB form bodies (the memoised form parser)
   and distinct queries whose answers are just under the result cache's largest entry (2 MB).
4. ``deep``: 5,000 nested ``{``, ``OPTIONAL {``, ``(``, ``[``, ``\\u0028`` escapes [400], and 5,000-term
   ``||`` and ``+`` chains (no brackets, so not refused) [no 5xx]; [no sandbox ended].
5. ``soak``: 32 keep-alive clients (one address each) for 60 s mixing ``/sparql`` (repeated and unique
   queries), ``/api/queries/NAME``, ``/``, ``/coverage`` and ``/health``: requests, p50, p99 [no error:
   no 500, no 503 without Retry-After, no connection error].
6. ``kill``: writable server; 2 writers send numbered ``INSERT DATA`` (two triples each) into a test
   graph; the whole process group gets SIGKILL at a random moment (``--seed``), the server is restarted on
   the same store and the store is read (directly, and through the restarted server) [every acknowledged
   write present, none half-applied], ``--kill-rounds`` times.

RSS is read from /proc/<pid>/status (VmRSS, and VmHWM for peaks between samples). Sandboxes are the
``multiprocessing.spawn`` children of the web workers; web workers are the children of the server's master
(granian) in its process group. Each scenario also records the CPU used meanwhile by processes that are
neither this script nor the servers, and the whole machine's busy share, since the machine may be shared.

Run from the project folder:  .venv/bin/python bench/attack.py [--quick] [--no-summary]
Results: a table on stdout, bench/results/attack-<UTC time>.json and .md (with the servers' logs in
bench/results/attack-<UTC time>-logs/), and the "Attack benchmark" section of bench/summary.md (between
its markers; not with --quick unless --summary).
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import math
import multiprocessing as mp
import os
import platform
import random
import re
import select
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from endpoint import free_port  # noqa: E402  (bench/endpoint.py: one free-port helper for the benches)
from support.clients import recv_until  # noqa: E402  (on sys.path through bench/endpoint.py)
from support.server import launch, terminate, wait_ready  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "server"))  # run from a checkout without installing

MIB = 1024 * 1024
TOKEN = "attack-bench-token"
ATTACKER = "127.0.0.2"
PROBE = "127.0.0.3"
TEST = "http://example.org/rkg-bench/"
PROBE_GRAPH = TEST + "probe"
KILL_GRAPH = TEST + "kill"
FORM = "application/x-www-form-urlencoded"
SPARQL_QUERY = "application/sparql-query"
SPARQL_UPDATE = "application/sparql-update"
JSON_RESULTS = "application/sparql-results+json"
FILLER = "x0123456789"
"""Padding alphabet: it cannot spell ``service`` or ``load`` (which would send the text to the guard's parse)."""
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
SANDBOX_TARGET_MIB = 512
WORKER_TARGET_MIB = 50
PROBE_TARGET_S = 1.0
SUMMARY_BEGIN = "<!-- attack.py: begin (generated; text outside the markers is kept) -->"
SUMMARY_END = "<!-- attack.py: end -->"


def log(message: str) -> None:
    print(f"attack: {message}", file=sys.stderr, flush=True)


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


def filler(size: int, tag: str = "") -> str:
    return (tag + FILLER * (size // len(FILLER) + 1))[:size]


# ---------------------------------------------------------------- processes (Linux /proc)


def proc_stat(pid: int) -> tuple[str, int, int, float] | None:
    """(state, ppid, pgid, CPU seconds) of a process, or None when it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2:].split()
    return fields[0], int(fields[1]), int(fields[2]), (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory_kib(pid: int) -> tuple[int, int] | None:
    """(VmRSS, VmHWM) in KiB, or None when the process is gone."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    rss = re.search(r"^VmRSS:\s+(\d+)", text, re.M)
    hwm = re.search(r"^VmHWM:\s+(\d+)", text, re.M)
    if not rss or not hwm:
        return None
    return int(rss.group(1)), int(hwm.group(1))


def all_pids() -> list[int]:
    return [int(e) for e in os.listdir("/proc") if e.isdigit()]


def group_processes(pgid: int) -> list[tuple[int, int, str]]:
    """(pid, ppid, command line) of the live (non-zombie) processes of process group ``pgid``."""
    out = []
    for pid in all_pids():
        st = proc_stat(pid)
        if st is None or st[0] == "Z" or st[2] != pgid:
            continue
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        out.append((pid, st[1], cmd))
    return out


def cpu_by_pid() -> dict[int, tuple[int, float]]:
    """pid → (pgid, CPU seconds) of every live process."""
    out = {}
    for pid in all_pids():
        st = proc_stat(pid)
        if st is not None:
            out[pid] = (st[2], st[3])
    return out


def machine_busy_seconds() -> float:
    """CPU seconds all cores have spent busy since boot (/proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def wait_quiet(limit: float, share: float = 0.25) -> float:
    """Wait at most ``limit`` seconds until other processes use less than ``share`` of a core for 2 s in a
    row (the scenarios measure latency and memory on a machine that may be shared). Returns the seconds waited."""
    t0, calm = time.monotonic(), 0
    while time.monotonic() - t0 < limit and calm < 2:
        before = machine_busy_seconds()
        time.sleep(1.0)
        calm = calm + 1 if machine_busy_seconds() - before <= share else 0
    return time.monotonic() - t0


def machine() -> dict:
    mem = re.search(r"^MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text(), re.M)
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                                timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        commit = ""
    try:
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "server"], cwd=ROOT, capture_output=True, text=True,
                               timeout=10).stdout.split("\n")
        dirty = sorted(line[3:] for line in dirty if line.strip())
    except (OSError, subprocess.TimeoutExpired):
        dirty = []
    return {"nproc": os.cpu_count(), "memory_gib": round(int(mem.group(1)) / MIB, 1) if mem else None,
            "platform": platform.platform(terse=True), "python": platform.python_version(), "commit": commit,
            "server_files_changed_since_commit": dirty, "loadavg_at_start": os.getloadavg()[0]}


# ---------------------------------------------------------------- servers


@dataclass
class Server:
    name: str
    args: list[str]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen | None = None
    port: int = 0
    started_s: float = 0.0

    @property
    def pgid(self) -> int:
        assert self.process is not None
        return self.process.pid  # start_new_session: the master leads its own process group

    @property
    def expected_sandboxes(self) -> int:
        def option(name: str, default: int) -> int:
            return int(self.args[self.args.index(name) + 1]) if name in self.args else default
        sandboxes = option("--sandboxes", 2)
        if "--allow-update" in self.args:
            return sandboxes + 1  # the read pool and the writer
        return option("--workers", 2) * sandboxes

    def start(self, timeout: float = 120.0) -> None:
        """Started by the tests' harness (tests/support/server.py), its output added to the log; up when
        /health answers and every sandbox has started."""
        self.port = free_port()
        cmd = [sys.executable, "-m", "rkg", "serve", "--root", str(ROOT), "-q", "--host", "127.0.0.1",
               "--port", str(self.port), *self.args]
        t0 = time.monotonic()
        with self.log_path.open("ab") as out:
            out.write(f"\n=== {datetime.now(timezone.utc).isoformat(timespec='seconds')} start {self.name}\n".encode())
        self.process = launch(cmd, self.log_path, self.env, append=True)
        wait_ready(self.process, f"http://127.0.0.1:{self.port}/health", self.log_path, timeout,
                   lambda: len(self.sandboxes()) >= self.expected_sandboxes, name=f"{self.name}: rkg serve")
        self.started_s = time.monotonic() - t0

    def processes(self) -> list[tuple[int, int, str]]:
        return group_processes(self.pgid) if self.process is not None else []

    def roles(self) -> dict[int, str]:
        """pid → ``master``, ``worker``, ``sandbox`` or ``other``."""
        procs = self.processes()
        workers = {pid for pid, ppid, cmd in procs if ppid == self.pgid and "multiprocessing" not in cmd}
        out = {}
        for pid, ppid, cmd in procs:
            if pid == self.pgid:
                out[pid] = "master"
            elif pid in workers:
                out[pid] = "worker"
            elif "multiprocessing.spawn" in cmd and ppid in workers:
                out[pid] = "sandbox"
            else:
                out[pid] = "other"
        return out

    def sandboxes(self) -> list[int]:
        return sorted(p for p, r in self.roles().items() if r == "sandbox")

    def workers(self) -> list[int]:
        return sorted(p for p, r in self.roles().items() if r == "worker")

    def wait_sandboxes(self, timeout: float = 30.0) -> None:
        """Until every sandbox slot is filled again (replacements start in the background)."""
        deadline = time.monotonic() + timeout
        while len(self.sandboxes()) < self.expected_sandboxes and time.monotonic() < deadline:
            time.sleep(0.2)

    def log_size(self) -> int:
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def log_since(self, offset: int) -> str:
        with self.log_path.open("rb") as f:
            f.seek(offset)
            return f.read().decode(errors="replace")

    def kill9(self) -> None:
        """SIGKILL to the whole process group (master, workers, sandboxes), then wait until none is left."""
        if self.process is None:
            return
        try:
            os.killpg(self.pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(10)
        deadline = time.monotonic() + 10
        while group_processes(self.pgid) and time.monotonic() < deadline:
            time.sleep(0.05)

    def stop(self) -> None:
        """SIGTERM to the master (granian stops its workers, whose daemonic sandboxes end with them); what
        is left of the group is killed (tests/support/server.py: ``terminate``)."""
        if self.process is None:
            return
        if terminate(self.process):
            log(f"{self.name}: processes left after SIGTERM, killed")


# ---------------------------------------------------------------- HTTP


def connection(port: int, source: str = "127.0.0.1", timeout: float = 30.0) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", port, timeout=timeout, source_address=(source, 0))


def request(port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
            source: str = "127.0.0.1", timeout: float = 30.0,
            conn: http.client.HTTPConnection | None = None) -> tuple[int, dict[str, str], bytes, float]:
    """One request (a fresh connection unless ``conn``): status, headers (lower-case names), body, seconds."""
    own = conn is None
    c = connection(port, source, timeout) if own else conn
    t0 = time.perf_counter()
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data, time.perf_counter() - t0
    finally:
        if own:
            c.close()


def sparql(port: int, text: str, accept: str = JSON_RESULTS, source: str = "127.0.0.1", timeout: float = 60.0,
           conn: http.client.HTTPConnection | None = None):
    return request(port, "POST", "/sparql", text.encode(), {"Content-Type": SPARQL_QUERY, "Accept": accept},
                   source, timeout, conn)


def update(port: int, text: str, source: str = "127.0.0.1", timeout: float = 60.0,
           conn: http.client.HTTPConnection | None = None):
    return request(port, "POST", "/sparql", text.encode(),
                   {"Content-Type": SPARQL_UPDATE, "Authorization": f"Bearer {TOKEN}"}, source, timeout, conn)


def raw_exchange(port: int, source: str, data: bytes, deadline: float) -> int | None:
    """Send ``data`` on a fresh socket and read the answer's status line, giving up (closing the socket) at
    ``deadline``: an attacker that does not wait for its answer. The status, or None."""
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=max(0.1, deadline - time.monotonic()),
                                     source_address=(source, 0))
    except OSError:
        return None
    try:
        s.sendall(data)
        buf = recv_until(s, b"\r\n", deadline)
        if buf is None:
            return None
        m = re.match(rb"HTTP/1\.[01] (\d{3})", buf)
        return int(m.group(1)) if m else None
    except OSError:
        return None
    finally:
        s.close()


# ---------------------------------------------------------------- memory sampling


class Sampler:
    """Samples VmRSS / VmHWM of a server's processes every ``interval`` seconds (the process list is
    refreshed every ``scan`` seconds); windows record, per process, its memory at the start, the highest
    sample, and its memory at the end."""

    def __init__(self, interval: float = 0.05, scan: float = 0.5) -> None:
        self.interval, self.scan = interval, scan
        self.server: Server | None = None
        self.roles: dict[int, str] = {}
        self._windows: list[dict] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="sampler")
        self._thread.start()

    def attach(self, server: Server | None) -> None:
        with self._lock:
            self.server = server
            self.roles = server.roles() if server else {}

    def _sample(self) -> None:
        with self._lock:
            roles = dict(self.roles)
            windows = list(self._windows)
        for pid, role in roles.items():
            m = memory_kib(pid)
            if m is None:
                continue
            for w in windows:
                entry = w["procs"].setdefault(pid, {"role": role, "start": None, "max_rss": 0, "hwm": 0})
                entry["max_rss"] = max(entry["max_rss"], m[0])
                entry["hwm"] = m[1]

    def _run(self) -> None:
        last_scan = 0.0
        while not self._stop.is_set():
            if self.server is not None and time.monotonic() - last_scan >= self.scan:
                try:
                    roles = self.server.roles()
                    with self._lock:
                        self.roles = roles
                except Exception:  # noqa: BLE001 - the server may be stopping
                    pass
                last_scan = time.monotonic()
            self._sample()
            self._stop.wait(self.interval)

    def begin(self) -> dict:
        """Start a window: the memory of every current process is its baseline."""
        if self.server is not None:
            with self._lock:
                self.roles = self.server.roles()
        window: dict = {"procs": {}, "t0": time.monotonic(), "cpu0": cpu_by_pid(), "busy0": machine_busy_seconds()}
        for pid, role in self.roles.items():
            m = memory_kib(pid)
            if m is not None:
                window["procs"][pid] = {"role": role, "start": m, "max_rss": m[0], "hwm": m[1]}
        with self._lock:
            self._windows.append(window)
        return window

    def end(self, window: dict, settle: float = 1.0) -> dict:
        """Close a window (after ``settle`` seconds): per sandbox its peak RSS, per web worker its RSS
        before, peak and after, plus the CPU share used meanwhile by other processes."""
        time.sleep(settle)
        if self.server is not None:
            self.attach(self.server)
        self._sample()
        with self._lock:
            self._windows.remove(window)
        seconds = time.monotonic() - window["t0"]
        sandboxes, workers = {}, {}
        for pid, e in window["procs"].items():
            start = e["start"]
            # Peak within the window: the highest sample, or the high-water mark if it rose meanwhile.
            peak = e["max_rss"]
            if start is None or e["hwm"] > start[1]:
                peak = max(peak, e["hwm"])
            now = memory_kib(pid)
            if e["role"] == "sandbox":
                sandboxes[pid] = {"peak_mib": peak / 1024, "alive": now is not None, "new": start is None}
            elif e["role"] == "worker" and start is not None:
                workers[pid] = {"before_mib": start[0] / 1024, "peak_mib": peak / 1024,
                                "after_mib": (now[0] if now else float("nan")) / 1024,
                                "peak_growth_mib": (peak - start[0]) / 1024,
                                "retained_growth_mib": ((now[0] if now else start[0]) - start[0]) / 1024}
        return {"seconds": seconds, "sandboxes": sandboxes, "workers": workers,
                "other_cpu_pct": other_cpu_pct(window["cpu0"], cpu_by_pid(), seconds, self.server),
                "machine_busy_pct": 100 * (machine_busy_seconds() - window["busy0"]) / seconds}

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)


def other_cpu_pct(before: dict[int, tuple[int, float]], after: dict[int, tuple[int, float]], seconds: float,
                  server: Server | None) -> float:
    """CPU used by processes that are neither this script (its process group) nor the server under test,
    as a share of one core (processes that started or ended meanwhile are not counted: compare with the
    whole machine's busy share, ``machine_busy_pct``)."""
    mine = {os.getpgrp()}
    if server is not None and server.process is not None:
        mine.add(server.pgid)
    used = sum(cpu - before[pid][1] for pid, (pgid, cpu) in after.items()
               if pid in before and pgid not in mine and pid != os.getpid())
    return 100 * used / seconds if seconds > 0 else float("nan")


def worker_peak(mem: dict) -> float:
    return max((w["peak_growth_mib"] for w in mem["workers"].values()), default=float("nan"))


def worker_retained(mem: dict) -> float:
    return max((w["retained_growth_mib"] for w in mem["workers"].values()), default=float("nan"))


def sandbox_peak(mem: dict) -> float:
    return max((s["peak_mib"] for s in mem["sandboxes"].values()), default=float("nan"))


def crash_lines(text: str) -> dict[str, int]:
    return {"timeouts": len(re.findall(r"stopped after the time limit", text)),
            "sandbox_deaths": len(re.findall(r"the query process \d+ (?:killed by signal|exited with code)", text)),
            "tracebacks": text.count("Traceback")}


# ---------------------------------------------------------------- results


@dataclass
class Row:
    scenario: str
    case: str
    result: str
    target: str
    met: bool | None
    """None: reported only, no target."""


ROWS: list[Row] = []


def row(scenario: str, case: str, result: str, target: str = "", met: bool | None = None) -> None:
    ROWS.append(Row(scenario, case, result, target, met))
    mark = "" if met is None else (" [met]" if met else " [NOT MET]")
    log(f"{scenario} / {case}: {result}{mark}")


# ---------------------------------------------------------------- 1. slow clients + runaway queries


class SandboxWatch(threading.Thread):
    """Polls a server's sandboxes every ``interval`` s: when each new one appears and when it is ready (its
    job thread, started just before it reports ready, has a 256 MiB stack: VmSize passes 256 MiB)."""

    def __init__(self, server: Server, interval: float = 0.1) -> None:
        super().__init__(daemon=True, name="sandbox-watch")
        self.server, self.interval = server, interval
        self.stop = threading.Event()
        self.first: dict[int, float] = {}
        self.ready: dict[int, float] = {}
        self.gone: dict[int, float] = {}

    def run(self) -> None:
        t0 = time.monotonic()
        known: set[int] = set(self.server.sandboxes())
        while not self.stop.wait(self.interval):
            now = time.monotonic() - t0
            current = set(self.server.sandboxes())
            for pid in current - known - set(self.first):
                self.first[pid] = now
            for pid in set(self.first) - set(self.ready):
                try:
                    size = int(re.search(r"^VmSize:\s+(\d+)", Path(f"/proc/{pid}/status").read_text(), re.M).group(1))
                except (OSError, AttributeError):
                    continue
                if size > 256 * 1024:
                    self.ready[pid] = now
            for pid in (known | set(self.first)) - current - set(self.gone):
                self.gone[pid] = now

    def report(self) -> dict:
        delays = [self.ready[p] - self.first[p] for p in self.ready]
        return {"replacements": len(self.first), "ready": len(self.ready),
                "ready_after_max_s": max(delays, default=float("nan")), "ended": len(self.gone)}


class SlowHeads(threading.Thread):
    """``count`` sockets from ``source`` each sending one more byte of a never-ending request head every
    second; a socket the server closes is re-opened (at most ``count * (seconds + 1)`` opens in all)."""

    HEAD = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Trickle: "

    def __init__(self, port: int, source: str, count: int, seconds: float) -> None:
        super().__init__(daemon=True, name="slow-heads")
        self.port, self.source, self.count, self.seconds = port, source, count, seconds
        self.opened = self.closed_by_server = self.refused = 0
        self.lifetimes: list[float] = []

    def _open(self) -> tuple[socket.socket, float, int] | None:
        if self.opened >= self.count * (int(self.seconds) + 2):
            return None
        self.opened += 1
        try:
            s = socket.create_connection(("127.0.0.1", self.port), timeout=2, source_address=(self.source, 0))
            s.setblocking(False)
            return s, time.monotonic(), 0
        except OSError:
            self.refused += 1
            return None

    def run(self) -> None:
        deadline = time.monotonic() + self.seconds
        socks = [self._open() for _ in range(self.count)]
        while time.monotonic() < deadline:
            tick = time.monotonic()
            for i, entry in enumerate(socks):
                if entry is None:
                    socks[i] = self._open()
                    continue
                s, opened, sent = entry
                gone = False
                try:
                    readable, _, _ = select.select([s], [], [], 0)
                    if readable:
                        gone = True  # an answer (408/400) or the close itself: the server gave up on it
                        try:
                            s.recv(4096)
                        except OSError:
                            pass
                    else:
                        byte = self.HEAD[sent:sent + 1] or b"a"
                        s.send(byte)
                        socks[i] = (s, opened, sent + 1)
                except OSError:
                    gone = True
                if gone:
                    self.closed_by_server += 1
                    self.lifetimes.append(time.monotonic() - opened)
                    s.close()
                    socks[i] = self._open()
            time.sleep(max(0.0, 1.0 - (time.monotonic() - tick)))
        for entry in socks:
            if entry is not None:
                entry[0].close()

    def report(self) -> dict:
        return {"sockets": self.count, "opened": self.opened, "closed_by_server": self.closed_by_server,
                "refused": self.refused,
                "median_lifetime_s": statistics.median(self.lifetimes) if self.lifetimes else None}


def runaway_loop(port: int, source: str, tag: str, deadline: float, limit: int, statuses: Counter, lock: threading.Lock,
                 wait_s: float) -> None:
    for n in range(limit):
        if time.monotonic() >= deadline:
            return
        body = f"{RUNAWAY} # runaway {tag} {n}".encode()
        data = (f"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: {SPARQL_QUERY}\r\n"
                f"Accept: {JSON_RESULTS}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body
        status = raw_exchange(port, source, data, min(deadline, time.monotonic() + wait_s))
        with lock:
            statuses[str(status) if status is not None else "left at the deadline"] += 1


def slow_scenario(server: Server, sampler: Sampler, args: argparse.Namespace, writable: bool, run_id: str) -> dict:
    port = server.port
    time_limit, queue_wait = 10.0, 5.0
    offset = server.log_size()
    window = sampler.begin()
    sandboxes_before = set(server.sandboxes())
    watch = SandboxWatch(server)
    watch.start()
    slow = SlowHeads(port, ATTACKER, args.slow_clients, args.slow_seconds + 1)
    slow.start()
    statuses: Counter = Counter()
    lock = threading.Lock()
    deadline = time.monotonic() + args.slow_seconds + 1
    attackers = [threading.Thread(target=runaway_loop, daemon=True,
                                  args=(port, ATTACKER, f"{run_id}-{i}", deadline, 100, statuses, lock,
                                        time_limit + queue_wait + 5)) for i in range(args.runaway)]
    for t in attackers:
        t.start()
    time.sleep(1.0)  # the runaway queries take their sandboxes first
    probes: dict[str, list[tuple[int | None, float]]] = {"ask": [], "health": []}
    digests: dict[str, tuple[str, float]] = {}  # hash the access log shows → (probe kind, client-side seconds)
    if writable:
        probes["insert"] = []
    stop = time.monotonic() + args.slow_seconds
    n = 0
    while time.monotonic() < stop and n < 10_000:
        tick = time.monotonic()
        n += 1
        ask = f"ASK {{ ?s a ?c }} # probe {run_id} {n}"
        insert = f"INSERT DATA {{ GRAPH <{PROBE_GRAPH}> {{ <{TEST}probe/{run_id}/{n}> <{TEST}seen> \"{n}\" }} }}"
        calls = [("ask", ask, lambda: sparql(port, ask, source=PROBE, timeout=15)),
                 ("health", None, lambda: request(port, "GET", "/health", source=PROBE, timeout=15))]
        if writable:
            calls.append(("insert", insert, lambda: update(port, insert, source=PROBE, timeout=15)))
        for kind, text, call in calls:
            t0 = time.perf_counter()
            try:
                status = call()[0]
            except OSError:
                status = None
            probes[kind].append((status, time.perf_counter() - t0))
            if text is not None:
                digests[hashlib.sha256(text.encode()).hexdigest()[:12]] = (kind, time.perf_counter() - t0)
        time.sleep(max(0.0, args.probe_interval - (time.monotonic() - tick)))
    for t in attackers:
        t.join(time_limit + queue_wait + 10)
    slow.join(5)
    watch.stop.set()
    watch.join(5)
    mem = sampler.end(window, settle=0.2)
    sandboxes_after = set(server.sandboxes())
    # The access log gives each probe's time inside the app (from its hash): the rest of the client-side time
    # was spent before the app ran it (the event loop, or waiting for one of the worker's threads).
    text_log = server.log_since(offset)
    inside: dict[str, list[float]] = {}
    before_app: dict[str, list[float]] = {}
    for m in re.finditer(r"POST /sparql \d{3} ([\d.]+)ms \d+B id=\w+ q=(\w+)", text_log):
        if m.group(2) in digests:
            kind, client = digests[m.group(2)]
            inside.setdefault(kind, []).append(float(m.group(1)) / 1000)
            before_app.setdefault(kind, []).append(max(0.0, client - float(m.group(1)) / 1000))
    per_kind = {}
    for kind, got in probes.items():
        times = [t for _, t in got]
        per_kind[kind] = {"count": len(got), "p50_ms": percentile(times, 50) * 1000, "p99_ms": percentile(times, 99) * 1000,
                          "max_ms": max(times, default=float("nan")) * 1000,
                          "statuses": dict(Counter(str(s) for s, _ in got)),
                          "in_app_max_ms": max(inside.get(kind, []), default=float("nan")) * 1000,
                          "before_app_max_ms": max(before_app.get(kind, []), default=float("nan")) * 1000}
    ok_status = all(s is not None and 200 <= s < 300 for got in probes.values() for s, _ in got)
    worst = max((t for got in probes.values() for _, t in got), default=float("nan"))
    result = {"server": server.name, "probes": per_kind, "all_2xx": ok_status, "max_probe_ms": worst * 1000,
              "runaway_statuses": dict(statuses), "slow_heads": slow.report(), "memory": mem,
              "sandbox_replacements": watch.report(),
              "sandboxes_replaced": len(sandboxes_before - sandboxes_after), "log": crash_lines(text_log)}
    case = "writable, probe ASK + health + INSERT" if writable else "read-only, probe ASK + health"
    detail = "; ".join(f"{k} p50 {v['p50_ms']:.0f} / p99 {v['p99_ms']:.0f} / max {v['max_ms']:.0f} ms "
                       f"{'/'.join(f'{s}×{c}' for s, c in v['statuses'].items())}" for k, v in per_kind.items())
    row("1 slow clients", case, detail, "every probe 2xx within 1 s", ok_status and worst < PROBE_TARGET_S)
    row("1 slow clients", f"{'writable' if writable else 'read-only'}: where the slowest probes waited",
        "; ".join(f"{k}: at most {v['in_app_max_ms']:.0f} ms in the app, {v['before_app_max_ms']:.0f} ms before it"
                  for k, v in per_kind.items() if k in inside))
    row("1 slow clients", f"{'writable' if writable else 'read-only'}: attacker",
        f"runaway answers {dict(statuses)}; {slow.closed_by_server} slow sockets closed by the server "
        f"(median after {result['slow_heads']['median_lifetime_s'] or float('nan'):.1f} s), "
        f"{watch.report()['replacements']} sandboxes replaced (ready after {watch.report()['ready_after_max_s']:.1f} s "
        f"at most); machine busy {mem['machine_busy_pct']:.0f} % of a core, other processes {mem['other_cpu_pct']:.0f} %")
    return result


# ---------------------------------------------------------------- 2. big CONSTRUCT


def padded(text: str, size: int = 2048) -> str:
    pad = size - len(text.encode()) - 3
    return text if pad <= 0 else text + "\n# " + filler(pad)


def cross_construct() -> str:
    subjects, predicates, objects = ("?a", "?d", "?g"), ("?b", "?e", "?h"), ("?c", "?f", "?i")
    template = " . ".join(f"{s} {p} {o}" for s in subjects for p in predicates for o in objects)
    return padded(f"CONSTRUCT {{ {template} }} WHERE {{ ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }}")


def literal_construct(mib: int) -> str:
    """Triples whose object is a literal of ``mib`` MiB: a 64-character seed (from the solution) doubled."""
    doublings = int(math.log2(mib * MIB // 64))
    binds = [f'BIND(SUBSTR(CONCAT(STR(?c), STR(?f), "{"x" * 64}"), 1, 64) AS ?l0)']
    binds += [f"BIND(CONCAT(?l{i - 1}, ?l{i - 1}) AS ?l{i})" for i in range(1, doublings + 1)]
    return padded(f"CONSTRUCT {{ ?a ?b ?l{doublings} . ?d ?e ?l{doublings} }} WHERE {{ ?a ?b ?c . ?d ?e ?f "
                  + " ".join(binds) + " }")


def construct_scenario(server: Server, sampler: Sampler, args: argparse.Namespace, run_id: str, label: str,
                       limited: bool = True) -> list[dict]:
    port = server.port
    cases = [("cross product, 27 template triples", cross_construct(), 1),
             ("literals of 1 MiB", literal_construct(1), 1),
             (f"one literal of {args.literal_mib} MiB", literal_construct(args.literal_mib), 1),
             (f"literals of 1 MiB, {args.construct_burst} clients at once", literal_construct(1), args.construct_burst)]
    out = []
    for name, text, clients in cases:
        server.wait_sandboxes()
        offset = server.log_size()
        before = set(server.sandboxes())
        window = sampler.begin()
        answers: list[tuple] = []

        def one(i: int) -> None:
            try:
                status, headers, body, seconds = sparql(port, f"{text}\n# {run_id} {name} {i}", accept="text/turtle",
                                                        source=f"127.0.0.{40 + i}", timeout=60)
                answers.append((status, len(body), headers.get("x-rkg-truncated"), seconds, body[:200] if status != 200 else b""))
            except OSError as e:
                answers.append((None, 0, None, 0.0, str(e).encode()))

        threads = [threading.Thread(target=one, args=(i,)) for i in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(90)
        mem = sampler.end(window, settle=1.0)
        lines = crash_lines(server.log_since(offset))
        size_ok = all(a[0] == 200 and a[1] <= args.max_answer_bytes and a[2] for a in answers)
        if limited:  # an engine that hits the memory limit (512 MiB by default) fails: a refusal (4xx) is the expected other outcome
            size_ok = all((a[0] == 200 and a[1] <= args.max_answer_bytes and a[2]) or (a[0] is not None and 400 <= a[0] < 500)
                          for a in answers)
        result = {"server": server.name, "case": name, "query_bytes": len(text.encode()), "clients": clients,
                  "answers": [{"status": a[0], "bytes": a[1], "truncated": a[2], "seconds": a[3],
                               "error": a[4].decode(errors="replace")} for a in answers],
                  "memory": mem, "sandbox_peak_mib": sandbox_peak(mem), "worker_peak_growth_mib": worker_peak(mem),
                  "worker_retained_growth_mib": worker_retained(mem), "sandboxes_replaced": len(before - set(server.sandboxes())),
                  "log": lines}
        out.append(result)
        statuses = "/".join(str(a[0]) for a in answers)
        sizes = "/".join(f"{a[1] / MIB:.1f}" for a in answers)
        cut = "header present" if all(a[2] for a in answers) else "header MISSING on some"
        case = f"{label}: {name}"
        row("2 big CONSTRUCT", case + " — answer", f"{statuses}, {sizes} MiB, X-RKG-Truncated {cut}"
            + (f"; {answers[0][4].decode(errors='replace').strip()[:90]}" if answers and answers[0][0] != 200 else ""),
            f"200, ≤ {args.max_answer_bytes / MIB:g} MiB, header" + (", or 4xx" if limited else ""), size_ok)
        row("2 big CONSTRUCT", case + " — memory",
            f"sandbox peak {result['sandbox_peak_mib']:.0f} MiB; web worker growth peak "
            f"{result['worker_peak_growth_mib']:.1f} / retained {result['worker_retained_growth_mib']:.1f} MiB; "
            f"{result['sandboxes_replaced']} sandbox(es) replaced",
            f"sandbox ≤ {SANDBOX_TARGET_MIB} MiB, worker ≤ {WORKER_TARGET_MIB} MiB",
            result["sandbox_peak_mib"] <= SANDBOX_TARGET_MIB and result["worker_peak_growth_mib"] <= WORKER_TARGET_MIB)
    return out


# ---------------------------------------------------------------- 3. cache flood


def flood(port: int, bodies: list[tuple[str, bytes]], clients: int, base: int, timeout: float = 60) -> tuple[Counter, float]:
    """Send ``bodies`` ((content type, body), each once) from ``clients`` keep-alive clients (one address each)."""
    statuses: Counter = Counter()
    lock = threading.Lock()
    index = iter(range(len(bodies)))

    def client(i: int) -> None:
        conn = connection(port, f"127.0.0.{base + i}", timeout)
        while True:
            with lock:
                n = next(index, None)
            if n is None:
                break
            media, body = bodies[n]
            try:
                status = request(port, "POST", "/sparql", body, {"Content-Type": media, "Accept": JSON_RESULTS},
                                 conn=conn)[0]
            except (OSError, http.client.HTTPException):
                status = None
                conn.close()
                conn = connection(port, f"127.0.0.{base + i}", timeout)
            with lock:
                statuses[str(status)] += 1
        conn.close()

    t0 = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout * len(bodies))
    return statuses, time.monotonic() - t0


def flood_scenario(server: Server, sampler: Sampler, args: argparse.Namespace, run_id: str) -> list[dict]:
    port = server.port
    out = []
    # Answers just under the cache's largest entry (2,000,000 bytes): a padding column sized from one calibration.
    calib = sparql(port, f"SELECT ?s ?p ?o WHERE {{ ?s ?p ?o }} # calibration {run_id}")
    rows_n = max(1, len(json.loads(calib[2])["results"]["bindings"]))
    pad = max(0, int((1_900_000 - len(calib[2])) / rows_n) - 48)
    big_answer = f'SELECT ?s ?p ?o ?pad WHERE {{ ?s ?p ?o BIND("{"y" * pad}" AS ?pad) }}'
    answer_bytes = len(sparql(port, f"{big_answer} # check {run_id}")[2])
    if answer_bytes > 1_950_000:  # the writers differ a little: shrink the padding to stay cacheable
        pad = max(0, pad - int((answer_bytes - 1_850_000) / rows_n) - 1)
        big_answer = f'SELECT ?s ?p ?o ?pad WHERE {{ ?s ?p ?o BIND("{"y" * pad}" AS ?pad) }}'
        answer_bytes = len(sparql(port, f"{big_answer} # check2 {run_id}")[2])
    form_size = 16_000
    cases = [
        (f"{args.flood_queries} queries of ~{args.flood_bytes / MIB:.2f} MiB, small answers",
         lambda n: (SPARQL_QUERY, f"# {filler(args.flood_bytes - 80, f'{run_id}-{n}-')}\nASK {{ ?s a ?c }}".encode()),
         args.flood_queries),
        (f"{args.form_flood} form bodies of {form_size / 1000:g} KB (memoised parser)",
         lambda n: (FORM, urllib.parse.urlencode({"query": f"ASK {{ ?s a ?c }} # {filler(form_size - 40, f'{run_id}-{n}-')}"}).encode()),
         args.form_flood),
        (f"{args.answer_flood} queries with {answer_bytes / 1e6:.2f} MB answers (cacheable)",
         lambda n: (SPARQL_QUERY, f"{big_answer} # {run_id} {n}".encode()), args.answer_flood),
    ]
    for name, make, count in cases:
        if count <= 0:
            continue
        server.wait_sandboxes()
        offset = server.log_size()
        bodies = [make(n) for n in range(count)]
        sizes = [len(b) for _, b in bodies]
        window = sampler.begin()
        statuses, seconds = flood(port, bodies, args.flood_clients, 60)
        del bodies
        mem = sampler.end(window, settle=1.5)
        result = {"server": server.name, "case": name, "requests": count, "request_bytes_mean": statistics.fmean(sizes),
                  "statuses": dict(statuses), "seconds": seconds, "memory": mem,
                  "worker_peak_growth_mib": worker_peak(mem), "worker_retained_growth_mib": worker_retained(mem),
                  "log": crash_lines(server.log_since(offset))}
        out.append(result)
        per_worker = ", ".join(f"{w['before_mib']:.0f}→{w['peak_mib']:.0f}→{w['after_mib']:.0f}"
                               for w in mem["workers"].values())
        row("3 cache flood", name, f"statuses {dict(statuses)} in {seconds:.1f} s; web worker RSS MiB before→peak→after: "
            f"{per_worker} (growth peak {result['worker_peak_growth_mib']:.1f}, retained "
            f"{result['worker_retained_growth_mib']:.1f})", f"worker growth ≤ {WORKER_TARGET_MIB} MiB",
            result["worker_peak_growth_mib"] <= WORKER_TARGET_MIB)
    return out


# ---------------------------------------------------------------- 4. deep nesting


def deep_scenario(server: Server, sampler: Sampler, args: argparse.Namespace, run_id: str) -> list[dict]:
    port, n = server.port, args.depth
    refused = [
        ("{", "SELECT * WHERE " + "{ " * n + "?s ?p ?o" + " }" * n),
        ("OPTIONAL {", "SELECT * WHERE { ?s ?p ?o " + "OPTIONAL { ?s ?p ?o " * n + "}" * n + " }"),
        ("(", "SELECT * WHERE { ?s ?p ?o FILTER(" + "(" * n + "?o" + ")" * n + ") }"),
        ("[", "SELECT * WHERE { ?s ?p " + "[ ?p " * n + "?o" + " ]" * n + " }"),
        ("\\u0028 (escaped)", "SELECT * WHERE { ?s ?p ?o FILTER(" + "\\u0028" * n + "?o" + "\\u0029" * n + ") }"),
    ]
    chains = [
        ("|| chain (no brackets)", "SELECT * WHERE { ?s ?p ?o FILTER(" + " || ".join(["?o = 1"] * n) + ") }"),
        ("+ chain (no brackets)", "ASK { ?s ?p ?o FILTER(" + "+".join(["1"] * n) + " > 0) }"),
    ]
    server.wait_sandboxes()
    offset = server.log_size()
    before = set(server.sandboxes())
    window = sampler.begin()
    out = []
    for kind, items in (("refused", refused), ("chain", chains)):
        for name, text in items:
            for via in ("POST", "form"):
                body = text if via == "POST" else urllib.parse.urlencode({"query": text})
                media = SPARQL_QUERY if via == "POST" else FORM
                try:
                    status, _, answer, seconds = request(port, "POST", "/sparql", f"{body}".encode(),
                                                         {"Content-Type": media, "Accept": JSON_RESULTS},
                                                         source="127.0.0.30", timeout=30)
                except OSError as e:
                    status, answer, seconds = None, str(e).encode(), 0.0
                out.append({"case": name, "via": via, "kind": kind, "bytes": len(body), "status": status,
                            "seconds": seconds, "message": answer[:160].decode(errors="replace").strip()})
                if kind == "chain":
                    break  # one is enough: the cost is the engine's
    time.sleep(1.0)
    mem = sampler.end(window, settle=0.5)
    after = set(server.sandboxes())
    lines = crash_lines(server.log_since(offset))
    intact = before <= after and lines["sandbox_deaths"] == 0
    for r in out:
        ok = r["status"] == 400 if r["kind"] == "refused" else (r["status"] is not None and r["status"] < 500)
        expected = "400" if r["kind"] == "refused" else "no 5xx"
        row("4 deep nesting", f"{n:,} × {r['case']} ({r['via']}, {r['bytes'] / 1000:.0f} KB)",
            f"{r['status']} in {r['seconds'] * 1000:.0f} ms: {r['message'][:70]}", expected, ok)
    row("4 deep nesting", "sandboxes", f"{len(before)} before, {len(before & after)} of them still running after, "
        f"{lines['sandbox_deaths']} deaths logged; sandbox peak {sandbox_peak(mem):.0f} MiB",
        "no sandbox ended", intact)
    return [{"server": server.name, "requests": out, "sandboxes_before": sorted(before), "sandboxes_after": sorted(after),
             "memory": mem, "log": lines}]


# ---------------------------------------------------------------- 5. soak


def soak_client(port: int, first: int, threads: int, mix: list[tuple[str, str, str, str | None]], start: float,
                stop: float, run_id: str, results: "mp.Queue") -> None:
    """One process of the soak: ``threads`` keep-alive clients, each from its own 127.0.1.x address."""
    gathered: list[tuple[str, int | None, float, bool]] = []
    lock = threading.Lock()

    def one(i: int) -> None:
        address = f"127.0.1.{first + i + 1}"
        conn = connection(port, address, 30)
        local = []
        n = 0
        while time.time() < start:
            time.sleep(0.01)
        while time.time() < stop and n < 200_000:
            kind, method, path, text = mix[(first + i + n) % len(mix)]
            n += 1
            accept = {"page": "text/html", "api": "*/*", "api-accept-json": "application/json",
                      "health": "application/json"}.get(kind, JSON_RESULTS)
            body, headers = None, {"Accept": accept}
            if text is not None:
                if kind == "sparql-unique":
                    text = f"{text} # soak {run_id} {address} {n}"
                body, headers["Content-Type"] = text.encode(), SPARQL_QUERY
            t0 = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                r = conn.getresponse()
                r.read()
                local.append((kind, r.status, time.perf_counter() - t0, r.getheader("Retry-After") is not None))
                if r.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = connection(port, address, 30)
            except (OSError, http.client.HTTPException):
                local.append((kind, None, time.perf_counter() - t0, False))
                conn.close()
                conn = connection(port, address, 30)
        conn.close()
        with lock:
            gathered.extend(local)

    pool = [threading.Thread(target=one, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(stop - time.time() + 60)
    results.put(gathered)


def soak_scenario(server: Server, sampler: Sampler, args: argparse.Namespace, run_id: str) -> dict:
    port = server.port
    listing = json.loads(request(port, "GET", "/api/queries")[2])
    names = [q["name"] for q in listing if not q["qc"] and not any(p["required"] for p in q["parameters"])]
    repeated = ["SELECT ?c (COUNT(?s) AS ?n) WHERE { ?s a ?c } GROUP BY ?c ORDER BY DESC(?n)",
                "PREFIX skos: <http://www.w3.org/2004/02/skos/core#> SELECT ?s ?l WHERE { ?s skos:prefLabel ?l } LIMIT 200",
                "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"]
    mix: list[tuple[str, str, str, str | None]] = []
    for i in range(max(4, len(names))):
        mix += [("sparql-repeated", "POST", "/sparql", repeated[i % len(repeated)]),
                ("sparql-unique", "POST", "/sparql", repeated[(i + 1) % len(repeated)]),
                ("page", "GET", "/" if i % 2 == 0 else "/coverage", None)]
        if names:
            mix.append(("api", "GET", f"/api/queries/{names[i % len(names)]}?format={'json' if i % 2 else 'csv'}", None))
        if i % 2 == 0:
            mix.append(("health", "GET", "/health", None))
        if names and i % 4 == 0:  # format chosen by Accept: application/json, as the README says it can be
            mix.append(("api-accept-json", "GET", f"/api/queries/{names[i % len(names)]}", None))
    server.wait_sandboxes()
    offset = server.log_size()
    window = sampler.begin()
    ctx = mp.get_context("spawn")
    results: mp.Queue = ctx.Queue()
    per_process = 8
    processes = math.ceil(args.soak_clients / per_process)
    start = time.time() + 2.0  # the spawned processes have started by then
    stop = start + args.soak_seconds
    procs = []
    for p in range(processes):
        threads = min(per_process, args.soak_clients - p * per_process)
        procs.append(ctx.Process(target=soak_client, daemon=True,
                                 args=(port, p * per_process, threads, mix, start, stop, run_id, results)))
    for p in procs:
        p.start()
    gathered = []
    for _ in procs:
        try:
            gathered.extend(results.get(timeout=args.soak_seconds + 90))
        except Exception:  # noqa: BLE001 - a client process died: what it measured is lost, say so below
            break
    for p in procs:
        p.join(10)
        if p.is_alive():
            p.kill()
    mem = sampler.end(window, settle=0.5)
    lines = crash_lines(server.log_since(offset))
    errors = [g for g in gathered if g[1] is None or (g[1] >= 500 and not (g[1] == 503 and g[3]))]
    times = [g[2] for g in gathered]
    by_kind = {}
    for kind in sorted({g[0] for g in gathered}):
        t = [g[2] for g in gathered if g[0] == kind]
        by_kind[kind] = {"requests": len(t), "p50_ms": percentile(t, 50) * 1000, "p99_ms": percentile(t, 99) * 1000,
                         "statuses": dict(Counter(str(g[1]) for g in gathered if g[0] == kind))}
    result = {"server": server.name, "clients": args.soak_clients, "seconds": args.soak_seconds,
              "requests": len(gathered), "rps": len(gathered) / args.soak_seconds, "errors": len(errors),
              "error_statuses": dict(Counter(str(g[1]) for g in errors)),
              "statuses": dict(Counter(str(g[1]) for g in gathered)),
              "p50_ms": percentile(times, 50) * 1000, "p99_ms": percentile(times, 99) * 1000,
              "max_ms": max(times, default=float("nan")) * 1000, "by_kind": by_kind, "named_queries": names,
              "memory": mem, "log": lines, "client_processes_reported": len(gathered) > 0}
    row("5 soak", f"{args.soak_clients} clients × {args.soak_seconds:g} s",
        f"{len(gathered)} requests ({result['rps']:.0f}/s), {len(errors)} errors {result['error_statuses'] or ''}, "
        f"p50 {result['p50_ms']:.0f} ms, p99 {result['p99_ms']:.0f} ms, max {result['max_ms']:.0f} ms; "
        f"statuses {result['statuses']}; worker growth {worker_peak(mem):.1f} MiB; machine busy {mem['machine_busy_pct']:.0f} % of a core (other processes {mem['other_cpu_pct']:.0f} %)",
        "0 errors", len(errors) == 0 and len(gathered) > 0)
    for kind, v in by_kind.items():
        row("5 soak", f"  {kind}", f"{v['requests']} requests, p50 {v['p50_ms']:.0f} ms, p99 {v['p99_ms']:.0f} ms, "
            f"statuses {v['statuses']}")
    return result


# ---------------------------------------------------------------- 6. kill -9 during writes


READ_STORE = r"""
import json, sys
import pyoxigraph as ox
store = ox.Store.read_only(sys.argv[1])
g = ox.NamedNode(sys.argv[2])
print(json.dumps([[q.subject.value, q.predicate.value] for q in store.quads_for_pattern(None, None, None, g)]))
"""


def write_text(rnd: int, writer: int, n: int) -> str:
    s = f"<{TEST}w/{rnd}/{writer}/{n}>"
    return f'INSERT DATA {{ GRAPH <{KILL_GRAPH}> {{ {s} <{TEST}a> "{n}" . {s} <{TEST}b> "{n}" }} }}'


def present(pairs: list[list[str]]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for s, p in pairs:
        found.setdefault(s, set()).add(p.rsplit("/", 1)[-1])
    return found


def served_pairs(port: int) -> list[list[str]]:
    status, _, body, _ = sparql(port, f"SELECT ?s ?p WHERE {{ GRAPH <{KILL_GRAPH}> {{ ?s ?p ?o }} }}")
    if status != 200:
        raise RuntimeError(f"reading the test graph answered {status}")
    return [[b["s"]["value"], b["p"]["value"]] for b in json.loads(body)["results"]["bindings"]]


def kill_scenario(workdir: Path, logs: Path, args: argparse.Namespace) -> dict:
    rng = random.Random(args.seed)
    location = workdir / "kill-store"
    server_args = ["--build-dir", str(workdir / "build"), "--location", str(location), "--allow-update", "--workers", "1"]
    server = Server("writable (kill -9)", server_args, logs / "kill.log", {"RKG_UPDATE_TOKEN": TOKEN})
    rounds = []
    env = {**os.environ, "PYTHONPATH": str(ROOT / "server")}
    try:
        server.start()
        for rnd in range(1, args.kill_rounds + 1):
            acked: dict[str, str] = {}  # subject → status (or "no answer")
            stop = threading.Event()

            def writer(w: int) -> None:
                conn = connection(server.port, f"127.0.0.{20 + w}", 15)
                for n in range(args.kill_max_writes):
                    if stop.is_set():
                        break
                    subject = f"{TEST}w/{rnd}/{w}/{n}"
                    acked[subject] = "sent"
                    try:
                        status = update(server.port, write_text(rnd, w, n), conn=conn)[0]
                    except (OSError, http.client.HTTPException):
                        acked[subject] = "no answer"
                        break
                    acked[subject] = str(status)
                conn.close()

            threads = [threading.Thread(target=writer, args=(w,), daemon=True) for w in range(args.kill_writers)]
            t0 = time.monotonic()
            for t in threads:
                t.start()
            delay = rng.uniform(0.5, args.kill_after_max)
            time.sleep(delay)
            server.kill9()
            stop.set()
            for t in threads:
                t.join(20)
            done = subprocess.run([sys.executable, "-c", READ_STORE, str(location), KILL_GRAPH], capture_output=True,
                                  text=True, env=env, timeout=120)
            if done.returncode != 0:
                raise RuntimeError(f"reading the killed store failed: {done.stderr[-500:]}")
            in_store = present(json.loads(done.stdout))
            server.start()  # restarted on the same store
            restart_s = server.started_s
            in_view = present(served_pairs(server.port))
            ok = [s for s, st in acked.items() if st == "204"]
            lost = [s for s in ok if in_store.get(s) != {"a", "b"}]
            lost_view = [s for s in ok if in_view.get(s) != {"a", "b"}]
            mine = {s: v for s, v in in_store.items() if s.startswith(f"{TEST}w/{rnd}/")}
            half = [s for s, v in mine.items() if v != {"a", "b"}]
            unacked_applied = [s for s, st in acked.items() if st != "204" and in_store.get(s) == {"a", "b"}]
            other = Counter(st for st in acked.values() if st != "204")
            rounds.append({"round": rnd, "kill_after_s": delay, "writes_sent": len(acked), "acknowledged": len(ok),
                           "not_acknowledged": dict(other), "lost": len(lost), "lost_in_served_view": len(lost_view),
                           "half_applied": len(half), "unacknowledged_but_applied": len(unacked_applied),
                           "store_view_differs": sorted(set(in_store) ^ set(in_view))[:10],
                           "restart_s": restart_s, "written_s": time.monotonic() - t0})
            r = rounds[-1]
            log(f"kill round {rnd}: killed after {delay:.2f} s, {r['acknowledged']} acknowledged, {r['lost']} lost, "
                f"{r['half_applied']} half-applied, restart {restart_s:.1f} s")
    finally:
        server.stop()
    total = {k: sum(r[k] for r in rounds) for k in ("writes_sent", "acknowledged", "lost", "lost_in_served_view",
                                                    "half_applied", "unacknowledged_but_applied")}
    restarts = ", ".join(f"{r['restart_s']:.1f}" for r in rounds)
    row("6 kill -9 during writes", f"{len(rounds)} rounds × {args.kill_writers} writers",
        f"{total['acknowledged']} acknowledged, {total['lost']} lost ({total['lost_in_served_view']} missing from the "
        f"restarted server's view), {total['half_applied']} half-applied, {total['unacknowledged_but_applied']} "
        f"unacknowledged but applied; restarts {restarts} s",
        "0 lost, 0 half-applied", total["lost"] == 0 and total["half_applied"] == 0 and len(rounds) == args.kill_rounds)
    return {"rounds": rounds, "total": total}


# ---------------------------------------------------------------- report


def compact(details: dict, args: argparse.Namespace) -> list[Row]:
    """One row per scenario and server (the detailed rows are in the results file)."""
    out: list[Row] = []
    for key, label in (("slow_read_only", "read-only"), ("slow_writable", "writable")):
        d = details.get(key)
        if not d:
            continue
        probes = "; ".join(f"{k} p50 {v['p50_ms']:.0f} / p99 {v['p99_ms']:.0f} / max {v['max_ms']:.0f} ms"
                           for k, v in d["probes"].items())
        waited = max((v["before_app_max_ms"] for v in d["probes"].values() if not math.isnan(v["before_app_max_ms"])),
                     default=float("nan"))
        inside = max((v["in_app_max_ms"] for v in d["probes"].values() if not math.isnan(v["in_app_max_ms"])),
                     default=float("nan"))
        statuses = ", ".join(f"{k} {'/'.join(f'{s}×{c}' for s, c in v['statuses'].items())}" for k, v in d["probes"].items())
        out.append(Row("1 slow clients + runaway", label,
                       f"{probes}; statuses {statuses}; longest wait before the app {waited:.0f} ms, inside it "
                       f"{inside:.0f} ms. Attacker: {d['slow_heads']['closed_by_server']} slow sockets closed by the "
                       f"server, runaway answers {d['runaway_statuses']}; {d['sandbox_replacements']['replacements']} "
                       f"sandboxes replaced, ready after {d['sandbox_replacements']['ready_after_max_s']:.1f} s at most",
                       "probes 2xx, < 1 s", d["all_2xx"] and d["max_probe_ms"] < PROBE_TARGET_S * 1000))
    for key, label in (("construct", "defaults"), ("construct_memory_limited", f"--sandbox-memory {args.memory_limit_mib}")):
        cases = details.get(key)
        if not cases:
            continue
        names = ["cross product", "1 MiB literals", f"{args.literal_mib} MiB literal", f"1 MiB literals ×{args.construct_burst}"]
        answers = ", ".join(f"{n} {'/'.join(str(a['status']) for a in c['answers'][:1])} "
                            f"{max(a['bytes'] for a in c['answers']) / MIB:.1f} MiB"
                            + ("" if all(a["truncated"] for a in c["answers"]) else " (no header)")
                            for n, c in zip(names, cases))
        ok_answers = all((a["status"] == 200 and a["bytes"] <= args.max_answer_bytes and a["truncated"])
                         or (a["status"] is not None and 400 <= a["status"] < 500)
                         for c in cases for a in c["answers"])
        out.append(Row("2 big CONSTRUCT", f"{label}: answers", answers,
                       f"≤ {args.max_answer_bytes / MIB:g} MiB + X-RKG-Truncated, or 4xx",
                       ok_answers))
        out.append(Row("2 big CONSTRUCT", f"{label}: sandbox peak RSS",
                       ", ".join(f"{n} {c['sandbox_peak_mib']:.0f} MiB" + (f" ({c['sandboxes_replaced']} replaced)"
                                                                          if c["sandboxes_replaced"] else "")
                                 for n, c in zip(names, cases)),
                       f"≤ {SANDBOX_TARGET_MIB} MiB", all(c["sandbox_peak_mib"] <= SANDBOX_TARGET_MIB for c in cases)))
        out.append(Row("2 big CONSTRUCT", f"{label}: web worker RSS growth, peak (retained)",
                       ", ".join(f"{n} {c['worker_peak_growth_mib']:.0f} ({c['worker_retained_growth_mib']:.0f}) MiB"
                                 for n, c in zip(names, cases)),
                       f"≤ {WORKER_TARGET_MIB} MiB", all(c["worker_peak_growth_mib"] <= WORKER_TARGET_MIB for c in cases)))
    for c in details.get("flood", []):
        out.append(Row("3 cache flood", c["case"],
                       f"statuses {c['statuses']}; web worker growth peak {c['worker_peak_growth_mib']:.0f}, retained "
                       f"{c['worker_retained_growth_mib']:.0f} MiB", f"≤ {WORKER_TARGET_MIB} MiB",
                       c["worker_peak_growth_mib"] <= WORKER_TARGET_MIB))
    for d in details.get("deep", []):
        refused = [r for r in d["requests"] if r["kind"] == "refused"]
        chains = [r for r in d["requests"] if r["kind"] == "chain"]
        intact = set(d["sandboxes_before"]) <= set(d["sandboxes_after"]) and d["log"]["sandbox_deaths"] == 0
        out.append(Row("4 deep nesting", f"{args.depth:,} × {{ OPTIONAL ( [ \\u0028, POST and form",
                       f"{sum(r['status'] == 400 for r in refused)} of {len(refused)} answered 400, in at most "
                       f"{max(r['seconds'] for r in refused) * 1000:.0f} ms", "400", all(r["status"] == 400 for r in refused)))
        out.append(Row("4 deep nesting", f"{args.depth:,}-term || and + chains (not refused)",
                       ", ".join(f"{r['status']} in {r['seconds']:.1f} s" for r in chains) +
                       f"; sandboxes {'all still running' if intact else 'NOT all still running'}, "
                       f"{d['log']['sandbox_deaths']} deaths logged",
                       "no 5xx, no sandbox ended",
                       intact and all(r["status"] is not None and r["status"] < 500 for r in chains)))
    d = details.get("soak")
    if d:
        kinds = ", ".join(f"{k} {'/'.join(v['statuses'])}" for k, v in d["by_kind"].items())
        out.append(Row("5 soak", f"{d['clients']} clients × {d['seconds']:g} s",
                       f"{d['requests']:,} requests ({d['rps']:.0f}/s), {d['errors']} errors, p50 {d['p50_ms']:.0f} ms, "
                       f"p99 {d['p99_ms']:.0f} ms, max {d['max_ms']:.0f} ms; statuses by kind: {kinds}",
                       "0 errors", d["errors"] == 0 and d["requests"] > 0))
    d = details.get("kill")
    if d:
        t = d["total"]
        out.append(Row("6 kill -9 during writes", f"{len(d['rounds'])} rounds × {args.kill_writers} writers",
                       f"{t['acknowledged']} acknowledged, {t['lost']} lost, {t['half_applied']} half-applied "
                       f"({t['unacknowledged_but_applied']} unacknowledged writes applied); restarted in "
                       f"{max(r['restart_s'] for r in d['rounds']):.1f} s at most",
                       "0 lost, 0 half-applied", t["lost"] == 0 and t["half_applied"] == 0))
    return out


def table(rows: list[Row]) -> str:
    lines = ["| scenario | case | result | target | met |", "|---|---|---|---|---|"]
    for r in rows:
        met = "" if r.met is None else ("yes" if r.met else "**NO**")
        cells = [r.scenario, r.case, r.result, r.target, met]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def plain_table(rows: list[Row]) -> str:
    out = []
    for r in rows:
        met = "" if r.met is None else ("ok " if r.met else "MISS")
        out.append(f"{met:4} {r.scenario:<24} {r.case}\n{'':29}{r.result}" + (f"\n{'':29}target: {r.target}" if r.target else ""))
    return "\n".join(out)


def missed_text(rows: list[Row]) -> str:
    missed = [r for r in rows if r.met is False]
    return (f"targets met: {sum(1 for r in rows if r.met)} of {sum(1 for r in rows if r.met is not None)}"
            + ("; missed: " + "; ".join(f"{r.scenario} / {r.case}" for r in missed) if missed else ""))


def markdown(meta: dict, summary: list[Row], rows: list[Row]) -> str:
    m = meta["machine"]
    changed = m["server_files_changed_since_commit"]
    return f"""# Attack benchmark {meta['started']}

- machine: {m['nproc']} CPUs, {m['memory_gib']} GiB memory, {m['platform']}, Python {m['python']}; load average
  at start {m['loadavg_at_start']:.2f}; commit {m['commit']}{' (server files changed since: ' + ', '.join(changed) + ')' if changed else ''}
- servers: {'; '.join(f"{k}: `rkg serve {v}`" for k, v in meta['servers'].items())}
- options: {json.dumps(meta['options'])}
- duration: {meta['seconds']:.0f} s; {missed_text(summary)}

## Summary

{table(summary)}

## Every case

{table(rows)}
"""


def update_summary(path: Path, meta: dict, rows: list[Row], stamp: str) -> None:
    m = meta["machine"]
    changed = " (with uncommitted changes to " + ", ".join(m["server_files_changed_since_commit"]) + ")" \
        if m["server_files_changed_since_commit"] else ""
    met = missed_text(rows)
    body = f"""{SUMMARY_BEGIN}
`bench/attack.py`, {meta['started'][:10]}, commit {m['commit']}{changed}, on {m['nproc']} CPUs and {m['memory_gib']} GiB;
{meta['seconds']:.0f} s in all; every case in `bench/results/attack-{stamp}.md` (git-ignored). {met[:1].upper() + met[1:]}.

{table(rows)}
{SUMMARY_END}"""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if SUMMARY_BEGIN in text and SUMMARY_END in text:
        head, rest = text.split(SUMMARY_BEGIN, 1)
        text = head + body + rest.split(SUMMARY_END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n## Attack benchmark\n\n" + body + "\n"
    path.write_text(text, encoding="utf-8")


# ---------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="shorter and smaller everything (about 1.5 minutes)")
    p.add_argument("--scenarios", default="slow,construct,flood,deep,soak,kill",
                   help="comma-separated subset of: slow, construct, flood, deep, soak, kill (default: all)")
    p.add_argument("--slow-clients", type=int, default=50, help="sockets trickling a head, 1 byte/s (default: 50, at most 200)")
    p.add_argument("--runaway", type=int, default=8, help="runaway queries kept running by the attacker (default: 8)")
    p.add_argument("--slow-seconds", type=float, default=20.0, help="probe time per server in scenario 1 (default: 20; quick: 8)")
    p.add_argument("--probe-interval", type=float, default=0.5, help="seconds between probes (default: 0.5)")
    p.add_argument("--literal-mib", type=int, default=64,
                   help="size of the one long literal of scenario 2, a power of 2, at most 128 (default: 64; quick: 32)")
    p.add_argument("--construct-burst", type=int, default=4, help="clients sending the 1 MiB-literal CONSTRUCT at once (default: 4)")
    p.add_argument("--memory-limit-mib", type=int, default=512,
                   help="scenario 2 again on a server with --sandbox-memory of this size (0: skip; default: 512)")
    p.add_argument("--max-answer-bytes", type=int, default=16 * MIB, help="the servers' --max-answer-bytes (default: 16 MiB)")
    p.add_argument("--flood-queries", type=int, default=300, help="distinct ~1 MiB queries (default: 300; quick: 60)")
    p.add_argument("--flood-bytes", type=int, default=1_040_000, help="size of each (default: 1,040,000, under the 1 MiB limit)")
    p.add_argument("--form-flood", type=int, default=2100, help="distinct 16 KB form bodies (default: 2,100; quick: 300)")
    p.add_argument("--answer-flood", type=int, default=100, help="distinct queries with 1.9 MB answers (default: 100; quick: 30)")
    p.add_argument("--flood-clients", type=int, default=4, help="keep-alive clients sending the flood (default: 4)")
    p.add_argument("--depth", type=int, default=5000, help="nesting depth of scenario 4 (default: 5,000)")
    p.add_argument("--soak-clients", type=int, default=32, help="soak clients (default: 32)")
    p.add_argument("--soak-seconds", type=float, default=60.0, help="soak duration (default: 60; quick: 15)")
    p.add_argument("--kill-rounds", type=int, default=4, help="kill -9 / restart rounds (default: 4; quick: 2)")
    p.add_argument("--kill-writers", type=int, default=2, help="concurrent writers in scenario 6 (default: 2)")
    p.add_argument("--kill-max-writes", type=int, default=2000, help="writes per writer and round at most (default: 2,000)")
    p.add_argument("--kill-after-max", type=float, default=3.0, help="the kill comes 0.5 s to this many seconds after the first write (default: 3)")
    p.add_argument("--seed", type=int, default=9, help="random seed of the kill moments (default: 9)")
    p.add_argument("--quiet-wait", type=float, default=30.0,
                   help="seconds to wait at most, before each server starts and before the soak and the slow clients, "
                        "for other processes to leave the CPU (default: 30)")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results", help="folder for the JSON and Markdown results")
    p.add_argument("--summary", action=argparse.BooleanOptionalAction, default=None,
                   help="write the 'Attack benchmark' section of bench/summary.md (default: yes, except with --quick)")
    args = p.parse_args(argv)
    if args.quick:
        defaults = {"slow_seconds": 8.0, "literal_mib": 32, "flood_queries": 60, "form_flood": 300, "answer_flood": 30,
                    "soak_seconds": 15.0, "kill_rounds": 2}
        for name, value in defaults.items():
            if getattr(args, name) == p.get_default(name):
                setattr(args, name, value)
    if args.summary is None:
        args.summary = not args.quick
    args.scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    if unknown := set(args.scenarios) - {"slow", "construct", "flood", "deep", "soak", "kill"}:
        p.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    if not 1 <= args.slow_clients <= 200 or not 1 <= args.runaway <= 32:
        p.error("--slow-clients must be 1..200 and --runaway 1..32")
    if args.literal_mib not in (1, 2, 4, 8, 16, 32, 64, 128):
        p.error("--literal-mib must be a power of 2 up to 128 (a bigger one can take gigabytes per sandbox)")
    if not 0 < args.slow_seconds <= 120 or not 0 < args.soak_seconds <= 600 or not 1 <= args.soak_clients <= 128:
        p.error("--slow-seconds must be 0..120, --soak-seconds 0..600, --soak-clients 1..128")
    if args.flood_bytes > 1_048_000 or args.kill_rounds > 20 or args.kill_after_max < 0.5:
        p.error("--flood-bytes at most 1,048,000 (the request limit), --kill-rounds at most 20, --kill-after-max ≥ 0.5")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = datetime.now(timezone.utc)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    run_id = started.strftime("%H%M%S")
    t_start = time.monotonic()
    args.out.mkdir(parents=True, exist_ok=True)
    logs = args.out / f"attack-{stamp}-logs"
    logs.mkdir()
    details: dict = {}
    servers_meta: dict[str, str] = {}
    sampler = Sampler()
    active: list[Server] = []
    with tempfile.TemporaryDirectory(prefix="rkg-attack-") as tmp:
        workdir = Path(tmp)
        env = {**os.environ, "PYTHONPATH": str(ROOT / "server")}
        subprocess.run([sys.executable, "-m", "rkg", "build", "--root", str(ROOT), "--build-dir", str(workdir / "build"),
                        "-q"], check=True, cwd=ROOT, stdout=subprocess.DEVNULL, env=env)
        common = ["--build-dir", str(workdir / "build"), "--max-answer-bytes", str(args.max_answer_bytes)]

        def start(name: str, extra: list[str], env: dict | None = None, shown: str = "") -> Server:
            server = Server(name, [*common, *extra], logs / f"{name}.log", env or {})
            waited = wait_quiet(args.quiet_wait)
            if waited > 3:
                log(f"waited {waited:.0f} s for other processes to leave the CPU")
            log(f"starting {name}: rkg serve {shown or ' '.join(extra) or '(defaults)'}")
            server.start()
            active.append(server)
            servers_meta[name] = shown or " ".join(extra) or "(defaults)"
            sampler.attach(server)
            log(f"{name} up in {server.started_s:.1f} s, workers {server.workers()}, sandboxes {server.sandboxes()}")
            return server

        def stop(server: Server) -> None:
            sampler.attach(None)
            server.stop()
            active.remove(server)

        try:
            if {"deep", "construct", "flood", "soak", "slow"} & set(args.scenarios):
                ro = start("read-only", [])
                # Warm-up: every kind of request once, so that baselines include what normal use allocates.
                for path in ("/", "/coverage", "/questions", "/api/queries", "/health", "/sparql?query=ASK%7B%7D"):
                    request(ro.port, "GET", path, headers={"Accept": "text/html" if "?" not in path else JSON_RESULTS})
                if "deep" in args.scenarios:
                    details["deep"] = deep_scenario(ro, sampler, args, run_id)
                if "construct" in args.scenarios:
                    details["construct"] = construct_scenario(ro, sampler, args, run_id, "defaults")
                if "flood" in args.scenarios:
                    details["flood"] = flood_scenario(ro, sampler, args, run_id)
                if "soak" in args.scenarios:
                    wait_quiet(args.quiet_wait)
                    details["soak"] = soak_scenario(ro, sampler, args, run_id)
                if "slow" in args.scenarios:
                    wait_quiet(args.quiet_wait)
                    details["slow_read_only"] = slow_scenario(ro, sampler, args, False, run_id)
                stop(ro)
            if "construct" in args.scenarios and args.memory_limit_mib > 0:
                limited = start("memory-limited", ["--sandbox-memory", str(args.memory_limit_mib)])
                details["construct_memory_limited"] = construct_scenario(
                    limited, sampler, args, run_id, f"--sandbox-memory {args.memory_limit_mib}", limited=True)
                stop(limited)
            if "slow" in args.scenarios:
                store = workdir / "slow-store"
                writable = start("writable", ["--location", str(store), "--allow-update", "--workers", "1"],
                                 {"RKG_UPDATE_TOKEN": TOKEN}, "--location STORE --allow-update --workers 1 (token in RKG_UPDATE_TOKEN)")
                details["slow_writable"] = slow_scenario(writable, sampler, args, True, run_id)
                stop(writable)
            if "kill" in args.scenarios:
                wait_quiet(args.quiet_wait)
                log(f"kill -9 during writes: {args.kill_rounds} rounds")
                servers_meta["writable (kill -9)"] = "--location STORE --allow-update --workers 1"
                details["kill"] = kill_scenario(workdir, logs, args)
        finally:
            sampler.close()
            for server in list(active):
                server.stop()
    seconds = time.monotonic() - t_start
    options = {k: v for k, v in vars(args).items() if k not in ("out", "summary")}
    meta = {"started": started.isoformat(timespec="seconds"), "seconds": seconds, "machine": machine(),
            "servers": servers_meta, "options": options}
    summary = compact(details, args)
    report = {"meta": meta, "summary": [r.__dict__ for r in summary], "rows": [r.__dict__ for r in ROWS],
              "details": details}
    json_path = args.out / f"attack-{stamp}.json"
    md_path = args.out / f"attack-{stamp}.md"
    json_path.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    md_path.write_text(markdown(meta, summary, ROWS), encoding="utf-8")
    if args.summary:
        update_summary(ROOT / "bench" / "summary.md", meta, summary, stamp)
    m = meta["machine"]
    print(f"\nAttack benchmark {meta['started']}: {m['nproc']} CPUs, {m['memory_gib']} GiB, commit {m['commit']}, "
          f"{seconds:.0f} s\n")
    print(plain_table(summary))
    print(f"\n{missed_text(summary)}")
    rel = (lambda p: p.relative_to(ROOT) if p.is_relative_to(ROOT) else p)
    print(f"written: {rel(json_path)}, {rel(md_path)}" + (", bench/summary.md" if args.summary else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
