"""The validation report in the formats continuous integration reads: JUnit XML (test reports), SARIF 2.1.0
(code scanning) and GitHub workflow commands (annotations). Each renderer takes a
:class:`rkg.validation.Report` and returns text; ``rkg validate --format junit|sarif|github`` prints it.

Where a finding's focus node was written (``Finding.location``: a file relative to the project root, or
absolute when outside it, and a 1-based line) becomes the file and line CI points at; without it, the
focus node's IRI is the only location (SARIF: a logical location; GitHub: an annotation without
``file=``; JUnit: no ``file``)."""

from __future__ import annotations

import hashlib
import json
import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path
from urllib.parse import quote

from rdflib import Graph, Literal, URIRef

from . import __version__
from .namespaces import BASE, SH
from .validation import QC_BASE, SEVERITIES, Finding, Report, pick_text, short_iri

FORMATS = ("junit", "sarif", "github")
"""The CI formats of ``rkg validate --format``."""

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
URI_BASE = "PROJECTROOT"
"""The ``uriBaseId`` of the files a SARIF log names inside the project: its root folder (the checkout, in
CI). A file outside it (an ``--data`` folder elsewhere) is named by an absolute ``file:`` URI instead."""
FINGERPRINT = "rkgFinding/v1"
"""The ``partialFingerprints`` key: a hash of rule, focus node, path and value — stable across runs, lines
and languages, so that code scanning tracks one finding from run to run."""

_LEVELS = {"violation": "error", "warning": "warning", "info": "note"}
"""SARIF ``level`` of each severity."""
_COMMANDS = {"violation": "error", "warning": "warning", "info": "notice"}
"""GitHub workflow command of each severity."""

_TEXTS = {
    "fr": {"summary": "rkg validate : {v} violation(s), {w} avertissement(s), {i} information(s)",
           "suite": "rkg validate", "root": "dossier racine du projet rkg (ontology/, data/, shapes/)",
           "below": "Constats sous le seuil --fail-on ({fail_on}) :"},
    "en": {"summary": "rkg validate: {v} violation(s), {w} warning(s), {i} info",
           "suite": "rkg validate", "root": "root folder of the rkg project (ontology/, data/, shapes/)",
           "below": "Findings below the --fail-on threshold ({fail_on}):"},
}


def _texts(lang: str) -> dict[str, str]:
    return _TEXTS.get(lang, _TEXTS["en"])


def _summary(report: Report, lang: str) -> str:
    return _texts(lang)["summary"].format(v=report.count("violation"), w=report.count("warning"), i=report.count("info"))


def _title(f: Finding, lang: str) -> str:
    """The rule's name and short id: ``libellé préférentiel en anglais [rkgsh:PrefLabelEn]``."""
    name = pick_text(f.rule_name, lang)
    return f"{name} [{short_iri(f.rule)}]" if name else short_iri(f.rule)


def _detail(f: Finding, lang: str) -> str:
    """The focus node and the message, then the path and the value (unless the value is the focus node
    itself), and where an importer read the node from (a sheet and row), when the finding has them."""
    parts = [f"{short_iri(f.focus)}: {f.text(lang)}"]
    if f.path:
        parts.append(f"path={short_iri(f.path)}")
    if f.value is not None and f.value != f.focus:
        parts.append(f"value={f.value}")
    if f.location and f.location.origin:
        parts.append(f"({f.location.origin})")
    return " ".join(parts)


def fingerprint(f: Finding) -> str:
    """A hash of what identifies a finding (rule, focus node, path, value): not its line, message or language."""
    key = "\x1f".join((f.rule, f.focus, f.path or "", f.value or ""))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


# ---------------------------------------------------------------- GitHub workflow commands


_BREAKS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x85\u2028\u2029]")
"""Control characters and line separators GitHub has no escape for: shown as ``\\uXXXX`` so that a command
stays on one line and a log viewer splits it nowhere."""


def escape_data(text: str) -> str:
    """A workflow command's message, escaped as GitHub's runner unescapes it (``%``, CR, LF); the other
    control characters and line separators written ``\\uXXXX``."""
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return _BREAKS.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def escape_property(text: str) -> str:
    """A workflow command's property value (``file=``, ``title=``…): the message's escapes, plus ``:`` and ``,``."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(report: Report, lang: str = "fr") -> str:
    """One workflow command per finding — ``::error`` (violation), ``::warning``, ``::notice`` (info) — with
    ``file=`` and ``line=`` when the finding has a location, and a closing summary line. GitHub shows
    them as annotations on the run and, for a file of the commit, on its line."""
    lines = []
    for f in report.findings:
        props = []
        if f.location:
            props.append(f"file={escape_property(f.location.file)}")
            if f.location.line:
                props.append(f"line={f.location.line}")
        props.append(f"title={escape_property(_title(f, lang))}")
        lines.append(f"::{_COMMANDS[f.severity]} {','.join(props)}::{escape_data(_detail(f, lang))}")
    lines.append(_summary(report, lang))
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- JUnit XML


_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(text: str) -> str:
    """Text XML 1.0 can hold: characters it forbids (control characters of a label) become U+FFFD."""
    return _NOT_XML.sub("\ufffd", text)


def _cases(report: Report) -> dict[str, dict[str, list[Finding]]]:
    """Findings by rule, then by focus node, in the report's order."""
    out: dict[str, dict[str, list[Finding]]] = defaultdict(lambda: defaultdict(list))
    for f in report.findings:
        out[f.rule][f.focus].append(f)
    return out


def render_junit(report: Report, lang: str = "fr", fail_on: str = "violation") -> str:
    """JUnit XML: a ``<testsuite>`` per rule (``name`` = the rule's short id) and in it a ``<testcase>`` per
    focus node (``classname`` = the rule's short id, ``name`` = the focus node's IRI; ``file`` and ``line``
    when known). A test case fails (``<failure type="violation|warning|info">``, one per finding) when one
    of its findings reaches ``fail_on`` — the same threshold as the exit code, so CI's red and the exit
    status agree; findings below it leave the test case passing and are listed in its ``<system-out>``.
    Counts: ``tests`` = test cases, ``failures`` = failing test cases, ``errors`` = 0."""
    limit = SEVERITIES.index(fail_on)
    below = _texts(lang)["below"].format(fail_on=fail_on)
    root = ET.Element("testsuites", name=_texts(lang)["suite"])
    total_tests = total_failures = 0
    for index, (rule, by_focus) in enumerate(_cases(report).items()):
        suite = ET.SubElement(root, "testsuite", name=short_iri(rule), id=str(index), package="rkg")
        failures = 0
        for focus, found in by_focus.items():
            case = ET.SubElement(suite, "testcase", classname=short_iri(rule), name=focus, time="0")
            located = next((f.location for f in found if f.location), None)
            if located:
                case.set("file", located.file)
                if located.line:
                    case.set("line", str(located.line))
            failing = [f for f in found if SEVERITIES.index(f.severity) <= limit]
            for f in failing:
                ET.SubElement(case, "failure", type=f.severity, message=_xml_text(f.text(lang))).text = \
                    _xml_text(f"{_title(f, lang)}\n{_detail(f, lang)}\n")
            passing = [f for f in found if f not in failing]
            if passing:
                ET.SubElement(case, "system-out").text = _xml_text(
                    "\n".join([below] + [f"{f.severity}: {_title(f, lang)}: {_detail(f, lang)}" for f in passing]) + "\n")
            failures += bool(failing)
        suite.set("tests", str(len(by_focus)))
        suite.set("failures", str(failures))
        suite.set("errors", "0")
        suite.set("skipped", "0")
        suite.set("time", "0")
        total_tests += len(by_focus)
        total_failures += failures
    root.set("tests", str(total_tests))
    root.set("failures", str(total_failures))
    root.set("errors", "0")
    root.set("time", "0")
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


# ---------------------------------------------------------------- SARIF 2.1.0


def _shape_messages(shapes: Graph | None, rule: str) -> dict[str, str]:
    """The shape's ``sh:message`` templates by language (its own, else its SPARQL constraints'), their
    placeholders written as SPARQL variables (``{?code}`` → ``?code``: SARIF keeps braces for its own)."""
    if shapes is None or rule.startswith(QC_BASE):
        return {}
    shape = URIRef(rule)
    out: dict[str, str] = {}
    for node in (shape, *shapes.objects(shape, SH.sparql)):
        for m in shapes.objects(node, SH.message):
            if isinstance(m, Literal):
                out.setdefault(m.language or "", re.sub(r"\{[?$]([A-Za-z0-9_]+)\}", r"?\1", str(m)))
    return out


def _rule_name(rule: str) -> str:
    """The SARIF rule ``name``: the shape's local name (``PrefLabelEn``) or the QC query's name."""
    short = short_iri(rule)
    return re.split(r"[:#/]", short)[-1] or short


def _sarif_rule(rule: str, first: Finding, lang: str, shapes: Graph | None) -> dict:
    name = pick_text(first.rule_name, lang) or short_iri(rule)
    template = pick_text(_shape_messages(shapes, rule), lang)
    full = template or name
    help_text = f"{name}. {template}" if template else name
    help_text += f" ({rule})"
    return {
        "id": short_iri(rule),
        "name": _rule_name(rule),
        "shortDescription": {"text": name},
        "fullDescription": {"text": full},
        "help": {"text": help_text},
        "defaultConfiguration": {"level": _LEVELS[first.severity]},
        "properties": {"iri": rule, "kind": "qc" if rule.startswith(QC_BASE) else "shacl"},
    }


def artifact(file: str) -> dict:
    """A SARIF ``artifactLocation``: a path relative to the project root as a relative URI against
    ``PROJECTROOT``; an absolute path (a file outside the root) as a ``file:`` URI of its own."""
    path = Path(file)
    if path.is_absolute():
        return {"uri": path.as_uri()}
    return {"uri": quote(file, safe="/"), "uriBaseId": URI_BASE}


def _sarif_result(f: Finding, index: int, lang: str) -> dict:
    logical = {"fullyQualifiedName": f.focus, "kind": "resource"}
    location: dict = {"logicalLocations": [logical]}
    if f.location:
        physical: dict = {"artifactLocation": artifact(f.location.file)}
        if f.location.line:
            physical["region"] = {"startLine": f.location.line}
        location = {"physicalLocation": physical, **location}
        if f.location.origin:
            location["message"] = {"text": f.location.origin}
    properties = {"focusNode": f.focus, "severity": f.severity}
    if f.path:
        properties["resultPath"] = f.path
    if f.value is not None:
        properties["value"] = f.value
    return {
        "ruleId": short_iri(f.rule),
        "ruleIndex": index,
        "level": _LEVELS[f.severity],
        "message": {"text": _detail(f, lang)},
        "locations": [location],
        "partialFingerprints": {FINGERPRINT: fingerprint(f)},
        "properties": properties,
    }


def sarif(report: Report, lang: str = "fr", shapes: Graph | None = None) -> dict:
    """The SARIF 2.1.0 log as a dict: one run of the tool ``rkg``; its rules are the shapes and QC queries
    that found something (id = short id ``rkgsh:Name`` / ``qc:name``; descriptions from the shape's
    ``sh:name`` and ``sh:message`` in ``lang`` when ``shapes`` is given); one result per finding, located
    in its file and line when known, and always at its focus node (a logical location)."""
    rules: dict[str, int] = {}
    descriptors = []
    for f in report.findings:
        if f.rule not in rules:
            rules[f.rule] = len(descriptors)
            descriptors.append(_sarif_rule(f.rule, f, lang, shapes))
    run: dict = {
        "tool": {"driver": {"name": "rkg", "version": __version__, "informationUri": BASE, "rules": descriptors}},
        "originalUriBaseIds": {URI_BASE: {"description": {"text": _texts(lang)["root"]}}},
        "language": lang,
        "columnKind": "unicodeCodePoints",
        "invocations": [{"executionSuccessful": True}],
        "results": [_sarif_result(f, rules[f.rule], lang) for f in report.findings],
    }
    properties: dict = {}
    if report.left_out:
        properties["leftOut"] = report.left_out
    if report.needed:
        properties["neededImports"] = report.needed
    if properties:
        run["properties"] = properties
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def render_sarif(report: Report, lang: str = "fr", shapes: Graph | None = None) -> str:
    return json.dumps(sarif(report, lang, shapes), ensure_ascii=False, indent=2) + "\n"


def render(fmt: str, report: Report, lang: str = "fr", fail_on: str = "violation", shapes: Graph | None = None) -> str:
    """``fmt`` (one of FORMATS) → the report in that format."""
    if fmt == "junit":
        return render_junit(report, lang, fail_on)
    if fmt == "sarif":
        return render_sarif(report, lang, shapes)
    if fmt == "github":
        return render_github(report, lang)
    raise ValueError(f"not a CI format: {fmt!r}")

