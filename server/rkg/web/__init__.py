"""The web service: ``create_app(config)`` builds a Flask app with the SPARQL protocol layer in front."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, request

from .. import __version__
from ..catalog import Catalog
from ..formats import CONTENT_TYPES, HTML, JSON, JSON_LD
from ..namespaces import BASE, programme_id
from ..negotiation import negotiate
from ..results import graph
from ..validation import short_iri
from . import api, diff, i18n, linked_data, pages, releases
from .config import Config
from .describe import void_description
from .errors import HttpError, answer, from_exception
from .graph_store import blueprint as graph_store
from .headers import SecurityHeaders
from .protocol import SD_FORMATS, SparqlProtocol, base_url
from .state import EndpointState

HEALTH_WAIT = 0.03
"""Seconds /health waits for the counts of a store being counted (a --location store just opened, or after a
write); past that it answers at once with the last known counts (null before the first)."""


def create_app(config: Config | None = None) -> Flask:
    """The app for ``config``; without one, the settings come from the ``RKG_*`` environment variables
    (``Config.from_env``), so that an outside WSGI server can call ``rkg.web:create_app()``."""
    if config is None:
        config = Config.from_env(os.environ)
    config.check()
    app = Flask(__name__)
    state = EndpointState(config)
    app.extensions["rkg"] = state
    app.extensions["rkg.catalog"] = Catalog.from_folder(config.queries) if config.queries else Catalog(Path("."))
    app.config["RKG_ASSETS"] = config.assets
    app.register_blueprint(api.blueprint)
    app.register_blueprint(pages.blueprint)
    app.register_blueprint(linked_data.blueprint)
    app.register_blueprint(releases.blueprint)
    app.register_blueprint(diff.blueprint)

    @app.context_processor
    def page_context() -> dict[str, Any]:
        lang = i18n.choose(request)
        other = "en" if lang == "fr" else "fr"
        args = {k: v for k, v in request.args.items() if k != "lang"}
        return {
            "lang": lang, "other_lang": other, "w": i18n.WORDS[lang],
            "switch_url": request.path + "?" + urlencode({**args, "lang": other}),
            "pick": i18n.pick, "href": linked_data.href, "curie": linked_data.curie, "short": short_iri,
            "programme_short": programme_id, "entity_label": pages.entity_label,
            "class_label": lambda name: pages.class_label(state, name, lang), "kinds": pages.heatmap.KINDS,
            "rkg_version": __version__, "graph_version": state.version, "base": BASE,
        }

    @app.after_request
    def remember_language(response: Response) -> Response:
        asked = request.args.get("lang")
        if asked in i18n.LANGS and response.mimetype == HTML.media:
            response.set_cookie(i18n.COOKIE, asked, max_age=365 * 86400, samesite="Lax")
        if response.mimetype == HTML.media:
            response.vary.update(("Accept-Language", "Cookie"))
        return response

    @app.get("/health")
    def health() -> Response:
        stats = state.stats(wait=HEALTH_WAIT)  # the manifest's, or counted once per version: never a scan here
        body = {"status": "ok", "endpoint": base_url(request.environ) + "/sparql", "version": state.version,
                "triples": stats["triples"], "quads": stats["quads"],
                "graphs": len(stats["graphs"]), "writable": config.writable}
        return Response(json.dumps(body), mimetype=JSON.media)

    @app.get("/.well-known/void")
    def void() -> Response:
        media = negotiate(request.headers.get("Accept"), SD_FORMATS)
        if media is None:
            raise HttpError(406, "offered: " + ", ".join(SD_FORMATS))
        base = base_url(request.environ)
        triples = void_description(base, base + "/sparql", state.stats(), state.version)
        return Response(graph(triples, media), headers={"Content-Type": CONTENT_TYPES[media], "Vary": "Accept"})

    app.register_blueprint(graph_store)

    @app.get("/context.jsonld")
    def jsonld_context() -> Response:
        """rkg's JSON-LD context (``rkg export jsonld`` names it by its w3id IRI)."""
        from ..interop.jsonld import CONTEXT_FILE

        return Response(CONTEXT_FILE.read_bytes(), mimetype=JSON_LD,
                        headers={"Cache-Control": "public, max-age=86400"})

    @app.errorhandler(Exception)
    def error(e: Exception) -> Response:
        """The one handler: every error answered in the form the client reads (``rkg.web.errors``)."""
        request_id = request.environ.get("rkg.request_id", "-")
        status, headers, body = answer(from_exception(e, request_id), request.path, request.headers.get("Accept"),
                                       request_id)
        return Response(body, status, headers=headers)

    @app.after_request
    def cors(response: Response) -> Response:
        response.headers.setdefault("Access-Control-Allow-Origin", "*")
        return response

    app.wsgi_app = SparqlProtocol(app.wsgi_app, state)  # type: ignore[method-assign]
    app.wsgi_app = SecurityHeaders(app.wsgi_app)  # type: ignore[method-assign]
    return app
