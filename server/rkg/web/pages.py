"""The pages a person reads: home, SPARQL editor, named questions, coverage heat maps with their
evidence, and the validation report. Templates in ``templates/`` escape every value (Jinja2 autoescape):
labels from the data are text, never markup."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from flask import Blueprint, Response, current_app, render_template, request, send_from_directory, url_for

from ..bindings import bind
from ..catalog import Catalog
from ..errors import InputError
from ..formats import CSV, HTML, WORKBOOKS
from ..namespaces import PREFIXES, natural, programme_id, programme_iri
from . import heatmap, reads
from .headers import EDITOR_POLICY
from .errors import HttpError
from .i18n import pick
from .state import EndpointState

blueprint = Blueprint("pages", __name__)

YASGUI = "@zazuko/yasgui/build"
"""Folder of the YASGUI build under ``node_modules`` (package.json pins the version)."""
EDITOR_PREFIXES = ("rkg", "rkgid", "skos", "rdfs", "rdf", "owl", "xsd", "dcterms", "prov")
COUNTED = ("CompetencyBlock", "Competency", "CriticalLearning", "EvaluationModality", "TeachingUnit",
           "TeachingUnitElement", "GenericDimension", "ProgrammeOutcome")


def _state() -> EndpointState:
    return current_app.extensions["rkg"]


def _catalog() -> Catalog:
    return current_app.extensions["rkg.catalog"]


@dataclass
class Period:
    iri: str
    code: str
    order: int | None = None
    within: list["Period"] = field(default_factory=list)
    """Its semesters (a year's ``skos:narrower`` periods)."""


@dataclass
class Programme:
    iri: str
    labels: dict[str, str] = field(default_factory=dict)
    rncp: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    periods: list[Period] = field(default_factory=list)
    """Top periods (years) in order, each with its semesters."""
    parcours: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    """(IRI, code, labels) of each parcours."""

    @property
    def kinds(self) -> list[str]:
        """The heat-map row kinds this programme has rows of (all when it has none, so a page still shows)."""
        return heatmap.kinds_of(self.counts) or list(heatmap.KINDS)

    @property
    def niveaux(self) -> int:
        return self.counts.get("DevelopmentLevel", 0)


def _order(p: Period) -> tuple:
    return (p.order is None, p.order or 0, natural(p.code))


def programmes(state: EndpointState) -> list[Programme]:
    found: dict[str, Programme] = {}
    for r in reads.select(state, "programmes"):
        p = found.setdefault(r["programme"].value, Programme(r["programme"].value))
        if "label" in r:
            p.labels.setdefault(r["label"].lang, r["label"].value)
        if "rncp" in r:
            p.rncp = r["rncp"].value
        if "class" in r and r["class"].value:
            p.counts[r["class"].value] = int(r["count"].value)
    periods: dict[str, dict[str, tuple[Period, str]]] = {}
    parcours: dict[str, dict[str, tuple[str, dict[str, str]]]] = {}
    for r in reads.select(state, "programme-structure"):
        prog, item = r["programme"].value, r["item"].value
        if prog not in found:
            continue
        code = r["code"].value if "code" in r else item
        if r["kind"].value == "period":
            order = int(r["order"].value) if "order" in r and r["order"].value.lstrip("-").isdigit() else None
            periods.setdefault(prog, {}).setdefault(item, (Period(item, code, order), r["parent"].value if "parent" in r else ""))
        else:
            labels = parcours.setdefault(prog, {}).setdefault(item, (code, {}))[1]
            if "label" in r:
                labels.setdefault(r["label"].lang, r["label"].value)
    for prog, items in periods.items():
        for period, parent in items.values():
            if parent in items:
                items[parent][0].within.append(period)
        top = [period for period, parent in items.values() if parent not in items]
        for period in top:
            period.within.sort(key=_order)
        found[prog].periods = sorted(top, key=_order)
    for prog, items in parcours.items():
        found[prog].parcours = sorted(((iri, code, labels) for iri, (code, labels) in items.items()), key=lambda x: natural(x[1]))
    return sorted(found.values(), key=lambda p: p.iri)


def programme_arg(state: EndpointState) -> tuple[Programme, list[Programme]]:
    """The programme named by the ``programme`` parameter (IRI or short id), checked to be one of the
    graph's (the first when absent), and all of them."""
    known = programmes(state)
    raw = request.args.get("programme", "").strip()
    if not known:
        raise HttpError(404, "the graph holds no programme")
    iri = programme_iri(raw) if raw else known[0].iri
    current = next((p for p in known if p.iri == iri), None)
    if current is None:
        raise HttpError(404, f"no programme '{raw}' in the graph; known programmes: "
                               f"{', '.join(programme_id(p.iri) for p in known)}")
    return current, known


def kind_arg(programme: Programme | None = None) -> str:
    """The heat map's row kind: ``kind``, checked; when absent, the programme's first (``block`` for the
    Master, ``competency`` for a BUT)."""
    kind = request.args.get("kind") or (programme.kinds[0] if programme is not None else "block")
    if kind not in heatmap.KINDS:
        raise HttpError(400, f"kind must be one of {', '.join(heatmap.KINDS)}, not {kind!r}")
    return kind


def class_label(state: EndpointState, name: str, lang: str) -> str:
    """The label of the ontology term ``rkg:name`` in ``lang``."""
    terms = reads.labels(reads.select(state, "term-labels"), "term", "label")
    return pick(terms.get(PREFIXES["rkg"] + name, {}), lang) or name


@blueprint.get("/")
def home() -> str:
    state = _state()
    files = {r["graph"].value: r["file"].value for r in reads.select(state, "graphs") if "file" in r}
    return render_template("home.html", programmes=programmes(state), stats=state.stats(), counted=COUNTED,
                           files=files, questions=len([q for q in _catalog().queries.values() if not q.qc]))


@blueprint.get("/sparql")
def editor() -> Response:
    """Reached only by browsers: the protocol layer answers every other request to /sparql. Its
    Content-Security-Policy also allows the inline styles YASGUI writes (``headers.EDITOR_POLICY``)."""
    examples = []
    for name, q in _catalog().queries.items():
        if q.qc:
            continue
        try:
            text = bind(q.text, q.bindings({}))
        except InputError:  # a required parameter without default (ParameterError): show the query as written
            text = q.text
        body = "\n".join(line for line in text.splitlines() if not line.startswith("#+"))  # the API header
        examples.append({"name": name, "summary": {"en": q.summary, "fr": q.summary_in("fr")},
                         "query": f"# {q.summary}\n# {q.summary_in('fr')}\n{body.lstrip()}"})
    prefixes = "".join(f"PREFIX {p}: <{PREFIXES[p]}>\n" for p in EDITOR_PREFIXES)
    start = prefixes + "\nSELECT ?class (COUNT(?s) AS ?n) WHERE {\n  ?s a ?class .\n}\nGROUP BY ?class\nORDER BY DESC(?n)\n"
    assets = current_app.config["RKG_ASSETS"]
    page = render_template("editor.html", examples=examples, start=start, prefixes=PREFIXES,
                           yasgui=assets is not None and (assets / YASGUI / "yasgui.min.js").is_file())
    return Response(page, mimetype=HTML.media, headers={"Content-Security-Policy": EDITOR_POLICY})


@blueprint.get("/assets/yasgui/<path:name>")
def yasgui(name: str) -> Response:
    assets: Path | None = current_app.config["RKG_ASSETS"]
    if assets is None:
        raise HttpError(404, "not found")
    response = send_from_directory(assets / YASGUI, name, max_age=86400)
    return response


@blueprint.get("/questions")
def questions() -> str:
    items = [(name, q) for name, q in _catalog().queries.items()]
    return render_template("questions.html", items=items)


@blueprint.get("/coverage")
def coverage() -> str:
    state = _state()
    current, known = programme_arg(state)
    kind = kind_arg(current)
    return render_template("coverage.html", m=heatmap.matrix(state, current.iri, kind), programme=current,
                           programmes=known, kinds=current.kinds, workbooks=list(WORKBOOKS))


@blueprint.get("/coverage.csv")
def coverage_csv() -> Response:
    state = _state()
    current = programme_arg(state)[0]
    return coverage_csv_answer(state, current.iri, kind_arg(current), request.args.get("lang", "fr"))


def coverage_csv_answer(state: EndpointState, programme: str, kind: str, lang: str) -> Response:
    """A programme's heat map of ``kind`` as a CSV attachment, its labels in ``lang`` (``/coverage.csv``,
    and ``/api/coverage`` asked for CSV)."""
    name = f"coverage-{programme_id(programme)}-{kind}.csv"
    return Response(heatmap.matrix(state, programme, kind).csv(lang), mimetype=CSV.media,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@blueprint.get("/coverage/cell")
def cell() -> str:
    state = _state()
    current = programme_arg(state)[0]
    programme, kind = current.iri, kind_arg(current)
    m = heatmap.matrix(state, programme, kind)
    row = next((r for r in m.rows if r.iri == request.args.get("row")), None)
    unit = next((u for u in m.units if u.iri == request.args.get("unit")), None)
    if row is None or unit is None:
        raise HttpError(404, "row and unit must be IRIs of a row and a unit of this matrix")
    return render_template("cell.html", m=m, row=row, unit=unit, blocks=m.evidence(row.iri, unit.iri),
                           coefficient=m.coefficient(row.iri, unit.iri),
                           back=url_for("pages.coverage", programme=programme, kind=kind))


@blueprint.get("/validation")
def validation() -> str:
    report = _state().validation()  # NotFound (404) when the service has no shapes folder
    groups: dict[str, dict[str, list[dict]]] = {}
    for f in report["findings"]:
        groups.setdefault(f["severity"], {}).setdefault(f["rule"], []).append(f)
    return render_template("validation.html", report=report, groups=groups)


def entity_label(labels: dict[str, str], code: str, lang: str) -> str:
    text = pick(labels, lang)
    return f"{code} — {text}" if code and text and text != code else (text or code)

