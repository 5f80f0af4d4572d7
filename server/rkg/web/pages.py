"""The pages a person reads: home, SPARQL editor, named questions, coverage heat maps with their
evidence, and the validation report. Templates in ``templates/`` escape every value (Jinja2 autoescape):
labels from the data are text, never markup."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, render_template, request, send_from_directory, url_for

from ..bindings import bind
from ..catalog import Catalog, ParameterError
from ..namespaces import PREFIXES, programme_id, programme_iri
from . import heatmap, reads
from .headers import EDITOR_POLICY
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
class Programme:
    iri: str
    labels: dict[str, str] = field(default_factory=dict)
    rncp: str = ""
    counts: dict[str, int] = field(default_factory=dict)


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
    return sorted(found.values(), key=lambda p: p.iri)


def programme_arg(state: EndpointState) -> tuple[Programme, list[Programme]]:
    """The programme named by the ``programme`` parameter (IRI or short id), checked to be one of the
    graph's (the first when absent), and all of them."""
    known = programmes(state)
    raw = request.args.get("programme", "").strip()
    if not known:
        abort(404, description="the graph holds no programme")
    iri = programme_iri(raw) if raw else known[0].iri
    current = next((p for p in known if p.iri == iri), None)
    if current is None:
        abort(404, description=f"no programme '{raw}' in the graph; known programmes: "
                               f"{', '.join(programme_id(p.iri) for p in known)}")
    return current, known


def kind_arg() -> str:
    kind = request.args.get("kind", "block")
    if kind not in heatmap.KINDS:
        abort(400, description=f"kind must be one of {', '.join(heatmap.KINDS)}, not {kind!r}")
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
        except ParameterError:  # a required parameter without default: show the query as written
            text = q.text
        body = "\n".join(line for line in text.splitlines() if not line.startswith("#+"))  # the API header
        examples.append({"name": name, "summary": {"en": q.summary, "fr": q.summary_in("fr")},
                         "query": f"# {q.summary}\n# {q.summary_in('fr')}\n{body.lstrip()}"})
    prefixes = "".join(f"PREFIX {p}: <{PREFIXES[p]}>\n" for p in EDITOR_PREFIXES)
    start = prefixes + "\nSELECT ?class (COUNT(?s) AS ?n) WHERE {\n  ?s a ?class .\n}\nGROUP BY ?class\nORDER BY DESC(?n)\n"
    assets = current_app.config["RKG_ASSETS"]
    page = render_template("editor.html", examples=examples, start=start, prefixes=PREFIXES,
                           yasgui=assets is not None and (assets / YASGUI / "yasgui.min.js").is_file())
    return Response(page, mimetype="text/html", headers={"Content-Security-Policy": EDITOR_POLICY})


@blueprint.get("/assets/yasgui/<path:name>")
def yasgui(name: str) -> Response:
    assets: Path | None = current_app.config["RKG_ASSETS"]
    if assets is None:
        abort(404)
    response = send_from_directory(assets / YASGUI, name, max_age=86400)
    return response


@blueprint.get("/questions")
def questions() -> str:
    items = [(name, q) for name, q in _catalog().queries.items()]
    return render_template("questions.html", items=items)


@blueprint.get("/coverage")
def coverage() -> str:
    state = _state()
    (current, known), kind = programme_arg(state), kind_arg()
    return render_template("coverage.html", m=heatmap.matrix(state, current.iri, kind), programme=current,
                           programmes=known, kinds=heatmap.KINDS)


@blueprint.get("/coverage.csv")
def coverage_csv() -> Response:
    state = _state()
    programme, kind = programme_arg(state)[0].iri, kind_arg()
    lang = request.args.get("lang", "fr")
    name = f"coverage-{programme_id(programme)}-{kind}.csv"
    return Response(heatmap.matrix(state, programme, kind).csv(lang), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@blueprint.get("/coverage/cell")
def cell() -> str:
    state = _state()
    programme, kind = programme_arg(state)[0].iri, kind_arg()
    m = heatmap.matrix(state, programme, kind)
    row = next((r for r in m.rows if r.iri == request.args.get("row")), None)
    unit = next((u for u in m.units if u.iri == request.args.get("unit")), None)
    if row is None or unit is None:
        abort(404, description="row and unit must be IRIs of a row and a unit of this matrix")
    return render_template("cell.html", m=m, row=row, unit=unit, blocks=m.evidence(row.iri, unit.iri),
                           back=url_for("pages.coverage", programme=programme, kind=kind))


@blueprint.get("/validation")
def validation() -> str:
    if _state().config.shapes is None:
        abort(404, description="this service was started without a shapes folder: no validation report")
    report = _state().validation()
    groups: dict[str, dict[str, list[dict]]] = {}
    for f in report["findings"]:
        groups.setdefault(f["severity"], {}).setdefault(f["rule"], []).append(f)
    return render_template("validation.html", report=report, groups=groups)


def entity_label(labels: dict[str, str], code: str, lang: str) -> str:
    text = pick(labels, lang)
    return f"{code} — {text}" if code and text and text != code else (text or code)

