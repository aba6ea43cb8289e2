"""Interpreter settings for the time sync runs are active in the process: GIL hand-offs and the cyclic collector.

- **GIL switch interval 0.2 ms** (default 5 ms). The store thread spends most of its time in SQLite, without the
  GIL, and needs it back after every statement; with the default it waits that long behind the thread that maps
  and prepares the next batch each time, longer than most of its statements take. 0.2 ms measured best for a FULL
  sync of 100,000 jobseekers (1 ms and 0.05 ms took 5–10% longer).
- **Collector**: what is alive when the first run starts (modules, table metadata, caches) is frozen out of the
  collector's scans (unless the process froze its long-lived heap itself, as ``serve`` does: that stays frozen,
  and nothing is unfrozen after the run), and young objects are collected every 10,000 net allocations instead of
  700. A run allocates millions of short-lived dicts that reference counting frees; with the defaults 3.2 s of a
  40 s FULL run of 100,000 jobseekers went to collections, with these 1.0 s (50,000 cut it to 0.1 s but the process
  then peaked 65 MB higher: what does end in cycles waited longer for its collection).

The settings are process-wide, so overlapping runs share them: the first run to start applies them, the last one to
end restores what was there before.
"""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

GIL_SWITCH_INTERVAL = 0.0002  # seconds
COLLECTOR_THRESHOLDS = (10_000, 10, 10)


class _RunTuning:
    """The settings and how many runs hold them; ``during_run`` is the one way in."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs = 0
        self._saved: tuple[float, tuple[int, int, int]] = (sys.getswitchinterval(), gc.get_threshold())
        self._froze = False

    @contextmanager
    def during_run(self) -> Iterator[None]:
        with self._lock:
            if self._runs == 0:
                self._saved = (sys.getswitchinterval(), gc.get_threshold())
                sys.setswitchinterval(min(self._saved[0], GIL_SWITCH_INTERVAL))
                self._froze = gc.get_freeze_count() == 0
                if self._froze:
                    gc.freeze()
                gc.set_threshold(*COLLECTOR_THRESHOLDS)
            self._runs += 1
        try:
            yield
        finally:
            with self._lock:
                self._runs -= 1
                if self._runs == 0:
                    switch_interval, thresholds = self._saved
                    sys.setswitchinterval(switch_interval)
                    gc.set_threshold(*thresholds)
                    if self._froze:
                        gc.unfreeze()


_TUNING = _RunTuning()


def tuned_for_a_run() -> AbstractContextManager[None]:
    """Hold the settings for one run (see the module docstring)."""
    return _TUNING.during_run()
