"""A rich progress bar for long runs, on stderr and only on a terminal."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn


@contextmanager
def progress_bar(total: int, label: str = "bundles") -> Iterator[Callable[[int], None]]:
    """Yields `advance(n)`; draws nothing when stderr is not a terminal."""
    console = Console(stderr=True)
    if total == 0 or not console.is_terminal:
        yield lambda n: None
        return
    columns = (
        f"[bold]{label}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(label, total=total)
        yield lambda n: progress.advance(task, n)
