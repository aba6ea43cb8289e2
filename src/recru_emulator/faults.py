"""Fault injection (spec §8): answers that go wrong on purpose, for the next N calls, a share of calls or a method."""

from __future__ import annotations

import random
from dataclasses import dataclass

KINDS = ("rate_limit", "error_500", "unavailable_503", "slow", "drop", "truncate", "garbage")


@dataclass
class Fault:
    kind: str
    method: str | None = None
    count: int | None = None
    share: float | None = None
    retry_after: int = 1
    delay_seconds: float = 2.0

    def matches(self, method: str | None) -> bool:
        return self.method is None or self.method == method


class FaultPlan:
    """The faults in force; the first fault matching a call decides what happens to it.

    A fault with ``share`` hits that share of matching calls; with ``count`` it stops after that many hits;
    with neither it hits the next matching call only.
    """

    def __init__(self, seed: int = 0) -> None:
        self.faults: list[Fault] = []
        self._random = random.Random(seed)

    def add(self, fault: Fault) -> None:
        if fault.count is None and fault.share is None:
            fault.count = 1
        self.faults.append(fault)

    def clear(self) -> None:
        self.faults.clear()

    def take(self, method: str | None) -> Fault | None:
        for fault in self.faults:
            if not fault.matches(method):
                continue
            if fault.share is not None and self._random.random() >= fault.share:
                continue
            if fault.count is not None:
                fault.count -= 1
                if fault.count <= 0:
                    self.faults.remove(fault)
            return fault
        return None
