"""Scale benchmark (issue 12): rkg on ESCO-shaped graphs of growing size, beside Oxigraph's own tools.

For each size (``--sizes 0.5M,2M,6.8M``), one step after the other, nothing else of this script running:

1. generate ESCO-shaped N-Triples (the importer's RDF model, ``rkg.interop.esco``: concepts typed
   ``skos:Concept`` and ``esco:Skill``/``esco:Occupation`` + ``esco:MemberConcept``, labels in three
   languages, descriptions, skill types and reuse levels, the hierarchy, skill–skill and
   occupation–skill relations both ways) straight into ``<work>/<size>/build/imports/``;
2. ``rkg build`` of the project's sources with those imports: wall seconds and peak memory (RSS summed
   over the process tree, sampled every 50 ms);
3. ``oxigraph load`` of the same ``rkg.nq`` into a new store: the same figures;
   then the remote engines (tests/support/engines.py, the tests' own start-up: Oxigraph server on a store
   folder, Virtuoso 7 with a generated ini), each started fresh for the size: ``rkg build --target`` into
   each with its loader (the whole command: the build again, the load, the count check; the load alone is
   read from its progress line), and Virtuoso's own bulk load (``ld_dir`` + ``rdf_loader_run`` +
   ``checkpoint`` through ``isql-vt``) of the same ``rkg.nq`` into another fresh Virtuoso;
4. each server of ``SERVERS``, alone: start to ready (``/health`` or the engine's own answer), memory of
   all its processes, ``/health`` latency (rkg), the latency of named questions from ``queries/`` (the
   same text sent to every server, made unique per request so that no cache answers). ``rkg serve
   --store URL`` in front of each engine is timed beside the engine's own endpoint answering the very
   request rkg sends it: the same text, rkg's graphs as ``default-graph-uri`` and ``named-graph-uri``
   (listed by ``rkg.remote``'s own code), rkg's ``timeout`` parameter. Then the named questions as users
   ask them: ``GET /api/queries/NAME`` on ``rkg serve --store URL`` with its default settings (result
   cache on), the median of repeated asks and, apart, of first asks of a new parameter value
   (``search-labels`` with a ``text`` never asked before: a new binding of a template rkg has read),
   beside the engine's own endpoint sent the bound texts rkg sends it for those asks;
5. each validator of ``VALIDATORS``: bench/validate_scale.py's ``rkg validate`` commands on the build
   (its functions), and ``rkg validate --store URL`` on each engine.

Writes ``bench/results/scale.md`` (git-ignored) and prints it. ``bench/summary.md`` has the figures of
the reference run in its "Scale" section. Extending it: a function per engine, registered in ``SERVERS``
(remote engines served through ``rkg serve --store URL``, another triple store), in ``LOADERS`` (another
bulk loader) or in ``VALIDATORS``; each takes a ``Case`` and returns a ``Row``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "server"))  # run from a checkout without installing
sys.path.insert(0, str(ROOT / "tests"))  # the engines' start-up (tests/support/engines.py), shared with the tests
sys.path.insert(0, str(ROOT / "bench"))  # validate_scale

import validate_scale  # noqa: E402
from support import engines  # noqa: E402
from support.server import free_port  # noqa: E402
RESULTS = ROOT / "bench" / "results"
PYTHON = sys.executable
OXIGRAPH = shutil.which("oxigraph") or str(Path(PYTHON).parent / "oxigraph")
QUESTIONS = {"block-summary": {}, "coverage-dimension-ue": {}, "esco-skills-covered": {}, "search-labels": {"text": "network"}}
"""Named questions timed on every server, with their parameters (the others at their defaults)."""

ESCO = "http://data.europa.eu/esco/"
MODEL = "http://data.europa.eu/esco/model#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCT = "http://purl.org/dc/terms/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
XSD = "http://www.w3.org/2001/XMLSchema#"
LANGS = ("en", "fr", "de")
WORDS = ("manage", "design", "operate", "maintain", "assess", "plan", "teach", "analyse", "repair", "install",
         "network", "software", "data", "safety", "quality", "customer", "energy", "budget", "project", "équipe",
         "réseau", "évaluation", "œuvre", "Qualität", "Sicherheit", "systems", "machines", "records", "training")


# ---------------------------------------------------------------- the data


def _lit(text: str, lang: str | None = None, datatype: str | None = None) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"' + (f"@{lang}" if lang else f"^^<{datatype}>" if datatype else "")


def write_esco(path: Path, triples: int, seed: int = 12) -> int:
    """ESCO-shaped N-Triples, about ``triples`` of them (the importer's model), into ``path``; returns how
    many were written. Deterministic for a seed."""
    rnd = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    skills: list[str] = []
    occupations = 0
    with path.open("w", encoding="utf-8") as f:
        def add(s: str, p: str, o: str) -> None:
            nonlocal n
            f.write(f"<{s}> <{p}> {o} .\n")
            n += 1

        def phrase(k: int) -> str:
            return " ".join(rnd.choice(WORDS) for _ in range(k))

        i = 0
        while n < triples:
            i += 1
            occupation = i % 5 == 0
            iri = f"{ESCO}{'occupation' if occupation else 'skill'}/{i:08x}-synthetic"
            add(iri, RDF_TYPE, f"<{SKOS}Concept>")
            add(iri, RDF_TYPE, f"<{MODEL}{'Occupation' if occupation else 'Skill'}>")
            add(iri, RDF_TYPE, f"<{MODEL}MemberConcept>")
            for lang in LANGS:
                add(iri, SKOS + "prefLabel", _lit(f"{phrase(3)} {i}", lang))
                # no duplicate triple: rkg.nq keeps an import's duplicates, and `rkg build --target` checks the
                # engine's (distinct) counts against the file's
                for alt in dict.fromkeys(phrase(rnd.randint(2, 4)) for _ in range(rnd.randint(0, 3))):
                    add(iri, SKOS + "altLabel", _lit(alt, lang))
                add(iri, DCT + "description", _lit(phrase(12), lang))
            add(iri, SKOS + "inScheme", f"<{ESCO}concept-scheme/{'occupations' if occupation else 'skills'}>")
            add(iri, MODEL + "status", _lit("released"))
            add(iri, DCT + "modified", _lit("2024-01-15T10:00:00Z", datatype=XSD + "dateTime"))
            if occupation:
                occupations += 1
                isco = f"{rnd.randint(1000, 9999)}"
                add(iri, SKOS + "notation", _lit(f"{isco}.{occupations}"))
                add(iri, SKOS + "broader", f"<{ESCO}isco/C{isco}>")
                for kind, inverse in (("relatedEssentialSkill", "isEssentialSkillFor"),
                                      ("relatedOptionalSkill", "isOptionalSkillFor")):
                    for skill in rnd.sample(skills, min(len(skills), rnd.randint(3, 8))):
                        add(iri, MODEL + kind, f"<{skill}>")
                        add(skill, MODEL + inverse, f"<{iri}>")
            else:
                add(iri, MODEL + "skillType", f"<{ESCO}skill-type/{rnd.choice(('skill', 'knowledge'))}>")
                add(iri, MODEL + "skillReuseLevel", f"<{ESCO}skill-reuse-level/{rnd.choice(('transversal', 'cross-sector', 'sector-specific', 'occupation-specific'))}>")
                if skills:
                    add(iri, SKOS + "broader", f"<{rnd.choice(skills[-500:])}>")
                    if rnd.random() < 0.3:
                        add(iri, MODEL + "relatedEssentialSkill", f"<{rnd.choice(skills)}>")
                skills.append(iri)
                if len(skills) > 200_000:
                    skills = skills[-100_000:]
    return n


def parse_size(text: str) -> int:
    text = text.strip().upper()
    scale = {"K": 1_000, "M": 1_000_000}.get(text[-1:], 1)
    return int(float(text.rstrip("KM")) * scale)


def label(n: int) -> str:
    return f"{n / 1e6:g}M" if n >= 100_000 else f"{n / 1e3:g}k"


# ---------------------------------------------------------------- measuring processes


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                out += [int(c) for c in f.read().split()]
    except OSError:
        pass
    return out


def tree(pid: int) -> list[int]:
    """``pid`` and every descendant (Linux /proc)."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo += _children(p)
    return found


def rss(pid: int) -> int:
    """Resident bytes of one process (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def tree_rss(pid: int) -> int:
    return sum(rss(p) for p in tree(pid))


class Peak:
    """Samples the RSS of a process tree every ``every`` seconds in a thread; ``peak`` is the largest sum."""

    def __init__(self, pid: int, every: float = 0.05) -> None:
        self.pid, self.every, self.peak = pid, every, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss(self.pid))
            self._stop.wait(self.every)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def measure(cmd: list[str], log: Path, timeout: float = 7200) -> tuple[float, int]:
    """Run ``cmd`` to its end: wall seconds and peak RSS of its process tree. Fails on a non-zero exit."""
    started = time.monotonic()
    with log.open("wb") as out:
        process = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
        peak = Peak(process.pid)
        try:
            code = process.wait(timeout)
        finally:
            top = peak.stop()
    seconds = time.monotonic() - started
    if code != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited with {code}; see {log}")
    return seconds, top


def http(url: str, data: bytes | None = None, headers: dict[str, str] | None = None, timeout: float = 600) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def wait_for(url: str, process: subprocess.Popen, timeout: float) -> float:
    """Seconds until ``url`` answers 200 (the process must stay alive meanwhile)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"the server ended with {process.returncode} before answering")
        try:
            if http(url, timeout=5)[0] == 200:
                return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer 200 within {timeout} s")


def stop(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(30)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(10)


# ---------------------------------------------------------------- what is compared


@dataclass
class Case:
    size: str
    triples: int
    """ESCO-shaped triples generated."""
    work: Path
    """Folder of this size: build/ (with imports/), the other engines' stores, logs."""
    rounds: int = 5
    engines: dict[str, engines.Engine] = field(default_factory=dict)
    """The remote engines started for this size (by name), loaded by rkg; stopped by ``stack`` at its end."""
    started: dict[str, float] = field(default_factory=dict)
    """Seconds each engine took from start to its first answer."""
    stack: ExitStack = field(default_factory=ExitStack)

    @property
    def build_dir(self) -> Path:
        return self.work / "build"

    @property
    def nquads(self) -> Path:
        return self.build_dir / "rkg.nq"


@dataclass
class Row:
    engine: str
    seconds: float | None = None
    """Build / load wall time, or start to ready."""
    peak: int | None = None
    """Peak RSS of the process tree (build, load), or RSS of all the server's processes once ready and
    after the questions (the larger)."""
    health_ms: float | None = None
    questions_ms: dict[str, float] = field(default_factory=dict)
    """Median latency of each named question, ms."""
    note: str = ""


def questions() -> dict[str, str]:
    """The named questions' texts as a client sends them: bound, the catalogue's "#+" header lines left
    out (as bench/endpoint.py does)."""
    return {name: "\n".join(line for line in text.splitlines() if not line.startswith("#+"))
            for name, text in api_texts(QUESTIONS).items()}


def post(url: str, text: str, extra: list[tuple[str, str]] | None = None) -> Callable[[], tuple[int, bytes]]:
    """A SPARQL protocol POST of ``text`` (and the fields ``extra``) to ``url``, asking for JSON results."""
    body = urllib.parse.urlencode([("query", text), *(extra or [])]).encode()
    return lambda: http(url, body, {"Accept": "application/sparql-results+json",
                                    "Content-Type": "application/x-www-form-urlencoded"})


def time_questions(url: str, rounds: int, extra: list[tuple[str, str]] | None = None, unique: bool = True,
                   texts: dict[str, str] | None = None) -> dict[str, float]:
    """Median ms of each named question POSTed to ``url`` (one warm-up, then ``rounds``), each text made
    unique by a comment so that no result cache answers; with ``unique=False`` the same text every time,
    after ``SAME_WARMUP`` warm-ups (each of rkg's workers has read it once: the server must run without its
    result cache then, ``--cache-bytes 0``). ``texts``: the texts by question (default: ``questions()``)."""
    out = {}
    warm = 1 if unique else SAME_WARMUP
    for name, text in (texts or questions()).items():
        times = []
        for i in range(rounds + warm):
            took = timed(post(url, f"{text}\n# {name} {i} {time.time_ns()}" if unique else text, extra), f"{name} on {url}")
            if i >= warm:
                times.append(took)
        out[name] = statistics.median(times)
    return out


SAME_WARMUP = 6
"""Warm-up requests of a repeated text: rkg serve's 2 workers have each read (``ShapeJob``) it by then."""


NEW_TEXT = "search-labels, new text"
"""Column of the first asks of a new parameter value: ``search-labels`` with a ``text`` never asked before."""


def api_texts(values: dict[str, dict[str, str]]) -> dict[str, str]:
    """What ``rkg serve --store`` sends the engine for ``GET /api/queries/NAME`` with the parameters
    ``values[NAME]``: the catalogue's text (its ``#+`` header included) with the parameters bound."""
    from rkg.bindings import bind
    from rkg.catalog import Catalog

    catalog = Catalog.from_folder(ROOT / "queries")
    return {name: bind(catalog.get(name).text, catalog.get(name).bindings(params)) for name, params in values.items()}


def new_texts(tag: str, n: int) -> list[dict[str, str]]:
    """``n`` parameter values of ``search-labels`` never asked before (``tag`` tells the steps apart, so that
    the engine has not compiled the text for another step either); such a text matches no label, and the
    engine reads the programme's search keys as for any other."""
    return [{"text": f"network {tag}{time.time_ns()} {i}"} for i in range(n)]


def timed(ask: Callable[[], tuple[int, bytes]], what: str = "") -> float:
    """Ms of one request (``ask()``: its status and body; RuntimeError, naming ``what``, unless 200)."""
    started = time.monotonic()
    status, answer = ask()
    took = (time.monotonic() - started) * 1000
    if status != 200:
        raise RuntimeError(f"{what + ': ' if what else ''}{status} {answer[:200]!r}")
    return took


def time_api(base: str, rounds: int) -> dict[str, float]:
    """Median ms of ``GET /api/queries/NAME`` on the rkg server at ``base`` for each question of QUESTIONS,
    asked again and again as users do (after SAME_WARMUP asks, every worker has answered it: the median is
    of the answers its result cache keeps), and NEW_TEXT: ``search-labels`` with a new ``text`` each time
    (after SAME_WARMUP such asks, every worker has read its template)."""
    def get(name: str, params: dict[str, str]) -> Callable[[], tuple[int, bytes]]:
        return lambda: http(f"{base}/api/queries/{name}?{urllib.parse.urlencode(params)}",
                            headers={"Accept": "application/json"})

    out = {name: statistics.median([timed(get(name, params)) for _ in range(SAME_WARMUP + rounds)][SAME_WARMUP:])
           for name, params in QUESTIONS.items()}
    times = [timed(get("search-labels", params)) for params in new_texts("rkg", SAME_WARMUP + rounds)]
    out[NEW_TEXT] = statistics.median(times[SAME_WARMUP:])
    return out


def time_api_texts(url: str, rounds: int, extra: list[tuple[str, str]]) -> dict[str, float]:
    """The engine's own endpoint at ``url`` sent what rkg sends it for ``time_api``'s asks: each question's
    bound text again and again, and NEW_TEXT: the bound text of each new ``text``."""
    out = time_questions(url, rounds, extra, unique=False, texts=api_texts(QUESTIONS))
    texts = [api_texts({"search-labels": params})["search-labels"] for params in new_texts("engine", 1 + rounds)]
    out[NEW_TEXT] = statistics.median([timed(post(url, text, extra)) for text in texts][1:])
    return out


def build_rkg(case: Case) -> Row:
    seconds, peak = measure([PYTHON, "-m", "rkg", "build", "--root", str(ROOT), "--build-dir", str(case.build_dir), "-q"],
                            case.work / "build.log")
    return Row("rkg build", seconds, peak)


def load_oxigraph(case: Case) -> Row:
    store = case.work / "oxigraph-store"
    shutil.rmtree(store, ignore_errors=True)
    seconds, peak = measure([OXIGRAPH, "load", "--location", str(store), "--file", str(case.nquads)],
                            case.work / "oxigraph-load.log")
    return Row("oxigraph load", seconds, peak)


@contextmanager
def rkg_server(case: Case, store: str | None, args: list[str], tag: str) -> Iterator[tuple[subprocess.Popen, str, float]]:
    """``rkg serve`` on the build, or ``--store`` in front of the engine ``store``, with ``args``: its
    process, base URL and seconds to ready (``/health``); stopped after. Its log: ``serve[-store]-tag.log``."""
    port = free_port()
    log = (case.work / f"serve{'-' + store if store else ''}{'-' + tag if tag else ''}.log").open("wb")
    where = ["--store", engine(case, store).url] if store else ["--build-dir", str(case.build_dir)]
    started = time.monotonic()
    process = subprocess.Popen([PYTHON, "-m", "rkg", "serve", "--root", str(ROOT), *where, *args,
                                "--port", str(port), "-q"], stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
                               start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(base + "/health", process, 1800)
        ready = time.monotonic() - started
        time.sleep(1)  # the second worker
        yield process, base, ready
    finally:
        stop(process)
        log.close()


def serve_rkg(case: Case, store: str | None = None, unique: bool = True) -> Row:
    """``rkg serve`` on the build, or ``--store`` in front of the engine ``store``; with ``unique=False`` without
    its result cache, asked the same text again and again (see ``time_questions``)."""
    args = [] if unique else ["--cache-bytes", "0"]  # no result cache: each answer comes from the store
    with rkg_server(case, store, args, "" if unique else "same") as (process, base, ready):
        memory = tree_rss(process.pid)
        health = []
        for _ in range(30):
            t = time.monotonic()
            status, body = http(base + "/health")
            health.append((time.monotonic() - t) * 1000)
            assert status == 200 and json.loads(body)["triples"], body
        latency = time_questions(base + "/sparql", case.rounds, unique=unique)
        memory = max(memory, tree_rss(process.pid))
        return Row((f"rkg serve --store {store}" if store else "rkg serve") + ("" if unique else SAME), ready, memory, statistics.median(health),
                   latency, f"/health max {max(health):.1f} ms")


def serve_oxigraph(case: Case) -> Row:
    store = case.work / "oxigraph-store"
    if not store.is_dir():
        load_oxigraph(case)
    port = free_port()
    log = (case.work / "oxigraph-serve.log").open("wb")
    started = time.monotonic()
    process = subprocess.Popen([OXIGRAPH, "serve-read-only", "--location", str(store), "--bind", f"127.0.0.1:{port}",
                                "--union-default-graph"], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(base + "/query?query=" + urllib.parse.quote("ASK {}"), process, 600)
        ready = time.monotonic() - started
        latency = time_questions(base + "/query", case.rounds)
        return Row("oxigraph serve-read-only", ready, tree_rss(process.pid), None, latency)
    finally:
        stop(process)
        log.close()


# ---------------------------------------------------------------- remote engines (rkg.remote)


TIME_LIMIT = 10
"""rkg serve's default --time-limit: sent by rkg to the engine as ``timeout`` (ms), Oxigraph server's --timeout-s."""


def start_engine(case: Case, name: str, folder: Path) -> engines.Engine:
    """A fresh engine of kind ``name`` in ``folder``, stopped at the end of the size."""
    shutil.rmtree(folder, ignore_errors=True)
    started = time.monotonic()
    if name == "oxigraph":
        found = engines.start_oxigraph(folder, timeout_s=TIME_LIMIT, location=folder / "store")
    else:
        found = engines.start_virtuoso(folder, buffers=VIRTUOSO_BUFFERS)
    case.started[folder.name] = time.monotonic() - started
    case.stack.callback(engines.stop, found)
    return found


VIRTUOSO_BUFFERS = 170_000
"""Virtuoso's NumberOfBuffers (8 KiB pages: 1.3 GiB), as its own ini advises for about 2 GiB of free memory."""


def engine(case: Case, name: str) -> engines.Engine:
    """The engine ``name`` of this size (started, empty, on first use; loaded by its ``rkg build --target`` row)."""
    if name not in case.engines:
        case.engines[name] = start_engine(case, name, case.work / f"{name}-server")
    return case.engines[name]


def build_target(case: Case, name: str) -> Row:
    """``rkg build --target`` into the (empty) engine ``name`` with its own loader: the whole command (the
    build again, the load, rkg's count check), the load alone from its progress line in the note."""
    found = engine(case, name)
    log = case.work / f"build-target-{name}.log"
    peak = Peak(found.process.pid)
    try:
        seconds, top = measure([PYTHON, "-m", "rkg", "build", "--root", str(ROOT), "--build-dir", str(case.build_dir),
                                "--target", found.url, *found.load_args], log)
    finally:
        engine_peak = peak.stop()
    loaded = [line for line in log.read_text(errors="replace").splitlines() if " loader in " in line]
    load = loaded[-1].rsplit(" in ", 1)[1] if loaded else "?"
    return Row(f"rkg build --target {name}" + (" --loader virtuoso-isql" if name == "virtuoso" else ""), seconds, top,
               note=f"load {load}; engine peak {mib(engine_peak)}")


def load_virtuoso_own(case: Case) -> Row:
    """Virtuoso's own bulk load of the same rkg.nq into another fresh Virtuoso, through isql-vt: ``ld_dir``
    (graph of each quad from the file), ``rdf_loader_run``, ``checkpoint`` (what rkg's loader runs,
    without the copy and the clearing of old graphs). Memory: the engine's peak."""
    found = start_engine(case, "virtuoso", case.work / "virtuoso-own")
    assert found.load_dir is not None
    shutil.copyfile(case.nquads, found.load_dir / "rkg.nq")  # not timed: rkg's loader copies too, inside its time
    peak = Peak(found.process.pid)
    started = time.monotonic()
    try:
        engines.isql(found, f"ld_dir('{found.load_dir}', 'rkg.nq', 'https://w3id.org/rkg/graph/default');\n"
                            "rdf_loader_run();\ncheckpoint;\n")
    finally:
        top = peak.stop()
    seconds = time.monotonic() - started
    out = engines.isql(found, "SELECT 'LOAD' || '-ERROR', ll_error FROM DB.DBA.LOAD_LIST WHERE ll_error IS NOT NULL;\n")
    if "LOAD-ERROR" in out:
        raise RuntimeError(f"Virtuoso's loader failed: {out[-500:]}")
    return Row("virtuoso ld_dir + rdf_loader_run", seconds, top, note="into a fresh Virtuoso; memory: the engine's peak")


def engine_request(url: str) -> list[tuple[str, str]]:
    """The protocol parameters rkg adds to a query without its own dataset (``RemoteExecutor.dataset`` and
    ``_post``): its graphs, listed by rkg.remote's own code, as default and named graphs, and the time limit."""
    from rkg.remote import RemoteExecutor

    remote = RemoteExecutor(url)
    try:
        graphs = remote.graphs(time.monotonic() + 600, fresh=True)
    finally:
        remote.close()
    return ([("default-graph-uri", g) for g in graphs] + [("named-graph-uri", g) for g in graphs]
            + [("timeout", str(TIME_LIMIT * 1000))])


OWN = {"virtuoso": "virtuoso /sparql (rkg's request)", "oxigraph": "oxigraph server /query (rkg's request)"}


SAME = " (same text, result cache off)"
API = " GET /api/queries (defaults)"
"""Rows of the named questions asked as users ask them (``time_api``), and the engines' rows beside them."""
OWN_API = {"virtuoso": "virtuoso /sparql (the API's bound texts)",
           "oxigraph": "oxigraph server /query (the API's bound texts)"}


def serve_engine(case: Case, name: str, unique: bool = True) -> Row:
    """The engine's own endpoint sent exactly what rkg sends it for each named question."""
    found = engine(case, name)
    latency = time_questions(found.url, case.rounds, engine_request(found.url), unique)
    return Row(OWN[name] + ("" if unique else SAME), case.started.get(f"{name}-server"),
               tree_rss(found.process.pid), None, latency, "engine start to ready; its memory now")


def serve_api(case: Case, name: str) -> Row:
    """``rkg serve --store`` in front of the engine ``name``, default settings, asked the named questions
    on its API as users ask them (``time_api``)."""
    with rkg_server(case, name, [], "api") as (process, base, ready):
        latency = time_api(base, case.rounds)
        return Row(f"rkg serve --store {name}{API}", ready, tree_rss(process.pid), None, latency,
                   f"{NEW_TEXT}: first asks of new values")


def engine_api(case: Case, name: str) -> Row:
    """The engine's own endpoint sent the texts rkg sends it for ``serve_api``'s asks (``time_api_texts``)."""
    found = engine(case, name)
    latency = time_api_texts(found.url, case.rounds, engine_request(found.url))
    return Row(OWN_API[name], None, tree_rss(found.process.pid), None, latency, "the same text repeated; "
               f"{NEW_TEXT}: a new text each time")


def validate(case: Case, name: str, cmd: list[str]) -> Row:
    try:
        r = validate_scale.measure(name, cmd, 1, warmup=validate_scale.warmup(name))
    except SystemExit as e:  # validate_scale's way to say a command failed: once more, to read why
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        raise RuntimeError(f"exit {done.returncode}: {done.stderr.strip()[-300:]}") from e
    return Row(f"rkg {name}", r["median"], int(r["peak_mib"] * 2**20), note="one run" + (" after a warm-up" if
               validate_scale.warmup(name) else ""))


def validators() -> dict[str, Callable[[Case], Row]]:
    """validate_scale's commands on the build (pySHACL up to PYSHACL_MAX), then ``--store`` on each engine."""
    def local(name: str) -> Callable[[Case], Row]:
        def step(case: Case) -> Row:
            cmd = dict(validate_scale.commands(case.build_dir, case.triples <= PYSHACL_MAX)).get(name)
            return validate(case, name, cmd) if cmd else Row(f"rkg {name}", note=f"not run above {label(PYSHACL_MAX)}")
        return step

    def remote(engine_name: str) -> Callable[[Case], Row]:
        return lambda case: validate(case, f"validate --store {engine_name}",
                                     [PYTHON, "-m", "rkg", "validate", "--root", str(ROOT), "-q",
                                      "--store", engine(case, engine_name).url])

    return {**{name: local(name) for name, _ in validate_scale.commands(Path("."))},
            **{f"validate --store {e}": remote(e) for e in ("oxigraph", "virtuoso")}}


PYSHACL_MAX = 500_000
"""validate --include-imports --engine pyshacl only up to this size (it takes minutes above)."""

LOADERS: dict[str, Callable[[Case], Row]] = {
    "rkg build": build_rkg, "oxigraph load": load_oxigraph,
    "rkg build --target oxigraph": lambda case: build_target(case, "oxigraph"),
    "rkg build --target virtuoso": lambda case: build_target(case, "virtuoso"),
    "virtuoso ld_dir": load_virtuoso_own}
"""Run in this order for each size; the first must make ``case.build_dir`` (rkg.nq, build/store)."""
SERVERS: dict[str, Callable[[Case], Row]] = {
    "rkg serve": serve_rkg, "oxigraph serve-read-only": serve_oxigraph,
    **{step + ("" if unique else SAME): (lambda case, f=f, name=name, unique=unique: f(case, name, unique=unique))
       for name, own in (("virtuoso", "virtuoso /sparql"), ("oxigraph", "oxigraph server /query"))
       for unique in (True, False)
       for step, f in ((f"rkg serve --store {name}", serve_rkg), (own, serve_engine))},
    **{step: (lambda case, f=f, name=name: f(case, name))
       for name in ("virtuoso", "oxigraph")
       for step, f in ((f"rkg serve --store {name}{API}", serve_api), (OWN_API[name], engine_api))}}
"""Servers timed one after the other on the built graph: rkg embedded beside oxigraph serve-read-only, then
rkg in front of each remote engine beside the engine's own endpoint (texts sent to /sparql, then the named
questions asked on the API)."""
VALIDATORS: dict[str, Callable[[Case], Row]] = validators()
"""Validation of the built graph at scale (bench/validate_scale.py's commands) and of each engine's graphs."""


# ---------------------------------------------------------------- report


COLUMNS = [*QUESTIONS, NEW_TEXT]
"""The latency columns of the table (ms)."""


def mib(n: int | None) -> str:
    return "" if n is None else f"{n / 2**20:,.0f} MiB"


def report(rows: dict[str, list[Row]], generated: dict[str, int]) -> str:
    lines = ["# Scale benchmark", "",
             f"`bench/scale.py`, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores. "
             "ESCO-shaped imports generated into build/imports/, then each step alone. Memory: RSS summed over "
             "the process tree (peak for build and load; after start and after the questions for servers).", "",
             "| size | ESCO triples | step | seconds | memory | /health ms | " + " | ".join(COLUMNS) + " | note |",
             "|---|---:|---|---:|---:|---:|" + "---:|" * len(COLUMNS) + "---|"]
    for size, size_rows in rows.items():
        for r in size_rows:
            qs = " | ".join(f"{r.questions_ms[q]:.1f}" if q in r.questions_ms else "" for q in COLUMNS)
            lines.append(f"| {size} | {generated[size]:,} | {r.engine} | {'' if r.seconds is None else f'{r.seconds:.1f}'} | "
                         f"{mib(r.peak)} | {'' if r.health_ms is None else f'{r.health_ms:.1f}'} | {qs} | {r.note} |")
    lines += ["", "Ratios (targets of issue 12):", ""]
    for size, size_rows in rows.items():
        by = {r.engine: r for r in size_rows}
        b, o, s, x = by.get("rkg build"), by.get("oxigraph load"), by.get("rkg serve"), by.get("oxigraph serve-read-only")
        if b and o and b.seconds is not None and o.seconds is not None:
            lines.append(f"- {size}: rkg build / oxigraph load time **{b.seconds / o.seconds:.2f}×** (target ≤ 1.2×), "
                         f"build peak {mib(b.peak)} (target ≤ 2 GiB at 6.8M)")
        if s and s.seconds is not None:
            lines.append(f"- {size}: rkg serve ready in **{s.seconds:.1f} s** (target ≤ 5 s), all processes "
                         f"{mib(s.peak)} (target ≤ 1.5 GiB), /health median {s.health_ms:.1f} ms (target ≤ 50 ms)")
        if s and x and s.questions_ms and x.questions_ms:
            worst = max(s.questions_ms[q] / x.questions_ms[q] for q in QUESTIONS if x.questions_ms.get(q))
            lines.append(f"- {size}: named questions, worst rkg/oxigraph latency **{worst:.2f}×** (target ≤ 1.5×)")
        for (engine_name, own), same in ((pair, same) for pair in OWN.items() for same in ("", SAME)):
            r, e = by.get(f"rkg serve --store {engine_name}{same}"), by.get(own + same)
            if r and e and r.questions_ms and e.questions_ms:
                each = ", ".join(f"{q} {r.questions_ms[q] / e.questions_ms[q]:.2f}×" for q in QUESTIONS if e.questions_ms.get(q))
                worst = max(r.questions_ms[q] / e.questions_ms[q] for q in QUESTIONS if e.questions_ms.get(q))
                lines.append(f"- {size}: named questions through {engine_name}{same or ' (unique texts)'}, rkg / the "
                             f"engine's own endpoint: worst **{worst:.2f}×**"
                             + (" (target ≤ 1.2×)" if engine_name == "virtuoso" else "") + f"; {each}")
        for engine_name, own in OWN_API.items():
            r, e = by.get(f"rkg serve --store {engine_name}{API}"), by.get(own)
            if r and e and r.questions_ms and e.questions_ms:
                each = ", ".join(f"{q} {r.questions_ms[q] / e.questions_ms[q]:.2f}×" for q in COLUMNS if e.questions_ms.get(q))
                lines.append(f"- {size}: named questions as users ask them (GET /api/queries, defaults) through "
                             f"{engine_name}, rkg / the engine's own endpoint sent the bound text: repeated asks "
                             f"worst **{max(r.questions_ms[q] / e.questions_ms[q] for q in QUESTIONS):.2f}×**, a new "
                             f"parameter value **{r.questions_ms[NEW_TEXT] / e.questions_ms[NEW_TEXT]:.2f}×**; {each}")
    return "\n".join(lines) + "\n"


STEPS = [*LOADERS, *SERVERS, *VALIDATORS]


def run_steps(case: Case, rows: list[Row], only: list[str] | None = None) -> None:
    for name, step in {**LOADERS, **SERVERS, **VALIDATORS}.items():
        if only is not None and name not in only:
            continue
        print(f"[{case.size}] {name}", flush=True)
        try:
            row = step(case)
        except Exception as e:  # noqa: BLE001 - one failed step is a row, the others still run
            row = Row(name, note=f"failed: {type(e).__name__}: {str(e)[:200]}")
        print(f"    {row}", flush=True)
        rows.append(row)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="0.5M,2M", help="ESCO-shaped triples per run, comma-separated (default: 0.5M,2M)")
    parser.add_argument("--work", type=Path, default=RESULTS / "scale-work", help="where the builds and stores go")
    parser.add_argument("--rounds", type=int, default=5, help="timed requests per named question (default: 5)")
    parser.add_argument("--out", type=Path, default=RESULTS / "scale.md")
    parser.add_argument("--keep", action="store_true", help="keep each size's builds and stores")
    parser.add_argument("--step", action="append", metavar="NAME", help="only this step; repeatable, e.g. --step 'rkg build' "
                        "--step 'oxigraph load' (default: all; the first must be rkg build)")
    args = parser.parse_args(argv)
    only = args.step
    unknown = sorted(set(only or []) - set(STEPS))
    if unknown or (only is not None and only[0] != "rkg build"):
        parser.error(f"--step: unknown {unknown}; known: {'; '.join(STEPS)}" if unknown else "--step: the first must be rkg build")
    rows: dict[str, list[Row]] = {}
    generated: dict[str, int] = {}
    for size in args.sizes.split(","):
        n = parse_size(size)
        case = Case(label(n), n, args.work / label(n), args.rounds)
        shutil.rmtree(case.work, ignore_errors=True)
        print(f"[{case.size}] generating ESCO-shaped triples", flush=True)
        generated[case.size] = write_esco(case.build_dir / "imports" / "esco-synthetic.nt", n)
        rows[case.size] = []
        with case.stack:  # the engines of this size stop at its end
            run_steps(case, rows[case.size], only)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(report(rows, generated), encoding="utf-8")
        if not args.keep:
            shutil.rmtree(case.work, ignore_errors=True)
    print(report(rows, generated))
    return 0


if __name__ == "__main__":
    sys.exit(main())
