"""Progress on stderr while long work runs, only when stderr is a terminal (never in CI logs or pipes).

rich is imported only then, so the pre-commit path never pays for it.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Callable, Iterator

# Fewer files than this lint in well under a second: a progress bar would only flicker.
PROGRESS_MIN_FILES = 50
_bar_active = False  # while the file bar runs (inherited by forked workers), per-step spinners stay quiet


def _terminal() -> bool:
    return sys.stderr.isatty() and os.environ.get("TERM") != "dumb"


@contextlib.contextmanager
def file_progress(total: int) -> Iterator[Callable[[], None]]:
    """A bar over `total` files; yields the function that counts one file done."""
    global _bar_active
    if total < PROGRESS_MIN_FILES or not _terminal():
        yield lambda: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("linting"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("lint", total=total)
        _bar_active = True
        try:
            yield lambda: progress.advance(task)
        finally:
            _bar_active = False


@contextlib.contextmanager
def status(message: str) -> Iterator[None]:
    """A spinner with `message` while one long step runs (a skeleton build, a PEFT dry run)."""
    if _bar_active or not _terminal():
        yield
        return
    from rich.console import Console

    with Console(stderr=True).status(message):
        yield
