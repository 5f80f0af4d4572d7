"""Writes on the persistent store: SPARQL Update and the Graph Store protocol, validated, one transaction each.

Everything here that changes the store runs inside the store's sandbox process (``executor._serve``),
which owns the on-disk store read-write and handles one job at a time. The web process only builds the
jobs and relays the outcomes.

How a write goes
----------------
1. **Footprint.** The graphs an update may read or write are read from its *parse* (rdflib's SPARQL
   grammar, ``footprint``): ``GRAPH x`` in patterns and templates, ``WITH x``, ``USING [NAMED] x``,
   ``ADD/MOVE/COPY x TO y``, ``CLEAR/DROP/CREATE x``, ``LOAD … INTO GRAPH x``, names resolved against the
   prologue; the store's default graph is always included. A graph given by a variable, ``CLEAR/DROP
   NAMED|ALL`` or a name whose resolution is uncertain make the footprint "every graph". An update that
   cannot be parsed is refused (400), never applied partly nor answered 204 without effect. (A token
   scan used before read ``GRAPH:g`` as one name and missed the graph; rdflib's algebra translation, the
   first idea, needs minutes for an ``INSERT DATA`` of a few hundred kilobytes, so only the parse tree
   is used: about 1.5 s for 150 KB.) A Graph Store request names its one graph.
2. **Dry run.** The footprint's graphs (quads and named-graph existence) are copied into an in-memory
   store and the update runs there. Comparing each copied graph before and after gives the change:
   quads removed and added per graph, named graphs created and dropped. If the update wrote into a graph
   outside its footprint (a scan miss), the dry run is redone on a copy of the whole store.
3. **Validation**, of the graphs the change touches only: the changed graphs, the ontology graph, the
   store's default graph and every graph of the same programme(s) — graph IRIs
   ``https://w3id.org/rkg/graph/<programme>/…``, programmes also read from the ``…/id/<programme>/…``
   IRIs of the changed triples — so that cross-graph rules (labels in ``labels-en``, a UE in another
   graph) see what they need, while a large vocabulary in a graph of its own is left alone. A change of
   the ontology graph validates every graph. Only the shapes of severity ``sh:Violation`` take part
   (warnings never block a write). A write is refused when the scope *after* it has a violation
   (shape, focus node, path, value) that the same scope did not have *before*: existing problems do not
   block unrelated edits. The "before" findings are kept per scope and reused while none of its graphs
   changed, so a series of writes to one programme validates once per write.
4. **Commit.** A valid change is written with one ``Store.update`` call — one RocksDB transaction: it
   fully applies or leaves the store untouched, even if the process dies. Quads are passed to the
   update through custom functions (``VALUES ?i {…}`` + ``BIND(<urn:rkg:write:…>(?i) AS ?s)``), which
   keeps blank nodes exact, something ``DELETE DATA`` cannot express. A refused or failed write never
   reaches the disk store, so nothing has to be rolled back.

Outcomes (``rkg.jobs.Kind``; the web layer turns them into statuses and headers): APPLIED (Graph
Store: CREATED when a graph was made), INVALID with the validation report of the introduced violations —
JSON ``{"error", "count", "violations": [{shape, focus, path, value, name, message}]}`` or the SHACL
report in Turtle when the client prefers ``text/turtle``; at most REPORT_LIMIT violations listed — and
BAD_INPUT for syntax and evaluation errors. Every write outcome names the graphs it changed and those
it validated (``Outcome.changed`` / ``Outcome.validated``).

Semantics worth knowing
-----------------------
- In updates the default graph is the store's own default graph (normally empty; the data lives in
  named graphs), not the union that queries see. Use ``GRAPH``, ``WITH`` or ``USING`` to read the data.
- The protocol parameters ``using-graph-uri`` / ``using-named-graph-uri`` are applied by adding
  ``USING <g>`` / ``USING NAMED <g>`` to every ``DELETE/INSERT … WHERE`` operation (the engine has no
  dataset argument for updates); an update that has its own ``USING`` or ``WITH`` is then refused with
  400, as the protocol requires. ``INSERT DATA``, ``DELETE DATA`` and ``DELETE WHERE`` have no dataset.
- The Graph Store ``?default`` graph is likewise the store's default graph.
- Blank nodes of an uploaded document get fresh identifiers (they never merge with stored ones).

Limits
------
- The footprint fallback catches a miss only for graphs the update *writes*; a graph it only *reads*
  must be found by the parse (which follows the grammar's every graph position).
- "Every graph" (a variable graph, ``DROP ALL``…) copies the whole store for the dry run: correct, but
  slow on a very large store. Validation scope stays limited to what actually changed.
- Validation runs pySHACL with an in-memory Oxigraph store as data graph (several times faster than an
  rdflib graph; same findings on every case of tests/shapes/cases). A cross-graph shape that needs a
  graph outside the scope above would see it missing; add such graphs to ``_scope``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox

from . import lexer
from .lexer import Token
from .errors import InputError, RkgError
from .formats import CONTENT_TYPES, JSON, RDF_WRITERS as RDF_FORMATS, TURTLE, UPLOADS
from .jobs import GraphStoreJob, Kind, Outcome, StoreSpec, UpdateJob, engine_error
from .namespaces import GRAPH, ID, graph_iri
from .results import graph as serialize_graph

if TYPE_CHECKING:
    from rdflib import Graph

GraphName = ox.NamedNode | ox.BlankNode | ox.DefaultGraph
DEFAULT = ox.DefaultGraph()
ONTOLOGY_GRAPH = graph_iri("ontology/rkg.ttl")

FUNC = "urn:rkg:write:"


def graph_label(g: GraphName) -> str:
    return "default" if isinstance(g, ox.DefaultGraph) else g.value if isinstance(g, ox.NamedNode) else "_:" + g.value


def _labels(graphs: Iterable[GraphName]) -> tuple[str, ...]:
    return tuple(sorted(graph_label(g) for g in graphs))


REPORT_LIMIT = 1000
"""Most violations listed in a 422 report (the total is always given)."""


# ---------------------------------------------------------------- footprint of an update

class _All(RkgError):
    """The footprint is every graph."""


class Unplannable(InputError):
    """The footprint of the update cannot be computed from its parse: it is refused, never half-applied."""


OPERATIONS = frozenset({"InsertData", "DeleteData", "DeleteWhere", "Modify", "Load", "Clear", "Drop", "Create",
                        "Add", "Move", "Copy"})
"""The update operations of the SPARQL 1.1 grammar; a parse tree with anything else is refused."""


def footprint(text: str, base_iri: str | None = None) -> set[GraphName] | None:
    """Graphs a SPARQL update may read or write (the default graph always included); None: all of them.

    Read from rdflib's parse tree of the update, every graph position of the grammar: ``GRAPH`` in
    patterns and quad templates (also inside EXISTS, MINUS, subqueries), ``WITH``, ``USING [NAMED]``,
    ``LOAD … INTO GRAPH``, ``CLEAR/DROP/CREATE``, ``ADD/MOVE/COPY``; names resolved against each
    operation's prologue (BASE, PREFIX) and ``base_iri``. A variable graph, ``NAMED``/``ALL``, or a name
    this reading is not sure to resolve as the engine does (an escape in a prefixed name) make it every
    graph. Raises Unplannable when the text cannot be parsed. Only the parse tree is used (rdflib's
    algebra translation is ten times slower on large ``INSERT DATA``)."""
    from rdflib.plugins.sparql.algebra import translatePrologue
    from rdflib.term import URIRef, Variable

    from .guard import Unreadable, _walk, parse

    try:
        tree = parse(text, update=True)
    except Unreadable as e:
        raise Unplannable(f"the update cannot be parsed: {e}") from None
    out: set[GraphName] = {DEFAULT}
    prologue = None

    def name(term: object) -> GraphName:
        if isinstance(term, str) and not isinstance(term, URIRef):
            if term.upper() == "DEFAULT":
                return DEFAULT
            raise _All()  # NAMED, ALL
        if isinstance(term, Variable) or term is None:
            raise _All()
        if getattr(term, "name", None) == "pname" and "\\" in str(term.get("localname") or ""):
            raise _All()  # PN_LOCAL_ESC: resolved by rules a second reading may not share
        try:
            resolved = prologue.absolutize(term)  # type: ignore[union-attr]
            return ox.NamedNode(str(resolved))
        except Exception:
            raise _All() from None

    try:
        for raw_prologue, op in zip(tree["prologue"], tree["request"]):
            if getattr(op, "name", None) not in OPERATIONS:
                raise Unplannable(f"unknown update operation {getattr(op, 'name', type(op).__name__)}")
            try:
                prologue = translatePrologue(raw_prologue, base_iri, None, prologue)
            except Exception as e:
                raise Unplannable(f"the prologue cannot be read: {e}") from None
            kind = op.name
            if kind in ("Clear", "Drop", "Create"):
                out.add(name(op["graphiri"]))
            elif kind in ("Add", "Move", "Copy"):
                for g in op["graph"]:
                    out.add(name(g))
            elif kind == "Load" and "graphiri" in op:
                out.add(name(op["graphiri"]))
            elif kind == "Modify" and "withClause" in op:
                out.add(name(op["withClause"]))
            for node in _walk(op):
                n = getattr(node, "name", None) if isinstance(node, dict) else None
                if n in ("GraphGraphPattern", "QuadsNotTriples"):
                    out.add(name(node["term"]))
                elif n == "UsingClause":
                    out.add(name(node["default"] if "default" in node else node["named"]))
    except _All:
        return None
    return out


def _word(tokens: list[Token], i: int) -> str:
    """The upper-cased keyword at ``i`` ('' when it is not a bare word)."""
    if i < len(tokens) and tokens[i][0] == "name" and ":" not in tokens[i][1]:
        return tokens[i][1].upper()
    return ""


def with_using(text: str, using: tuple[str, ...], using_named: tuple[str, ...]) -> str:
    """The update with ``USING <g>`` / ``USING NAMED <g>`` clauses added to each ``DELETE/INSERT … WHERE``
    operation: what the protocol's using-graph-uri / using-named-graph-uri parameters mean. Raises
    ValueError when the update has its own USING or WITH (the protocol makes that an error)."""
    clauses = " ".join([*(f"USING <{ox.NamedNode(g).value}>" for g in using),
                        *(f"USING NAMED <{ox.NamedNode(g).value}>" for g in using_named)])
    tokens = lexer.tokens(text)
    if any(_word(tokens, i) in ("USING", "WITH") for i in range(len(tokens))):
        raise ValueError("an update with using-graph-uri or using-named-graph-uri parameters must not have "
                         "USING, USING NAMED or WITH clauses")
    inserts: list[int] = []
    depth, in_modify = 0, False
    for i, (kind, value, offset) in enumerate(tokens):
        if kind == "other" and value == "{":
            depth += 1
        elif kind == "other" and value == "}":
            depth -= 1
        elif depth == 0:
            w = _word(tokens, i)
            if w in ("INSERT", "DELETE") and not in_modify and _word(tokens, i + 1) not in ("DATA", "WHERE"):
                in_modify = True
            elif w == "WHERE" and in_modify:
                inserts.append(offset)
                in_modify = False
    for offset in reversed(inserts):
        text = text[:offset] + clauses + " " + text[offset:]
    _check_using(text, len(inserts), len(using) + len(using_named))
    return text


def _check_using(text: str, modifies: int, clauses: int) -> None:
    """The rewritten update, parsed: every DELETE/INSERT … WHERE operation carries the added clauses, and
    nothing else changed shape (the insertion points came from tokens, so the parse has the last word)."""
    from .guard import Unreadable, parse

    try:
        tree = parse(text, update=True)
    except Unreadable as e:
        raise ValueError(f"the update with the using-graph-uri clauses cannot be parsed: {e}") from None
    ops = [op for op in tree["request"] if getattr(op, "name", None) == "Modify"]
    if len(ops) != modifies or any(len(op.get("using") or ()) != clauses for op in ops):
        raise ValueError("the using-graph-uri / using-named-graph-uri parameters could not be applied to this "
                         "update: write USING clauses in the update instead")


# ---------------------------------------------------------------- the writer of one store


@dataclass
class Change:
    """What a write does to the store, graph by graph."""

    removed: dict[GraphName, set[ox.Quad]] = field(default_factory=dict)
    added: dict[GraphName, set[ox.Quad]] = field(default_factory=dict)
    after: dict[GraphName, set[ox.Quad]] = field(default_factory=dict)
    """Full content after the write of every graph whose quads change."""
    created: set[GraphName] = field(default_factory=set)
    dropped: set[GraphName] = field(default_factory=set)

    @property
    def graphs(self) -> set[GraphName]:
        return set(self.after) | self.created | self.dropped


Key = tuple[str, str, str | None, str | None]


@dataclass
class Validation:
    findings: dict[Key, Any]
    results: Any
    """pySHACL's report graph (rdflib), for the Turtle form of the report."""


class Writer:
    """Validated, transactional writes on one store. One per store per sandbox process."""

    CACHE_SIZE = 8

    def __init__(self, store: ox.Store, spec: StoreSpec) -> None:
        self.store, self.spec = store, spec
        self._shapes: Graph | None = None
        self._generation: dict[GraphName, int] = {}
        self._cache: dict[frozenset[GraphName], tuple[dict[GraphName, int], Validation]] = {}
        self.validations = 0
        """pySHACL runs made so far (the tests read it)."""

    # ------------------------------------------------------------ entry points

    def update(self, job: UpdateJob) -> Outcome:
        text = job.text
        if job.using_graphs or job.using_named_graphs:
            try:
                text = with_using(text, job.using_graphs or (), job.using_named_graphs or ())
            except ValueError as e:
                return Outcome(Kind.BAD_INPUT, message=str(e))
        try:
            graphs = footprint(text, job.base_iri)
        except Unplannable as e:
            try:  # the engine's own reading, on an empty scratch store, for its syntax error message
                ox.Store().update(text, base_iri=job.base_iri)
            except SyntaxError as syntax:
                return Outcome(Kind.BAD_INPUT, message=f"SPARQL syntax error: {syntax}")
            except Exception:
                pass
            return Outcome(Kind.BAD_INPUT, message=f"the update is refused: the graphs it reads and writes could not be "
                                        f"determined, so it was not applied ({e})")
        try:
            change = self._dry_run(text, graphs, job.base_iri)
            if change is None:  # the update wrote outside its footprint: redo it on the whole store
                change = self._dry_run(text, None, job.base_iri)
                assert change is not None
        except SyntaxError as e:
            return Outcome(Kind.BAD_INPUT, message=f"SPARQL syntax error: {e}")
        except (RuntimeError, ValueError) as e:
            return Outcome(Kind.BAD_INPUT, message=f"the update cannot be applied: {e}")
        except OSError as e:  # LOAD / SERVICE: refused by the sandbox's seccomp filter, or the source failed
            return engine_error(e)
        return self._apply(change, job.report_media)

    def graph_store(self, job: GraphStoreJob) -> Outcome:
        g: GraphName = DEFAULT if job.graph is None else ox.NamedNode(job.graph)
        exists = isinstance(g, ox.DefaultGraph) or self.store.contains_named_graph(g)
        before = set(self.store.quads_for_pattern(None, None, None, g)) if exists else set()
        if job.method == "DELETE":
            if not exists:
                return Outcome(Kind.NOT_FOUND, message=f"no graph named <{job.graph}>")
            after: set[ox.Quad] = set()
        elif job.method in ("PUT", "POST"):
            fmt = UPLOADS.get(job.media or "")
            if fmt is None:
                return Outcome(Kind.UNREADABLE_FORMAT, message="the request body must be one of " + ", ".join(UPLOADS))
            try:
                triples = ox.parse(job.body, format=fmt, base_iri=job.base_iri, without_named_graphs=True,
                                   rename_blank_nodes=True)
                new = {ox.Quad(q.subject, q.predicate, q.object, g) for q in triples}
            except (SyntaxError, ValueError) as e:
                return Outcome(Kind.BAD_INPUT, message=f"the request body is not valid {job.media}: {e}")
            after = new if job.method == "PUT" else before | new
        else:
            return Outcome(Kind.NOT_A_WRITE, message=f"{job.method} is not a Graph Store write")
        change = Change()
        if after != before:
            change.removed[g], change.added[g], change.after[g] = before - after, after - before, after
        if isinstance(g, ox.NamedNode):
            if not exists and job.method in ("PUT", "POST"):
                change.created.add(g)
            if job.method == "DELETE":
                change.dropped.add(g)
        out = self._apply(change, job.report_media)
        if out.kind is Kind.APPLIED and g in change.created:
            return dataclasses.replace(out, kind=Kind.CREATED)
        return out

    # ------------------------------------------------------------ dry run

    def _dry_run(self, text: str, graphs: set[GraphName] | None, base_iri: str | None = None) -> Change | None:
        store, scratch = self.store, ox.Store()
        if graphs is None:
            names: set[GraphName] = {DEFAULT, *store.named_graphs()}
        else:
            names = set(graphs)
        before: dict[GraphName, set[ox.Quad]] = {}
        existed: set[GraphName] = set()
        for g in names:
            if not isinstance(g, ox.DefaultGraph):
                if not store.contains_named_graph(g):
                    before[g] = set()
                    continue
                existed.add(g)
                scratch.add_graph(g)
            before[g] = set(store.quads_for_pattern(None, None, None, g))
            scratch.extend(before[g])
        scratch.update(text, base_iri=base_iri)
        now = {DEFAULT, *scratch.named_graphs()}
        if graphs is not None and not now <= names:
            return None
        change = Change()
        for g in names | now:
            after, old = set(scratch.quads_for_pattern(None, None, None, g)), before.get(g, set())
            if after != old:
                change.removed[g], change.added[g], change.after[g] = old - after, after - old, after
            if g in existed and g not in now:
                change.dropped.add(g)
            if g not in existed and g in now and not isinstance(g, ox.DefaultGraph):
                change.created.add(g)
        return change

    # ------------------------------------------------------------ validation and commit

    def _apply(self, change: Change, media: str) -> Outcome:
        changed = change.graphs
        if not changed:
            return Outcome(Kind.APPLIED)
        scope: set[GraphName] = set()
        introduced: dict[Key, Any] = {}
        after_validation: Validation | None = None
        if change.after:  # quads change: validate (graph creation or removal alone changes no triple)
            scope = self._scope(change)
            before = self._validate_before(scope)
            after_validation = self._run(self._content(scope, change))
            introduced = {k: f for k, f in after_validation.findings.items() if k not in before.findings}
        names = _labels(changed), _labels(scope)
        if introduced:
            assert after_validation is not None
            body, content_type = self._report(introduced, after_validation, media)
            return Outcome(Kind.INVALID, content_type, body, message="validation failed", changed=names[0],
                           validated=names[1])
        self._commit(change)
        for g in changed:
            self._generation[g] = self._generation.get(g, 0) + 1
        if after_validation is not None:
            self._remember(scope, after_validation)
        return Outcome(Kind.APPLIED, changed=names[0], validated=names[1])

    def _scope(self, change: Change) -> set[GraphName]:
        named = set(self.store.named_graphs()) | change.created
        if any(isinstance(g, ox.NamedNode) and g.value == ONTOLOGY_GRAPH for g in change.graphs):
            return {DEFAULT, *named}
        programmes = {p for g in change.graphs if (p := _programme_of_graph(g))}
        for quads in (*change.added.values(), *change.removed.values()):
            for q in quads:
                for t in (q.subject, q.object):
                    if isinstance(t, ox.NamedNode) and (p := _programme_of_term(t.value)):
                        programmes.add(p)
        scope = {DEFAULT, ox.NamedNode(ONTOLOGY_GRAPH), *change.graphs}
        scope |= {g for g in named if (p := _programme_of_graph(g)) and p in programmes}
        return scope

    def _content(self, scope: set[GraphName], change: Change | None = None) -> Iterable[ox.Quad]:
        for g in scope:
            if change is not None and g in change.after:
                yield from change.after[g]
            elif isinstance(g, ox.DefaultGraph) or self.store.contains_named_graph(g):
                yield from self.store.quads_for_pattern(None, None, None, g)

    def _existing(self, scope: Iterable[GraphName]) -> frozenset[GraphName]:
        return frozenset(g for g in scope if isinstance(g, ox.DefaultGraph) or self.store.contains_named_graph(g))

    def _validate_before(self, scope: set[GraphName]) -> Validation:
        key = self._existing(scope)
        hit = self._cache.get(key)
        if hit is not None and all(self._generation.get(g, 0) == n for g, n in hit[0].items()):
            return hit[1]
        validation = self._run(self._content(key))
        self._remember(key, validation)
        return validation

    def _remember(self, scope: Iterable[GraphName], validation: Validation) -> None:
        """Keep the findings of ``scope`` as the store is now (graphs that do not exist left out of the key)."""
        key = self._existing(scope)
        self._cache.pop(key, None)
        self._cache[key] = ({g: self._generation.get(g, 0) for g in key}, validation)
        while len(self._cache) > self.CACHE_SIZE:
            self._cache.pop(next(iter(self._cache)))

    @property
    def shapes(self) -> Graph:
        if self._shapes is None:
            self._shapes = violation_shapes(self.spec.shapes)
        return self._shapes

    def _run(self, quads: Iterable[ox.Quad]) -> Validation:
        """pySHACL on the union of ``quads``, held in an in-memory Oxigraph store: pySHACL then runs the
        SPARQL-based constraints with Oxigraph, several times faster than on an rdflib graph (same
        findings: checked on every case of tests/shapes/cases)."""
        from .validation import run_shacl

        self.validations += 1
        data = ox.Store()
        data.extend(ox.Quad(q.subject, q.predicate, q.object, DEFAULT) for q in quads)
        findings, results = run_shacl(data, self.shapes)  # type: ignore[arg-type]  # pySHACL takes a Store too
        return Validation({finding_key(f): f for f in findings if f.severity == "violation"}, results)

    def _report(self, introduced: dict[Key, Any], validation: Validation, media: str) -> tuple[bytes, str]:
        n = len(introduced)
        error = f"the write would introduce {n} SHACL violation{'s' if n > 1 else ''}; nothing was written"
        if n > REPORT_LIMIT:
            error += f" (the first {REPORT_LIMIT} are listed)"
        kept = sorted(introduced, key=lambda k: (k[0], k[1], k[2] or "", k[3] or ""))[:REPORT_LIMIT]
        if media == TURTLE:
            return report_turtle(validation.results, set(kept), error), CONTENT_TYPES[TURTLE]
        violations = [{"shape": f.rule, "focus": f.focus, "path": f.path, "value": f.value, "name": f.rule_name,
                       "message": f.message} for f in (introduced[k] for k in kept)]
        body = {"error": error, "count": n, "violations": violations}
        return json.dumps(body, ensure_ascii=False, indent=1).encode(), JSON.media

    def _commit(self, change: Change) -> None:
        """One ``Store.update``: one transaction."""
        functions: dict[ox.NamedNode, Any] = {}
        ops: list[str] = []
        # A graph left empty is cleared (or dropped) in one operation rather than quad by quad.
        emptied = {g for g, quads in change.after.items() if not quads and not isinstance(g, ox.BlankNode)}
        emptied |= {g for g in change.dropped if isinstance(g, ox.NamedNode)}
        removed = [q for g, qs in change.removed.items() if g not in emptied for q in qs]
        added = [q for qs in change.added.values() for q in qs]
        ops += _quad_ops("DELETE", "r", removed, functions)
        ops += ["CLEAR SILENT DEFAULT" if isinstance(g, ox.DefaultGraph) else
                f"{'DROP' if g in change.dropped else 'CLEAR'} SILENT GRAPH <{g.value}>" for g in emptied]
        ops += [f"CREATE SILENT GRAPH <{g.value}>" for g in change.created if isinstance(g, ox.NamedNode)]
        ops += _quad_ops("INSERT", "a", added, functions)
        if ops:
            self.store.update(" ;\n".join(ops), custom_functions=functions)


def _quad_ops(verb: str, tag: str, quads: list[ox.Quad], functions: dict[ox.NamedNode, Any]) -> list[str]:
    """``DELETE``/``INSERT`` operations for exact quads (blank nodes included), read back by index from
    custom functions."""
    if not quads:
        return []
    for part in ("s", "p", "o", "g"):
        attr = {"s": "subject", "p": "predicate", "o": "object", "g": "graph_name"}[part]
        functions[ox.NamedNode(f"{FUNC}{tag}{part}")] = (lambda a: lambda i: getattr(quads[int(i.value)], a))(attr)
    ops = []
    for named in (False, True):
        idx = [i for i, q in enumerate(quads) if isinstance(q.graph_name, ox.DefaultGraph) != named]
        if not idx:
            continue
        binds = " ".join(f"BIND(<{FUNC}{tag}{p}>(?i) AS ?{p})" for p in ("spog" if named else "spo"))
        template = "GRAPH ?g { ?s ?p ?o }" if named else "?s ?p ?o"
        ops.append(f"{verb} {{ {template} }} WHERE {{ VALUES ?i {{ {' '.join(map(str, idx))} }} {binds} }}")
    return ops


def _programme_of_graph(g: GraphName) -> str | None:
    """``…/graph/<programme>/<more>`` → programme (the ontology graph and ``…/graph/build`` have none)."""
    if not isinstance(g, ox.NamedNode) or not g.value.startswith(str(GRAPH)):
        return None
    first, sep, rest = g.value[len(str(GRAPH)):].partition("/")
    return first if sep and rest and first != "ontology" else None


def _programme_of_term(iri: str) -> str | None:
    if not iri.startswith(str(ID)):
        return None
    return iri[len(str(ID)):].split("/", 1)[0] or None


def finding_key(f: Any) -> Key:
    return (f.rule, f.focus, f.path, f.value)


def violation_shapes(folder: str | None) -> Graph:
    """The shapes of the folder with the targets of every non-Violation shape removed."""
    from pathlib import Path

    from .namespaces import SH

    from .validation import load_shapes

    if not folder:
        raise RuntimeError("no SHACL shapes configured: writes cannot be validated")
    shapes = load_shapes(Path(folder))
    for shape, severity in list(shapes.subject_objects(SH.severity)):
        if severity != SH.Violation:
            for p in (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.target):
                shapes.remove((shape, p, None))
    return shapes


def report_turtle(results: Graph, keys: set[Key], error: str) -> bytes:
    """The SHACL validation report restricted to the results whose key is in ``keys``."""
    from rdflib import BNode, Graph, Literal, URIRef
    from .namespaces import RDF, RDFS, SH

    out = Graph()
    out.bind("sh", SH)
    report = BNode()
    out.add((report, RDF.type, SH.ValidationReport))
    out.add((report, SH.conforms, Literal(False)))
    out.add((report, RDFS.comment, Literal(error, lang="en")))
    for r in results.subjects(RDF.type, SH.ValidationResult):
        shape, path, value = results.value(r, SH.sourceShape), results.value(r, SH.resultPath), results.value(r, SH.value)
        key = (str(shape) if isinstance(shape, URIRef) else "(anonymous shape)", str(results.value(r, SH.focusNode)),
               str(path) if isinstance(path, URIRef) else None, None if value is None else str(value))
        if key not in keys or results.value(r, SH.resultSeverity) != SH.Violation:
            continue
        out.add((report, SH.result, r))
        todo, seen = [r], set()
        while todo:  # the result and the blank nodes it leads to (complex paths, nested results)
            node = todo.pop()
            if node in seen:
                continue
            seen.add(node)
            for p, o in results.predicate_objects(node):
                out.add((node, p, o))
                if isinstance(o, BNode) and p != SH.focusNode and p != SH.value:
                    todo.append(o)
    return out.serialize(format="turtle").encode()


# ---------------------------------------------------------------- sandbox entry points

_writers: dict[int, Writer] = {}


def writer(store: ox.Store, spec: StoreSpec) -> Writer:
    """The writer of ``store`` (kept for the life of the sandbox process, with its validation cache)."""
    w = _writers.get(id(store))
    if w is None or w.store is not store:
        w = _writers[id(store)] = Writer(store, spec)
    return w


def apply_update(store: ox.Store, job: UpdateJob, spec: StoreSpec) -> Outcome:
    if spec.mode != "readwrite":
        return Outcome(Kind.REFUSED, message="this store is read-only")
    return writer(store, spec).update(job)


def graph_store(store: ox.Store, job: GraphStoreJob, spec: StoreSpec) -> Outcome:
    """A Graph Store protocol operation: reads on any store, writes on the read-write one."""
    if job.method in ("GET", "HEAD"):
        return read_graph(store, job)
    if spec.mode != "readwrite":
        return Outcome(Kind.REFUSED, message="this store is read-only")
    return writer(store, spec).graph_store(job)


def read_graph(store: ox.Store, job: GraphStoreJob) -> Outcome:
    g: GraphName = DEFAULT if job.graph is None else ox.NamedNode(job.graph)
    if isinstance(g, ox.NamedNode) and not store.contains_named_graph(g):
        return Outcome(Kind.NOT_FOUND, message=f"no graph named <{job.graph}>")
    media = job.media or TURTLE
    if media not in RDF_FORMATS:
        return Outcome(Kind.NO_FORMAT, message="offered: " + ", ".join(RDF_FORMATS))
    triples = []
    truncated = False
    for q in store.quads_for_pattern(None, None, None, g):
        if len(triples) >= job.max_rows:
            truncated = True
            break
        triples.append(ox.Triple(q.subject, q.predicate, q.object))
    return Outcome(Kind.ANSWER, media, serialize_graph(triples, media), len(triples), truncated)
