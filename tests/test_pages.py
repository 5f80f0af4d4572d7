"""The web pages (in-process WSGI): home, editor, questions, heat maps with evidence and CSV, validation
report, Linked Data pages with content negotiation, language choice, escaping, links only to this site
and to http(s) IRIs, security headers on every answer. The browser tests
(tests/web/test_browser.py) drive the same pages in Chromium.

Expected values are read from the source (see tests/queries/*.json, written from the seed), not from
a first run of the pages.
"""

from __future__ import annotations

import csv
import io
import json
import re
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import RDF, SKOS

from support.paths import PIF, ROOT
from rkg.build import NQUADS_NAME, build, write
from rkg.web import create_app
from rkg.web.config import Config
from rkg.web.headers import POLICY, SecurityHeaders

HOSTILE_DATA = ROOT / "tests" / "fixtures" / "hostile"
HOSTILE = "https://w3id.org/rkg/id/rncp99998-hostile"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
RKG = "https://w3id.org/rkg/ontology#"
DIMENSIONS_BY_BLOCK = {"RNCP31854BC01": {"1"}, "RNCP31854BC02": {"1", "2", "8"}, "RNCP31854BC03": {"2", "3", "4", "6", "7"},
                       "RNCP31854BC04": {"1", "2", "3", "4", "9"}}
"""Generic dimensions column of each block in the source's block tables."""


def units_by_block() -> dict[str, set[str]]:
    """UE column of each block, as tests/queries/units-by-block.json states it from the source."""
    out: dict[str, set[str]] = {}
    for block, unit, _kind in json.loads((ROOT / "tests" / "queries" / "units-by-block.json").read_text())["expected"]:
        out.setdefault(block, set()).add(unit)
    return out


HOSTILE_IRIS_TTL = """# IRIs whose schemes a browser would run or open: the pages link to their pages here, never to them.
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<https://w3id.org/rkg/id/rncp99998-hostile/links> a <javascript:alert(0)> ;
    rdfs:label "Links to hostile IRIs"@en ;
    rdfs:seeAlso <javascript:alert(1)>, <JaVaScRiPt:alert(2)>, <vbscript:msgbox(3)>, <data:text/html;base64,PHNjcmlwdD5hbGVydCg0KTwvc2NyaXB0Pg==>,
        <file:///etc/passwd>, <urn:isbn:0451450523>, <mailto:someone@example.org>, <https://example.org/web> ;
    <javascript:alert(5)> "value of a hostile property" ;
    rdfs:comment "typed by a hostile datatype"^^<javascript:alert(6)> .
<javascript:alert(1)> rdfs:label "a javascript: IRI"@en ;
    rdfs:seeAlso <https://w3id.org/rkg/id/rncp99998-hostile/links> .
"""
"""An extra data folder written by the ``graph_dir`` fixture."""
HOSTILE_IRIS = ["javascript:alert(1)", "JaVaScRiPt:alert(2)", "vbscript:msgbox(3)",
                "data:text/html;base64,PHNjcmlwdD5hbGVydCg0KTwvc2NyaXB0Pg==", "file:///etc/passwd",
                "urn:isbn:0451450523", "mailto:someone@example.org", "javascript:alert(5)",
                # not IRIs (400), still shown as text if ever echoed:
                " JaVaScRiPt:alert(7)", "java\tscript:alert(8)", "\x01javascript:alert(9)", "javascript\n:alert(10)",
                "data:text/html,<script>alert(11)</script>", "javascript:alert(12)//https://example.org/"]


@pytest.fixture(scope="module")
def graph_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled graph beside the hostile fixture (labels made of markup) and ``HOSTILE_IRIS_TTL``."""
    out = tmp_path_factory.mktemp("pages-build")
    iris = tmp_path_factory.mktemp("pages-data") / "hostile-iris"
    iris.mkdir()
    (iris / "links.ttl").write_text(HOSTILE_IRIS_TTL, encoding="utf-8")
    write(build(ROOT, [HOSTILE_DATA, iris]), out)
    return out


@pytest.fixture(scope="module")
def client(graph_dir: Path):
    app = create_app(Config(nquads=graph_dir / NQUADS_NAME, queries=ROOT / "queries", shapes=ROOT / "shapes",
                            assets=ROOT / "node_modules", version="test"))
    yield app.test_client()
    app.extensions["rkg"].close()


def page(client, url: str, lang: str = "en", status: int = 200) -> str:
    r = client.get(url, headers={"Accept": BROWSER, "Accept-Language": lang})
    assert r.status_code == status, r.get_data(as_text=True)[:2000]
    assert r.mimetype == "text/html"
    return r.get_data(as_text=True)


class Tables(HTMLParser):
    """Cells of the tables of a page, by table id: rows of (text, href of the first link, attributes)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[dict]]] = {}
        self._table: str | None = None
        self._cell: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self._table = a.get("id", "")
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell = {"text": "", "href": None, "attrs": a}
            self.tables[self._table][-1].append(self._cell)
        elif tag == "a" and self._cell is not None and self._cell["href"] is None:
            self._cell["href"] = a.get("href")
        elif tag in ("br", "div") and self._cell is not None:
            self._cell["text"] += " "

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell["text"] += data


def tables(html: str) -> dict[str, list[list[dict]]]:
    p = Tables()
    p.feed(html)
    return p.tables


URL_ATTRIBUTES = {"href", "src", "action", "formaction", "poster", "srcset", "xlink:href", "background", "ping"}


class Markup(HTMLParser):
    """The URL-valued attributes of a page, its scripts' and elements' inline code and styles."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[tuple[str, str, str]] = []
        self.inline: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.urls += [(tag, k, v or "") for k, v in attrs if k in URL_ATTRIBUTES]
        self.inline += [f"<{tag} {k}>" for k, _ in attrs if k.startswith("on") or k == "style"]
        if tag == "script" and "src" not in a and a.get("type") != "application/json":
            self.inline.append("<script> without src")
        if tag == "style":
            self.inline.append("<style>")


def markup(html: str) -> Markup:
    m = Markup()
    m.feed(html)
    return m


def check_links(html: str) -> None:
    """Every URL of the page is one of this site (a path, a query or a fragment, never ``//host``) or an
    ``http``/``https`` IRI; no ``javascript:``-like scheme in any attribute, whatever its case or spacing."""
    for tag, attr, url in markup(html).urls:
        local = re.match(r"[/?#](?![/\\])", url) and "\\" not in url.split("?")[0]
        web = re.fullmatch(r"https?://[^/?#\\]+([/?#].*)?", url, re.I | re.S)
        assert (local or web) and not re.search(r"[\x00-\x20\x7f]", url), (tag, attr, url)
    assert not re.search(r"""(href|src|action)\s*=\s*["']?[\s\x00-\x1f]*(j\s*a\s*v\s*a\s*s\s*c\s*r\s*i\s*p\s*t|vbscript|data|file|urn|mailto)\s*:""",
                         html, re.I)


# ---------------------------------------------------------------- home


def test_home_counts_every_programme(client) -> None:
    rows = tables(page(client, "/"))["programmes"]
    head = [c["text"].strip() for c in rows[0]]
    by_code = {r[0]["text"].split()[-1]: dict(zip(head, (c["text"].strip() for c in r))) for r in rows[1:]}
    pif = by_code["rncp31854-pif"]
    assert pif["RNCP"] == "RNCP31854"
    expected = {"Competency block": "4", "Competency": "14", "Critical learning": "36", "Teaching unit (UE)": "20",
                "Teaching unit element (ECUE)": "2", "Generic dimension": "10", "Programme learning outcome": "10"}
    assert {k: pif[k] for k in expected} == expected
    modalities = next(k for k in head if "modalit" in k.lower())
    assert pif[modalities] == "20"  # 4 + 5 + 6 + 5 evaluation modalities in the four blocks
    assert "rncp99998-hostile" in by_code


def test_home_links_everything(client) -> None:
    html = page(client, "/")
    for href in ("/sparql", "/questions", "/coverage", "/validation", "/.well-known/void", "/api/openapi.json",
                 "/id/rncp31854-pif", "/coverage?programme=rncp31854-pif&amp;kind=dimension"):
        assert f'href="{href}"' in html, href
    graphs = {r[0]["text"] for r in tables(html)["graphs"][1:]}
    assert "rkgg:rncp31854-pif/2024-2028/referentiel" in graphs


# ---------------------------------------------------------------- language


@pytest.mark.parametrize("accept, word", [("fr-FR,fr;q=0.9", "Accueil"), ("en-GB,en;q=0.8", "Home"),
                                          ("de-DE", "Accueil"), ("de, en;q=0.5", "Home")])
def test_language_from_accept_language(client, accept: str, word: str) -> None:
    html = page(client, "/", lang=accept)
    assert f'data-nav="home">{word}</a>' in html
    assert f'<html lang="{"fr" if word == "Accueil" else "en"}">' in html


def test_language_switch_is_remembered(graph_dir: Path) -> None:
    app = create_app(Config(nquads=graph_dir / NQUADS_NAME, queries=ROOT / "queries", version="test"))
    try:
        c = app.test_client()
        assert 'data-nav="home">Home</a>' in page(c, "/questions", lang="en")
        html = page(c, "/questions?lang=fr", lang="en")
        assert 'data-nav="home">Accueil</a>' in html and 'href="/questions?lang=en"' in html
        assert 'data-nav="home">Accueil</a>' in page(c, "/", lang="en")  # the cookie wins over Accept-Language
        assert "Critical learnings per block" in page(c, "/questions?lang=en", lang="fr")
    finally:
        app.extensions["rkg"].close()


def test_data_labels_follow_the_language(client) -> None:
    fr = tables(page(client, "/coverage?kind=dimension", lang="fr"))["heatmap"]
    en = tables(page(client, "/coverage?kind=dimension", lang="en"))["heatmap"]
    assert fr[10][0]["text"].startswith("10 Contribuer à la transformation en contexte professionnel")
    assert en[10][0]["text"].startswith("10 Contribute to transformation in a professional context")


# ---------------------------------------------------------------- escaping


def test_markup_in_labels_is_text(client) -> None:
    """Labels and codes of the hostile fixture appear escaped on every page that shows them."""
    urls = ["/", "/coverage?programme=rncp99998-hostile&kind=block", "/coverage?programme=rncp99998-hostile&kind=competency",
            "/coverage?programme=rncp99998-hostile&kind=dimension", "/id/rncp99998-hostile", "/id/rncp99998-hostile/block/BC01",
            "/id/rncp99998-hostile/ue/UE1", "/api/queries/units-by-block?programme=rncp99998-hostile&format=html"]
    for url in urls:
        html = page(client, url)
        assert "window.rkgXss" in html, url  # the label is there…
        assert "<script>window" not in html and "<img src=x" not in html and "<i>BC01" not in html, url  # …as text
    assert "&lt;script&gt;window.rkgXss = 1&lt;/script&gt;Master &amp; « hostile »" in page(client, "/id/rncp99998-hostile")


# ---------------------------------------------------------------- editor and questions


def test_editor_for_browsers(client) -> None:
    html = page(client, "/sparql")
    assert "/assets/yasgui/yasgui.min.js" in html, "YASGUI missing: run npm ci in the project folder"
    examples = json.loads(re.search(r'<script type="application/json" id="examples-data">(.*?)</script>', html, re.S).group(1))
    names = {e["name"] for e in examples}
    assert {"ues-covering-dimension", "uncovered-dimensions", "coverage-dimension-ue"} <= names
    assert not any(n.startswith("qc/") for n in names)
    start = json.loads(re.search(r'id="start-query">(.*?)</script>', html, re.S).group(1))
    assert "PREFIX rkg: <https://w3id.org/rkg/ontology#>" in start and "PREFIX skos:" in start
    assert client.get("/assets/yasgui/yasgui.min.js").status_code == 200
    assert client.get("/assets/yasgui/../../../package.json").status_code == 404


def test_editor_without_yasgui_is_a_plain_form(graph_dir: Path) -> None:
    app = create_app(Config(nquads=graph_dir / NQUADS_NAME, queries=ROOT / "queries", version="test"))
    try:
        html = page(app.test_client(), "/sparql")
        assert 'id="plain-editor"' in html and "npm ci" in html and "yasgui.min.js" not in html
    finally:
        app.extensions["rkg"].close()


def test_sparql_still_answers_programs(client) -> None:
    r = client.get("/sparql", headers={"Accept": "text/turtle"})
    assert r.status_code == 200 and r.mimetype == "text/turtle"  # service description
    r = client.get("/sparql", query_string={"query": "ASK {}"}, headers={"Accept": BROWSER})
    assert r.status_code == 200 and r.mimetype == "application/sparql-results+xml"


def test_questions_page_lists_every_named_query(client) -> None:
    html = page(client, "/questions")
    listed = {row[0]["text"].split()[-1] for row in tables(html)["questions"][1:] if row[0]["text"].strip()}
    names = {p.stem for p in (ROOT / "queries").glob("*.rq")} | {f"qc/{p.stem}" for p in (ROOT / "queries" / "qc").glob("*.rq")}
    assert {n for n in names} <= {w for row in tables(html)["questions"][1:] for w in row[0]["text"].split()}, listed
    assert 'href="/api/queries/uncovered-dimensions?format=html"' in html


def test_question_as_html_table(client) -> None:
    html = page(client, "/api/queries/ues-covering-dimension?dimension=https%3A%2F%2Fw3id.org%2Frkg%2Fid%2Frncp31854-pif%2Fdimension%2F8&format=html")
    rows = tables(html)["results"]
    assert [c["text"] for c in rows[0]] == ["unit", "block"]
    assert {r[0]["text"] for r in rows[1:]} == units_by_block()["RNCP31854BC02"]  # dimension 8: BC02 only
    assert 'href="/api/queries/ues-covering-dimension?dimension=https%3A%2F%2Fw3id.org%2Frkg%2Fid%2Frncp31854-pif%2Fdimension%2F8&amp;format=csv"' in html


# ---------------------------------------------------------------- heat maps


def expected_cells(kind: str) -> dict[tuple[str, str], set[str]]:
    """(row code, unit) → blocks linking them, from the source's block tables."""
    units = units_by_block()
    competencies = {"RNCP31854BC01": 3, "RNCP31854BC02": 4, "RNCP31854BC03": 4, "RNCP31854BC04": 3}
    out: dict[tuple[str, str], set[str]] = {}
    for block, block_units in units.items():
        if kind == "block":
            rows = {block}
        elif kind == "dimension":
            rows = DIMENSIONS_BY_BLOCK[block]
        else:
            rows = {f"competency-of-{block}-{i}" for i in range(competencies[block])}
        for row in rows:
            for u in block_units:
                out.setdefault((row, u), set()).add(block)
    return out


def heatmap(client, kind: str) -> tuple[list[str], dict[str, dict[str, dict]]]:
    rows = tables(page(client, f"/coverage?programme=rncp31854-pif&kind={kind}"))["heatmap"]
    units = [c["text"] for c in rows[0][1:-1]]
    return units, {r[0]["text"].split()[0]: dict(zip(units, r[1:-1])) for r in rows[1:]}


def test_heatmap_every_unit_is_a_column(client) -> None:
    units, _ = heatmap(client, "block")
    assert sorted(units) == sorted(set().union(*units_by_block().values()))
    assert len(units) == 22  # 20 UEs and 2 ECUEs


@pytest.mark.parametrize("kind", ["block", "dimension"])
def test_heatmap_cells(client, kind: str) -> None:
    _, rows = heatmap(client, kind)
    expected = expected_cells(kind)
    got = {(r, u): int(c["attrs"]["data-count"]) for r, cells in rows.items() for u, c in cells.items() if c["attrs"]["data-count"] != "0"}
    assert got == {k: len(v) for k, v in expected.items()}
    if kind == "dimension":
        assert set(rows) == {str(i) for i in range(1, 11)}
        assert {r for r, cells in rows.items() if not any(c["attrs"]["data-count"] != "0" for c in cells.values())} == {"5", "10"}


def test_heatmap_competencies(client) -> None:
    _, rows = heatmap(client, "competency")
    assert len(rows) == 14
    block_of = {"C.1": "RNCP31854BC01", "C.2": "RNCP31854BC02", "C.3": "RNCP31854BC03", "C.4": "RNCP31854BC04", "C4": "RNCP31854BC04"}
    units = units_by_block()
    for code, cells in rows.items():
        block = block_of[re.match(r"C\.?\d", code).group(0)]
        assert {u for u, c in cells.items() if c["attrs"]["data-count"] == "1"} == units[block], code


def test_heatmap_cell_links_to_its_evidence(client) -> None:
    _, rows = heatmap(client, "dimension")
    href = rows["1"]["UE19"]["href"].replace("&amp;", "&")
    evidence = tables(page(client, href))["evidence"]
    assert {r[0]["text"] for r in evidence[1:]} == expected_cells("dimension")[("1", "UE19")]
    assert all(r[0]["href"].startswith("/id/rncp31854-pif/block/") for r in evidence[1:])


def test_heatmap_csv(client) -> None:
    r = client.get("/coverage.csv?programme=rncp31854-pif&kind=dimension&lang=en")
    assert r.mimetype == "text/csv" and "attachment" in r.headers["Content-Disposition"]
    table = list(csv.reader(io.StringIO(r.get_data(as_text=True))))
    units = table[0][2:]
    got = {(row[0], u): int(n) for row in table[1:] for u, n in zip(units, row[2:]) if n != "0"}
    assert got == {k: len(v) for k, v in expected_cells("dimension").items()}
    assert table[10][:2] == ["10", "Contribute to transformation in a professional context"]


@pytest.mark.parametrize("url, status", [("/coverage?kind=everything", 400), ("/coverage?programme=rncp00000-none", 404),
                                         ("/coverage/cell?kind=block&row=x&unit=y", 404)])
def test_heatmap_bad_parameters(client, url: str, status: int) -> None:
    r = client.get(url, headers={"Accept": "text/plain"})
    assert r.status_code == status and r.mimetype == "text/plain"
    assert page(client, url, status=status)  # a page for browsers


def test_unknown_programme_is_refused_with_the_known_ones(client) -> None:
    """An id that is not one of the graph's programmes is refused (not answered with an empty table)."""
    r = client.get("/api/queries/block-summary?programme=rncp31854-pf&format=json")
    assert r.status_code == 400 and r.mimetype == "application/json"
    message = r.get_json()["error"]
    assert "no programme 'rncp31854-pf' in the graph" in message
    assert "known programmes: rncp31854-pif, rncp99998-hostile" in message
    assert client.get("/api/queries/block-summary?programme=rncp31854-pif&format=json").status_code == 200
    assert client.get("/api/queries/class-counts?programme=butinfo&format=csv").status_code == 400
    assert client.get("/api/queries/class-counts?format=csv").status_code == 200  # optional, absent: every programme
    r = client.get("/coverage?programme=butinfo", headers={"Accept": "text/plain"})
    assert r.status_code == 404 and "known programmes: rncp31854-pif, rncp99998-hostile" in r.get_data(as_text=True)


# ---------------------------------------------------------------- validation


def test_validation_page(client) -> None:
    html = page(client, "/validation")
    counts = dict(re.findall(r'data-severity="(\w+)">(\d+)<', html))
    assert int(counts["warning"]) >= 23  # the bundled graph's 23 and the hostile fixture's own
    assert 'data-rule="https://w3id.org/rkg/shapes#' in html
    assert 'href="/id/rncp31854-pif/dimension/5"' in html and 'href="/id/rncp31854-pif/dimension/10"' in html


@pytest.mark.parametrize("root", [ROOT, None], ids=["with-root", "no-root"])
def test_validation_page_of_the_bundled_graph(built_dir: Path, root: Path | None) -> None:
    """The 23 warnings; with the project folder (rkg serve gives it), each names the file and line its focus
    node was written at, as rkg validate does."""
    app = create_app(Config(nquads=built_dir / NQUADS_NAME, queries=ROOT / "queries", shapes=ROOT / "shapes", version="t",
                            root=root))
    try:
        html = page(app.test_client(), "/validation")
        assert dict(re.findall(r'data-severity="(\w+)">(\d+)<', html)) == {"violation": "0", "warning": "23", "info": "0"}
        assert len(re.findall(r'<li><a href="/id/rncp31854-pif/', html)) == 23
        places = re.findall(r'<small class="where" data-where>([^<:]+):(\d+)</small>', html)
        if root is None:
            assert places == []
            return
        assert len(places) == 23 and {f for f, _ in places} == {"data/rncp31854-pif/2024-2028/referentiel.ttl"}
        lines = (ROOT / "data/rncp31854-pif/2024-2028/referentiel.ttl").read_text(encoding="utf-8").splitlines()
        ac1 = re.search(r'href="/id/rncp31854-pif/block/BC03/ac/AC\.1".*?data-where>[^:]+:(\d+)<', html).group(1)
        assert lines[int(ac1) - 1].startswith("<block/BC03/ac/AC.1> ")
    finally:
        app.extensions["rkg"].close()


# ---------------------------------------------------------------- Linked Data


def entity_iris(graph_dir: Path) -> list[str]:
    import pyoxigraph as ox

    store = ox.Store()
    store.bulk_load(path=str(graph_dir / NQUADS_NAME), format=ox.RdfFormat.N_QUADS)
    subjects = {q.subject.value for q in store if isinstance(q.subject, ox.NamedNode)}
    values = {q.object.value for q in store if isinstance(q.object, ox.NamedNode)}
    return sorted(subjects | values)


def test_every_iri_of_the_graph_has_a_page(client, graph_dir: Path) -> None:
    failures = []
    iris = entity_iris(graph_dir)
    assert len(iris) > 200
    for iri in iris:
        from rkg.web.linked_data import href

        r = client.get(href(iri), headers={"Accept": BROWSER})
        html = r.get_data(as_text=True)
        if r.status_code != 200 or f'<code id="entity-iri">{iri.replace("&", "&amp;")}</code>' not in html:
            failures.append((iri, r.status_code))
    assert not failures


@pytest.mark.parametrize("accept, fmt, media", [("text/turtle", "turtle", "text/turtle"),
                                                ("application/ld+json", "json-ld", "application/ld+json"),
                                                ("application/n-triples", "nt", "application/n-triples"),
                                                ("application/rdf+xml", "xml", "application/rdf+xml")])
def test_entity_as_rdf(client, accept: str, fmt: str, media: str) -> None:
    block = URIRef(PIF + "/block/BC01")
    for url in ("/id/rncp31854-pif/block/BC01", "/id/rncp31854-pif/block/BC01?format=" + {"text/turtle": "turtle", "application/ld+json": "jsonld",
                                                                                          "application/n-triples": "nt", "application/rdf+xml": "rdf"}[accept]):
        r = client.get(url, headers={"Accept": accept if "format" not in url else BROWSER})
        assert r.status_code == 200 and r.mimetype == media and "Accept" in r.headers["Vary"]
        g = Graph().parse(data=r.get_data(as_text=True), format=fmt)
        assert (block, RDF.type, URIRef(RKG + "CompetencyBlock")) in g
        assert (block, SKOS.notation, None) in g
        assert (URIRef(PIF), URIRef(RKG + "hasBlock"), block) in g  # links in
        assert len(set(g.objects(block, URIRef(RKG + "hasCriticalLearning")))) == 8


def test_entity_rdf_carries_interpretations(client) -> None:
    r = client.get("/id/rncp31854-pif/block/BC01/ac/AC4", headers={"Accept": "text/turtle"})
    g = Graph().parse(data=r.get_data(as_text=True), format="turtle")
    axioms = set(g.subjects(URIRef("http://www.w3.org/2002/07/owl#annotatedSource"), URIRef(PIF + "/block/BC01/ac/AC4")))
    assert len(axioms) == 2  # M1 and M2, each read from the level column by position


def test_entity_page_content(client) -> None:
    html = page(client, "/id/rncp31854-pif/block/BC01/ac/AC4", lang="fr")
    t = tables(html)
    assert "AC4" in re.search(r'<h1 id="entity-title">(.*?)</h1>', html, re.S).group(1)
    props = [r[0]["text"] for r in t["out"][1:]]
    assert props[:2] == ["skos:prefLabel", "skos:notation"] and "situé en année" in props
    assert any("/id/rncp31854-pif/block/BC01" == r[0]["href"] for r in t["in"][1:])  # the block links to it
    reasons = [r[1]["text"] for r in t["interpretations"][1:]]
    assert len(reasons) == 2 and all("la n-ième valeur est attribuée au n-ième AC" in x for x in reasons)
    files = {r[1]["text"] for r in t["provenance"][1:]}
    assert {"data/rncp31854-pif/2024-2028/referentiel.ttl", "data/rncp31854-pif/2024-2028/interpretations.ttl"} <= files


def test_ontology_terms_and_external_iris(client) -> None:
    html = page(client, "/resource?iri=" + "https%3A%2F%2Fw3id.org%2Frkg%2Fontology%23CompetencyBlock")
    assert "Competency block" in html
    html = page(client, "/ontology")  # the document hash IRIs resolve to: it lists the terms, with anchors
    terms = {r[0]["text"] for r in tables(html)["terms"][1:]}
    assert {"rkg:CompetencyBlock", "rkg:hasCriticalLearning", "rkg:mobilisesDimension"} <= terms
    assert '<tr id="CompetencyBlock">' in html and 'href="/ontology/0.1.0"' in html
    html = page(client, "/resource?iri=http%3A%2F%2Fdata.europa.eu%2Fsnb%2Feqf%2F7")
    assert 'rel="external"' in html


@pytest.mark.parametrize("url, accept, status", [
    ("/id/rncp31854-pif/block/BC99", BROWSER, 404),
    ("/id/rncp31854-pif/block/BC99", "text/turtle", 404),
    ("/id/rncp31854-pif/block/BC01", "image/png", 406),
    ("/id/rncp31854-pif/block/BC01?format=pdf", "text/turtle", 400),
    ("/resource", BROWSER, 400),
    ("/resource?iri=not%20an%20iri", "text/turtle", 400),
])
def test_entity_errors(client, url: str, accept: str, status: int) -> None:
    r = client.get(url, headers={"Accept": accept})
    assert r.status_code == status


# ---------------------------------------------------------------- links and security headers


@pytest.mark.parametrize("iri", HOSTILE_IRIS)
def test_hostile_iri_is_never_a_link(client, iri: str) -> None:
    """/resource?iri=javascript:… (any case, spacing, control characters; vbscript:, data:, file:, urn:,
    mailto:) shows the IRI as text, with no link to it: only http and https IRIs get one."""
    r = client.get("/resource", query_string={"iri": iri}, headers={"Accept": BROWSER, "Accept-Language": "en"})
    html = r.get_data(as_text=True)
    assert r.status_code in (200, 400, 404) and r.mimetype == "text/html"
    check_links(html)
    assert 'rel="external"' not in html and "External IRI" not in html
    if r.status_code != 400:  # an absolute IRI: its page, known or not, shows it as text
        assert f'<code id="entity-iri">{iri}</code>' in html
    assert not markup(html).inline


def test_entity_linking_to_hostile_iris(client) -> None:
    """An entity whose values, type, property and datatype are hostile IRIs links each to its page here;
    only its https value gets an external link (on its own page)."""
    html = page(client, "/id/rncp99998-hostile/links")
    check_links(html)
    linked = {url for tag, attr, url in markup(html).urls if tag == "a"}
    for iri in ("javascript:alert(1)", "JaVaScRiPt:alert(2)", "vbscript:msgbox(3)", "file:///etc/passwd", "mailto:someone@example.org",
                "javascript:alert(5)"):
        assert f"/resource?iri={quote(iri, safe='')}" in linked, iri
    assert "javascript:alert(6)" in html  # the datatype, as text
    check_links(page(client, "/resource?iri=javascript%3Aalert%281%29"))  # known: its own links are checked too
    external = page(client, "/resource?iri=" + quote("https://example.org/web", safe=""))  # known: linked to
    assert '<a href="https://example.org/web" rel="external">' in external


def test_no_page_links_out_of_the_site_or_runs_inline_code(client) -> None:
    """Every page's URLs follow the link rule; no inline script (besides JSON data blocks), event
    handler attribute or inline style: the Content-Security-Policy would block them."""
    urls = ["/", "/sparql", "/questions", "/validation", "/coverage?programme=rncp99998-hostile&kind=block",
            "/coverage?programme=rncp31854-pif&kind=dimension", "/id/rncp99998-hostile", "/id/rncp99998-hostile/block/BC01",
            "/id/rncp31854-pif/block/BC01/ac/AC4", "/ontology", "/api/queries/units-by-block?programme=rncp99998-hostile&format=html"]
    for url in urls:
        html = page(client, url)
        check_links(html)
        assert not markup(html).inline, (url, markup(html).inline)
    heat = tables(page(client, "/coverage?programme=rncp31854-pif&kind=dimension"))["heatmap"]
    cell = next(c["href"] for r in heat[1:] for c in r[1:] if c["href"] and "/coverage/cell" in c["href"])
    check_links(page(client, cell.replace("&amp;", "&")))


def test_editor_without_yasgui_runs_no_inline_script(graph_dir: Path) -> None:
    app = create_app(Config(nquads=graph_dir / NQUADS_NAME, queries=ROOT / "queries", version="test"))
    try:
        html = page(app.test_client(), "/sparql")
        assert 'src="/static/plain-editor.js"' in html and not markup(html).inline
        assert app.test_client().get("/static/plain-editor.js").status_code == 200
    finally:
        app.extensions["rkg"].close()


@pytest.mark.parametrize("path", ["/\\evil.example/", "/\t/evil.example/", "//evil.example/"])
def test_language_switch_stays_on_the_site(client, path: str) -> None:
    """The switch links to the page's own path: a path browsers would read as another host ("/\\host",
    "/<tab>/host") is escaped."""
    r = client.get("/", headers={"Accept": BROWSER}, environ_overrides={"PATH_INFO": path})
    assert r.status_code == 404
    html = r.get_data(as_text=True)
    check_links(html)
    switch = re.search(r'id="lang-switch" hreflang="\w+" href="([^"]*)"', html).group(1)
    assert switch.startswith("/") and not switch.startswith("//") and "\\" not in switch and "\t" not in switch, switch


SECURITY = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"}


def csp(header: str) -> dict[str, list[str]]:
    return {d.split()[0]: d.split()[1:] for d in (x.strip() for x in header.split(";")) if d}


@pytest.mark.parametrize("method, url, accept, status", [
    ("GET", "/", BROWSER, 200),
    ("GET", "/sparql?query=ASK%20%7B%7D", "application/sparql-results+json", 200),  # the protocol layer
    ("POST", "/sparql", "application/sparql-results+json", 200),
    ("GET", "/sparql?query=SELEC", "*/*", 400),
    ("GET", "/sparql", "text/turtle", 200),  # service description
    ("OPTIONS", "/sparql", "*/*", 204),
    ("GET", "/sparql", BROWSER, 200),  # the editor page (Flask)
    ("GET", "/api/queries", "application/json", 200),
    ("GET", "/api/queries/units-by-block?format=csv", "*/*", 200),
    ("GET", "/health", "*/*", 200),
    ("GET", "/nowhere", BROWSER, 404),
    ("GET", "/nowhere", "text/plain", 404),
    ("GET", "/static/rkg.css", "text/css", 200),
    ("GET", "/assets/yasgui/yasgui.min.js", "*/*", 200),
    ("GET", "/id/rncp31854-pif/block/BC01", "text/turtle", 200),
    ("GET", "/resource?iri=javascript%3Aalert%281%29", BROWSER, 200),
    ("GET", "/.well-known/void", "text/turtle", 200),
    ("GET", "/coverage.csv", "*/*", 200),
])
def test_security_headers_on_every_answer(client, method: str, url: str, accept: str, status: int) -> None:
    data = {"data": "query=ASK%20%7B%7D", "content_type": "application/x-www-form-urlencoded"} if method == "POST" else {}
    r = client.open(url, method=method, headers={"Accept": accept}, **data)
    assert r.status_code == status
    for name, value in SECURITY.items():
        assert r.headers.getlist(name) == [value], name
    [header] = r.headers.getlist("Content-Security-Policy")
    policy = csp(header)
    assert policy["default-src"] == ["'self'"] and policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'none'"]
    assert policy["form-action"] == ["'self'"] and policy["frame-ancestors"] == ["'none'"]
    assert "script-src" not in policy and "unsafe-eval" not in header  # scripts: this server's files only
    editor = url == "/sparql" and accept == BROWSER
    assert ("'unsafe-inline'" in header) == editor  # only the editor allows YASGUI's inline styles
    if editor:
        assert policy["style-src"] == ["'self'", "'unsafe-inline'"] and set(policy) == {*csp(POLICY), "style-src"}
    else:
        assert header == POLICY


def test_security_headers_on_a_bad_host(client) -> None:
    """Answered by the protocol layer before Flask or the endpoint see the request."""
    r = client.get("/", headers={"Host": "bad host"})
    assert r.status_code == 400 and r.headers["Content-Security-Policy"] == POLICY and r.headers["X-Frame-Options"] == "DENY"


def test_security_headers_keep_what_an_answer_sets() -> None:
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain"), ("referrer-policy", "same-origin")])
        return [b"ok"]

    got: list = []
    body = SecurityHeaders(app)({}, lambda status, headers, exc_info=None: got.append((status, headers, exc_info)))
    assert list(body) == [b"ok"]
    [(status, headers, exc_info)] = got
    names = [n.lower() for n, _ in headers]
    assert status == "200 OK" and exc_info is None and names.count("referrer-policy") == 1
    assert ("referrer-policy", "same-origin") in headers and ("Content-Security-Policy", POLICY) in headers
    assert ("X-Content-Type-Options", "nosniff") in headers


# ---------------------------------------------------------------- a BUT: structure on the home page, the « matrice croisée »

OREBUT = ROOT / "tests" / "fixtures" / "orebut"
RT_JSON = ROOT / "tests" / "reference" / "scodoc" / "rt.json"


@pytest.fixture(scope="module")
def but_client(tmp_path_factory: pytest.TempPathFactory):
    """The bundled Master, the made-up BUT DEMO with its formation (tests/fixtures/orebut) and BUT RT
    without one (ScoDoc's JSON), imported by ``rkg import orebut``."""
    from rkg.interop import imports

    imported = tmp_path_factory.mktemp("but-pages") / "imports"
    imports.orebut(OREBUT / "competences.xml", imported, "competences")
    imports.orebut(OREBUT / "formation.xml", imported, "formation", "but-demo")
    imports.orebut(RT_JSON, imported, "rt")
    out = tmp_path_factory.mktemp("but-pages-build")
    write(build(ROOT, imports=imported), out)
    app = create_app(Config(nquads=out / NQUADS_NAME, queries=ROOT / "queries", version="test"))
    yield app.test_client()
    app.extensions["rkg"].close()


def demo_fixture() -> tuple[dict, dict]:
    """From the XML pair: each AC's (competency name, numero, niveau rank); each SAÉ or ressource's
    (semester, ACs, {competency: coefficient or ''})."""
    import xml.etree.ElementTree as ET

    acs = {}
    for c in ET.parse(OREBUT / "competences.xml").getroot().iter("competence"):
        if c.get("numero"):
            for nv in c.iter("niveau"):
                for ac in nv.iter("ac"):
                    acs[ac.get("code")] = (c.get("name"), c.get("numero"), nv.get("ordre"))
    items = {}
    for sem in ET.parse(OREBUT / "formation.xml").getroot().iter("semestre"):
        for it in [*sem.iter("ressource"), *sem.iter("sae")]:
            if it.get("code"):
                items[it.get("code")] = (int(sem.get("numero")), [a.text for a in it.find("acs").iter("ac")],
                                         {c.get("nom"): (c.get("coefficient") or "").replace(",", ".") for c in it.find("competences")})
    return acs, items


def demo_expected(kind: str) -> dict[tuple[str, str], set[str]]:
    """(row code, SAÉ or ressource) → the ACs linking them, from the fixture."""
    acs, items = demo_fixture()
    out: dict[tuple[str, str], set[str]] = {}
    for code, (_sem, mobilised, _coefs) in items.items():
        for ac in mobilised:
            name, numero, rank = acs[ac]
            row = {"ac": ac, "level": f"{name} {rank}", "competency": numero}[kind]
            out.setdefault((row, code), set()).add(ac)
    return out


def but_heatmap(client, kind: str, programme: str = "but-demo") -> tuple[list[dict], dict[str, dict[str, dict]], str]:
    html = page(client, f"/coverage?programme={programme}&kind={kind}")
    rows = tables(html)["heatmap"]
    units = [c["text"] for c in rows[0][1:-1]]
    codes = [unescape(c) for c in re.findall(r'<tr data-row="([^"]*)"', html)]  # a niveau's code has a space
    assert len(codes) == len(rows) - 1
    return rows[0][1:-1], {code: dict(zip(units, r[1:-1])) for code, r in zip(codes, rows[1:])}, html


def test_home_lists_periods_parcours_and_niveaux(but_client) -> None:
    html = page(but_client, "/")
    rows = tables(html)["programmes"]
    head = [c["text"].strip() for c in rows[0]]
    by_code = {r[0]["text"].split()[-1]: dict(zip(head, (" ".join(c["text"].split()) for c in r))) for r in rows[1:]}
    assert by_code["but-demo"]["Structure"] == "Periods: BUT1 (S1) · BUT2 (S3) Parcours: Gen · Sec Levels (niveaux): 3 SAÉ: 2 · Ressources: 3"
    assert by_code["but-rt"]["Structure"] == "Periods: BUT1 · BUT2 · BUT3 Parcours: Cyber · DevCloud · IOM · PPR · ROM Levels (niveaux): 29"
    assert by_code["rncp31854-pif"]["Structure"] == "Periods: M1 · M2"
    assert 'href="/coverage?programme=but-demo&amp;kind=level"' in html and 'href="/coverage?programme=but-demo&amp;kind=block"' not in html
    assert 'href="/id/but-demo/period/S1"' in html and 'href="/id/but-rt/parcours/Cyber"' in html


def test_but_columns_are_sae_and_ressources_by_semester(but_client) -> None:
    _, items = demo_fixture()
    heads, _, html = but_heatmap(but_client, "ac")
    assert 'data-family="but"' in html and "SAÉ and ressources" in html
    # semester by semester, SAÉ before ressources
    assert [h["text"] for h in heads] == sorted(items, key=lambda c: (items[c][0], not c.startswith("SA"), c))
    assert {h["text"]: h["attrs"]["data-column-kind"] for h in heads} == {c: "sae" if c.startswith("SA") else "resource" for c in items}
    assert {h["text"]: h["attrs"]["data-period"] for h in heads} == {c: f"S{items[c][0]}" for c in items}


@pytest.mark.parametrize("kind", ["ac", "level", "competency"])
def test_but_matrice_croisee_cells(but_client, kind: str) -> None:
    acs, _ = demo_fixture()
    _, rows, _ = but_heatmap(but_client, kind)
    expected = demo_expected(kind)
    got = {(r, u): int(c["attrs"]["data-count"]) for r, cells in rows.items() for u, c in cells.items() if c["attrs"]["data-count"] != "0"}
    assert got == {k: len(v) for k, v in expected.items()}
    every = {"ac": set(acs), "level": {f"{n} {r}" for n, _, r in acs.values()}, "competency": {n for _, n, _ in acs.values()}}[kind]
    assert set(rows) == every  # every row is shown


def test_but_competency_cells_carry_the_coefficient(but_client) -> None:
    acs, items = demo_fixture()
    numero = {name: n for name, n, _ in acs.values()}
    _, rows, _ = but_heatmap(but_client, "competency")
    got = {(r, u): float(c["attrs"]["data-coefficient"]) if c["attrs"]["data-coefficient"] else "" for r, cells in rows.items()
           for u, c in cells.items() if "data-coefficient" in c["attrs"]}
    assert got == {(numero[name], code): float(k) if k else "" for code, (_s, _a, coefs) in items.items() for name, k in coefs.items()}


def test_but_cell_links_to_its_evidence(but_client) -> None:
    _, rows, _ = but_heatmap(but_client, "level")
    href = rows["Concevoir 1"]["R1.01"]["href"].replace("&amp;", "&")
    html = page(but_client, href)
    evidence = tables(html)["evidence"]
    assert {r[0]["text"] for r in evidence[1:]} == demo_expected("level")[("Concevoir 1", "R1.01")] == {"AC11.01", "AC11.02"}
    assert all(r[0]["href"].startswith("/id/but-demo/competency/Concevoir/level/1/ac/") for r in evidence[1:])
    assert "rkg:mobilisesCriticalLearning" in html and "rkg:levelHasCriticalLearning" in html
    _, rows, _ = but_heatmap(but_client, "competency")
    html = page(but_client, rows["1"]["SAÉ1.01"]["href"].replace("&amp;", "&"))
    assert re.search(r'id="coefficient">.*rkg:mobilisesCompetency.*<strong>40</strong>', html, re.S)
    r = but_client.get("/coverage.csv?programme=but-demo&kind=ac")
    table = list(csv.reader(io.StringIO(r.get_data(as_text=True))))
    got = {(row[0], u): int(n) for row in table[1:] for u, n in zip(table[0][2:], row[2:]) if n != "0"}
    assert got == {k: len(v) for k, v in demo_expected("ac").items()}


def test_but_without_formation_marks_every_row(but_client) -> None:
    """RT is imported without its référentiel de formation: no column, every row a gap, and the page says why."""
    heads, rows, html = but_heatmap(but_client, "level", "but-rt")
    assert heads == [] and len(rows) == 29
    assert html.count('class="gap"') == 29 and 'id="no-columns"' in html
    # the default kind of a BUT is its competencies (it has no block)
    assert len(tables(page(but_client, "/coverage?programme=but-rt"))["heatmap"]) == 1 + 13


def test_master_heatmaps_unchanged_beside_a_but(but_client) -> None:
    _, rows = heatmap(but_client, "dimension")
    got = {(r, u): int(c["attrs"]["data-count"]) for r, cells in rows.items() for u, c in cells.items() if c["attrs"]["data-count"] != "0"}
    assert got == {k: len(v) for k, v in expected_cells("dimension").items()}
    html = page(but_client, "/coverage?programme=rncp31854-pif&kind=ac")
    assert 'data-family="master"' in html
    rows = tables(html)["heatmap"]
    units, units_of = [c["text"] for c in rows[0][1:-1]], units_by_block()
    assert len(rows) == 1 + 36
    for r in rows[1:]:  # an AC × the units of its block (AC codes repeat across blocks: the row links to its own IRI)
        block = "RNCP31854" + r[0]["href"].split("/block/")[1].split("/")[0]
        assert {u for u, c in zip(units, r[1:-1]) if c["attrs"]["data-count"] == "1"} == units_of[block], r[0]["href"]
