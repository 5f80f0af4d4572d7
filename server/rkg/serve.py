"""``rkg serve``: the web app under gunicorn (threaded workers), never Flask's development server."""

from __future__ import annotations

import logging
from typing import Any

from gunicorn.app.base import BaseApplication

from .web import create_app
from .web.config import Config


class Server(BaseApplication):
    def __init__(self, config: Config, options: dict[str, Any]) -> None:
        self.config_obj, self.options = config, options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):  # called in each worker after the fork: each gets its own app, pool and cache
        app = create_app(self.config_obj)
        app.extensions["rkg"].pool  # start the query processes now, not on the first request
        return app


def run(config: Config, host: str, port: int, workers: int, threads: int = 8) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    # One access line per request: skip the record fields the format does not show (logging HOWTO, "Optimization").
    logging._srcfile = None  # no stack walk to find the caller of log.info
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        "timeout": int(config.time_limit) + 60,
        "graceful_timeout": 10,
        "keepalive": 5,
        "accesslog": None,
        "loglevel": "warning",
        "limit_request_line": 0,
    }
    Server(config, options).run()
