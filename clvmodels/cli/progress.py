"""What the command line prints: results on stdout, progress and warnings on stderr.

Progress lines (each step and its duration) appear when stderr is a terminal, or always with
``--verbose``; so a scheduled run's log holds results only, and a failed run's stderr holds one
line. ``--quiet`` prints nothing but errors.
"""

from __future__ import annotations

import contextlib
import sys
import time
import warnings

import click

QUIET, NORMAL, VERBOSE = -1, 0, 1


def one_line(message) -> str:
    """A message on one line (multi-line library messages joined with spaces)."""
    return " ".join(part.strip() for part in str(message).splitlines() if part.strip())


class Reporter:
    """Progress display and result printing for one command."""

    def __init__(self, verbosity: int = NORMAL):
        self.verbosity = verbosity
        self.show_progress = verbosity == VERBOSE or (verbosity == NORMAL and sys.stderr.isatty())

    @contextlib.contextmanager
    def __call__(self, step: str):
        """Context manager around a long step: prints its name, then how long it took."""
        if not self.show_progress:
            yield
            return
        click.echo(f"{step} ...", nl=False, err=True)
        started = time.perf_counter()
        try:
            yield
        except BaseException:
            click.echo(" failed", err=True)
            raise
        click.echo(f" {time.perf_counter() - started:.1f} s", err=True)

    def rows(self, what: str):
        """A ``progress(done, total)`` callback that shows a running row count on a terminal."""
        if not (self.show_progress and sys.stderr.isatty()):
            return None

        def show(done, total):
            click.echo(f"\r  {what}: {done:,}/{total:,} rows", nl=done >= total, err=True)

        return show

    def say(self, text: str = "") -> None:
        """A result line on stdout (silent with --quiet)."""
        if self.verbosity > QUIET:
            click.echo(text)

    def route_warnings(self) -> None:
        """Show Python warnings as one line each on stderr (none with --quiet)."""

        def show(message, category, filename, lineno, file=None, line=None):
            if self.verbosity > QUIET:
                click.echo(f"clvmodels: warning: {one_line(message)}", err=True)

        warnings.showwarning = show
