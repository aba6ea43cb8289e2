"""Which process runs a sync, so that one on this machine that has died is known dead at once.

A RUNNING run records its process as ``<boot id>/<PID namespace>/<pid>/<start time>``: the boot id (random per boot
of a Linux machine) and the PID namespace's inode tell whether another process can see that PID at all (a process
in another container or on another machine cannot, and then only the run's heartbeat tells, see ``store.syncs``);
the process's start time tells a PID the kernel gave to a new process since. Where ``/proc`` does not tell these
(not Linux), no owner is recorded and heartbeats alone decide.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path


@functools.cache
def _namespace() -> str | None:
    """This process's boot id and PID namespace, or None where ``/proc`` does not tell them."""
    try:
        boot_id = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        pid_namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        return None
    return f"{boot_id}/{pid_namespace}"


def _start_time(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot, field 22 of its ``stat``); None if there is none, or
    only its exit status is left (a zombie, state Z)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return None if fields[0] == "Z" else fields[19]


def this_process() -> str | None:
    """The owner to record on a run this process starts."""
    namespace = _namespace()
    if namespace is None:
        return None
    pid = os.getpid()
    return f"{namespace}/{pid}/{_start_time(pid)}"


def known_dead(owner: str | None) -> bool:
    """Whether the process ``owner`` names is known to be gone: it ran where this process sees its PID, and that PID
    is no process now, or another one than it was. False when it cannot be told."""
    namespace = _namespace()
    if owner is None or namespace is None:
        return False
    head, _, start = owner.rpartition("/")
    prefix, _, pid = head.rpartition("/")
    if prefix != namespace or not pid.isdigit():
        return False
    return _start_time(int(pid)) != start
