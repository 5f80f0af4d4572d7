"""The web service: ``create_app(config)`` builds a Flask app with the SPARQL protocol layer in front."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, render_template, request
from werkzeug.exceptions import HTTPException

from .. import __version__
from ..catalog import Catalog
from ..executor import Busy, Timeout
from ..namespaces import BASE, programme_id
from ..negotiation import negotiate, wants_html
from ..results import CONTENT_TYPES, graph
from ..validation import short_iri
from . import api, i18n, linked_data, pages, releases
from .config import Config
from .describe import void_description
from .graph_store import blueprint as graph_store
from .headers import SecurityHeaders
from .protocol import SD_FORMATS, SparqlProtocol, base_url
from .state import EndpointState, TooManyRequests


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
        if asked in i18n.LANGS and response.mimetype == "text/html":
            response.set_cookie(i18n.COOKIE, asked, max_age=365 * 86400, samesite="Lax")
        if response.mimetype == "text/html":
            response.vary.update(("Accept-Language", "Cookie"))
        return response

    @app.get("/health")
    def health() -> Response:
        stats = state.stats()
        body = {"status": "ok", "endpoint": base_url(request.environ) + "/sparql", "version": state.version,
                "triples": stats["triples"], "quads": stats["quads"],
                "graphs": len(stats["graphs"]), "writable": config.writable}
        return Response(json.dumps(body), mimetype="application/json")

    @app.get("/.well-known/void")
    def void() -> Response:
        media = negotiate(request.headers.get("Accept"), SD_FORMATS)
        if media is None:
            return Response("offered: " + ", ".join(SD_FORMATS) + "\n", 406, mimetype="text/plain")
        base = base_url(request.environ)
        triples = void_description(base, base + "/sparql", state.stats(), state.version)
        return Response(graph(triples, media), headers={"Content-Type": CONTENT_TYPES[media], "Vary": "Accept"})

    app.register_blueprint(graph_store)

    @app.get("/context.jsonld")
    def jsonld_context() -> Response:
        """rkg's JSON-LD context (``rkg export jsonld`` names it by its w3id IRI)."""
        from ..interop.jsonld import CONTEXT_FILE

        return Response(CONTEXT_FILE.read_bytes(), mimetype="application/ld+json",
                        headers={"Cache-Control": "public, max-age=86400"})

    @app.errorhandler(Busy)
    @app.errorhandler(Timeout)
    def unavailable(_e: Exception) -> Response:
        return Response("the store did not answer within the time limit; retry later\n", 503,
                        headers={"Retry-After": "1"}, mimetype="text/plain")

    @app.errorhandler(TooManyRequests)
    def too_many(_e: Exception) -> Response:
        return Response("this client already has as many operations running as it may; retry when one has ended\n",
                        429, headers={"Retry-After": "1"}, mimetype="text/plain")

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException) -> Response:
        """Pages answer errors as a page for browsers, as one line of text for programs."""
        message = e.description or e.name
        if wants_html(request.headers.get("Accept")):
            return Response(render_template("error.html", code=e.code, name=e.name, message=message), e.code,
                            mimetype="text/html")
        return Response(message + "\n", e.code, mimetype="text/plain",
                        headers=[h for h in e.get_headers() if h[0] != "Content-Type"])

    @app.after_request
    def cors(response: Response) -> Response:
        response.headers.setdefault("Access-Control-Allow-Origin", "*")
        return response

    app.wsgi_app = SparqlProtocol(app.wsgi_app, state)  # type: ignore[method-assign]
    app.wsgi_app = SecurityHeaders(app.wsgi_app)  # type: ignore[method-assign]
    return app
