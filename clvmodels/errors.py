"""Exceptions and warnings raised by clvmodels.

Every error raised at the boundary (user data, settings) is a :class:`DataError`
whose message says what is wrong, how many rows, a few example ids and what to do.
Use :func:`describe_rows` to build that part of the message consistently.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence


class ClvError(Exception):
    """Base class of every clvmodels error."""


class DataError(ClvError, ValueError):
    """Input data or a setting is invalid. The message says what to do."""


class ExportError(DataError):
    """An export target cannot be written: a bad path, URL, table or column name, a value the chosen
    database cannot store, or a database failure (the driver's error is chained as ``__cause__``).

    The message names the target and the cause; ``target`` holds the target (a path, or the database
    URL without its password). Nothing was written when it is raised before the commit.
    """

    def __init__(self, message: str, target: str | None = None):
        super().__init__(message)
        self.target = target


class ExportFileError(ExportError, OSError):
    """A file of an export could not be written (disk full, permissions); also an ``OSError``.

    The previous file is untouched and the temporary file removed; the system's error is the ``__cause__``.
    """


class NotFittedError(ClvError, AttributeError):
    """A model was used before ``fit`` was called."""


class ConvergenceError(ClvError, RuntimeError):
    """An optimiser or sampler failed; ``result`` holds what it returned."""

    def __init__(self, message: str, result=None):
        super().__init__(message)
        self.result = result


class ConvergenceWarning(UserWarning):
    """A fit finished but its diagnostics are doubtful; the message says what to do."""


def describe_rows(ids: Iterable, n_examples: int = 5) -> str:
    """Return ``"<n> rows (e.g. id1, id2, ...)"`` for the offending ids.

    Parameters
    ----------
    ids : iterable
        Identifiers (customer ids or row numbers) of the offending rows.
    n_examples : int
        How many examples to show.
    """
    ids = list(ids)
    examples = ", ".join(repr(i) if isinstance(i, str) else str(i) for i in ids[:n_examples])
    more = ", ..." if len(ids) > n_examples else ""
    noun = "row" if len(ids) == 1 else "rows"
    return f"{len(ids)} {noun} (e.g. {examples}{more})"


def check_choice(name: str, value, choices: Sequence) -> None:
    """Raise a :class:`DataError` listing the valid choices when ``value`` is not one of them."""
    if value not in choices:
        raise DataError(f"{name} must be one of {list(choices)}; got {value!r}")
