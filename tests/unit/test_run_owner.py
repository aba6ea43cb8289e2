"""Which process runs a sync: a process on this machine that is gone is known dead; elsewhere nothing is known."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from atsbridge.store.run_owner import known_dead, this_process

pytestmark = pytest.mark.skipif(this_process() is None, reason="no /proc to tell processes by")


def stat_fields(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()


def owner_of(process: subprocess.Popen[bytes]) -> str:
    """The owner ``process`` would record (it is a child of this one, so it shares its namespace)."""
    mine = this_process()
    assert mine is not None
    namespace = mine.rsplit("/", 2)[0]
    return f"{namespace}/{process.pid}/{stat_fields(process.pid)[19]}"


def test_this_process_is_alive() -> None:
    assert known_dead(this_process()) is False


def test_a_process_that_exited_is_dead_already_before_it_is_reaped() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    owner = owner_of(child)
    assert known_dead(owner) is False
    child.kill()
    deadline = time.monotonic() + 10
    while stat_fields(child.pid)[0] != "Z":  # exited, not yet reaped: a zombie
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert known_dead(owner) is True
    child.wait()
    assert known_dead(owner) is True


def test_a_pid_given_to_another_process_is_not_the_owner() -> None:
    mine = this_process()
    assert mine is not None
    namespace, pid, start = mine.rsplit("/", 2)
    assert known_dead(f"{namespace}/{pid}/{int(start) + 1}") is True
    assert known_dead(f"{namespace}/0/{start}") is False  # no process: kill(0, …) would mean our group


@pytest.mark.parametrize("owner", [None, "another-boot/pid:[4026531836]/1/1", "garbage", "a/b/c/d/e"])
def test_a_process_this_one_cannot_see_is_not_judged(owner: str | None) -> None:
    assert known_dead(owner) is False
