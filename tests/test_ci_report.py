"""``rkg validate --format junit|sarif|github``: the report in the formats CI reads (rkg.ci_report), checked
against the SARIF 2.1.0 JSON schema and Jenkins' JUnit schema (tests/reference/sarif, tests/reference/junit),
on the bundled graph's real report and on findings built by hand with and without a location; the example
workflow (examples/ci/) and the pre-commit hook (.pre-commit-hooks.yaml) run only commands rkg knows."""

from __future__ import annotations

import json
import re
import shlex
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import unquote, urlparse
from urllib.request import url2pathname

import jsonschema
import pytest
import xmlschema
import yaml
from support.paths import REFERENCE, ROOT

from rkg import __version__, ci_report, cli
from rkg.build import MAPPING_SUFFIX, SOURCE_SUFFIXES, discover
from rkg.ci_report import escape_data, escape_property, render_github, render_junit, render_sarif, sarif
from rkg.validation import SEVERITIES, Finding, Location, Report, load_shapes, short_iri, validate

SARIF_SCHEMA = REFERENCE / "sarif" / "sarif-schema-2.1.0.json"
JUNIT_XSD = REFERENCE / "junit" / "junit-10.xsd"
WORKFLOW = ROOT / "examples" / "ci" / "validate-referentiels.yml"
HOOKS = ROOT / ".pre-commit-hooks.yaml"
SHAPE = "https://w3id.org/rkg/shapes#"
ID = "https://w3id.org/rkg/id/demo/"

HAND_BUILT = Report([  # one of each severity, a shape and a QC query, located and not, awkward characters
    Finding("violation", SHAPE + "CompetencyInBlock", {"fr": "compétence dans un bloc", "en": "competency in a block"},
            ID + "competency/C.1", {"fr": "La compétence n'est dans aucun bloc.", "en": "The competency is in no block."},
            path="https://w3id.org/rkg/ontology#inBlock",
            location=Location("data/demo/referentiel.ttl", 12)),
    Finding("violation", SHAPE + "CompetencyInBlock", {"fr": "compétence dans un bloc", "en": "competency in a block"},
            ID + "competency/C.2", {"fr": "La compétence n'est dans aucun bloc.", "en": "The competency is in no block."},
            location=Location("data/demo/referentiel.xlsx", None, "referentiel.xlsx, sheet competences, row 3")),
    Finding("warning", SHAPE + "LabelLayout", {"fr": "mise en page des libellés", "en": "label layout"},
            ID + "competency/C.1", {"fr": "Libellé : « a  b »\n100 %, deux espaces", "en": "Label: 'a  b'\n100 %, two spaces"},
            value="a  b\x0b", location=Location("data/demo/a,b:c.ttl", 7)),
    Finding("info", "https://w3id.org/rkg/qc/orphans", {"fr": "entités orphelines", "en": "orphan entities"},
            ID + "block/B1", {"fr": "entités orphelines (n=1)", "en": "orphan entities (n=1)"}),
])


@pytest.fixture(scope="module")
def shapes():
    return load_shapes(ROOT / "shapes")


@pytest.fixture(scope="module")
def bundled_report(bundled_store, shapes, catalog) -> Report:
    """The bundled graph validated as ``rkg validate`` does it (each finding located in its source file),
    once for the module."""
    return validate(bundled_store, shapes, catalog, sources=discover(ROOT), root=ROOT)[0]


def test_bundled_findings_are_located(bundled_report: Report) -> None:
    """The real report points at files and lines, as the CI formats need (rkg.validation fills locations)."""
    assert bundled_report.findings and all(f.location and f.location.line for f in bundled_report.findings)
    results = sarif(bundled_report, "en")["runs"][0]["results"]
    assert all(r["locations"][0]["physicalLocation"]["region"]["startLine"] >= 1 for r in results)


@pytest.fixture(scope="module")
def sarif_validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def reports(bundled_report: Report) -> dict[str, Report]:
    return {"bundled": bundled_report, "hand-built": HAND_BUILT, "empty": Report()}


# ---------------------------------------------------------------- SARIF


@pytest.mark.parametrize("name", ["bundled", "hand-built", "empty"])
@pytest.mark.parametrize("lang", ["fr", "en"])
def test_sarif_is_valid_against_the_schema(name: str, lang: str, bundled_report: Report, shapes, sarif_validator) -> None:
    report = reports(bundled_report)[name]
    log = json.loads(render_sarif(report, lang, shapes))
    errors = sorted(sarif_validator.iter_errors(log), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert (log["version"], driver["name"], driver["version"]) == ("2.1.0", "rkg", __version__)
    assert len(run["results"]) == len(report.findings)
    for result, f in zip(run["results"], report.findings):
        rule = driver["rules"][result["ruleIndex"]]
        assert result["ruleId"] == rule["id"] == short_iri(f.rule)
        assert result["level"] == {"violation": "error", "warning": "warning", "info": "note"}[f.severity]
        assert result["locations"][0]["logicalLocations"] == [{"fullyQualifiedName": f.focus, "kind": "resource"}]
    assert len({r["id"] for r in driver["rules"]}) == len(driver["rules"]) == len({f.rule for f in report.findings})


def test_sarif_rules_speak_the_shapes_language(bundled_report: Report, shapes) -> None:
    """Rule descriptions are the shape's sh:name and sh:message in the chosen language, placeholders as variables."""
    for lang, needle in (("fr", "Apprentissage critique ?acCode du bloc ?blockCode"), ("en", "Critical learning ?acCode")):
        rules = {r["id"]: r for r in sarif(bundled_report, lang, shapes)["runs"][0]["tool"]["driver"]["rules"]}
        rule = rules["rkgsh:CriticalLearningLevelStated"]
        assert rule["name"] == "CriticalLearningLevelStated"
        assert needle in rule["fullDescription"]["text"] and needle in rule["help"]["text"]
        assert "{" not in rule["fullDescription"]["text"]
        assert rule["defaultConfiguration"]["level"] == "warning"


def test_sarif_locations(sarif_validator) -> None:
    results = sarif(HAND_BUILT, "en")["runs"][0]["results"]
    located, no_line, odd_name, unlocated = (r["locations"][0] for r in results)
    assert located["physicalLocation"] == {"artifactLocation": {"uri": "data/demo/referentiel.ttl", "uriBaseId": "PROJECTROOT"},
                                           "region": {"startLine": 12}}
    assert no_line["physicalLocation"] == {"artifactLocation": {"uri": "data/demo/referentiel.xlsx", "uriBaseId": "PROJECTROOT"}}
    assert no_line["message"]["text"] == "referentiel.xlsx, sheet competences, row 3"
    assert odd_name["physicalLocation"] == {"artifactLocation": {"uri": "data/demo/a%2Cb%3Ac.ttl", "uriBaseId": "PROJECTROOT"},
                                           "region": {"startLine": 7}}  # a relative URI reference: ':' and ',' escaped
    assert "physicalLocation" not in unlocated and unlocated["logicalLocations"][0]["fullyQualifiedName"] == ID + "block/B1"


def test_files_outside_the_project(tmp_path: Path, sarif_validator) -> None:
    """A file outside the project root (an --data folder elsewhere) is located by its absolute path: SARIF
    names it by a ``file:`` URI of its own (no PROJECTROOT), which resolves to the file; GitHub and JUnit
    name the path as it is. The log stays valid."""
    outside = tmp_path / "autre dossier" / "réf.ttl"
    outside.parent.mkdir()
    outside.write_text("<http://example.org/a> <http://example.org/p> 1 .\n", encoding="utf-8")
    f = HAND_BUILT.findings[0]
    report = Report([Finding(**{**vars(f), "location": Location(outside.as_posix(), 1)})])
    log = sarif(report, "en")
    assert not list(sarif_validator.iter_errors(log))
    artifact = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert artifact == {"uri": outside.as_uri()} and artifact["uri"].startswith("file:///")
    assert Path(url2pathname(urlparse(artifact["uri"]).path)) == outside
    assert f"file={escape_property(outside.as_posix())},line=1," in render_github(report, "en")
    case = ET.fromstring(render_junit(report, "en")).find("testsuite/testcase")
    assert (case.get("file"), case.get("line")) == (outside.as_posix(), "1")


def test_sarif_fingerprints_are_stable(bundled_report: Report, shapes) -> None:
    """The same finding has the same fingerprint whatever the language, line or message; two findings differ."""
    def prints(report: Report, lang: str) -> list[str]:
        return [r["partialFingerprints"][ci_report.FINGERPRINT] for r in sarif(report, lang, shapes)["runs"][0]["results"]]

    assert prints(bundled_report, "fr") == prints(bundled_report, "en")
    assert len(set(prints(bundled_report, "fr"))) == len(bundled_report.findings)
    moved = Report([Finding(**{**vars(f), "location": Location(f.location.file, 99) if f.location else None,
                               "message": {"en": "reworded"}}) for f in HAND_BUILT.findings])
    assert prints(moved, "en") == prints(HAND_BUILT, "en")
    assert render_sarif(bundled_report, "fr", shapes) == render_sarif(bundled_report, "fr", shapes)


# ---------------------------------------------------------------- JUnit XML


def junit_tree(text: str) -> ET.Element:
    return ET.fromstring(text.encode("utf-8"))  # raises on XML that is not well-formed


@pytest.mark.parametrize("name", ["bundled", "hand-built", "empty"])
@pytest.mark.parametrize("fail_on", SEVERITIES)
def test_junit_counts(name: str, fail_on: str, bundled_report: Report) -> None:
    report = reports(bundled_report)[name]
    root = junit_tree(render_junit(report, "fr", fail_on))
    cases = {(short_iri(f.rule), f.focus) for f in report.findings}
    failing = {(short_iri(f.rule), f.focus) for f in report.findings
               if SEVERITIES.index(f.severity) <= SEVERITIES.index(fail_on)}
    assert root.tag == "testsuites"
    assert {(c.get("classname"), c.get("name")) for c in root.iter("testcase")} == cases
    assert len(list(root.iter("testcase"))) == len(cases)
    assert {(c.get("classname"), c.get("name")) for c in root.iter("testcase") if c.find("failure") is not None} == failing
    assert (int(root.get("tests")), int(root.get("failures")), int(root.get("errors"))) == (len(cases), len(failing), 0)
    for suite in root.iter("testsuite"):
        suite_cases = suite.findall("testcase")
        assert int(suite.get("tests")) == len(suite_cases)
        assert int(suite.get("failures")) == sum(c.find("failure") is not None for c in suite_cases)
        assert {c.get("classname") for c in suite_cases} == {suite.get("name")}
    for case in root.iter("testcase"):  # a finding below the threshold is listed, not failed
        below = [f for f in report.findings if (short_iri(f.rule), f.focus) == (case.get("classname"), case.get("name"))
                 and SEVERITIES.index(f.severity) > SEVERITIES.index(fail_on)]
        assert (case.find("system-out") is not None) == bool(below)
    assert (report.reaches(fail_on)) == bool(failing)  # red in CI exactly when the exit code is 1


def test_junit_locations_and_characters() -> None:
    root = junit_tree(render_junit(HAND_BUILT, "en", "info"))
    cases = {c.get("name"): c for c in root.iter("testcase") if c.get("classname") == "rkgsh:CompetencyInBlock"}
    assert (cases[ID + "competency/C.1"].get("file"), cases[ID + "competency/C.1"].get("line")) == ("data/demo/referentiel.ttl", "12")
    assert (cases[ID + "competency/C.2"].get("file"), cases[ID + "competency/C.2"].get("line")) == ("data/demo/referentiel.xlsx", None)
    orphan = next(c for c in root.iter("testcase") if c.get("classname") == "qc:orphans")
    assert orphan.get("file") is None and orphan.find("failure").get("type") == "info"
    layout = next(c for c in root.iter("testcase") if c.get("classname") == "rkgsh:LabelLayout")
    failure = layout.find("failure")
    assert failure.get("message") == "Label: 'a  b'\n100 %, two spaces"  # the line break survives in the attribute
    assert "value=a  b\ufffd" in failure.text  # a control character XML cannot hold is replaced, not dropped


@pytest.mark.parametrize("name", ["bundled", "hand-built"])
def test_junit_is_valid_against_jenkins_schema(name: str, bundled_report: Report) -> None:
    """Valid against Jenkins' junit-10.xsd once the testcase ``file`` and ``line`` attributes it does not
    know are set aside (tests/reference/junit/README.md)."""
    root = junit_tree(render_junit(reports(bundled_report)[name], "fr", "warning"))
    for case in root.iter("testcase"):
        case.attrib.pop("file", None)
        case.attrib.pop("line", None)
    xmlschema.XMLSchema(str(JUNIT_XSD)).validate(root)


# ---------------------------------------------------------------- GitHub workflow commands


ESCAPES = [  # (text, as a message, as a property value)
    ("plain text", "plain text", "plain text"),
    ("100 %", "100 %25", "100 %25"),
    ("two\nlines\r\n", "two%0Alines%0D%0A", "two%0Alines%0D%0A"),
    ("a:b,c", "a:b,c", "a%3Ab%2Cc"),
    ("%0A is not a line break", "%250A is not a line break", "%250A is not a line break"),
    ("::error::x", "::error::x", "%3A%3Aerror%3A%3Ax"),
    ("tab\tvt\x0bff\x0cls\u2028end", "tab\tvt\\u000bff\\u000cls\\u2028end", "tab\tvt\\u000bff\\u000cls\\u2028end"),
]


@pytest.mark.parametrize("text, data, prop", ESCAPES)
def test_github_escaping(text: str, data: str, prop: str) -> None:
    assert escape_data(text) == data
    assert escape_property(text) == prop


def unescape(text: str) -> str:
    """The runner's unescaping (actions/runner ActionCommand.Unescape…)."""
    for code, char in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")):
        text = text.replace(code, char)
    return text


COMMAND = re.compile(r"^::(error|warning|notice)(?: ([^:]*))?::(.*)$")


def test_github_annotations() -> None:
    lines = render_github(HAND_BUILT, "en").splitlines()
    assert len(lines) == len(HAND_BUILT.findings) + 1 and lines[-1] == "rkg validate: 2 violation(s), 1 warning(s), 1 info"
    parsed = []
    for line, f in zip(lines, HAND_BUILT.findings):
        m = COMMAND.match(line)
        assert m, line
        props = dict(p.split("=", 1) for p in m.group(2).split(","))
        parsed.append((m.group(1), {k: unescape(v) for k, v in props.items()}, unescape(m.group(3))))
    (kind, props, message), (_, no_line, _), (w_kind, odd, w_message), (n_kind, unlocated, n_message) = parsed
    assert (kind, props) == ("error", {"file": "data/demo/referentiel.ttl", "line": "12",
                                       "title": "competency in a block [rkgsh:CompetencyInBlock]"})
    assert message == "demo/competency/C.1: The competency is in no block. path=https://w3id.org/rkg/ontology#inBlock"
    assert no_line == {"file": "data/demo/referentiel.xlsx", "title": "competency in a block [rkgsh:CompetencyInBlock]"}
    assert (w_kind, odd["file"], odd["line"]) == ("warning", "data/demo/a,b:c.ttl", "7")
    assert "Label: 'a  b'\n100 %, two spaces" in w_message and w_message.endswith("value=a  b\\u000b")
    assert (n_kind, set(unlocated)) == ("notice", {"title"})  # no file: an annotation on the run


def test_github_in_french(bundled_report: Report) -> None:
    lines = render_github(bundled_report, "fr").splitlines()
    assert sum(line.startswith("::warning ") for line in lines) == bundled_report.count("warning")
    assert lines[-1].startswith("rkg validate : 0 violation(s)")


# ---------------------------------------------------------------- the command


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ci-report-build")


def test_cli_formats_agree() -> None:
    assert cli.CI_FORMATS == ci_report.FORMATS


@pytest.mark.parametrize("fmt", ci_report.FORMATS)
def test_validate_format_exit_codes(rkg, build_dir: Path, tmp_path: Path, fmt: str, sarif_validator) -> None:
    """The bundled graph has warnings and no violation: exit 0 by default, 1 with --fail-on warning,
    whatever the format; ``-o FILE`` writes the same report and leaves stdout empty."""
    r = rkg("validate", "--build-dir", str(build_dir), "--format", fmt, "--lang", "en", "-q")
    assert r.returncode == 0, r.stderr
    out = tmp_path / f"report.{fmt}"
    r2 = rkg("validate", "--build-dir", str(build_dir), "--format", fmt, "--lang", "en", "-q", "--fail-on", "warning", "-o", str(out))
    assert r2.returncode == 1, r2.stderr
    assert r2.stdout == ""
    written = out.read_text(encoding="utf-8")
    if fmt == "sarif":
        assert not list(sarif_validator.iter_errors(json.loads(written)))
        assert written == r.stdout  # the threshold does not change the log
        for result in json.loads(written)["runs"][0]["results"]:  # files, when located: relative, in the project
            physical = result["locations"][0].get("physicalLocation")
            if physical:
                uri = physical["artifactLocation"]["uri"]
                assert not uri.startswith("/") and ":" not in uri and (ROOT / unquote(uri)).is_file(), uri
    elif fmt == "junit":
        assert junit_tree(r.stdout).get("failures") == "0"
        assert int(junit_tree(written).get("failures")) > 0
    else:
        assert written == r.stdout and "::warning " in written


def test_validate_output_not_written_on_error(rkg, tmp_path: Path) -> None:
    out = tmp_path / "rkg.sarif"
    r = rkg("validate", "--root", str(tmp_path), "--format", "sarif", "-o", str(out), "-q")
    assert r.returncode == 2 and "not an rkg project" in r.stderr
    assert not out.exists()


# ---------------------------------------------------------------- the example workflow and the pre-commit hook


def rkg_commands(script: str) -> list[list[str]]:
    """The ``rkg …`` command lines of a shell script, split as the shell would (up to ``||``)."""
    out = []
    for line in script.splitlines():
        line = line.split("||")[0].strip()
        if line.startswith("rkg "):
            out.append(shlex.split(line)[1:])
    return out


def parses(argv: list[str]) -> None:
    """``argv`` is a command line rkg's parser accepts (it exits on an unknown subcommand, flag or choice)."""
    args = cli.parser().parse_args(argv)
    assert callable(args.func)


def test_example_workflow_runs_known_commands() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    assert {"push", "pull_request"} <= set(workflow.get("on") or workflow.get(True))  # YAML 1.1 reads `on` as true
    steps = workflow["jobs"]["validate"]["steps"]
    uses = [s["uses"].split("@")[0] for s in steps if "uses" in s]
    assert {"actions/checkout", "actions/setup-python", "github/codeql-action/upload-sarif"} <= set(uses)
    commands = [c for s in steps if "run" in s for c in rkg_commands(s["run"])]
    assert [c[0] for c in commands] == ["build", "validate", "validate", "validate"]
    assert {c[c.index("--format") + 1] for c in commands if "--format" in c} == set(ci_report.FORMATS)
    for argv in commands:
        parses(argv)
    upload = next(s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif"))
    written = next(c[c.index("--output") + 1] for c in commands if "sarif" in c)
    assert upload["with"]["sarif_file"] == written
    assert upload["continue-on-error"] is True  # no code scanning (forks, private repositories): not a failure
    for step in steps[steps.index(upload):]:  # the upload and what follows run after a failure before them
        assert "!cancelled()" in step.get("if", ""), step["name"]
    decides = steps[-1]
    assert rkg_commands(decides["run"]) and "github" in rkg_commands(decides["run"])[0]


def test_pre_commit_hook() -> None:
    hooks = yaml.safe_load(HOOKS.read_text(encoding="utf-8"))
    hook = next(h for h in hooks if h["id"] == "rkg-validate")
    assert {"id", "name", "entry", "language"} <= set(hook)  # what pre-commit requires of a hook
    assert hook["language"] == "python" and hook["pass_filenames"] is False
    argv = shlex.split(hook["entry"])
    assert argv[0] == "rkg"
    parses(argv[1:])
    parses(argv[1:] + ["--fail-on", "warning", "--lang", "en"])  # a user's args are appended
    files = re.compile(hook["files"])
    for path in ("data/rncp31854-pif/2024-2028/referentiel.ttl", "ontology/rkg.ttl", "shapes/profiles/but-apc/but-apc.ttl",
                 "queries/qc/orphans.rq", "data/mappings/rncp31854-pif-esco.sssom.tsv", "data/x/fiches.nq", "data/x/a.nt"):
        assert files.search(path), path
    for path in ("README.md", "server/rkg/cli.py", "tests/shapes/cases/x.ttl", "data/source.pdf", "data/x/table.tsv",
                 "shapes/x.nt"):
        assert not files.search(path), path
    # every file the build reads as a source, under both of its folders
    for suffix in (*SOURCE_SUFFIXES, MAPPING_SUFFIX):
        for folder in ("ontology", "data/x"):
            assert files.search(f"{folder}/source{suffix}"), suffix
    assert all(files.search(p.relative_to(ROOT).as_posix()) for p in (s.path for s in discover(ROOT)))
