"""Rate limit per API user (spec §3, §9): a rolling 60-second window of admitted calls, in real time."""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable

WINDOW_SECONDS = 60.0
DEFAULT_PER_MINUTE = 120


class RateLimiter:
    def __init__(self, per_minute: int | None = DEFAULT_PER_MINUTE, now: Callable[[], float] = time.monotonic):
        self.per_minute = per_minute
        self._now = now
        # the keys in the order of their last admitted call, so the idle ones are found at the front
        self._calls: OrderedDict[str, deque[float]] = OrderedDict()

    def admit(self, key: str) -> tuple[bool, int, int]:
        """(admitted, remaining, retry_after seconds); an admitted call is counted, also while the limit is off,
        so a limit switched on counts the calls of the window it starts in."""
        now = self._now()
        self._forget_idle(now)
        calls = self._calls.get(key, deque())
        while calls and calls[0] <= now - WINDOW_SECONDS:
            calls.popleft()
        if self.per_minute is not None and len(calls) >= self.per_minute:
            # one more is admitted once all but per_minute - 1 of them have left the window
            wait = calls[len(calls) - self.per_minute] + WINDOW_SECONDS - now
            return False, 0, min(60, max(1, math.ceil(wait)))
        calls.append(now)
        self._calls[key] = calls
        self._calls.move_to_end(key)
        return True, 0 if self.per_minute is None else max(0, self.per_minute - len(calls)), 0

    def _forget_idle(self, now: float) -> None:
        """Drop the keys with no call left in the window: failed logins key by any login name a client tries."""
        while self._calls:
            key, calls = next(iter(self._calls.items()))
            if calls[-1] > now - WINDOW_SECONDS:
                return
            del self._calls[key]

    def reset(self) -> None:
        self._calls.clear()
