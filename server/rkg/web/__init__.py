"""The web service: ``create_app(config)`` builds a Flask app with the SPARQL protocol layer in front."""

from __future__ import annotations

import json
from pathlib import Path

from flask import Flask, Response, request

from ..catalog import Catalog
from ..executor import Busy, Timeout
from ..negotiation import negotiate
from ..results import CONTENT_TYPES, graph
from . import api
from .config import Config
from .describe import void_description
from .graph_store import blueprint as graph_store
from .protocol import SD_FORMATS, SparqlProtocol, base_url
from .state import EndpointState


def create_app(config: Config) -> Flask:
    config.check()
    app = Flask(__name__)
    state = EndpointState(config)
    app.extensions["rkg"] = state
    app.extensions["rkg.catalog"] = Catalog.from_folder(config.queries) if config.queries else Catalog(Path("."))
    app.register_blueprint(api.blueprint)

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

    @app.errorhandler(Busy)
    @app.errorhandler(Timeout)
    def unavailable(_e: Exception) -> Response:
        return Response("the store did not answer within the time limit; retry later\n", 503,
                        headers={"Retry-After": "1"}, mimetype="text/plain")

    @app.after_request
    def cors(response: Response) -> Response:
        response.headers.setdefault("Access-Control-Allow-Origin", "*")
        return response

    app.wsgi_app = SparqlProtocol(app.wsgi_app, state)  # type: ignore[method-assign]
    return app
