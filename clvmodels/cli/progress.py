"""What the command line prints: results on stdout, progress and warnings on stderr.

Each long step shows a live spinner with its elapsed time (a bar with a count where the step
reports one, e.g. the SQL upsert) while it runs, in a terminal; when it ends, one line says how
long it took. The bars are the library's (:mod:`clvmodels.progress`), so bars the library opens
inside a step stack under it. Step lines appear when stderr is a terminal, or always with
``--verbose``; so a scheduled run's log holds results only, and a failed run's stderr holds the
error. ``--quiet`` prints nothing but errors and turns the library's bars off.
"""

from __future__ import annotations

import contextlib
import sys
import time
import warnings

import click

from clvmodels import progress
from clvmodels.cli.failures import cli_words, one_line  # noqa: F401  (one_line: re-exported)

QUIET, NORMAL, VERBOSE = -1, 0, 1


class Reporter:
    """Progress display and result printing for one command.

    Building a reporter sets the library's progress mode for the command: off under ``--quiet``,
    automatic (shown where someone watches) otherwise.
    """

    def __init__(self, verbosity: int = NORMAL):
        self.verbosity = verbosity
        self.show_progress = verbosity == VERBOSE or (verbosity == NORMAL and sys.stderr.isatty())
        if verbosity == QUIET:
            progress.set_progress(False)
        self._bars = contextlib.ExitStack()

    @contextlib.contextmanager
    def __call__(self, step: str):
        """Context manager around a long step: a spinner while it runs, then how long it took."""
        if not self.show_progress:
            with self._bars:  # closes row bars opened in the step
                yield
            return
        started = time.perf_counter()
        try:
            with progress.progress_bar(None, step, unit=""), self._bars:
                yield
        except BaseException:
            click.echo(f"{step} ... failed", err=True)
            raise
        click.echo(f"{step} ... {time.perf_counter() - started:.1f} s", err=True)

    def rows(self, what: str):
        """A ``progress(done, total)`` callback that shows a bar of rows (a terminal or notebook,
        unless --quiet); the bar closes when done reaches total or the surrounding step ends."""
        if not progress.enabled():
            return None
        state = {"done": 0, "advance": None}

        def show(done, total):
            if state["advance"] is None:
                state["advance"] = self._bars.enter_context(progress.progress_bar(total, what, unit="rows"))
            state["advance"](done - state["done"])
            state["done"] = done

        return show

    def say(self, text: str = "") -> None:
        """A result line on stdout (silent with --quiet)."""
        if self.verbosity > QUIET:
            click.echo(text)

    def route_warnings(self) -> None:
        """Show Python warnings as one line each on stderr, in the command line's words (none
        with --quiet)."""

        def show(message, category, filename, lineno, file=None, line=None):
            if self.verbosity > QUIET:
                click.echo(f"clvmodels: warning: {cli_words(one_line(message))}", err=True)

        warnings.showwarning = show
