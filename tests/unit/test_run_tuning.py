"""The interpreter settings of sync runs: applied while any run is active, restored when the last one ends, also
when runs overlap without nesting."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator

import pytest

from atsbridge.sync.run_tuning import COLLECTOR_THRESHOLDS, GIL_SWITCH_INTERVAL, tuned_for_a_run

BEFORE_SWITCH, BEFORE_THRESHOLDS = 0.005, (700, 10, 10)


@pytest.fixture(autouse=True)
def defaults() -> Iterator[None]:
    saved = sys.getswitchinterval(), gc.get_threshold()
    sys.setswitchinterval(BEFORE_SWITCH)
    gc.set_threshold(*BEFORE_THRESHOLDS)
    gc.unfreeze()
    yield
    gc.unfreeze()
    sys.setswitchinterval(saved[0])
    gc.set_threshold(*saved[1])


def tuned() -> bool:
    return sys.getswitchinterval() == pytest.approx(GIL_SWITCH_INTERVAL) and gc.get_threshold() == COLLECTOR_THRESHOLDS


def restored() -> bool:
    return (
        sys.getswitchinterval() == pytest.approx(BEFORE_SWITCH)
        and gc.get_threshold() == BEFORE_THRESHOLDS
        and gc.get_freeze_count() == 0
    )


def test_one_run_holds_the_settings_and_gives_them_back() -> None:
    assert restored()
    with tuned_for_a_run():
        assert tuned()
        assert gc.get_freeze_count() > 0  # what was alive before the run is out of the collector's scans
    assert restored()


def test_overlapping_runs_keep_the_settings_until_the_last_one_ends() -> None:
    first, second = tuned_for_a_run(), tuned_for_a_run()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)  # the first run ends while the second still runs
    assert tuned()
    second.__exit__(None, None, None)
    assert restored()


def test_a_failing_run_gives_the_settings_back() -> None:
    with pytest.raises(RuntimeError), tuned_for_a_run():
        raise RuntimeError("the run failed")
    assert restored()


def test_a_heap_the_process_froze_itself_stays_frozen() -> None:
    gc.freeze()  # as `serve` does once it has started
    with tuned_for_a_run():
        assert tuned()
    assert gc.get_freeze_count() > 0  # not unfrozen by the run (objects that died meanwhile left it, nothing else)
    assert sys.getswitchinterval() == pytest.approx(BEFORE_SWITCH)
    assert gc.get_threshold() == BEFORE_THRESHOLDS
