"""HTTP clients that speak from a chosen loopback address: the server counts operations per client
address, so a test that stands for several clients gives each its own 127.0.0.x."""

from __future__ import annotations

import requests
from requests.adapters import HTTPAdapter


class _SourceAdapter(HTTPAdapter):
    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):  # type: ignore[override]
        kwargs["source_address"] = (self.address, 0)
        return super().init_poolmanager(*args, **kwargs)


def session_from(address: str) -> requests.Session:
    """A requests session whose connections leave from ``address`` (for example ``127.0.0.2``)."""
    session = requests.Session()
    adapter = _SourceAdapter(address)
    session.mount("http://", adapter)
    return session
