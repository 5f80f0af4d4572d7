"""The errors rkg raises on purpose, under one root.

Every exception rkg raises deliberately derives from :class:`RkgError`; anything else reaching the top is
a bug. The command line catches ``RkgError`` once (``rkg.cli.main``): message on stderr, exit 2; a bug is
printed with its traceback and exits 3. The web layer maps each kind to one HTTP status in one table
(``rkg.web.errors``); these classes know nothing of HTTP.

==================  ===============================================  =========  ==========
class               meaning                                          CLI exit   HTTP
==================  ===============================================  =========  ==========
``InputError``      bad input or usage: a file, a parameter, a       2          400
                    query, a setting; the message says what, where
                    and how to fix it
``NotFound``        something named does not exist                   2          404
``Refused``         allowed to nobody here (read-only store,         2          403
                    SERVICE not on the allow-list, network)
``Unavailable``     could not be done now; retrying may work         2          503
``SetupError``      this machine or installation lacks something     2          500
                    rkg needs (seccomp, Java for the reasoner)
==================  ===============================================  =========  ==========
"""

from __future__ import annotations


class RkgError(Exception):
    """Root of every error rkg raises on purpose."""


class InputError(RkgError):
    """Bad input or usage; the message names what, where, and how to fix it."""


class NotFound(InputError):
    """Something the input names does not exist (a named query, a programme, a graph)."""


class Refused(RkgError):
    """The operation is not allowed here, whoever asks (read-only store, endpoint not on the allow-list)."""


class Unavailable(RkgError):
    """The operation could not be done now (time limit, no free query process); retrying may work."""


class SetupError(RkgError):
    """This machine or installation lacks something rkg needs."""
