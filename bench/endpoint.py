"""Benchmark the rkg SPARQL endpoint against ``oxigraph serve-read-only`` on the same built graph.

Both servers are started on the loopback interface on the same graph (build/rkg.nq), the answers to the
analyst queries of queries/ are compared, then each server gets the same load, one after the other:
the same requests, the same number of concurrent keep-alive clients, the same warm-up and duration.

Two workloads:

``repeated``
    the analyst queries (parameters bound to their defaults) cycled, the same texts again and again:
    what dashboards and analysts send. rkg's result cache answers them after the first time.
``unique``
    the same queries, each request made distinct by a nonce bound in the query's VALUES block (a one-row
    join that changes neither the answer nor the work), so no cache can answer.

The load generator is ``wrk`` (Debian package ``wrk``: ``apt-get install wrk``) when it is on PATH: a C
client that keeps the 2-core machine's CPU for the servers. Without it a Python client (one process per
client, raw keep-alive ``http.client`` connections) is used; its own CPU use lowers both servers'
numbers, so the output says which client ran.

Run from the project folder:  .venv/bin/python bench/endpoint.py [--duration S] [--clients N]
Results: a table on stdout, and bench/results/endpoint-<timestamp>.json and .md.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "server"))  # run from a checkout without installing
sys.path.insert(0, str(ROOT / "tests"))  # the tests' server harness (tests/support/server.py), shared with them

import pyoxigraph as ox  # noqa: E402

from rkg import __version__ as RKG_VERSION  # noqa: E402
from rkg import build as build_mod  # noqa: E402
from rkg.bindings import bind  # noqa: E402
from rkg.catalog import Catalog, ParameterError  # noqa: E402
from support.build import ensure_built as build_once, union_triples  # noqa: E402
from support.server import free_port, launch, serve_args, terminate, wait_ready  # noqa: E402

ACCEPT = "application/sparql-results+json"
FORM = "application/x-www-form-urlencoded"
NONCE = "BENCHNONCE"  # placeholder replaced per request in the unique workload (survives URL-encoding)
# Parameters without a default in the query header, and the value the benchmark gives them.
EXTRA_PARAMS = {
    "ues-covering-dimension": {"dimension": "https://w3id.org/rkg/id/rncp31854-pif/dimension/4"},
    "ue-profile": {"unit": "UE08"},
    "search-labels": {"text": "évaluation"},
    "esco-occupation-skills-not-covered": {"occupation": "http://data.europa.eu/esco/occupation/0ba06640-e0ac-4911-9e43-289a8e41651e"},
}
WORKLOADS = ("repeated", "unique")
DISTURBED = 0.15
"""A measurement during which other processes used more than this share of a core is taken again."""


# ---------------------------------------------------------------- queries


@dataclass(frozen=True)
class BenchQuery:
    name: str
    text: str
    """The query with its parameters bound (repeated workload)."""
    template: str
    """The same with a ``?bench_nonce`` VALUES column whose value is ``NONCE`` (unique workload)."""

    def unique(self, nonce: str) -> str:
        return self.template.replace(NONCE, nonce)


def strip_comments(text: str) -> str:
    """Drop whole-line comments (the grlc ``#+`` header): clients send the query, not the catalogue entry."""
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")).strip() + "\n"


def analyst_queries(folder: Path) -> list[BenchQuery]:
    catalog = Catalog.from_folder(folder)
    out = []
    for name, q in catalog.queries.items():
        if q.qc:
            continue
        try:
            values = q.bindings(EXTRA_PARAMS.get(name, {}))
        except ParameterError as e:  # a question added since: give it a value in EXTRA_PARAMS
            print(f"bench: {name} left out: {e}", file=sys.stderr)
            continue
        text = strip_comments(bind(q.text, values))
        template = strip_comments(bind(q.text, {**values, "bench_nonce": ox.Literal(NONCE)}))
        out.append(BenchQuery(name, text, template))
    return out


def form_body(query: str) -> bytes:
    return urllib.parse.urlencode({"query": query}).encode()


# ---------------------------------------------------------------- servers


def print_log_tails(servers: list) -> None:
    """The last lines of each server's log, on stderr: what a failed run needs to be understood."""
    for s in servers:
        if s.log.exists():
            tail = s.log.read_text(errors="replace").splitlines()[-15:]
            if tail:
                print(f"--- last lines of the {s.name} log:\n" + "\n".join(tail), file=sys.stderr)


@dataclass
class Server:
    name: str
    command: list[str]
    """``{port}`` in an argument is replaced by a free port when the server starts."""
    ready_path: str
    log: Path
    settings: dict
    process: subprocess.Popen | None = None
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 120.0) -> None:
        """Started by the tests' harness (tests/support/server.py): its own process group, ready when
        ``ready_path`` answers 200."""
        self.port = free_port()  # taken now, not earlier: a client's ephemeral port could take it meanwhile
        command = [arg.replace("{port}", str(self.port)) for arg in self.command]
        self.process = launch(command, self.log)
        wait_ready(self.process, self.url + self.ready_path, self.log, timeout, name=self.name)

    def stop(self) -> None:
        """SIGTERM (the server stops its workers and their sandboxes); what is left of its group is killed."""
        if self.process is not None:
            left = terminate(self.process, wait=20)
            if left:
                print(f"bench: {self.name} left processes, killed: {left}", file=sys.stderr)

    def cpu_seconds(self) -> float:
        """User + system CPU of the server process and all its live descendants (Linux /proc)."""
        if self.process is None:
            return 0.0
        tick = os.sysconf("SC_CLK_TCK")
        stats: dict[int, tuple[int, float]] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                raw = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = raw[raw.rindex(")") + 2:].split()
            stats[int(entry)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
        tree, frontier = {self.process.pid}, [self.process.pid]
        while frontier:
            parent = frontier.pop()
            for pid, (ppid, _) in stats.items():
                if ppid == parent and pid not in tree:
                    tree.add(pid)
                    frontier.append(pid)
        return sum(stats[p][1] for p in tree if p in stats)


def machine_busy_seconds() -> float:
    """CPU seconds all cores have spent busy since boot (Linux /proc/stat), to see load from other processes."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return float("nan")
    user, nice, system, idle, iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def wait_quiet(limit: float) -> None:
    """Wait (at most ``limit`` seconds) until the machine has been nearly idle for 2 s in a row: other
    processes would take CPU from the server under test."""
    deadline, calm = time.monotonic() + limit, 0
    while time.monotonic() < deadline and calm < 2:
        before = machine_busy_seconds()
        time.sleep(1.0)
        calm = calm + 1 if machine_busy_seconds() - before <= DISTURBED else 0


def oxigraph_binary() -> str:
    found = Path(sys.executable).parent / "oxigraph"
    if found.exists():
        return str(found)
    which = shutil.which("oxigraph")
    if which is None:
        sys.exit("bench: the oxigraph server is missing: .venv/bin/pip install 'oxigraph>=0.5,<0.6' (or pip install -e '.[bench]')")
    return which


def oxigraph_server(nquads: Path, workdir: Path, args: argparse.Namespace) -> Server:
    binary = oxigraph_binary()
    location = workdir / "oxigraph-store"
    for step in (["load", "--location", str(location), "--file", str(nquads)],
                 ["optimize", "--location", str(location)]):  # compacted, as advised for a read-only endpoint
        subprocess.run([binary, *step], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    version = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.strip()
    command = [binary, "serve-read-only", "--location", str(location), "--bind", "127.0.0.1:{port}",
               "--union-default-graph", "--timeout-s", f"{args.time_limit:g}"]
    return Server("oxigraph", command, "/query?query=ASK%7B%7D", workdir / "oxigraph.log",
                  {"version": version, "options": "serve-read-only --union-default-graph "
                                                  f"--timeout-s {args.time_limit:g}"})


def rkg_server(workdir: Path, args: argparse.Namespace) -> Server:
    # every load client is 127.0.0.1, one client for the server: it may run as many operations as it has
    # connections (else the app answers the extra ones 429 at once)
    options, _ = serve_args(workers=args.workers, sandboxes=args.sandboxes, time_limit=args.time_limit, max_rows=100_000,
                            max_request_bytes=1_048_576, client_concurrency=args.clients)
    command = [sys.executable, "-m", "rkg", "serve", "--root", str(ROOT), "-q", "--host", "127.0.0.1",
               "--port", "{port}", *options]
    env_note = "rkg serve " + " ".join(options)
    return Server("rkg", command, "/health", workdir / "rkg.log", {"version": RKG_VERSION, "options": env_note})


def endpoint_path(server: Server) -> str:
    return "/query" if server.name == "oxigraph" else "/sparql"


# ---------------------------------------------------------------- answers agree


def ask(server: Server, query: str) -> dict:
    c = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    c.request("POST", endpoint_path(server), body=form_body(query), headers={"Content-Type": FORM, "Accept": ACCEPT})
    r = c.getresponse()
    body = r.read()
    c.close()
    if r.status != 200:
        raise RuntimeError(f"{server.name} answered {r.status}: {body[:300]!r}")
    return json.loads(body)


def canonical(answer: dict) -> tuple[list[str], list[str]]:
    rows = sorted(json.dumps(b, sort_keys=True) for b in answer["results"]["bindings"])
    return answer["head"]["vars"], rows


def verify(servers: list[Server], queries: list[BenchQuery]) -> list[dict]:
    """Every query on every server, plus its unique variant: same variables and the same rows."""
    report = []
    for q in queries:
        entry = {"query": q.name}
        reference = None
        for s in servers:
            for variant, text in (("repeated", q.text), ("unique", q.unique("check0"))):
                head, rows = canonical(ask(s, text))
                entry[f"{s.name}_{variant}_rows"] = len(rows)
                if reference is None:
                    reference = (head, rows)
                elif (head, rows) != reference:
                    raise SystemExit(f"bench: answers differ for {q.name} ({s.name}, {variant}): "
                                     f"{len(rows)} rows vs {len(reference[1])}")
        entry["rows"] = len(reference[1]) if reference else 0
        entry["equal"] = True
        report.append(entry)
    return report


def single_client_latency(server: Server, queries: list[BenchQuery], rounds: int, run_id: str) -> dict[str, dict]:
    """Median latency of each query, one client, one request at a time: plain text (after a first request, so
    a cache may answer) and with a fresh nonce each time (no cache)."""
    c = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    headers = {"Content-Type": FORM, "Accept": ACCEPT}
    out = {}
    for q in queries:
        entry = {}
        for variant in ("repeated", "unique"):
            times = []
            for i in range(rounds + 1):
                text = q.text if variant == "repeated" else q.unique(f"{run_id}s{i}")
                t0 = time.perf_counter()
                c.request("POST", endpoint_path(server), body=form_body(text), headers=headers)
                r = c.getresponse()
                r.read()
                if i:  # the first one warms up (and fills a cache for the plain text)
                    times.append((time.perf_counter() - t0) * 1000)
            entry[f"{variant}_ms"] = statistics.median(times)
        out[q.name] = entry
    c.close()
    return out


# ---------------------------------------------------------------- load: wrk


WRK_SCRIPT = r"""
-- generated by bench/endpoint.py
local bodies = {
%(bodies)s
}
local unique = %(unique)s
local salt = "%(salt)s"
local placeholder = "%(placeholder)s"
local path = "%(path)s"
local think = %(think)s
wrk.method = "POST"
wrk.headers["Content-Type"] = "%(form)s"
wrk.headers["Accept"] = "%(accept)s"

local count = 0
function setup(thread)
  count = count + 1
  thread:set("tid", count)
end

local n, i = 0, 0
function request()
  i = i %% #bodies + 1
  local body = bodies[i]
  if unique then
    n = n + 1
    body = (string.gsub(body, placeholder, salt .. "t" .. tid .. "n" .. n))
  end
  return wrk.format(nil, path, nil, body)
end

if think > 0 then
  function delay()
    return think
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK-RESULT {"requests": %%d, "duration_us": %%d, "bytes": %%d, "connect": %%d, "read": %%d, "write": %%d, ' ..
    '"status": %%d, "timeout": %%d, "p50_us": %%d, "p90_us": %%d, "p99_us": %%d, "max_us": %%d, "mean_us": %%.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
"""


def wrk_script(queries: list[BenchQuery], workload: str, path: str, salt: str, think_ms: float = 0) -> str:
    texts = [q.template if workload == "unique" else q.text for q in queries]
    bodies = ",\n".join("[==[" + form_body(t).decode() + "]==]" for t in texts)
    return WRK_SCRIPT % {"bodies": bodies, "unique": "true" if workload == "unique" else "false", "salt": salt,
                         "placeholder": NONCE, "path": path, "form": FORM, "accept": ACCEPT, "think": f"{think_ms:g}"}


def run_wrk(server: Server, queries: list[BenchQuery], workload: str, clients: int, threads: int,
            duration: float, salt: str, workdir: Path, think_ms: float) -> dict:
    script = workdir / f"{server.name}-{workload}-{salt}.lua"
    script.write_text(wrk_script(queries, workload, endpoint_path(server), salt, think_ms))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(["wrk", "-t", str(min(threads, clients)), "-c", str(clients), "-d", f"{max(1, round(duration))}s",
                           "--timeout", "30s", "-s", str(script), server.url + endpoint_path(server)],
                          capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("WRK-RESULT ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}")
    r = json.loads(line.removeprefix("WRK-RESULT "))
    seconds = r["duration_us"] / 1e6
    errors = r["connect"] + r["read"] + r["write"] + r["status"] + r["timeout"]
    return {"requests": r["requests"], "errors": errors, "seconds": seconds, "rps": r["requests"] / seconds,
            "p50_ms": r["p50_us"] / 1000, "p90_ms": r["p90_us"] / 1000, "p99_ms": r["p99_us"] / 1000,
            "max_ms": r["max_us"] / 1000, "mean_ms": r["mean_us"] / 1000,
            "client_cpu_s": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
            "error_detail": {k: r[k] for k in ("connect", "read", "write", "status", "timeout") if r[k]}}


# ---------------------------------------------------------------- load: Python client (fallback)


def _python_client(port: int, path: str, bodies: list[bytes], unique: bool, tag: str, start: float, stop: float,
                   think_ms: float, results: mp.Queue) -> None:
    headers = {"Content-Type": FORM, "Accept": ACCEPT}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    latencies: list[float] = []
    statuses: Counter = Counter()
    errors, n = 0, 0
    placeholder = NONCE.encode()
    while time.time() < start:
        time.sleep(0.001)
    cpu0 = time.process_time()
    while time.time() < stop:
        body = bodies[n % len(bodies)]
        n += 1
        if unique:
            body = body.replace(placeholder, f"{tag}n{n}".encode())
        t0 = time.perf_counter()
        try:
            conn.request("POST", path, body=body, headers=headers)
            r = conn.getresponse()
            r.read()
            statuses[r.status] += 1
            if r.status != 200:
                errors += 1
        except (OSError, http.client.HTTPException):
            errors += 1
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            continue
        latencies.append(time.perf_counter() - t0)
        if think_ms:
            time.sleep(think_ms / 1000)
    conn.close()
    results.put((latencies, errors, dict(statuses), time.process_time() - cpu0))


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, round(p / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[k]


def run_python(server: Server, queries: list[BenchQuery], workload: str, clients: int, duration: float,
               salt: str, think_ms: float) -> dict:
    ctx = mp.get_context("fork")
    results: mp.Queue = ctx.Queue()
    bodies = [form_body(q.template if workload == "unique" else q.text) for q in queries]
    start = time.time() + 0.5
    stop = start + duration
    procs = [ctx.Process(target=_python_client, daemon=True,
                         args=(server.port, endpoint_path(server), bodies[i % len(bodies):] + bodies[:i % len(bodies)],
                               workload == "unique", f"{salt}c{i}", start, stop, think_ms, results))
             for i in range(clients)]
    for p in procs:
        p.start()
    gathered = [results.get(timeout=duration + 60) for _ in procs]
    for p in procs:
        p.join(10)
    latencies = sorted(x for g in gathered for x in g[0])
    errors = sum(g[1] for g in gathered)
    return {"requests": len(latencies), "errors": errors, "seconds": duration, "rps": len(latencies) / duration,
            "p50_ms": percentile(latencies, 50) * 1000, "p90_ms": percentile(latencies, 90) * 1000,
            "p99_ms": percentile(latencies, 99) * 1000, "max_ms": (latencies[-1] if latencies else float("nan")) * 1000,
            "mean_ms": (statistics.fmean(latencies) if latencies else float("nan")) * 1000,
            "client_cpu_s": sum(g[3] for g in gathered),
            "error_detail": {str(k): v for g in gathered for k, v in g[2].items() if k != 200}}


# ---------------------------------------------------------------- one measurement


@dataclass
class Measurement:
    server: str
    workload: str
    requests: int
    errors: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float
    server_cpu_s: float
    client_cpu_s: float
    other_cpu_s: float
    """CPU used meanwhile by everything else on the machine (other servers, other users): should be ~0."""
    error_detail: dict = field(default_factory=dict)


def measure(server: Server, queries: list[BenchQuery], workload: str, args: argparse.Namespace, workdir: Path,
            run_id: str) -> Measurement:
    def load(duration: float, salt: str) -> dict:
        if args.client == "wrk":
            return run_wrk(server, queries, workload, args.clients, args.wrk_threads, duration, salt, workdir,
                           args.think_ms)
        return run_python(server, queries, workload, args.clients, duration, salt, args.think_ms)

    for attempt in range(1 + args.retries):
        wait_quiet(args.quiet_wait)
        if args.warmup > 0:
            load(args.warmup, f"{run_id}a{attempt}w")
        cpu0, busy0 = server.cpu_seconds(), machine_busy_seconds()
        r = load(args.duration, f"{run_id}a{attempt}m")
        cpu, busy = server.cpu_seconds() - cpu0, machine_busy_seconds() - busy0
        other = max(0.0, busy - cpu - r["client_cpu_s"])
        if other <= DISTURBED * r["seconds"]:
            break
        print(f"bench: other processes used {100 * other / r['seconds']:.0f} % of a core during this measurement: "
              + ("measuring again" if attempt < args.retries else "kept, but the numbers are disturbed"), file=sys.stderr)
    return Measurement(server.name, workload, r["requests"], r["errors"], r["seconds"], r["rps"], r["p50_ms"],
                       r["p90_ms"], r["p99_ms"], r["max_ms"], r["mean_ms"], cpu, r["client_cpu_s"], other,
                       r["error_detail"])


# ---------------------------------------------------------------- report


def ratios(results: list[Measurement]) -> dict[str, dict[str, float]]:
    by = {(m.server, m.workload): m for m in results}
    out = {}
    for w in WORKLOADS:
        r, o = by.get(("rkg", w)), by.get(("oxigraph", w))
        if r and o and o.rps:
            out[w] = {"rps": r.rps / o.rps, "p50": r.p50_ms / o.p50_ms if o.p50_ms else float("nan"),
                      "p99": r.p99_ms / o.p99_ms if o.p99_ms else float("nan")}
    return out


TARGETS = {"repeated": 1.0, "unique": 0.5}
P99_TARGET_MS = 20.0


def verdicts(results: list[Measurement], rat: dict) -> dict[str, dict[str, bool]]:
    out = {}
    for w, r in rat.items():
        rkg = next(m for m in results if m.server == "rkg" and m.workload == w)
        out[w] = {"throughput": r["rps"] >= TARGETS[w], "p99": rkg.p99_ms < P99_TARGET_MS, "no_errors": rkg.errors == 0}
    return out


def table(results: list[Measurement]) -> str:
    head = ("| workload | server | requests | errors | req/s | p50 ms | p90 ms | p99 ms | max ms | server CPU "
            "| client CPU | other CPU |")
    lines = [head, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for m in results:
        lines.append(f"| {m.workload} | {m.server} | {m.requests} | {m.errors} | {m.rps:.0f} | {m.p50_ms:.2f} | "
                     f"{m.p90_ms:.2f} | {m.p99_ms:.2f} | {m.max_ms:.1f} | {100 * m.server_cpu_s / m.seconds:.0f} % | "
                     f"{100 * m.client_cpu_s / m.seconds:.0f} % | {100 * m.other_cpu_s / m.seconds:.0f} % |")
    return "\n".join(lines)


def ratio_table(rat: dict, ver: dict) -> str:
    lines = ["| workload | rkg/oxigraph req/s | target | rkg/oxigraph p50 | rkg/oxigraph p99 | rkg p99 < 20 ms |",
             "|---|---:|---:|---:|---:|---|"]
    for w, r in rat.items():
        v = ver[w]
        lines.append(f"| {w} | {r['rps']:.2f}× {'(met)' if v['throughput'] else '(NOT met)'} | ≥ {TARGETS[w]:g}× | "
                     f"{r['p50']:.2f}× | {r['p99']:.2f}× | {'yes' if v['p99'] else 'NO'} |")
    return "\n".join(lines)


def latency_table(single: dict[str, dict[str, dict]]) -> str:
    servers = list(single)
    names = list(single[servers[0]]) if servers else []
    lines = ["| query | " + " | ".join(f"{s} {v} ms" for s in servers for v in ("repeated", "unique")) + " |",
             "|---|" + "---:|" * (2 * len(servers))]
    for n in names:
        cells = " | ".join(f"{single[s][n]['repeated_ms']:.2f} | {single[s][n]['unique_ms']:.2f}" for s in servers)
        lines.append(f"| {n} | {cells} |")
    return "\n".join(lines)


def markdown(meta: dict, checks: list[dict], results: list[Measurement], rat: dict, ver: dict,
             single: dict[str, dict[str, dict]]) -> str:
    q = "\n".join(f"| {c['query']} | {c['rows']} | {'yes' if c['equal'] else 'NO'} |" for c in checks)
    think = f" pausing {meta['load']['think_ms']:g} ms between requests" if meta["load"]["think_ms"] else " (no pause)"
    return f"""# Endpoint benchmark {meta['started']}

- machine: {meta['machine']['cpus']} CPUs, {meta['machine']['platform']}, Python {meta['machine']['python']}
- graph: {meta['graph']['triples']} triples ({meta['graph']['file']})
- load: {meta['load']['client']}, {meta['load']['clients']} concurrent keep-alive clients{think}, {meta['load']['warmup']:g} s warm-up then {meta['load']['duration']:g} s per server and workload, POST form `query=`, Accept {ACCEPT}
- rkg: {meta['servers']['rkg']['options']}
- oxigraph: {meta['servers']['oxigraph']['version']}, {meta['servers']['oxigraph']['options']}

## Results

{table(results)}

CPU columns: CPU time used during the measured interval by the server (all its processes), the load generator
and everything else on the machine, as a share of one core (the machine has {meta['machine']['cpus']}).

## rkg / oxigraph

{ratio_table(rat, ver)}

## One client, one request at a time: median latency per query

`repeated`: the plain text again (rkg's cache answers it); `unique`: a fresh nonce each time (no cache).

{latency_table(single)}

## Queries (answers compared on both servers, plain and with the nonce)

| query | rows | equal |
|---|---:|---|
{q}
"""


# ---------------------------------------------------------------- main


def ensure_built(root: Path) -> Path:
    """build/ of ``root``, built again first if missing or stale (as ``rkg serve`` would)."""
    from rkg.project import Project

    project = Project.locate(root)
    if build_mod.is_stale(project.root, project.build_dir):
        print("bench: build/ is missing or stale: building", file=sys.stderr)
    return build_once(project.build_dir)


count_triples = union_triples  # the union default graph's triples, as /health counts them


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--duration", type=float, default=10.0, help="measured seconds per server and workload (default: 10)")
    p.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds of the same load before each measurement (default: 2)")
    p.add_argument("--clients", type=int, default=8, help="concurrent keep-alive clients (default: 8)")
    p.add_argument("--think-ms", type=float, default=0.0,
                   help="pause of each client between its requests (default: 0, saturation: every client sends its "
                        "next request as soon as it has the answer)")
    p.add_argument("--workloads", default=",".join(WORKLOADS), help="comma-separated: repeated, unique (default: both)")
    p.add_argument("--retries", type=int, default=2,
                   help="times a measurement is taken again when other processes used the CPU meanwhile (default: 2)")
    p.add_argument("--quiet-wait", type=float, default=60.0,
                   help="seconds to wait at most, before each measurement, for other processes to leave the CPU (default: 60)")
    p.add_argument("--queries", type=Path, default=ROOT / "queries",
                   help="folder of named queries to run (default: queries/; its qc/ subfolder is left out)")
    p.add_argument("--rounds", type=int, default=15, help="sequential requests per query for the one-client latencies (default: 15)")
    p.add_argument("--client", choices=("auto", "wrk", "python"), default="auto",
                   help="load generator: wrk if installed (auto), or the Python client (one process per client)")
    p.add_argument("--wrk-threads", type=int, default=1, help="wrk threads sharing the clients (default: 1)")
    p.add_argument("--workers", type=int, default=2, help="rkg serve --workers (default: 2)")
    p.add_argument("--sandboxes", type=int, default=2, help="rkg serve --sandboxes (default: 2)")
    p.add_argument("--time-limit", type=float, default=10.0, help="per-query time limit on both servers (default: 10)")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results", help="folder for the JSON and Markdown results")
    args = p.parse_args(argv)
    args.workloads = [w.strip() for w in args.workloads.split(",") if w.strip()]
    if unknown := set(args.workloads) - set(WORKLOADS):
        p.error(f"unknown workload(s): {', '.join(sorted(unknown))}")
    args.client = load_client(p, args.client)
    return args


def load_client(parser: argparse.ArgumentParser, asked: str) -> str:
    """``wrk`` or ``python``: ``auto`` takes wrk when it is installed; ``wrk`` without it is a usage error."""
    if asked == "auto":
        if shutil.which("wrk"):
            return "wrk"
        print("bench: wrk not found, using the Python client, whose CPU use on this machine lowers both "
              "servers' numbers; for server-bound numbers: apt-get install wrk", file=sys.stderr)
        return "python"
    if asked == "wrk" and not shutil.which("wrk"):
        parser.error("wrk is not installed: apt-get install wrk (Debian/Ubuntu), or use --client python")
    return asked


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    nquads = ensure_built(ROOT)
    queries = analyst_queries(args.queries)
    started = datetime.now(timezone.utc)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    run_id = started.strftime("%H%M%S")
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rkg-bench-") as tmp:
        workdir = Path(tmp)
        servers = [oxigraph_server(nquads, workdir, args), rkg_server(workdir, args)]
        results: list[Measurement] = []
        try:
            for s in servers:
                s.start()
            checks = verify(servers, queries)
            rows = ", ".join(f"{c['query']} {c['rows']}" for c in checks)
            print(f"bench: {len(queries)} analyst queries, same answers on both servers ({rows} rows)", file=sys.stderr)
            single = {s.name: single_client_latency(s, queries, args.rounds, run_id) for s in servers}
            for w in args.workloads:
                for s in servers:
                    print(f"bench: {s.name} / {w}: {args.warmup:g} s warm-up + {args.duration:g} s, "
                          f"{args.clients} clients ({args.client})", file=sys.stderr)
                    results.append(measure(s, queries, w, args, workdir, run_id))
        except BaseException:
            print_log_tails(servers)
            raise
        finally:
            for s in servers:
                s.stop()
    rat = ratios(results)
    ver = verdicts(results, rat)
    meta = {
        "started": started.isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(terse=True), "python": platform.python_version()},
        "graph": {"file": "build/" + nquads.name, "triples": count_triples(nquads)},
        "load": {"client": "wrk" if args.client == "wrk" else "python (http.client, one process per client)",
                 "clients": args.clients, "think_ms": args.think_ms, "warmup": args.warmup, "duration": args.duration,
                 "wrk_threads": args.wrk_threads if args.client == "wrk" else None,
                 "queries": [q.name for q in queries]},
        "servers": {s.name: s.settings for s in servers},
    }
    report = {"meta": meta, "checks": checks, "single_client_ms": single, "results": [asdict(m) for m in results], "ratios": rat,
              "targets": {"rps_ratio": TARGETS, "p99_ms": P99_TARGET_MS}, "verdicts": ver}
    json_path = args.out / f"endpoint-{stamp}.json"
    md_path = args.out / f"endpoint-{stamp}.md"
    json_path.write_text(json.dumps(report, indent=2) + "\n")
    md_path.write_text(markdown(meta, checks, results, rat, ver, single))
    print(latency_table(single))
    print()
    print(table(results))
    print()
    print(ratio_table(rat, ver))
    print(f"\nwritten: {json_path.relative_to(ROOT) if json_path.is_relative_to(ROOT) else json_path}, "
          f"{md_path.relative_to(ROOT) if md_path.is_relative_to(ROOT) else md_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
