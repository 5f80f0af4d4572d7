"""The pages in a real headless Chromium (Debian's ``chromium``, driven by Playwright) against real
``rkg serve`` processes: home, the YASGUI editor running a query, the heat map and one of its cells,
an entity page, the validation report, the language switch, markup in labels staying text, and IRIs
of other schemes than http(s) never being links.

Every request the pages make is checked to stay on the server (the pages work offline), and every page
to run without a JavaScript error or anything blocked by its Content-Security-Policy (which is checked
to be in force). Screenshots of each page go to ``build/screenshots/``.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlparse

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Route, expect, sync_playwright
from rdflib import Graph, URIRef

from support.paths import ROOT
from support.server import Server, serving

pytestmark = [pytest.mark.browser, pytest.mark.server]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Root on a closed network: no sandbox (needs user namespaces), no GPU, no calls home. Playwright's
# launch() starts each browser on a new, empty profile (its own --user-data-dir).
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]
SHOTS = ROOT / "build" / "screenshots"
HOSTILE_DATA = ROOT / "tests" / "fixtures" / "hostile"


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is needed for the browser tests: apt-get install chromium (the README's test command does)")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def hostile_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The bundled graph beside a référentiel whose labels are markup (tests/fixtures/hostile)."""
    with serving(tmp_path_factory.mktemp("hostile-build"), data=[HOSTILE_DATA],
                 log=tmp_path_factory.mktemp("hostile-endpoint") / "server.log") as server:
        yield server


CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (e) => window.rkgCspViolation(
  `${e.effectiveDirective} blocked ${e.blockedURI || "inline"} (${e.sourceFile}:${e.lineNumber}) on ${location.pathname}`));
"""
"""Run in every page before its own scripts (Playwright's init scripts are not subject to the page's policy)."""


class Visit:
    """A browser context on one server, in one language; remembers requests that left the server,
    JavaScript errors, and what the Content-Security-Policy blocked (its ``securitypolicyviolation``
    events and Chromium's console reports)."""

    def __init__(self, context: BrowserContext, server: Server) -> None:
        self.context, self.server = context, server
        self.outside: list[str] = []
        self.violations: list[str] = []
        context.route("**/*", self._route)
        context.expose_function("rkgCspViolation", lambda text: self.violations.append(text))
        context.add_init_script(CSP_LISTENER)
        self.page: Page = context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", self._console)

    def _console(self, message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            self.violations.append(f"console: {message.text}")

    def _route(self, route: Route) -> None:
        url = route.request.url
        if url.startswith("data:") or urlparse(url).netloc == urlparse(self.server.base).netloc:
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def open(self, path: str, ok: bool = True) -> Page:
        response = self.page.goto(self.server.base + path)
        assert response is not None and response.ok == ok, (path, response and response.status)
        policy = response.headers.get("content-security-policy", "")
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy, (path, policy)
        return self.page

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def visit(browser: Browser, endpoint: Server) -> Iterator[Visit]:
    context = browser.new_context(locale="en-GB", viewport={"width": 1400, "height": 900}, accept_downloads=True)
    v = Visit(context, endpoint)
    yield v
    context.close()
    assert not v.outside, f"requests left the server: {v.outside}"
    assert not v.errors, f"JavaScript errors: {v.errors}"
    assert not v.violations, f"blocked by the Content-Security-Policy: {v.violations}"


def test_home(visit: Visit) -> None:
    page = visit.open("/")
    expect(page.locator("h1")).to_have_text("Knowledge graph of competency frameworks")
    row = page.locator("#programmes tbody tr", has_text="RNCP31854")
    expect(row).to_have_count(1)
    expect(row.locator("td").nth(2)).to_have_text("4")  # competency blocks
    visit.shot("home")


def test_editor_runs_a_query_and_downloads_csv(visit: Visit) -> None:
    page = visit.open("/sparql")
    expect(page.locator(".yasqe .CodeMirror")).to_be_visible()
    assert "PREFIX rkg: <https://w3id.org/rkg/ontology#>" in page.evaluate("rkgYasgui.getTab().getQuery()")
    page.select_option("#example", label=page.locator("#example option", has_text="uncovered-dimensions").inner_text())
    page.click("#load-example")
    assert "uncovered" in page.evaluate("rkgYasgui.getTab().getQuery()").lower() or "NOT EXISTS" in page.evaluate(
        "rkgYasgui.getTab().getQuery()")
    page.click(".yasqe_queryButton")
    rows = page.locator(".yasr table.dataTable tbody tr")
    expect(rows).to_have_count(2)
    headers = [h.strip() for h in page.locator(".yasr table.dataTable thead th").all_inner_texts()]
    column = headers.index("dimension")
    values = {rows.nth(i).locator("td").nth(column).inner_text().split("^^")[0].strip('" ') for i in range(2)}
    assert values == {"5", "10"}
    visit.shot("editor")
    with page.expect_download() as download:
        page.click(".yasr_downloadIcon")
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert {r["dimension"] for r in csv.DictReader(io.StringIO(text))} == {"5", "10"}


def test_heatmap_cell_leads_to_its_evidence(visit: Visit) -> None:
    page = visit.open("/coverage?programme=rncp31854-pif&kind=dimension")
    expect(page.locator("#heatmap tr.gap")).to_have_count(2)  # dimensions 5 and 10: no unit
    visit.shot("heatmap")
    cell = page.locator('#heatmap tr[data-row="1"] td[data-unit="UE19"] a')
    expect(cell).to_have_text("3")  # BC01, BC02 and BC04 mobilise dimension 1 and list UE19
    cell.click()
    page.wait_for_url(re.compile(r"/coverage/cell\?"))
    blocks = page.locator("#evidence tbody tr td:first-child").all_inner_texts()
    assert sorted(blocks) == ["RNCP31854BC01", "RNCP31854BC02", "RNCP31854BC04"]
    visit.shot("heatmap-cell")
    page.locator("#evidence tbody tr td:first-child a").first.click()
    page.wait_for_url("**/id/rncp31854-pif/block/BC01")
    expect(page.locator("#entity-title")).to_contain_text("Diagnosis and foresight in training")


def test_entity_page(visit: Visit) -> None:
    page = visit.open("/coverage?programme=rncp31854-pif&kind=dimension")
    page.locator('#heatmap tr[data-row="5"] th a').click()
    page.wait_for_url("**/id/rncp31854-pif/dimension/5")
    expect(page.locator("#entity-title")).to_contain_text("Carry out specialised communication for knowledge transfer")
    expect(page.locator("#provenance")).to_contain_text("data/rncp31854-pif/2024-2028/referentiel.ttl")
    visit.shot("entity")
    turtle = page.evaluate("fetch(location.href, {headers: {Accept: 'text/turtle'}}).then(r => r.text())")
    dimension = URIRef("https://w3id.org/rkg/id/rncp31854-pif/dimension/5")
    assert (dimension, None, None) in Graph().parse(data=turtle, format="turtle")


def test_validation_page(visit: Visit) -> None:
    page = visit.open("/validation")
    expect(page.locator('[data-severity="violation"]')).to_have_text("0")
    expect(page.locator('[data-severity="warning"]')).to_have_text("23")
    visit.shot("validation")
    page.locator("#warning li a").first.click()
    page.wait_for_url("**/id/rncp31854-pif/**")
    expect(page.locator("#entity-iri")).to_contain_text("https://w3id.org/rkg/id/rncp31854-pif/")


def test_policy_blocks_injected_code(visit: Visit) -> None:
    """The policy is in force (and the violations are seen): a script added to the page and a
    ``javascript:`` link do not run."""
    page = visit.open("/id/rncp31854-pif/block/BC01")
    page.evaluate("""() => {
        const s = document.createElement("script"); s.textContent = "window.rkgInjected = 1"; document.body.append(s);
        const a = document.createElement("a"); a.href = "javascript:window.rkgInjected = 2"; a.id = "injected";
        a.textContent = "x"; document.body.append(a);
    }""")
    page.click("#injected")
    blocked = lambda: [v for v in visit.violations if v.startswith("script-src")]  # noqa: E731
    for _ in range(50):  # the events come back through the exposed function
        if len(blocked()) == 2:  # the script, the URL
            break
        page.wait_for_timeout(100)
    assert len(blocked()) == 2, visit.violations
    assert page.evaluate("typeof window.rkgInjected") == "undefined"
    visit.violations.clear()


@pytest.mark.parametrize("iri", ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "vbscript:msgbox(1)", "data:text/html,x",
                                 "file:///etc/passwd", "urn:isbn:0451450523", "mailto:someone@example.org"])
def test_hostile_iri_is_text(visit: Visit, iri: str) -> None:
    page = visit.open("/resource?iri=" + quote(iri, safe=""), ok=False)  # 404: nothing known about it
    expect(page.locator("#entity-iri")).to_have_text(iri)
    expect(page.locator("a[rel=external]")).to_have_count(0)
    scheme = iri.split(":")[0]
    expect(page.locator(f'[href^="{scheme}:" i], [src^="{scheme}:" i]')).to_have_count(0)


def test_web_iri_is_a_link(visit: Visit) -> None:
    page = visit.open("/resource?iri=" + quote("http://data.europa.eu/snb/eqf/7", safe=""))
    expect(page.locator("a[rel=external]")).to_have_attribute("href", "http://data.europa.eu/snb/eqf/7")


def test_language_switch(browser: Browser, endpoint: Server) -> None:
    context = browser.new_context(locale="fr-FR", viewport={"width": 1400, "height": 900})
    v = Visit(context, endpoint)
    try:
        page = v.open("/")
        expect(page.locator("h1")).to_have_text("Graphe de connaissances des référentiels de compétences")
        v.shot("home-fr")
        page.click("#lang-switch")
        expect(page.locator("h1")).to_have_text("Knowledge graph of competency frameworks")
        v.shot("home-en")
        page.click('nav a[data-nav="coverage"]')
        expect(page.locator("h1")).to_contain_text("Coverage")  # the choice is remembered
        page.click("#lang-switch")
        expect(page.locator("h1")).to_contain_text("Couverture")
    finally:
        context.close()
    assert not v.outside and not v.errors and not v.violations, (v.outside, v.errors, v.violations)


def test_markup_in_labels_stays_text(browser: Browser, hostile_endpoint: Server) -> None:
    context = browser.new_context(locale="fr-FR")
    v = Visit(context, hostile_endpoint)
    try:
        page = v.open("/id/rncp99998-hostile")
        expect(page.locator("#entity-title")).to_contain_text("<script>window.rkgXss = 1</script>Master & « hostile »")
        v.shot("hostile-entity")
        for path in ("/", "/coverage?programme=rncp99998-hostile&kind=dimension",
                     "/coverage?programme=rncp99998-hostile&kind=competency", "/id/rncp99998-hostile/block/BC01"):
            v.open(path)
            assert page.evaluate("typeof window.rkgXss") == "undefined", path
        expect(page.locator("#entity-title")).to_contain_text('<i>BC01</i> <img src=x onerror="window.rkgXss = 2">Bloc')
    finally:
        context.close()
    assert not v.outside and not v.errors and not v.violations, (v.outside, v.errors, v.violations)
