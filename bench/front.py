"""Compare HTTP fronts for ``rkg serve``: speed under load, and whether slow or hostile clients can starve it.

One run starts, one after the other on the loopback interface, ``oxigraph serve-read-only`` (the reference,
as in bench/endpoint.py) and each candidate front serving the same app (``rkg.web.create_app`` on the
bundled graph, 2 worker processes, 2 sandboxes each, 16 app threads per worker, 1 MiB request limit; every
load client is 127.0.0.1, so that one client may run as many operations as it has connections,
``--client-concurrency 8``):

``granian-front``
    ``rkg serve`` itself: granian (Rust, hyper) in its ASGI interface with rkg's buffering adapter
    (``rkg.serve.Front``: whole request read on the event loop, then the WSGI app in a thread).
``granian-wsgi``
    granian's WSGI interface (16 blocking threads per worker): heads are read in Rust, but the body is read
    by the app's thread, from the socket.
``gunicorn-gthread``
    the front ``rkg serve`` used before: gunicorn, gthread workers (16 threads here, 8 then),
    ``limit_request_line 0``.
``waitress``
    waitress (an asyncore event loop that buffers whole requests, then a thread pool of 16), one process per
    worker sharing a listening socket bound by a small pre-fork master (this script's ``launch``).

For each server:

(a) the answers of the analyst queries are compared with oxigraph's, then bench/endpoint.py's load runs
    (``wrk``, 8 keep-alive clients, warm-up then measured seconds) on the ``repeated`` and ``unique``
    workloads: requests/s, p50, p99, errors, and the ratio to oxigraph's requests/s;
(b) slow clients: ``--slow-clients`` sockets (default 50) each send one byte per second — of a request
    head that never ends (``head``), or of a 1,000-byte body after a whole head (``body``) — for
    ``--slow-seconds`` (default 12); meanwhile a probe request is sent every second (a fresh connection,
    1 s to answer); recorded: probes answered within 1 s, the slowest, and how many slow sockets the
    server closed (and when the first was closed);
(c) hostile requests: an 8 MB request line (time to the answer and the server's CPU seconds), a 9 KiB
    request line, 200 header fields of 8 KiB, garbage bytes; then the ``Traceback`` and ``Logging error``
    lines in the server's log.

Everything stays on 127.0.0.1 and is bounded in count and time (at most 200 slow clients, 60 s).

Run from the project folder:  .venv/bin/python bench/front.py [--duration S] [--fronts a,b]
Needs ``wrk`` (``apt-get install wrk``) for server-bound numbers, ``pip install -e '.[bench]'`` (oxigraph,
gunicorn, waitress). Results: tables on stdout, bench/results/front-<UTC time>.json and .md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import socket
import statistics
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import datetime, timezone
from functools import partial
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT / "server"))

import endpoint as ep  # noqa: E402  (bench/endpoint.py: servers, queries, load generator)
from support.clients import recv_until  # noqa: E402  (tests/ is on sys.path through bench/endpoint.py)

FRONTS = ("granian-front", "granian-wsgi", "gunicorn-gthread", "waitress")
THREADS = 16
"""App threads per worker process, for every front (rkg serve's default)."""
MAX_REQUEST_BYTES = 1_048_576
HEADER_TIMEOUT = 10.0
SLOW_LIMIT, SLOW_SECONDS_LIMIT = 200, 60.0


# ---------------------------------------------------------------- launching the candidates (in a child)


def _config(args: argparse.Namespace):
    from rkg import __version__
    from rkg import build as build_mod
    from rkg.project import Project
    from rkg.web.config import Config

    project = Project.locate(ROOT, None)
    built = build_mod.read_manifest(project.build_dir)
    return Config(nquads=project.build_dir / build_mod.NQUADS_NAME, shapes=project.shapes, queries=project.queries,
                  assets=project.assets if project.assets.is_dir() else None,
                  version=f"{__version__}+{built['digest'][:10]}", time_limit=args.time_limit, max_rows=100_000,
                  max_request_bytes=MAX_REQUEST_BYTES, sandboxes=args.sandboxes, client_concurrency=args.clients)


def _make_app(config):
    """In a worker, after the fork: the same app ``rkg serve`` loads."""
    from rkg.serve import configure_logging
    from rkg.web import create_app

    configure_logging()
    app = create_app(config)
    app.extensions["rkg"].pool  # start the sandboxes now
    return app


def launch_gunicorn(config, args: argparse.Namespace) -> None:
    """The front of ``rkg serve`` before this change, with the same settings."""
    from gunicorn.app.base import BaseApplication

    class Gunicorn(BaseApplication):
        def load_config(self) -> None:
            for key, value in {
                "bind": f"127.0.0.1:{args.port}", "workers": args.workers, "worker_class": "gthread",
                "threads": THREADS, "timeout": int(config.time_limit) + 60, "graceful_timeout": 10, "keepalive": 5,
                "accesslog": None, "loglevel": "warning", "limit_request_line": 0,
            }.items():
                self.cfg.set(key, value)

        def load(self):
            return _make_app(config)

    Gunicorn().run()


def launch_granian_wsgi(config, args: argparse.Namespace) -> None:
    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP1Settings
    from granian.log import LogLevels
    from granian.server import Server

    from rkg.serve import HEAD_LIMIT

    Server("bench", address="127.0.0.1", port=args.port, interface=Interfaces.WSGI, workers=args.workers,
           blocking_threads=THREADS, http=HTTPModes.http1, websockets=False, log_level=LogLevels.warning,
           http1_settings=HTTP1Settings(header_read_timeout=int(HEADER_TIMEOUT * 1000), max_buffer_size=HEAD_LIMIT),
           workers_kill_timeout=15).serve(target_loader=partial(_make_app, config), wrap_loader=False)


def launch_waitress(config, args: argparse.Namespace) -> None:
    """waitress has no process manager: bind once, fork the workers, each serves the shared socket."""
    import waitress

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    sock.listen(1024)
    children = []
    for _ in range(args.workers):
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
                app = _make_app(config)
                waitress.create_server(app, sockets=[sock], threads=THREADS, max_request_body_size=MAX_REQUEST_BYTES,
                                       ident="waitress").run()
            except SystemExit:
                pass
            except BaseException:
                code = 1
            finally:
                import multiprocessing

                for child in multiprocessing.active_children():
                    child.terminate()
                os._exit(code)
        children.append(pid)

    def stop(*_):
        for pid in children:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for pid in children:
        while True:
            try:
                os.waitpid(pid, 0)
                break
            except InterruptedError:
                continue
            except ChildProcessError:
                break


LAUNCHERS = {"gunicorn-gthread": launch_gunicorn, "granian-wsgi": launch_granian_wsgi, "waitress": launch_waitress}


def launch_main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="front.py launch")
    p.add_argument("front", choices=sorted(LAUNCHERS))
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--sandboxes", type=int, default=2)
    p.add_argument("--time-limit", type=float, default=10.0)
    p.add_argument("--clients", type=int, default=8, help="operations one client may run at once (--client-concurrency)")
    args = p.parse_args(argv)
    LAUNCHERS[args.front](_config(args), args)
    return 0


# ---------------------------------------------------------------- the servers under test


def candidate(name: str, workdir: Path, args: argparse.Namespace) -> ep.Server:
    common = ["--workers", str(args.workers), "--sandboxes", str(args.sandboxes), "--time-limit", f"{args.time_limit:g}"]
    if name == "granian-front":
        # every load client is 127.0.0.1, one client for the server: it may run as many operations as it has
        # connections (else the app answers the extra ones 429 at once)
        command = [sys.executable, "-m", "rkg", "serve", "--root", str(ROOT), "-q", "--host", "127.0.0.1",
                   "--port", "{port}", *common, "--max-rows", "100000", "--max-request-bytes", str(MAX_REQUEST_BYTES),
                   "--header-timeout", f"{HEADER_TIMEOUT:g}", "--client-concurrency", str(args.clients)]
        note = "rkg serve " + " ".join(command[command.index("--workers"):])
    else:
        command = [sys.executable, str(Path(__file__).resolve()), "launch", name, "--port", "{port}", *common,
                   "--clients", str(args.clients)]
        note = f"bench/front.py launch {name} " + " ".join(common)
    return ep.Server(name, command, "/health", workdir / f"{name}.log", {"options": note})


def probe_path(server: ep.Server) -> str:
    return "/query?query=ASK%7B%7D" if server.name == "oxigraph" else "/health"


# ---------------------------------------------------------------- (b) slow clients


def _probe(port: int, path: str, timeout: float = 1.0) -> float | None:
    """Seconds to a complete answer to one GET on a fresh connection; None if none within ``timeout``."""
    t0 = time.monotonic()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\nConnection: close\r\n\r\n".encode())
            data = recv_until(s, b"\r\n\r\n", t0 + timeout)
            if data is None:
                return None
            if not data.startswith(b"HTTP/1.1 200") and not data.startswith(b"HTTP/1.0 200"):
                return None
    except OSError:
        return None
    return time.monotonic() - t0


def slow_clients(server: ep.Server, mode: str, count: int, seconds: float) -> dict:
    """``count`` sockets trickling one byte per second for ``seconds`` (a never-ending head, or a body after
    a whole head), with a probe every second."""
    count, seconds = min(count, SLOW_LIMIT), min(seconds, SLOW_SECONDS_LIMIT)
    if mode == "head":
        prefix, trickle = b"", b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"s" * 1000
    else:
        path = "/query" if server.name == "oxigraph" else "/sparql"
        prefix = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/sparql-query\r\n"
                  "Content-Length: 1000\r\n\r\n").encode()
        trickle = b"#" * 1000
    socks: list[socket.socket] = []
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", server.port), timeout=2)
        if prefix:
            s.sendall(prefix)
        s.setblocking(False)
        socks.append(s)
    t0 = time.monotonic()
    closed_at: dict[int, float] = {}
    answers: dict[int, bytes] = {}
    probes: list[float | None] = []
    step = 0
    while time.monotonic() - t0 < seconds:
        tick = time.monotonic()
        for i, s in enumerate(socks):
            if i in closed_at:
                continue
            try:
                data = s.recv(4096)
                if data:
                    answers.setdefault(i, data[:40])
                closed_at[i] = time.monotonic() - t0  # an answer (408…) or the end of the stream: dropped
                continue
            except BlockingIOError:
                pass
            except OSError:
                closed_at[i] = time.monotonic() - t0
                continue
            try:
                s.send(trickle[step:step + 1])
            except BlockingIOError:
                pass
            except OSError:
                closed_at[i] = time.monotonic() - t0
        step += 1
        probes.append(_probe(server.port, probe_path(server)))
        time.sleep(max(0.0, 1.0 - (time.monotonic() - tick)))
    for s in socks:
        s.close()
    answered = [p for p in probes if p is not None]
    statuses = sorted({a.split(b"\r\n")[0].decode(errors="replace") for a in answers.values()})
    return {"mode": mode, "clients": count, "seconds": seconds, "probes": len(probes), "answered_1s": len(answered),
            "probe_max_ms": round(1000 * max(answered), 1) if answered else None,
            "probe_median_ms": round(1000 * statistics.median(answered), 1) if answered else None,
            "dropped": len(closed_at), "first_drop_s": round(min(closed_at.values()), 1) if closed_at else None,
            "answers": statuses}


# ---------------------------------------------------------------- (c) hostile requests


def _exchange(port: int, data: bytes, timeout: float = 30.0) -> tuple[str, float]:
    """Send ``data``, read until the server closes or ``timeout``: (status line or what happened, seconds)."""
    t0 = time.monotonic()
    out = b""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        try:
            s.sendall(data)
        except OSError as e:
            what = f"closed while sending ({type(e).__name__})"
        else:
            what = ""
        try:
            while b"\r\n" not in out and time.monotonic() - t0 < timeout:
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
        except OSError as e:
            what = what or f"{type(e).__name__}"
    line = out.split(b"\r\n")[0].decode(errors="replace") if out else (what or "closed without an answer")
    return line, time.monotonic() - t0


def hostile(server: ep.Server) -> dict:
    port, out = server.port, {}
    cpu0 = server.cpu_seconds()
    line, seconds = _exchange(port, b"GET /?q=" + b"a" * 8_000_000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    time.sleep(0.5)
    out["url_8mb"] = {"answer": line, "seconds": round(seconds, 2), "server_cpu_s": round(server.cpu_seconds() - cpu0, 2)}
    cases = {
        "line_9kib": b"GET /health?x=" + b"a" * 9216 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
        "headers_200x8kib": b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                            + b"".join(b"X-H%d: %s\r\n" % (i, b"h" * 8192) for i in range(200)) + b"\r\n",
        "garbage": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 garbage \xff\xfe\r\n\r\n",
        "bad_request_line": b"GET\x00/ HTTP/9.9 what\r\n\r\n",
    }
    for name, data in cases.items():
        line, seconds = _exchange(port, data, timeout=10)
        out[name] = {"answer": line, "seconds": round(seconds, 2)}
    time.sleep(0.5)
    text = server.log.read_text(errors="replace") if server.log.exists() else ""
    out["log_tracebacks"] = text.count("Traceback")
    out["log_logging_errors"] = text.count("Logging error")
    return out


# ---------------------------------------------------------------- report


def markdown(meta: dict, results: list[dict]) -> str:
    ox = {r["workload"]: r["rps"] for r in results[0]["load"]} if results and results[0]["server"] == "oxigraph" else {}
    lines = [f"# Front benchmark {meta['started']}", "",
             f"- machine: {meta['machine']['cpus']} CPUs, {meta['machine']['platform']}, Python {meta['machine']['python']}",
             f"- graph: {meta['graph']['triples']} triples; load: {meta['load']}",
             f"- slow clients: {meta['slow']}", "", "## (a) Load", "",
             "| front | workload | req/s | × oxigraph | p50 ms | p99 ms | errors | server CPU |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        for m in r["load"]:
            ratio = m["rps"] / ox[m["workload"]] if ox.get(m["workload"]) else float("nan")
            lines.append(f"| {r['server']} | {m['workload']} | {m['rps']:.0f} | {ratio:.2f}× | {m['p50_ms']:.2f} | "
                         f"{m['p99_ms']:.2f} | {m['errors']} | {100 * m['server_cpu_s'] / m['seconds']:.0f} % |")
    lines += ["", "## (b) Slow clients (probe answered within 1 s)", "",
              "| front | slow | clients | probes < 1 s | slowest probe ms | slow sockets dropped | first drop s | their answers |",
              "|---|---|---:|---:|---:|---:|---:|---|"]
    for r in results:
        for s in r["slow"]:
            lines.append(f"| {r['server']} | {s['mode']} | {s['clients']} | {s['answered_1s']}/{s['probes']} | "
                         f"{s['probe_max_ms'] if s['probe_max_ms'] is not None else '—'} | {s['dropped']} | "
                         f"{s['first_drop_s'] if s['first_drop_s'] is not None else '—'} | {', '.join(s['answers']) or '—'} |")
    lines += ["", "## (c) Hostile requests", "",
              "| front | 8 MB request line | its server CPU s | 9 KiB request line | 200 × 8 KiB headers | garbage | bad request line | Traceback / Logging error lines |",
              "|---|---|---:|---|---|---|---|---:|"]
    for r in results:
        h = r["hostile"]
        lines.append(f"| {r['server']} | {h['url_8mb']['answer']} in {h['url_8mb']['seconds']} s | {h['url_8mb']['server_cpu_s']} | "
                     f"{h['line_9kib']['answer']} | {h['headers_200x8kib']['answer']} | {h['garbage']['answer']} | "
                     f"{h['bad_request_line']['answer']} | {h['log_tracebacks']} / {h['log_logging_errors']} |")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--fronts", default=",".join(FRONTS), help=f"comma-separated, among {', '.join(FRONTS)} (default: all)")
    p.add_argument("--duration", type=float, default=10.0, help="measured seconds per server and workload (default: 10)")
    p.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds before each measurement (default: 2)")
    p.add_argument("--clients", type=int, default=8, help="concurrent keep-alive clients of the load (default: 8)")
    p.add_argument("--workers", type=int, default=2, help="worker processes of every front (default: 2)")
    p.add_argument("--sandboxes", type=int, default=2, help="sandboxes per worker (default: 2)")
    p.add_argument("--time-limit", type=float, default=10.0, help="per-query time limit (default: 10)")
    p.add_argument("--slow-clients", type=int, default=50, help=f"slow sockets in (b) (default: 50, at most {SLOW_LIMIT})")
    p.add_argument("--slow-seconds", type=float, default=12.0, help=f"seconds of (b), per mode (default: 12, at most {SLOW_SECONDS_LIMIT:g})")
    p.add_argument("--retries", type=int, default=2, help="times a disturbed measurement is taken again (default: 2)")
    p.add_argument("--quiet-wait", type=float, default=60.0, help="seconds to wait at most for an idle machine (default: 60)")
    p.add_argument("--client", choices=("auto", "wrk", "python"), default="auto", help="load generator (default: wrk if installed)")
    p.add_argument("--wrk-threads", type=int, default=1, help="wrk threads (default: 1)")
    p.add_argument("--no-oxigraph", action="store_true", help="leave out the oxigraph reference")
    p.add_argument("--out", type=Path, default=BENCH / "results", help="folder for the JSON and Markdown results")
    args = p.parse_args(argv)
    args.fronts = [f.strip() for f in args.fronts.split(",") if f.strip()]
    if unknown := set(args.fronts) - set(FRONTS):
        p.error(f"unknown front(s): {', '.join(sorted(unknown))}")
    args.client = ep.load_client(p, args.client)
    args.think_ms = 0.0
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    nquads = ep.ensure_built(ROOT)
    queries = ep.analyst_queries(ROOT / "queries")
    started = datetime.now(timezone.utc)
    stamp, run_id = started.strftime("%Y%m%dT%H%M%SZ"), started.strftime("%H%M%S")
    args.out.mkdir(parents=True, exist_ok=True)
    results: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="rkg-front-") as tmp:
        workdir = Path(tmp)
        reference = None if args.no_oxigraph else ep.oxigraph_server(nquads, workdir, args)
        servers = ([reference] if reference else []) + [candidate(n, workdir, args) for n in args.fronts]
        try:
            if reference:
                reference.start()
            for s in servers:
                if s is not reference:
                    s.start()
                    if reference:
                        ep.verify([reference, s], queries)
                entry = {"server": s.name, "settings": s.settings, "load": [], "slow": []}
                for w in ep.WORKLOADS:
                    print(f"bench: {s.name} / {w}: {args.warmup:g} s warm-up + {args.duration:g} s, {args.clients} clients",
                          file=sys.stderr)
                    m = ep.measure(s, queries, w, args, workdir, f"{run_id}{s.name[:3]}")
                    entry["load"].append(asdict(m))
                for mode in ("head", "body"):
                    print(f"bench: {s.name} / {args.slow_clients} slow clients ({mode}), {args.slow_seconds:g} s", file=sys.stderr)
                    entry["slow"].append(slow_clients(s, mode, args.slow_clients, args.slow_seconds))
                    time.sleep(2)
                print(f"bench: {s.name} / hostile requests", file=sys.stderr)
                entry["hostile"] = hostile(s)
                results.append(entry)
                if s is not reference:
                    s.stop()
        except BaseException:
            ep.print_log_tails(servers)
            raise
        finally:
            for s in servers:
                s.stop()
    meta = {
        "started": started.isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(terse=True), "python": platform.python_version()},
        "graph": {"file": "build/" + nquads.name, "triples": ep.count_triples(nquads)},
        "load": f"{args.client}, {args.clients} keep-alive clients, {args.warmup:g} s warm-up + {args.duration:g} s per "
                f"workload; fronts with {args.workers} workers × {args.sandboxes} sandboxes, {THREADS} app threads",
        "slow": f"{args.slow_clients} sockets, 1 byte/s, {args.slow_seconds:g} s per mode; probe every second, 1 s to answer",
    }
    json_path, md_path = args.out / f"front-{stamp}.json", args.out / f"front-{stamp}.md"
    json_path.write_text(json.dumps({"meta": meta, "results": results}, indent=2) + "\n")
    text = markdown(meta, results)
    md_path.write_text(text)
    print(text)
    print(f"written: {json_path.relative_to(ROOT) if json_path.is_relative_to(ROOT) else json_path}, "
          f"{md_path.relative_to(ROOT) if md_path.is_relative_to(ROOT) else md_path}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "launch":
        sys.exit(launch_main(sys.argv[2:]))
    sys.exit(main())
