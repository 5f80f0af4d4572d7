"""The ``rkg`` command. Thin: parses arguments, calls the modules, maps outcomes to exit codes.

Exit codes:

* 0: done (also when stdout is closed early, as by ``| head``);
* 1: findings (validation reached ``--fail-on``);
* 2: usage or input error, or any other error rkg raises on purpose (``rkg.errors.RkgError``): one line
  ``rkg: error: MESSAGE`` on stderr;
* 3: a bug in rkg (any other exception): its traceback on stderr, then a line saying so.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__
from .errors import InputError, RkgError, SetupError
from .settings import Config, FrontConfig

if TYPE_CHECKING:
    from .project import Project
    from .store import Table

# rdflib, pySHACL, pyoxigraph, Flask, granian, openpyxl and owlready2 are imported by the subcommands that
# use them, never here: `rkg --version` and `rkg --help` start in a few tens of milliseconds (bench/cli_start.py).

EXIT_OK, EXIT_FINDINGS, EXIT_INPUT, EXIT_BUG = 0, 1, 2, 3
SEVERITIES = ("violation", "warning", "info")
"""``rkg.validation.SEVERITIES``, repeated so that the parser does not import pySHACL (a test checks they agree)."""
ENGINES = ("pyshacl", "turbo")
"""``rkg.validation.ENGINES``, repeated for the same reason."""
CI_FORMATS = ("junit", "sarif", "github")
"""``rkg.ci_report.FORMATS``, repeated for the same reason."""


def _progress(args: argparse.Namespace):
    if args.quiet:
        return None
    return lambda msg: print(f"rkg: {msg}", file=sys.stderr, flush=True)


def _project(args: argparse.Namespace) -> Project:
    from .project import Project

    return Project.locate(args.root, args.build_dir, args.data or ())


# ---------------------------------------------------------------- subcommands


def cmd_build(args: argparse.Namespace) -> int:
    project = _project(args)
    result = project.build(_progress(args))
    width = max(len(g) for g in result.counts)
    for graph, n in result.counts.items():
        print(f"{graph:<{width}}  {n:>8}")
    print(f"{'total':<{width}}  {result.total:>8}")
    if not args.quiet:
        print(f"rkg: written to {project.build_dir}", file=sys.stderr)
    if args.target:
        _load_target(args, project)
    return EXIT_OK


def _load_target(args: argparse.Namespace, project: Project) -> None:
    """``rkg build --target URL``: the build loaded into a remote engine with its own loader (rkg.remote)."""
    import os

    from .build import NQUADS_NAME
    from .remote import check_url, load

    password = os.environ.get("VIRTUOSO_PASSWORD") or "dba"
    counts = load(check_url(args.target), str(project.build_dir / NQUADS_NAME), args.loader, _progress(args),
                  isql=args.isql, isql_user=args.isql_user, isql_password=password,
                  load_dir=str(args.load_dir) if args.load_dir else None)
    if not args.quiet:
        print(f"rkg: {sum(counts.values())} triples in {len(counts)} graphs now on {args.target}", file=sys.stderr)


def _remote_store(url: str, progress):
    """The graphs of the remote engine at ``url``, fetched into an in-memory store (``--store``)."""
    import time

    from .remote import RemoteExecutor, check_url
    from .store import EmbeddedStore

    remote = RemoteExecutor(check_url(url))
    try:
        if progress:
            progress(f"reading rkg's graphs from {url}")
        return EmbeddedStore.from_quads(remote.quads(time.monotonic() + 3600))
    finally:
        remote.close()


def cmd_validate(args: argparse.Namespace) -> int:
    from .catalog import Catalog
    from .validation import built_store, load_shapes, render_json, render_text, render_turtle, validate
    from .build import IMPORTS
    from .build import discover as discover_sources

    project = _project(args)
    progress = _progress(args)
    store = _remote_store(args.store, progress) if args.store else built_store(project, progress)
    shapes = load_shapes(project.shapes)
    if progress:
        progress(f"validating against {len(shapes)} shape triples and the QC queries")  # len(store): a count of every quad
    sources = None if args.store else discover_sources(project.root, project.extra_data, project.build_dir / IMPORTS)
    report, results = validate(store, shapes, Catalog.from_folder(project.queries), args.include_imports, args.engine,
                               sources=sources, root=project.root)  # where each finding's focus node was written
    if args.format == "json":
        out = render_json(report)
    elif args.format == "turtle":
        out = render_turtle(report, results)
    elif args.format in CI_FORMATS:
        from .ci_report import render

        out = render(args.format, report, args.lang, args.fail_on, shapes)
    else:
        out = render_text(report, args.lang)
    if args.output:
        from .files import write_atomic

        write_atomic(args.output, out.encode("utf-8"))
    else:
        sys.stdout.write(out)
    return EXIT_FINDINGS if report.reaches(args.fail_on) else EXIT_OK


def _params(pairs: Sequence[str]) -> dict[str, str]:
    out = {}
    for p in pairs:
        key, sep, value = p.partition("=")
        if not sep or not key:
            raise InputError(f"--param expects name=value, got '{p}'")
        out[key.strip()] = value
    return out


def cmd_query(args: argparse.Namespace) -> int:
    from .catalog import Catalog, run

    project = _project(args)
    catalog = Catalog.from_folder(project.queries)
    if args.list or not args.name:
        for name, q in catalog.queries.items():
            params = " ".join(f"{p.name}={p.default}" if p.default else (p.name if p.required else f"[{p.name}]")
                              for p in q.parameters)
            print(f"{name:<28} {q.summary_in(args.lang)}" + (f"  ({params})" if params else ""))
        return EXIT_OK
    query = catalog.get(args.name)
    table = run(project.store(_progress(args)), query, _params(args.param or []))
    sys.stdout.write(render_table(table, args.format))
    return EXIT_OK


def cmd_stats(args: argparse.Namespace) -> int:
    from .catalog import Catalog, run

    project = _project(args)
    store = project.store(_progress(args))
    catalog = Catalog.from_folder(project.queries)
    counts = run(store, catalog.get("class-counts")).values()
    coverage = run(store, catalog.get("coverage")).values()
    programmes = sorted({r[0] for r in counts} | {r[0] for r in coverage if r[0]})
    summary = {
        p: {
            "counts": {c: int(n) for prog, c, n in counts if prog == p},
            "coverage": {m: {"covered": int(a), "total": int(b)} for prog, m, a, b in coverage if prog == p},
        }
        for p in programmes if p
    }
    if args.format == "json":
        print(json.dumps({"quads": len(store), "graphs": store.graphs(), "programmes": summary}, indent=2))
        return EXIT_OK
    print(f"{len(store)} quads in {len(store.graphs())} named graphs")
    for p, s in summary.items():
        print(f"\n{p}")
        for c, n in s["counts"].items():
            print(f"  {c:<26} {n:>5}")
        for m, v in s["coverage"].items():
            pct = 100 * v["covered"] / v["total"] if v["total"] else 0
            print(f"  {m:<36} {v['covered']:>3}/{v['total']:<3} {pct:5.1f} %")
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    import dataclasses

    from . import build as build_mod
    from .executor import StoreSpec, count_triples, create_store, run_isolated
    from .serve import run as serve

    project = _project(args)
    progress = _progress(args)
    location = args.location.resolve() if args.location is not None else None
    nquads = project.build_dir / build_mod.NQUADS_NAME
    config = Config(**{**Config.from_args(args), "location": location},
                    nquads=None if location or args.store else nquads,
                    shapes=project.shapes, queries=project.queries, root=project.root,
                    assets=project.assets if project.assets.is_dir() else None, update_token=_token(args))
    front = FrontConfig(**FrontConfig.from_args(args))
    config.check()  # before any build: the rules are Config's and FrontConfig's, not repeated here
    front.check(config)
    if config.store is not None:
        return _serve_remote(config, front)
    if build_mod.is_stale(project.root, project.build_dir, project.extra_data):
        from .project import build_isolated

        if progress:
            progress("build/ is missing or older than the sources: building")
        # In a child: the build writes build/store (RocksDB), which the master must never open itself.
        run_isolated(build_isolated, str(project.root), str(project.build_dir),
                     tuple(str(d) for d in project.extra_data), progress is None)
    built = build_mod.read_manifest(project.build_dir)
    digest = built["digest"][:10]
    fresh = False  # a --location store made now from build/: the manifest's counts are its counts
    if location is not None:
        if not location.exists() or not any(location.iterdir()):
            if progress:
                progress(f"creating the persistent store in {location} from {nquads}")
            run_isolated(create_store, str(location), str(nquads))
            fresh = True
        elif progress:
            progress(f"serving the existing store in {location} as it is (it is not reloaded from build/)")
        digest = "store"
    config = dataclasses.replace(config, version=f"{__version__}+{digest}")
    _check_network(config)
    # The build recorded the count; an existing on-disk store is counted once here, in a child (the master
    # must not open RocksDB); the service then counts it once more, off the request path.
    count = (run_isolated(count_triples, StoreSpec("readonly", str(location))) if location and not fresh
             else built["triples"])
    base = f"http://{front.host}:{front.port}"
    print(f"rkg {__version__}: serving {count} triples (graph version {config.version})", flush=True)
    print(f"SPARQL endpoint: {base}/sparql" + ("  (updates enabled)" if config.writable else "  (read-only)"), flush=True)
    print(f"Web pages: {base}/", flush=True)
    serve(config, front)
    return EXIT_OK


def _serve_remote(config: Config, front: FrontConfig) -> int:
    """``rkg serve --store URL``: no local build; the engine is asked once here that it answers."""
    import dataclasses
    import time

    from .remote import RemoteExecutor
    from .serve import run as serve

    remote = RemoteExecutor(config.store or "")
    try:  # rkg's graphs listed (two small queries), not counted: at millions of triples a count is the
        graphs = remote.graphs(time.monotonic() + 60)  # service's background work, never the start's
    finally:
        remote.close()
    config = dataclasses.replace(config, version=f"{__version__}+remote")
    _check_network(config)  # the guard's sandbox closes its network as the local ones do
    base = f"http://{front.host}:{front.port}"
    print(f"rkg {__version__}: serving rkg's {len(graphs)} graphs from {config.store} (read-only)", flush=True)
    print(f"SPARQL endpoint: {base}/sparql  (read-only)", flush=True)
    print(f"Web pages: {base}/", flush=True)
    serve(config, front)
    return EXIT_OK


def _check_network(config: Config) -> None:
    """Fail now, not in every worker, when the query processes' network cannot be closed here (unless
    --insecure-network)."""
    if config.insecure_network:
        return
    from .executor import run_isolated
    from .isolation import probe

    try:
        run_isolated(probe, timeout=60)
    except RkgError as e:
        raise SetupError(f"the query processes' network cannot be closed here ({e}); "
                         "pass --insecure-network to serve without that protection") from None


def _token(args: argparse.Namespace) -> str | None:
    """The update token: None without --allow-update, else from --token-file or RKG_UPDATE_TOKEN ("" when
    neither gives one, which ``Config.check`` refuses)."""
    import os

    if not args.allow_update:
        return None
    if args.token_file is None:
        return os.environ.get("RKG_UPDATE_TOKEN", "").strip()
    try:
        return args.token_file.read_text(encoding="utf-8").strip()
    except OSError as e:
        raise InputError(f"cannot read the token file: {e}") from None


def cmd_import(args: argparse.Namespace) -> int:
    from .interop import imports

    project = _project(args)
    folder = project.build_dir / imports.IMPORTS
    progress = _progress(args)
    name = imports.import_name(args.source, args.name)
    if args.kind == "esco":
        result = imports.esco(args.source, folder, name, args.lang, progress)
    elif args.kind == "rncp":
        result = imports.rncp(args.source, folder, name, args.fiche, progress)
    elif args.kind == "moodle":
        result = imports.moodle(args.source, folder, name, args.programme)
    elif args.kind == "orebut":
        result = imports.orebut(args.source, folder, name, args.programme)
    else:
        result = imports.table(args.source, folder, name, args.programme)
    for label, n in result.counts.items():
        print(f"{label:<28}  {n:>8}")
    if progress:
        for note in result.notes:
            progress(note)
        progress(f"written to {result.target}; graph {result.graphs} joins the next build")
    return EXIT_OK


def cmd_diff(args: argparse.Namespace) -> int:
    from .diff import compare, render, store_select

    store = _project(args).store(_progress(args))
    graphs = [g.value for g in store.engine.named_graphs()]
    sys.stdout.write(render(compare(store_select(store), graphs, args.programme, args.old, args.new, args.lang), args.format))
    return EXIT_OK  # differences are the answer, not findings


EXPORTS = ("ctdl-asn", "case", "elm", "moodle", "badges", "skos", "jsonld", "table")


def cmd_export(args: argparse.Namespace) -> int:
    from .files import write_atomic
    from .interop import badges, case, ctdl, elm, framework, jsonld, moodle, skos

    project = _project(args)
    store = project.store(_progress(args))
    if args.format == "table":
        from .interop import table

        if args.output is None:
            raise InputError("rkg export table needs --output FILE.xlsx, --output FILE.ods or --output FOLDER (one CSV per sheet)")
        tables = {name: [] for name in table.ORDER} if args.empty else table.from_graph(store, args.programme)
        if not args.empty and not tables["programme"]:
            raise InputError(f"no programme {args.programme!r} in the graph")
        _replace_atomic(args.output, lambda tmp: table.write(tables, tmp))
        return EXIT_OK
    if args.format == "jsonld":  # the whole graph, not one programme
        text = jsonld.export(store)
        if args.output:
            write_atomic(args.output, text.encode("utf-8"))
        else:
            sys.stdout.write(text)
        return EXIT_OK
    fw = framework.read(store, args.programme)
    writers = {"ctdl-asn": lambda: ctdl.export(fw), "case": lambda: case.export(fw), "moodle": lambda: moodle.export(fw),
               "badges": lambda: badges.export(fw, store), "skos": lambda: skos.export(fw, store),
               "elm": lambda: elm.export(fw, store)}
    text = writers[args.format]()
    if args.output:
        write_atomic(args.output, text.encode("utf-8"))
    else:
        sys.stdout.write(text)
    return EXIT_OK


def _replace_atomic(target: Path, write) -> None:
    """Write a file or a folder beside ``target``, then put it in place: whole or not at all."""
    import os
    import shutil
    import tempfile

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp_dir = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
    try:
        tmp = tmp_dir / target.name
        write(tmp)
        if tmp.is_dir() and target.exists():
            old = tmp_dir / ".old"
            os.replace(target, old)
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)


# ---------------------------------------------------------------- output


def render_table(table: Table, fmt: str) -> str:
    from . import results

    rows = table.values()
    if fmt == "json":  # SPARQL 1.1 Query Results JSON Format
        return json.dumps(json.loads(results.select_json(table.columns, table.rows)), ensure_ascii=False, indent=2) + "\n"
    if fmt == "csv":  # SPARQL 1.1 Query Results CSV Format
        return results.select_csv(table.columns, table.rows).decode()
    cells = [table.columns] + [["" if v is None else v for v in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(table.columns))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines) + f"\n({len(rows)} rows)\n"


# ---------------------------------------------------------------- parser


def parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--root", type=Path, help="project folder holding ontology/, data/, shapes/, queries/ (default: found from the current folder)")
    common.add_argument("--build-dir", type=Path, help="where the built graph goes (default: ROOT/build)")
    common.add_argument("--data", type=Path, action="append", metavar="DIR",
                        help="an extra data folder to load beside data/ (another référentiel); repeatable")
    common.add_argument("-q", "--quiet", action="store_true", help="no progress messages on stderr")

    p = argparse.ArgumentParser(prog="rkg", description="Knowledge graph of competency frameworks (référentiels de compétences).")
    p.add_argument("--version", action="version", version=f"rkg {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    b = sub.add_parser("build", parents=[common], help="merge ontology and data into build/ (one named graph per source file)",
                       description="Parse every source file (ontology/*.ttl, data/**/*.ttl), merge them into one dataset with a named graph per file, and write build/rkg.nq, build/rkg.trig and build/rkg.ttl. A syntax error stops the build with file, line and column; nothing is written then.")
    b.add_argument("--target", metavar="URL", help="then load the build into the remote SPARQL engine whose query endpoint is URL, replacing rkg's graphs there (README, « Remote stores »)")
    b.add_argument("--loader", choices=("oxigraph", "virtuoso-isql"), default="oxigraph", help="how --target loads: oxigraph (Oxigraph server's /store, bulk) or virtuoso-isql (Virtuoso's ld_dir/rdf_loader_run through isql-vt; password in VIRTUOSO_PASSWORD, default dba) (default: oxigraph)")
    b.add_argument("--isql", default="localhost:1111", metavar="HOST:PORT", help="virtuoso-isql: Virtuoso's SQL port (default: localhost:1111)")
    b.add_argument("--isql-user", default="dba", metavar="USER", help="virtuoso-isql: the user (default: dba)")
    b.add_argument("--load-dir", type=Path, metavar="DIR", help="virtuoso-isql: a folder of Virtuoso's DirsAllowed on this machine, where the file is copied for the loader")
    b.set_defaults(func=cmd_build)

    v = sub.add_parser("validate", parents=[common], help="SHACL shapes and QC queries on the built graph",
                       description="Validate the built graph (rebuilt first if stale) with the core shapes of shapes/, the shapes of the profiles each programme declares (dcterms:conformsTo <https://w3id.org/rkg/profile/NAME>: shapes/profiles/NAME/) and the QC queries of queries/qc/. Exit 0 when nothing reaches --fail-on, 1 when something does, 2 on an input error.")
    v.add_argument("--format", choices=("text", "turtle", "json", *CI_FORMATS), default="text",
                   help="report format (default: text); for CI: junit (JUnit XML), sarif (SARIF 2.1.0, for code scanning), github (GitHub workflow-command annotations)")
    v.add_argument("--output", "-o", type=Path, metavar="FILE", help="write the report to FILE (whole or not at all) instead of stdout")
    v.add_argument("--fail-on", choices=SEVERITIES, default="violation", help="lowest severity that makes the exit code 1, and a JUnit test case fail (default: violation)")
    v.add_argument("--lang", choices=("fr", "en"), default="fr", help="language of the text, JUnit, SARIF and GitHub reports (default: fr)")
    v.add_argument("--include-imports", action="store_true", help="validate the imported vocabularies too (imported graphs that hold neither a rkg:Programme nor entities of one: ESCO, RNCP records…; left out by default and named in the report); imported référentiels are always validated")
    v.add_argument("--engine", choices=ENGINES, default=None,
                   help="SHACL engine: pyshacl (the reference; the default for the référentiels) or turbo (the pyshacl-turbo "
                        "package: pySHACL's API on a Rust engine, same findings, faster; by default pyshacl validates the référentiels and turbo the imported vocabularies of --include-imports)")
    v.add_argument("--store", metavar="URL", help="validate the graphs of a remote SPARQL engine (its query endpoint) instead of the local build")
    v.set_defaults(func=cmd_validate)

    q = sub.add_parser("query", parents=[common], help="run a named query of queries/ or a .rq file",
                       description="Run a named query (its file name without .rq, or qc/NAME) or a .rq file on the built graph. Parameters are checked against the query header and bound as typed RDF terms.")
    q.add_argument("name", nargs="?", metavar="NAME|FILE", help="named query or path to a .rq file; omit to list the named queries")
    q.add_argument("--param", "-p", action="append", metavar="NAME=VALUE", help="a parameter value; repeatable")
    q.add_argument("--format", choices=("table", "csv", "json"), default="table", help="output format (default: table; json is SPARQL 1.1 JSON results)")
    q.add_argument("--list", action="store_true", help="list the named queries and their parameters")
    q.add_argument("--lang", choices=("fr", "en"), default="en", help="language of the list (default: en)")
    q.set_defaults(func=cmd_query)

    s = sub.add_parser("stats", parents=[common], help="summary per programme: counts per class and coverage",
                       description="Counts per class and coverage ratios for every programme in the built graph.")
    s.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    s.set_defaults(func=cmd_stats)

    im = sub.add_parser("import", help="convert an outside source into a named graph of the next build",
                        description="Convert an outside source into RDF under build/imports/ (a named graph of its own, https://w3id.org/rkg/graph/imports/NAME, loaded by the next build). Streams the input; a failed import leaves nothing behind.")
    im_sub = im.add_subparsers(dest="kind", required=True, metavar="KIND")
    ie = im_sub.add_parser("esco", parents=[common], help="ESCO: the CSV download (a folder) or an RDF dump (a file)",
                           description="Read the official ESCO CSV files of a folder (occupations, skills, skillGroups, broaderRelations*, skillSkillRelations, occupationSkillRelations; those absent are skipped) or an ESCO RDF dump (.ttl, .nt, .nq, .rdf) into ESCO's own RDF model.")
    ie.add_argument("source", type=Path, metavar="DIR|FILE", help="folder of <table>_<lang>.csv files, or an RDF dump")
    ie.add_argument("--lang", default="en", help="language of the CSV files and of their labels (default: en)")
    ie.add_argument("--name", help="name of the import and of its graph (default: the folder or file name, e.g. esco-1.2.0)")
    ie.set_defaults(func=cmd_import)
    ir = im_sub.add_parser("rncp", parents=[common], help="RNCP: France Compétences' XML export v4.1",
                           description="Read an RNCP XML export (v4.1, FICHES/FICHE) as a stream into one named graph per fiche (https://w3id.org/rkg/graph/imports/rncp/RNCPnnnnn): certification, level, status, dates, certifiers, ROME/NSF/Formacode codes, blocks with their competencies and evaluation modalities cut out of the free text (original text kept).")
    ir.add_argument("source", type=Path, metavar="FILE.xml", help="the export file")
    ir.add_argument("--fiche", action="append", metavar="RNCPnnnnn", help="import only this fiche; repeatable (default: all)")
    ir.add_argument("--name", help="name of the import (default: the file name)")
    ir.set_defaults(func=cmd_import)
    io = im_sub.add_parser("orebut", parents=[common], help="a BUT référentiel: Orébut XML (compétences or formation) or ScoDoc JSON",
                           description="Read a BUT référentiel: the Orébut XML of a référentiel de compétences (compétences, niveaux, ACs, composantes essentielles, situations professionnelles, parcours), ScoDoc's JSON export of one, or the Orébut XML of a référentiel de formation (semestres, ressources, SAÉ with their ACs, compétences and coefficients), which is attached to a référentiel de compétences already imported. Strings are kept as written. A malformed file stops it with file:line (XML) or the JSON path; nothing is written then.")
    io.add_argument("source", type=Path, metavar="FILE", help="an Orébut .xml file or a ScoDoc .json export")
    io.add_argument("--programme", help="short id of the programme (default: but-<specialite in lower case>, e.g. but-rt; a formation file: the one BUT programme imported)")
    io.add_argument("--name", help="name of the import and of its graph (default: the file name)")
    io.set_defaults(func=cmd_import)

    for kind, metavar, help_, description in (
        ("moodle", "FILE.csv", "a Moodle competency framework CSV (tool_lpimportcsv)",
         "Read a Moodle competency framework CSV (the tool_lpimportcsv format, e.g. written by rkg export moodle) into a new référentiel: programme, blocks, competencies and critical learnings minted under --programme."),
        ("table", "FILE.xlsx|FILE.ods|FOLDER", "a filled tabular template (.xlsx, .ods or folder of CSV)",
         "Turn a filled template (rkg export table writes one: an .xlsx workbook, an .ods spreadsheet or a folder of <sheet>.csv files) into RDF for a référentiel under --programme. A bad cell stops it with sheet, row and column; nothing is written then."),
    ):
        ip = im_sub.add_parser(kind, parents=[common], help=help_, description=description)
        ip.add_argument("source", type=Path, metavar=metavar)
        ip.add_argument("--programme", required=True, help="short id of the référentiel to create (e.g. rncp99999-x)")
        ip.add_argument("--name", help="name of the import (default: the file or folder name)")
        ip.set_defaults(func=cmd_import)

    ex = sub.add_parser("export", parents=[common], help="write a programme's framework in another format",
                        description="Write one programme's framework for another ecosystem: ctdl-asn (CTDL-ASN JSON-LD), case (CASE 1.0 CFPackage JSON), elm (European Learning Model v3 in the LOQ profile, Turtle), moodle (Moodle competency framework CSV), badges (Open Badges 3.0 Achievements, one per block), skos (SKOS concept scheme, Turtle); jsonld writes the whole graph as JSON-LD with rkg's published context; table writes the tabular template (.xlsx workbook, .ods spreadsheet or folder of CSV), filled with the programme or --empty. The README lists what each format cannot carry.")
    ex.add_argument("format", choices=EXPORTS)
    ex.add_argument("--programme", default="rncp31854-pif", help="IRI or short id (default: rncp31854-pif)")
    ex.add_argument("--output", "-o", type=Path, metavar="FILE", help="write to FILE (whole or not at all) instead of stdout; for table: FILE.xlsx, FILE.ods or a FOLDER of CSV files")
    ex.add_argument("--empty", action="store_true", help="table: write the empty template (headers only)")
    ex.set_defaults(func=cmd_export)

    df = sub.add_parser("diff", parents=[common], help="what changed between two versions of a référentiel",
                        description="Entities added, removed and changed (each property: old and new values, named by code and label) from version FROM to version TO of PROGRAMME. A version is a folder of the programme's data, named as in its graph IRIs (…/graph/rncp31854-pif/2024-2028/…). Entities are matched by IRI; a prov:wasRevisionOf link in TO makes a recoded entity one change, and removed and added entities with the same label are suggested as pairs. Exit 0 whether or not there are differences (they are the answer, not findings); 2 for an unknown programme or version, with the known ones listed.")
    df.add_argument("programme", metavar="PROGRAMME", help="IRI or short id (e.g. rncp31854-pif)")
    df.add_argument("old", metavar="FROM", help="the older version (e.g. 2020-2024)")
    df.add_argument("new", metavar="TO", help="the newer version (e.g. 2024-2028)")
    df.add_argument("--format", choices=("text", "json", "csv", "markdown"), default="text", help="output format (default: text; markdown reads as release notes)")
    df.add_argument("--lang", choices=("fr", "en"), default="fr", help="language of labels and headings (default: fr; labels fall back to the other language)")
    df.set_defaults(func=cmd_diff)

    sv = sub.add_parser("serve", parents=[common], help="SPARQL 1.1 endpoint on the built graph (granian)",
                        description="Serve the built graph (rebuilt first if stale) as a SPARQL 1.1 endpoint with a production WSGI server. Read-only unless --allow-update is given with a token (RKG_UPDATE_TOKEN or --token-file) and a persistent store (--location).")
    FrontConfig.add_arguments(sv)  # the settings' options, from their declarations (rkg.settings)
    sv.add_argument("--allow-update", action="store_true", help="enable SPARQL Update and the Graph Store protocol (token required)")
    sv.add_argument("--token-file", type=Path, metavar="FILE", help="file holding the update token (else RKG_UPDATE_TOKEN)")
    Config.add_arguments(sv)
    sv.set_defaults(func=cmd_serve)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; errors rkg raises on purpose are caught here, once (exit codes: module docstring)."""
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except BrokenPipeError:
        return EXIT_OK
    except RkgError as e:
        print(f"rkg: error: {e}", file=sys.stderr)
        return EXIT_INPUT
    except Exception:
        import traceback

        traceback.print_exc()
        print(f"rkg: this is a bug in rkg {__version__}, not an error of yours: please report it with the "
              "traceback above", file=sys.stderr)
        return EXIT_BUG


if __name__ == "__main__":
    sys.exit(main())
