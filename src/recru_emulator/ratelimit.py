"""Rate limit per API user (spec §3, §9): a rolling 60-second window of admitted calls, in real time."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable

WINDOW_SECONDS = 60.0
DEFAULT_PER_MINUTE = 120


class RateLimiter:
    def __init__(self, per_minute: int | None = DEFAULT_PER_MINUTE, now: Callable[[], float] = time.monotonic):
        self.per_minute = per_minute
        self._now = now
        self._calls: dict[str, deque[float]] = {}

    def admit(self, key: str) -> tuple[bool, int, int]:
        """(admitted, remaining, retry_after seconds); an admitted call is counted."""
        if self.per_minute is None:
            return True, 0, 0
        now = self._now()
        calls = self._calls.setdefault(key, deque())
        while calls and calls[0] <= now - WINDOW_SECONDS:
            calls.popleft()
        if len(calls) >= self.per_minute:
            wait = calls[0] + WINDOW_SECONDS - now
            return False, 0, min(60, max(1, math.ceil(wait)))
        calls.append(now)
        return True, self.per_minute - len(calls), 0

    def reset(self) -> None:
        self._calls.clear()
