"""Settings of the web service: ``Config`` is declared in ``rkg.settings`` (with ``rkg serve``'s options and the
``RKG_*`` variables), outside this package so that the command line reads it without importing Flask."""

from __future__ import annotations

from ..settings import Config

__all__ = ["Config"]
