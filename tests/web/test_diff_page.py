"""The /diff page (in-process WSGI) on the made-up two-version référentiel of tests/fixtures/diff beside the
bundled one: the rows of the HTML, the downloads (JSON, CSV, Markdown) equal to the cases of tests/diff,
400 on bad versions naming the known ones, and the link from the home page's programme table."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from html import unescape

import pytest

from support.paths import ROOT
from support.server import AppServer, in_process

DIFF_DATA = ROOT / "tests" / "fixtures" / "diff"
CASES = ROOT / "tests" / "diff"
FORWARD = "/diff?programme=demo-diff&from=2020-2024&to=2024-2028"


def case(stem: str) -> dict:
    return json.loads((CASES / f"{stem}.json").read_text(encoding="utf-8"))


def lines(text: str) -> set[str]:
    return {line.rstrip() for line in text.splitlines() if line.strip()}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    app = in_process(tmp_path_factory.mktemp("diff-page") / "build", data=[DIFF_DATA])
    try:
        yield app
    finally:
        app.close()


def get(server: AppServer, url: str):
    return server.client().get(url)


def table_codes(html: str, table: str) -> list[str]:
    """The ``data-code`` of each row of the table ``id=table``."""
    body = re.search(rf'<table class="data" id="{table}">(.*?)</table>', html, re.S)
    return [unescape(c) for c in re.findall(r'<tr data-code="([^"]*)"', body.group(1))] if body else []


@pytest.mark.parametrize("url", [FORWARD + "&lang=fr", "/diff?programme=demo-diff&lang=fr"])
def test_html_rows(server: AppServer, url: str) -> None:
    """Every added, removed and changed entity is a row, a changed one a row per property; without
    from and to, the last two versions are compared."""
    r = get(server, url)
    assert r.status_code == 200 and r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    expected = case("forward")["expected"]
    assert table_codes(html, "added") == [e["code"] for e in expected["added"]]
    assert table_codes(html, "removed") == [e["code"] for e in expected["removed"]]
    assert table_codes(html, "changed") == [c["code"] for c in expected["changed"] for _ in c["changes"] or [None]]
    for c in expected["changed"]:
        for ch in c["changes"]:
            assert unescape(ch["property_label"]) in unescape(html)
    assert "Paires suggérées" in html and 'id="suggested"' in html
    assert 'id="no-diff"' not in html


def test_html_in_english(server: AppServer) -> None:
    html = get(server, FORWARD + "&lang=en").get_data(as_text=True)
    assert all(f"<h2>{h} (" in html for h in ("Added", "Removed", "Changed", "Suggested pairs"))


def test_same_version_says_so(server: AppServer) -> None:
    html = get(server, "/diff?programme=demo-diff&from=2024-2028&to=2024-2028&lang=fr").get_data(as_text=True)
    assert 'id="no-diff"' in html and 'id="changed"' not in html


@pytest.mark.parametrize("fmt, media", [("json", "application/json"), ("csv", "text/csv"), ("markdown", "text/markdown")])
def test_downloads(server: AppServer, fmt: str, media: str) -> None:
    r = get(server, f"{FORWARD}&lang=fr&format={fmt}")
    assert r.status_code == 200 and r.mimetype == media
    assert r.headers["Content-Disposition"].startswith("attachment; filename=\"diff-demo-diff-2020-2024-2024-2028.")
    body = r.get_data(as_text=True)
    if fmt == "json":
        assert json.loads(body) == case("forward")["expected"]
    elif fmt == "markdown":
        assert lines(body) == lines((CASES / "forward.md").read_text(encoding="utf-8"))
    else:
        rows = list(csv.DictReader(io.StringIO(body, newline="")))
        assert {r["change"] for r in rows} == {"added", "removed", "changed", "suggested"}


def test_page_links_its_downloads(server: AppServer) -> None:
    html = unescape(get(server, FORWARD + "&lang=fr").get_data(as_text=True))
    for fmt in ("json", "csv", "markdown"):
        assert re.search(rf'id="download-{fmt}" href="/diff\?[^"]*format={fmt}', html)


@pytest.mark.parametrize("query, status, names", [
    ("programme=demo-diff&from=2019-2023&to=2024-2028", 400, ("2020-2024", "2024-2028")),
    ("programme=demo-diff&from=2020-2024", 400, ("2020-2024", "2024-2028")),
    ("programme=rncp31854-pif&from=2020-2024&to=2024-2028", 400, ("2024-2028",)),
    ("programme=demo-diff&format=pdf", 400, ("markdown",)),
    ("programme=no-such-programme", 404, ("demo-diff", "rncp31854-pif")),
])
def test_bad_parameters(server: AppServer, query: str, status: int, names: tuple[str, ...]) -> None:
    r = get(server, "/diff?" + query)
    assert r.status_code == status
    assert all(n in r.get_data(as_text=True) for n in names)


def test_labels_are_escaped(server: AppServer) -> None:
    """Labels reach the page as text: the fixture's apostrophes are escaped by the template."""
    html = get(server, FORWARD + "&lang=fr").get_data(as_text=True)
    assert "Conduite d&#39;un groupe" in html and "Conduite d'un groupe" not in html


NASTY = 'Conduite <b>d\'un</b> groupe & "équipe"\n- puce\n# titre'


@pytest.fixture
def nasty_labels(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fixture's difference with every entity's label ``NASTY`` (HTML's special characters, lines that
    start like Markdown's bullets and headings): ``rkg.diff.compare`` wrapped for one test."""
    from dataclasses import replace

    from rkg import diff

    compare = diff.compare

    def nasty(*args, **kwargs) -> diff.Diff:
        d = compare(*args, **kwargs)
        d.added = [replace(r, label=NASTY) for r in d.added]
        d.removed = [replace(r, label=NASTY) for r in d.removed]
        return d

    monkeypatch.setattr(diff, "compare", nasty)


def test_special_characters_are_escaped(server: AppServer, nasty_labels: None) -> None:
    """<, &, " of a label are escaped by the template; its line breaks are spaces in the Markdown download."""
    html = get(server, FORWARD + "&lang=fr").get_data(as_text=True)
    assert "Conduite &lt;b&gt;d&#39;un&lt;/b&gt; groupe &amp; &#34;équipe&#34;" in html
    assert "<b>d'un</b>" not in html and "& \"équipe\"" not in html
    notes = get(server, FORWARD + "&lang=fr&format=markdown").get_data(as_text=True)
    assert "Conduite \\<b\\>d'un\\</b\\> groupe \\& \"équipe\" - puce \\# titre" in notes
    assert not any(line.lstrip().startswith(("- puce", "# titre")) for line in notes.splitlines())


def test_linked_from_the_home_page(server: AppServer) -> None:
    """The programme with two versions links to its /diff page; the bundled one (one version) does not."""
    html = unescape(get(server, "/?lang=fr").get_data(as_text=True))
    links = re.findall(r'<a class="diff-link" href="([^"]+)"', html)
    assert links == [FORWARD]
    assert get(server, links[0]).status_code == 200
