"""No network for the processes that run SPARQL: a seccomp filter, installed at the start of each sandbox.

The filter makes ``socket()`` fail with EACCES for every address family but ``AF_UNIX`` (the sandbox talks
to its web worker over a Unix socket pair made before it started) and makes ``io_uring_setup`` fail
(io_uring can open sockets without the ``socket`` system call). Every other system call is allowed, so
the engine works as before; a ``SERVICE`` or ``LOAD`` that got past the parse guard fails inside the
engine with "Permission denied" and no packet leaves the machine. System calls of another architecture
(the 32-bit ABI on x86-64) kill the process: libseccomp's default for a foreign architecture.

seccomp needs no privilege (``PR_SET_NO_NEW_PRIVS`` is set first, as libseccomp does), so it works as
root and as an ordinary user, in containers too, on any Linux since 3.5. The filter is applied to every
thread of the process (``SECCOMP_FILTER_FLAG_TSYNC``) and inherited by its children; it cannot be lifted.

Library: ``pyseccomp``, a ctypes binding with the API of libseccomp's own Python bindings (which Debian
ships only for the system Python), over the system's libseccomp (Debian ``libseccomp2``, present in the
base image): the filter is compiled by libseccomp, not written by hand in BPF.
"""

from __future__ import annotations

import errno
import socket

from .errors import SetupError


class IsolationError(SetupError):
    """The network of a sandbox could not be closed (no libseccomp, or a kernel without seccomp)."""


def deny_network() -> None:
    """Close the network of the calling process, for good; raise IsolationError when impossible."""
    try:
        import pyseccomp as seccomp
    except (ImportError, OSError) as e:  # OSError: libseccomp.so.2 missing
        raise IsolationError(f"libseccomp cannot be loaded ({e}); install Debian's libseccomp2") from None
    try:
        f = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
        f.add_rule(seccomp.ERRNO(errno.EACCES), "socket", seccomp.Arg(0, seccomp.NE, socket.AF_UNIX))
        f.add_rule(seccomp.ERRNO(errno.ENOSYS), "io_uring_setup")
        f.set_attr(seccomp.Attr.CTL_TSYNC, 1)
        f.load()
    except Exception as e:  # pragma: no cover - depends on the kernel
        raise IsolationError(f"the seccomp filter could not be installed: {type(e).__name__}: {e}") from None
    verify()


def verify() -> None:
    """Raise IsolationError unless opening an IPv4 or IPv6 socket fails in this process."""
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            s = socket.socket(family, socket.SOCK_STREAM)
        except OSError:
            continue
        s.close()
        raise IsolationError(f"{family.name} sockets can still be opened after the seccomp filter was installed")


def probe() -> str:
    """Install the filter in this (throw-away) process and say what it does; for ``rkg serve``'s start-up
    check, run in a child process."""
    deny_network()
    return "socket() refused for every family but AF_UNIX (seccomp)"
