"""Progress bars for the library's long loops, in a terminal and in a Jupyter notebook.

The whole API::

    from clvmodels.progress import progress_bar

    with progress_bar(n_customers, "customer value", unit="customers") as advance:
        for chunk in chunks:
            ...                      # the work
            advance(len(chunk))      # thread-safe; costs a lock and an integer add when hidden

``total=None`` shows a spinner with the elapsed time (work of unknown length). Bars opened while
another is open (a step inside a pipeline run) stack in one display and vanish when closed.

When bars show, :func:`set_progress` (or the temporary :func:`progress_mode`) decides:
``None`` (the default) shows them only where someone watches (stderr is a terminal, or the code
runs in a Jupyter kernel); ``True`` always; ``False`` never (the command line's ``--quiet``). The
environment variable ``CLVMODELS_PROGRESS`` (``1``, ``0`` or ``auto``) sets the starting mode, so a
scheduled job can ask for bars in its log or a notebook can turn them off.

In a terminal, bars are drawn by ``rich`` (a dependency of PyMC, whose sampler bars look the
same); in a notebook, as a text output updated in place (IPython display ids, so no ipywidgets is
needed). Either is imported only when a bar is actually shown, so importing this module costs
nothing. Hidden bars do no I/O,
and bars never touch the numbers: results are identical with and without them.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator

_ENV = "CLVMODELS_PROGRESS"
_lock = threading.RLock()
_mode: bool | None = {"1": True, "true": True, "0": False, "false": False}.get(
    os.environ.get(_ENV, "auto").strip().lower())
_display = None  # the shared rich Progress while at least one visible bar is open
_open_bars = 0


def set_progress(mode: bool | None) -> None:
    """Show bars always (True), never (False) or only when someone watches (None, the default)."""
    global _mode
    if mode not in (True, False, None):
        from clvmodels.errors import DataError

        raise DataError(f"progress mode must be True, False or None (automatic); got {mode!r}")
    _mode = mode


def mode() -> bool | None:
    """The current mode (see :func:`set_progress`)."""
    return _mode


@contextlib.contextmanager
def progress_mode(mode: bool | None) -> Iterator[None]:
    """Temporarily :func:`set_progress` ``mode``; the previous mode is restored on exit."""
    previous = _mode
    set_progress(mode)
    try:
        yield
    finally:
        set_progress(previous)


def _in_notebook() -> bool:
    shell = sys.modules.get("IPython")
    try:
        return shell is not None and type(shell.get_ipython()).__name__ == "ZMQInteractiveShell"
    except Exception:  # noqa: BLE001 - an odd IPython is no notebook
        return False


def enabled() -> bool:
    """Whether a bar opened now would show."""
    if _mode is not None:
        return _mode
    stream = sys.stderr
    return bool(stream is not None and hasattr(stream, "isatty") and stream.isatty()) or _in_notebook()


def _new_display():
    if _in_notebook():
        return _NotebookDisplay()
    from rich.console import Console
    from rich.progress import (BarColumn, Progress, ProgressColumn, SpinnerColumn, TextColumn,
                               TimeElapsedColumn)
    from rich.text import Text

    class Count(ProgressColumn):
        """'1,200/300,000 customers, 0:00:31 left'; nothing for a spinner (no total)."""

        def render(self, task):
            if task.total is None:
                return Text("")
            left = task.time_remaining
            eta = "" if left is None else f", {int(left) // 60}:{int(left) % 60:02d} left"
            return Text(f"{int(task.completed):,}/{int(task.total):,} {task.fields['unit']}{eta}")

    # force_terminal when asked (mode True), so a log file gets the bars too
    console = Console(stderr=True, force_terminal=True if _mode else None)
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), Count(),
                    TimeElapsedColumn(), console=console, transient=True)


class _NotebookTask:
    def __init__(self, description: str, total: int | None, unit: str):
        self.description, self.total, self.unit = description, total, unit
        self.completed, self.started = 0, time.monotonic()

    def line(self) -> str:
        seconds = int(time.monotonic() - self.started)
        elapsed = f"{seconds // 60}:{seconds % 60:02d}"
        if self.total is None:
            return f"{self.description} ... {elapsed}"
        share = min(1.0, self.completed / self.total) if self.total else 1.0
        bar = "#" * int(share * 30) + "-" * (30 - int(share * 30))
        return f"{self.description} [{bar}] {self.completed:,}/{self.total:,} {self.unit} {elapsed}"


class _NotebookDisplay:
    """Bars in a Jupyter notebook: one text output updated in place through an IPython display
    id (no ipywidgets needed, unlike rich's and tqdm's notebook bars), at most 4 times a second.
    The final state stays visible under the cell."""

    def __init__(self):
        self.tasks: dict[int, _NotebookTask] = {}
        self._ids = 0
        self._handle = None
        self._shown = 0.0

    def _text(self) -> dict:
        return {"text/plain": "\n".join(task.line() for task in self.tasks.values())}

    def _update(self, force: bool = False) -> None:
        now = time.monotonic()
        if self._handle is not None and (force or now - self._shown >= 0.25):
            self._handle.update(self._text(), raw=True)
            self._shown = now

    def start(self) -> None:
        if self._handle is None:
            from IPython.display import display

            self._handle = display(self._text(), raw=True, display_id=True)

    def stop(self) -> None:
        self._update(force=True)

    def add_task(self, description: str, total: int | None = None, unit: str = "") -> int:
        self._ids += 1
        self.tasks[self._ids] = _NotebookTask(description, total, unit)
        self._update(force=True)
        return self._ids

    def advance(self, task: int, n: int) -> None:
        with _lock:
            self.tasks[task].completed += n
            self._update()

    def remove_task(self, task: int) -> None:
        self._update(force=True)  # show the finished count before the line goes
        if len(self.tasks) > 1:
            del self.tasks[task]


def _hidden_advance(n: int = 1) -> None:
    """What ``advance`` is when bars are off: nothing."""


@contextlib.contextmanager
def progress_bar(total: int | None, description: str, *, unit: str = "items"
                 ) -> Iterator[Callable[[int], None]]:
    """A progress bar around a loop; yields ``advance(n=1)``.

    Parameters
    ----------
    total : int or None
        How many units the loop does (customers, rows, draws); None for a spinner with the
        elapsed time when the length is unknown.
    description : str
        What the loop does, e.g. ``"customer value"``.
    unit : str
        Plural name of the unit, shown after the count, e.g. ``"customers"``.

    Yields
    ------
    advance : callable
        ``advance(n=1)`` records ``n`` more units done; safe to call from several threads.
    """
    global _display, _open_bars
    if not enabled():
        yield _hidden_advance
        return
    with _lock:
        if _display is None:
            _display = _new_display()
            _display.start()
        display = _display
        _open_bars += 1
        task = display.add_task(description, total=total, unit=unit)
    try:
        yield lambda n=1: display.advance(task, n)
    finally:
        with _lock:
            display.remove_task(task)
            _open_bars -= 1
            if _open_bars == 0 and _display is display:
                display.stop()
                _display = None


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """Hide open bars while code with its own live display runs (PyMC's sampler bars)."""
    with _lock:
        display = _display
        if display is not None:
            display.stop()
    try:
        yield
    finally:
        with _lock:
            if display is not None and _display is display:
                display.start()
