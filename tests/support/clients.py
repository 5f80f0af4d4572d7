"""HTTP clients that speak from a chosen loopback address: the server counts operations per client
address, so a test that stands for several clients gives each its own 127.0.0.x."""

from __future__ import annotations

import socket
import time

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


def recv_until(sock: socket.socket, marker: bytes, deadline: float) -> bytes | None:
    """What ``sock`` sends until ``marker`` has come (``time.monotonic()`` ``deadline``), or None when the
    peer closes or the deadline passes first: a client that will not wait longer for its answer."""
    data = b""
    while marker not in data:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        sock.settimeout(left)
        chunk = sock.recv(4096)
        if not chunk:
            return None
        data += chunk
    return data
