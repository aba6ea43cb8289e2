"""Rich progress bars for a sync run: one bar per model with records done of the listing's total and the rate."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from atsbridge.unified.ids import ModelName


class RateColumn(ProgressColumn):
    """Records per second (blank until rich has measured a speed)."""

    def render(self, task: Task) -> Text:
        return Text(f"{task.speed:>8,.0f} rec/s" if task.speed else "")


class ProgressBars:
    """A sync's ``progress`` callback drawing on a rich ``Progress``."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[ModelName, TaskID] = {}

    def __call__(self, model: ModelName, done: int, total: int | None) -> None:
        if model not in self.tasks:
            self.tasks[model] = self.progress.add_task(model.value, total=total)
        self.progress.update(self.tasks[model], completed=done, total=total)


@contextmanager
def sync_progress(console: Console, show: bool = True) -> Iterator[ProgressBars]:
    columns = (
        TextColumn("{task.description:<34}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, disable=not show) as progress:
        yield ProgressBars(progress)
