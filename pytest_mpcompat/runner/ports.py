"""The ports a server cell is given, and who listens on them.

Ports are chosen by the kernel (bind to port 0) and released just before the server starts, so
another process on the machine can take one in between: a parallel test, another cell. The
server then fails to bind, and whatever took the port answers in its place. ``taken_elsewhere``
tells that from the server's own failure, so that the cell is run again on fresh ports instead
of being judged by someone else's answers.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Iterable

from ._proctree import READS_PROC, cmdline, psutil_module

__all__ = ["free_ports", "ports_needed", "taken_elsewhere"]

_PORT_RX = re.compile(r"\{port(\d*)\}")


def ports_needed(texts: Iterable[str]) -> int:
    """How many ports the placeholders in ``texts`` ask for ({port} is 1, {port3} is 3)."""
    most = 0
    for text in texts:
        for m in _PORT_RX.finditer(text):
            most = max(most, int(m.group(1) or 1))
    return most


def free_ports(count: int) -> list[int]:
    """``count`` distinct free ports on 127.0.0.1 (held open together, so never the same)."""
    socks = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            socks.append(sock)
            sock.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in socks]
    finally:
        for sock in socks:
            sock.close()


def taken_elsewhere(pids: Iterable[int], ports: Iterable[int]) -> dict[int, str]:
    """The ports that a process other than ``pids`` listens on while none of ``pids`` does,
    each with that process ("pid 123: its command line", or what is known of it). Empty where
    sockets cannot be read: nothing is then taken for stolen."""
    ports, pids = set(ports), set(pids)
    taken: dict[int, str] = {}
    if not READS_PROC:
        holders: dict[int, list[int | None]] = {}
        for pid, port in _psutil_listeners(ports) or ():
            holders.setdefault(port, []).append(pid)
        return {
            port: _who(found[0])
            for port, found in holders.items()
            if not pids.intersection(found)  # else the server holds it after all
        }
    ours: set[str] = set()
    for pid in pids:
        ours |= _socket_inodes(pid)
    for port, inodes in _listening_inodes(ports).items():
        if inodes and not inodes & ours:
            taken[port] = _who(_holder(inodes))
    return taken


def _who(pid: int | None) -> str:
    if pid is None:
        return "a process this user cannot see"
    return f"pid {pid}: {cmdline(pid) or '(exited)'}"


def _listening_inodes(ports: set[int]) -> dict[int, set[str]]:
    """The inodes of the listening TCP sockets on each of ``ports``, from /proc/net."""
    wanted = {f"{p:04X}": p for p in ports}
    found: dict[int, set[str]] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table, encoding="ascii") as fh:
                next(fh, None)
                for line in fh:
                    fields = line.split()
                    # local address "0100007F:1F90", state 0A (LISTEN), inode in field 9
                    if len(fields) <= 9 or fields[3] != "0A":
                        continue
                    port = wanted.get(fields[1].rsplit(":", 1)[1])
                    if port is not None:
                        found.setdefault(port, set()).add(fields[9])
        except OSError:
            continue
    return found


def _socket_inodes(pid: int) -> set[str]:
    """The inodes of the sockets ``pid`` has open (empty when they cannot be read)."""
    try:
        names = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return set()
    inodes = set()
    for name in names:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{name}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def _holder(inodes: set[str]) -> int | None:
    """A process that has one of the sockets ``inodes`` open, if this user can see one."""
    for entry in os.listdir("/proc"):
        if entry.isdigit() and _socket_inodes(int(entry)) & inodes:
            return int(entry)
    return None


def _psutil_listeners(ports: set[int]) -> list[tuple[int | None, int]] | None:
    """(pid, port) of each listening TCP socket on ``ports``, from psutil; None without it or
    where the system does not let this user read the sockets (macOS without root)."""
    psutil = psutil_module()
    if psutil is None:
        return None
    try:
        conns = psutil.net_connections(kind="tcp")
    except (psutil.Error, OSError):
        return None
    return [
        (conn.pid, conn.laddr[1])
        for conn in conns
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr[1] in ports
    ]
