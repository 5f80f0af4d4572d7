"""The ``/diff`` page: what changed between two versions of a programme's référentiel (``rkg.diff``), in
HTML, or downloaded with ``format=json|csv|markdown``; the home page links to it for each programme with
two versions or more (``diff_link``). Its queries run in the sandbox pool like every page's, and their
answers are cached under the graph version (``reads.run``)."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, render_template, request, url_for

from .. import diff
from ..errors import InputError, Unavailable
from ..formats import CSV, JSON, MARKDOWN
from ..namespaces import programme_id
from . import i18n, pages, reads
from .state import EndpointState

blueprint = Blueprint("diff", __name__)

DOWNLOADS = {"json": (JSON, "json"), "csv": (CSV, "csv"), "markdown": (MARKDOWN, "md")}
"""``format=`` → (media type, file extension)."""


def _state() -> EndpointState:
    return current_app.extensions["rkg"]


def select(state: EndpointState) -> diff.Select:
    """``rkg.diff``'s query function on the served graph: the sandbox pool, the result cache."""

    def run(query: str) -> list[diff.Row]:
        rows, truncated = reads.rows(state, query)
        if truncated:
            raise Unavailable("the difference is larger than this server's --max-rows or --max-answer-bytes: "
                              "run rkg diff on the command line")
        return rows

    return run


def defaults(known: list[str], old: str, new: str) -> tuple[str, str]:
    """The versions compared when the request names none: the last two (or the only one with itself)."""
    if old and new:
        return old, new
    if old or new:
        raise InputError("give both from and to (versions), or neither for the last two; known versions: "
                         + (", ".join(known) or "none"))
    if not known:
        return "", ""
    return (known[-2] if len(known) > 1 else known[-1]), known[-1]


def diff_link(programme: str, graphs: Iterable[str]) -> str:
    """The /diff URL of ``programme``'s last two versions, or "" when it has fewer than two."""
    known = list(diff.versions(graphs, programme))
    if len(known) < 2:
        return ""
    return url_for("diff.page") + "?" + urlencode({"programme": programme_id(programme), "from": known[-2], "to": known[-1]})


@blueprint.app_context_processor
def links() -> dict:
    return {"diff_link": diff_link}


@blueprint.get("/diff")
def page() -> Response | str:
    state = _state()
    lang = i18n.choose(request)
    fmt = request.args.get("format", "html")
    if fmt != "html" and fmt not in DOWNLOADS:
        raise InputError(f"format must be one of html, {', '.join(DOWNLOADS)}, not {fmt!r}")
    query = select(state)
    current, known = pages.programme_arg(state)
    graphs = list(state.stats()["graphs"])  # known without a query: as the home page's diff_link reads them
    versions = list(diff.versions(graphs, current.iri))
    old, new = defaults(versions, request.args.get("from", "").strip(), request.args.get("to", "").strip())
    d = diff.compare(query, graphs, current.iri, old, new, lang)
    if fmt in DOWNLOADS:
        media, extension = DOWNLOADS[fmt]
        name = f"diff-{d.programme}-{d.old}-{d.new}.{extension}"
        return Response(diff.render(d, fmt), headers={"Content-Type": media.content_type,
                                                      "Content-Disposition": f'attachment; filename="{name}"'})
    args = {"programme": d.programme, "from": d.old, "to": d.new, "lang": lang}
    downloads = {f: url_for("diff.page") + "?" + urlencode({**args, "format": f}) for f in DOWNLOADS}
    return render_template("diff.html", d=d, programme=current, programmes=known, versions=versions,
                           downloads=downloads, change_text=diff.change_text, formerly=diff.formerly,
                           words=diff.WORDS[lang])
