"""``rkg diff``: the difference of two versions of a référentiel, on the made-up two-version référentiel of
tests/fixtures/diff (every kind of change) loaded beside the bundled one. Expected answers are the cases of
tests/diff (one stem per comparison); the command line is checked for its formats, exit codes and errors."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from support.paths import ROOT

from rkg import diff
from rkg.build import build
from rkg.errors import InputError, NotFound
from rkg.store import EmbeddedStore

DIFF_DATA = ROOT / "tests" / "fixtures" / "diff"
CASES = ROOT / "tests" / "diff"
STEMS = sorted(p.stem for p in CASES.glob("*.json"))
Run = Callable[..., subprocess.CompletedProcess[str]]


def case(stem: str) -> dict:
    return json.loads((CASES / f"{stem}.json").read_text(encoding="utf-8"))


def lines(text: str) -> set[str]:
    return {line.rstrip() for line in text.splitlines() if line.strip()}


@pytest.fixture(scope="module")
def diff_store() -> EmbeddedStore:
    """The bundled référentiel and the made-up two-version one of tests/fixtures/diff."""
    return EmbeddedStore.from_quads(build(ROOT, [DIFF_DATA]).quads)


@pytest.fixture(scope="module")
def cli(rkg: Run, tmp_path_factory: pytest.TempPathFactory) -> Run:
    """``rkg diff …`` with the fixture loaded (``--data``), built once into a folder of these tests."""
    build_dir = tmp_path_factory.mktemp("diff-build")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return rkg("diff", "-q", "--data", str(DIFF_DATA), "--build-dir", str(build_dir), *args)

    return run


def graphs(store: EmbeddedStore) -> list[str]:
    """The store's named graphs, as ``rkg diff`` passes them to ``compare``."""
    return [g.value for g in store.engine.named_graphs()]


def compared(store: EmbeddedStore, stem: str) -> diff.Diff:
    c = case(stem)
    return diff.compare(diff.store_select(store), graphs(store), c["programme"], c["from"], c["to"], c["lang"])


@pytest.mark.parametrize("stem", STEMS)
def test_json_as_expected(diff_store: EmbeddedStore, stem: str) -> None:
    got = json.loads(diff.render(compared(diff_store, stem), "json"))
    assert got == case(stem)["expected"]


@pytest.mark.parametrize("stem", STEMS)
def test_markdown_release_notes(diff_store: EmbeddedStore, stem: str) -> None:
    got = diff.render(compared(diff_store, stem), "markdown")
    assert lines(got) == lines((CASES / f"{stem}.md").read_text(encoding="utf-8"))


@pytest.mark.parametrize("stem", STEMS)
def test_csv_one_row_per_change(diff_store: EmbeddedStore, stem: str) -> None:
    expected = case(stem)["expected"]
    text = diff.render(compared(diff_store, stem), "csv")
    assert text.split("\r\n", 1)[0] == ",".join(diff.CSV_COLUMNS)
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    want = ([("added", e["entity"], "") for e in expected["added"]] + [("removed", e["entity"], "") for e in expected["removed"]]
            + [("changed", c["entity"], ch["property"]) for c in expected["changed"] for ch in c["changes"] or [{"property": ""}]]
            + [("suggested", s["added"]["entity"], "") for s in expected["suggested"]])
    assert [(r["change"], r["entity"], r["property"]) for r in rows] == want


@pytest.mark.parametrize("stem", STEMS)
def test_text_names_every_change(diff_store: EmbeddedStore, stem: str) -> None:
    expected = case(stem)["expected"]
    text = diff.render(compared(diff_store, stem), "text")
    for e in expected["added"] + expected["removed"] + expected["changed"]:
        assert any(e["code"] in line and e["type_label"] in line for line in text.splitlines())
    for c in expected["changed"]:
        for ch in c["changes"]:
            assert any(line.strip().startswith(ch["property_label"] + ":") for line in text.splitlines())
    assert len(text.splitlines()) == 1 + (not (expected["added"] or expected["removed"] or expected["changed"])) + sum(
        1 + len(expected[k]) for k in ("added", "removed", "changed", "suggested") if expected[k]) + sum(
        len(c["changes"]) for c in expected["changed"])


def test_every_kind_of_change(diff_store: EmbeddedStore) -> None:
    """The forward case holds each kind of change the fixture's README lists, as the schema says it."""
    d = compared(diff_store, "forward")
    by_code = {c.entity.code: c for c in d.changed}
    assert {r.code for r in d.added} == {"C4", "C7"} and {r.code for r in d.removed} == {"C3", "C5"}
    recoded = by_code["C2.1"]  # renamed code with prov:wasRevisionOf: one change, not removed + added
    assert recoded.revision_of is not None and recoded.revision_of.code == "C2"
    assert [(c.property_label, c.old[0].value, c.new[0].value) for c in recoded.changes] == [("code", "C2", "C2.1")]
    assert [(a.code, b.code) for a, b in d.suggested] == [("C5", "C7")]  # no link, same label
    moved = by_code["AC3"]  # moved to another block and year
    parent = next(c for c in moved.changes if c.property.endswith("#criticalLearningOf"))
    assert [v.code for v in parent.old] == ["RNCP99996BC01"] and [v.code for v in parent.new] == ["RNCP99996BC02"]
    assert parent.single
    level = next(c for c in moved.changes if c.property.endswith("#atStudyLevel"))
    assert (level.old[0].code, level.new[0].code, level.single) == ("M1", "M2", True)
    dims = next(c for c in by_code["RNCP99996BC02"].changes if c.property.endswith("#mobilisesDimension"))
    assert ([v.label for v in dims.old], [v.label for v in dims.new], dims.single) == (["Communication"], ["Numérique"], False)


def test_versions_from_graph_folders() -> None:
    g = "https://w3id.org/rkg/graph/"
    graphs = [g + "diff/demo-diff/2024-2028/referentiel", g + "diff/demo-diff/2020-2024/referentiel",
              g + "diff/demo-diff/versions", g + "rncp31854-pif/2024-2028/labels-en", g + "build", "urn:x:demo-diff/1/2"]
    assert diff.versions(graphs, "demo-diff") == {"2020-2024": [graphs[1]], "2024-2028": [graphs[0]]}
    assert list(diff.versions(graphs, "https://w3id.org/rkg/id/rncp31854-pif")) == ["2024-2028"]


@pytest.mark.parametrize("args, error, names", [
    (("demo-diff", "2019-2023", "2024-2028"), InputError, ("2020-2024", "2024-2028")),
    (("rncp31854-pif", "2024-2028", "2020-2024"), InputError, ("2024-2028",)),
    (("no-such-programme", "2020-2024", "2024-2028"), NotFound, ("demo-diff", "rncp31854-pif")),
])
def test_unknown_names_the_known(diff_store: EmbeddedStore, args: tuple[str, str, str], error: type, names: tuple[str, ...]) -> None:
    with pytest.raises(error) as e:
        diff.compare(diff.store_select(diff_store), graphs(diff_store), *args)
    assert all(n in str(e.value) for n in names)


def test_markdown_escapes_labels() -> None:
    assert diff.md("a *b* [c](javascript:x) <i>") == r"a \*b\* \[c\](javascript:x) \<i\>"


@pytest.mark.parametrize("text, escaped", [
    ("a\n- b\n---\n# c\r\n1. d", r"a - b --- \# c 1. d"),  # line breaks made spaces: no bullet, rule, heading
    ("a\u2028b\u2029c\x85d\ve\ff", "a b c d e f"),  # every line break str.splitlines knows
    ("- a", r"\- a"), ("+ a", r"\+ a"), ("1. a", r"1\. a"), ("2) a", r"2\) a"),  # a leading list marker
    ("1.2", "1.2"), ("C2 - x", "C2 - x"),  # codes and dashes inside a text are left
    ("AT&amp;T ~~x~~", r"AT\&amp;T \~\~x\~\~"),  # entities, strikethrough
])
def test_markdown_one_line_no_markup(text: str, escaped: str) -> None:
    assert diff.md(text) == escaped


NASTY = 'Conduite <b>d\'un</b> groupe & "équipe"\n- puce\n# titre'
"""A label spread over lines that start like Markdown's bullets and headings, with HTML's special characters."""


def nasty_diff() -> diff.Diff:
    ref = diff.Ref("https://w3id.org/rkg/id/demo-diff/competency/C9", "C9", NASTY, "https://w3id.org/rkg/ontology#Competency",
                   "compétence")
    change = diff.Change("http://www.w3.org/2004/02/skos/core#prefLabel", "libellé", [diff.Value("avant\nx", False, lang="fr")],
                         [diff.Value(NASTY, False, lang="fr")], single=True)
    return diff.Diff("demo-diff", "2020-2024", "2024-2028", "fr", [ref], [ref], [diff.Changed(ref, [change])], [(ref, ref)])


def test_renderers_keep_labels_on_one_line() -> None:
    d = nasty_diff()
    notes = diff.render(d, "markdown").splitlines()
    assert not any(line.lstrip().startswith(("- puce", "# titre")) for line in notes)
    assert sum(line.startswith("## ") for line in notes) == 4  # added, removed, changed, suggested: no heading more
    assert 'Conduite \\<b\\>d\'un\\</b\\> groupe \\& "équipe" - puce \\# titre' in diff.render(d, "markdown")
    text = diff.render(d, "text")
    assert len(text.splitlines()) == 1 + 4 * 2 + 1  # the title, four headings and entities, one property change
    assert 'Conduite <b>d\'un</b> groupe & "équipe" - puce # titre' in text


def test_csv_cells_are_data() -> None:
    """CSV as the query results write it: labels as they are (line breaks kept, quoted), no formula guard."""
    d = nasty_diff()
    formula = diff.Ref("https://w3id.org/rkg/id/demo-diff/competency/C8", "C8", "=1+2", "https://w3id.org/rkg/ontology#Competency", "compétence")
    d.added.append(formula)
    rows = list(csv.DictReader(io.StringIO(diff.render(d, "csv"), newline="")))
    assert [r["label"] for r in rows if r["change"] == "added"] == [NASTY, "=1+2"]


# ---------------------------------------------------------------- the command


@pytest.mark.parametrize("fmt", diff.FORMATS)
def test_cli_formats(cli: Run, diff_store: EmbeddedStore, fmt: str) -> None:
    c = case("forward")
    result = cli(c["programme"], c["from"], c["to"], "--format", fmt, "--lang", c["lang"])
    assert result.returncode == 0, result.stderr
    # the subprocess is read as text: its CSV's CRLF line ends arrive as LF
    assert result.stdout == diff.render(compared(diff_store, "forward"), fmt).replace("\r\n", "\n")


def test_cli_no_difference_exits_0(cli: Run) -> None:
    result = cli("demo-diff", "2024-2028", "2024-2028", "--format", "json")
    assert result.returncode == 0 and json.loads(result.stdout)["changed"] == []


@pytest.mark.parametrize("args, message", [
    (("demo-diff", "2020-2024", "2030-2034"), "known versions: 2020-2024, 2024-2028"),
    (("nope", "2020-2024", "2024-2028"), "known programmes: demo-diff, rncp31854-pif"),
    (("demo-diff", "2020-2024", "2024-2028", "--format", "html"), "invalid choice"),
    (("demo-diff", "2020-2024"), "the following arguments are required"),
])
def test_cli_errors_exit_2(cli: Run, args: tuple[str, ...], message: str) -> None:
    result = cli(*args)
    assert result.returncode == 2 and message in result.stderr and not result.stdout


def test_bundled_answers_unchanged(rkg: Run, built_dir: Path) -> None:
    """Without --data the fixture is not there: the bundled graph knows one programme, one version."""
    result = rkg("diff", "-q", "--build-dir", str(built_dir), "demo-diff", "2020-2024", "2024-2028")
    assert result.returncode == 2 and "known programmes: rncp31854-pif" in result.stderr
