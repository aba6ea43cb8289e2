"""Which process runs a sync, so that one on this machine that has died is known dead at once.

A RUNNING run records its process as ``<host>/<boot id>/<PID namespace>/<pid>/<start time>``: the host name, the
boot id (random per boot of a Linux machine) and the PID namespace's inode tell whether another process can see that
PID at all (a process in another container or on another machine cannot, and then only the run's heartbeat tells,
see ``store.syncs``); the process's start time tells a PID the kernel gave to a new process since. Where ``/proc``
does not tell these (not Linux), no owner is recorded and heartbeats alone decide; where it hides other users'
processes (``hidepid``), a process whose PID exists is taken as alive.
"""

from __future__ import annotations

import errno
import functools
import os
import socket
from pathlib import Path


@functools.cache
def _namespace() -> str | None:
    """This process's host, boot id and PID namespace, or None where ``/proc`` does not tell them."""
    try:
        boot_id = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        pid_namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        return None
    return f"{socket.gethostname()}/{boot_id}/{pid_namespace}"


def _stat(pid: int) -> list[str] | None:
    """The fields of process ``pid``'s ``stat`` after its name (state first); None if it cannot be read."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None


def this_process() -> str | None:
    """The owner to record on a run this process starts."""
    namespace = _namespace()
    fields = _stat(os.getpid())
    if namespace is None or fields is None:
        return None
    return f"{namespace}/{os.getpid()}/{fields[19]}"


def known_dead(owner: str | None) -> bool:
    """Whether the process ``owner`` names is known to be gone: it ran where this process sees its PID, and that PID
    is no process now, only a process's exit status (a zombie), or another process than it was. False when it cannot
    be told."""
    namespace = _namespace()
    if owner is None or namespace is None:
        return False
    head, _, start = owner.rpartition("/")
    prefix, _, pid = head.rpartition("/")
    if prefix != namespace or not pid.isdigit() or int(pid) == 0:  # kill(0, …) would signal our process group
        return False
    try:
        os.kill(int(pid), 0)
    except OSError as error:
        if error.errno == errno.ESRCH:
            return True
        if error.errno != errno.EPERM:  # EPERM: it exists, another user's
            return False
    fields = _stat(int(pid))
    if fields is None:  # hidden (hidepid) or gone this instant: not known
        return False
    return fields[0] == "Z" or fields[19] != start
