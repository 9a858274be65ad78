"""One rule for reading text timestamps, shared by the DataFrame and the file (DuckDB) entry points.

A text timestamp column is read with **one format for the whole column**:

1. ``datetime_format`` when the user gives it (``"ISO8601"`` names the ISO reading below);
2. otherwise the candidates are ISO 8601 (``YYYY-MM-DD``, optionally a time after ``T`` or a
   space, optionally ``Z`` or a UTC offset), then the formats
   :func:`pandas.tseries.api.guess_datetime_format` guesses from the first :data:`SAMPLE_SIZE`
   non-ISO values, each month-first and day-first (the day/month swap of every guess is added,
   so both readings are always tried). Year-first dates are only read year-month-day.

A column is read only when exactly one reading reads every (non-null) value: ISO 8601 first (it
is unambiguous); else the single candidate that reads every value; when two candidates read
every value and read some value differently (``02/08/1997`` is 2 August day first, 8 February
month first), the column is ambiguous and refused with both readings; when none reads every
value, the values the closest candidate (the one reading the most) cannot read are refused as
unreadable. So a day-first column with some day above 12 is read day-first (month-first cannot
read it), one whose days are all 12 or less is refused until ``datetime_format`` says which.

Both engines apply the same rule to the same sample (the first non-null values in row order,
stripped of surrounding spaces), so a DataFrame and the same data as a CSV give identical
summaries or identical refusals. This module holds the engine-free parts: the candidates, the
choice and the messages; :mod:`~clvmodels.data.frame_log` and :mod:`~clvmodels.data.file_log`
count what each candidate reads.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from clvmodels.errors import DataError

#: The name of the ISO 8601 reading (also accepted as ``datetime_format="ISO8601"``).
ISO = "ISO8601"
#: Text that is ISO 8601 for this package; both engines parse it only where this matches fully
#: (DuckDB's cast and pandas' ISO parser each accept extra forms the other does not).
ISO_PATTERN = r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?"
#: How many leading non-null values formats are guessed from, and the most candidates tried.
SAMPLE_SIZE = 50
MAX_CANDIDATES = 6
_ISO_RE = re.compile(ISO_PATTERN)
_YEAR_DAY_MONTH = re.compile(r"%Y.*%d.*%m")


def check_format(fmt: str | None) -> None:
    """Refuse a ``datetime_format`` that is not a string of strftime codes."""
    if fmt is None or fmt == ISO:
        return
    if not isinstance(fmt, str) or "%" not in fmt:
        raise DataError(
            f"datetime_format={fmt!r} is not a strftime format; pass codes such as "
            "'%d/%m/%Y %H:%M' or '%Y%m%d', or leave it out for ISO 8601 timestamps"
        )
    try:
        pd.to_datetime(pd.Series(["x"]), format=fmt, errors="coerce")
    except ValueError as err:
        raise DataError(f"datetime_format={fmt!r} is not a valid strftime format ({err})") from None


def numbers_refused(column) -> DataError:
    """The refusal of numeric timestamps without ``datetime_format`` (19970101 is not a date
    until a format says so: it could as well be a count of seconds)."""
    return DataError(
        f"timestamps in column {column!r} are numbers; pass datetime_format= (e.g. '%Y%m%d' for "
        "19970101) or convert the column with pd.to_datetime first"
    )


def is_iso(value: str) -> bool:
    return _ISO_RE.fullmatch(value) is not None


def candidate_formats(sample: Sequence[str]) -> list[str]:
    """The readings tried, best first: ISO 8601, then formats guessed from the non-ISO sample.

    Parameters
    ----------
    sample : sequence of str
        The first non-null values of the column in row order, stripped of spaces.

    Returns
    -------
    list of str
        ``[ISO, ...]``, guessed formats ordered by how many sample values they were guessed
        from (then first appearance), at most :data:`MAX_CANDIDATES` in all.
    """
    from pandas.tseries.api import guess_datetime_format

    votes: dict[str, int] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas warns when dayfirst contradicts the value
        for value in sample:
            if is_iso(value):
                continue
            guesses = {guess_datetime_format(value, dayfirst=first) for first in (False, True)}
            guesses.add(_numeric_date_format(value))  # forms pandas does not guess (97, 3 PM)
            for fmt in sorted(g for g in guesses if g):
                for reading in (fmt, _swap_day_month(fmt)):
                    if reading and not _YEAR_DAY_MONTH.search(reading):
                        votes[reading] = votes.get(reading, 0) + 1
    ranked = sorted(votes, key=lambda f: -votes[f])  # stable: ties keep first appearance
    return [ISO, *ranked[: MAX_CANDIDATES - 1]]


_NUMERIC_DATE = re.compile(
    r"\d{1,2}([/.-])\d{1,2}\1(\d{4}|\d{2})"
    r"(?:([ T])\d{1,2}:\d{2}(:\d{2})?(\s*)([AaPp][Mm])?)?")


def _numeric_date_format(value: str) -> str | None:
    """The month-first format of a numeric date such as ``2/8/97 3:09 PM``, or None."""
    match = _NUMERIC_DATE.fullmatch(value)
    if match is None:
        return None
    sep, year, t_sep, seconds, space, meridiem = match.groups()
    fmt = f"%m{sep}%d{sep}" + ("%Y" if len(year) == 4 else "%y")
    if t_sep:
        fmt += t_sep + ("%I" if meridiem else "%H") + ":%M" + (":%S" if seconds else "")
        fmt += (space + "%p") if meridiem else ""
    return fmt


def _swap_day_month(fmt: str) -> str | None:
    if "%d" not in fmt or "%m" not in fmt:
        return None
    return fmt.replace("%d", "\0").replace("%m", "%d").replace("\0", "%m")


@dataclass(frozen=True)
class Choice:
    """The reading chosen for a column, and the other readings that read every value."""

    fmt: str
    n_values: int  # non-null values
    n_read: int  # values the chosen reading reads
    also_full: tuple[str, ...]  # other candidates reading every value (ambiguity to check)


def choose(candidates: Sequence[str], n_values: int, n_read: dict[str, int]) -> Choice:
    """Apply the rule of the module docstring to the counts of values each candidate reads."""
    full = [f for f in candidates if n_read[f] == n_values]
    if ISO in full:
        return Choice(ISO, n_values, n_values, ())
    if full:
        return Choice(full[0], n_values, n_values, tuple(full[1:]))
    closest = max(candidates, key=lambda f: n_read[f])  # first of equals: candidate order
    return Choice(closest, n_values, n_read[closest], ())


def describe(fmt: str) -> str:
    """``'%d/%m/%Y' (day first)``: a reading as shown in messages."""
    if fmt == ISO:
        return "ISO 8601"
    if "%d" in fmt and "%m" in fmt and not fmt.lstrip().startswith("%Y"):
        order = "day first" if fmt.index("%d") < fmt.index("%m") else "month first"
        return f"{fmt!r} ({order})"
    return repr(fmt)


def ambiguity_problem(column: str, fmt_a: str, fmt_b: str, value: str, reading_a, reading_b
                      ) -> tuple[str, str]:
    """(what, hint) for a column that two readings read fully but differently."""
    def shown(stamp) -> str:
        return pd.Timestamp(stamp).strftime("%d %B %Y").lstrip("0")

    what = (f"timestamp that reads two ways (column {column!r}: every value fits both "
            f"{describe(fmt_a)} and {describe(fmt_b)}; e.g. {value!r} is {shown(reading_a)} by the "
            f"first, {shown(reading_b)} by the second)")
    hint = f'Pass datetime_format="{fmt_a}" or datetime_format="{fmt_b}" to say which.'
    return what, hint


def unreadable_hint(given: str | None, choice: Choice) -> str:
    """What to do about values the chosen reading cannot read."""
    if given:
        return f"They do not match datetime_format={given!r}; fix the format or the values."
    closest = (f"the closest, {describe(choice.fmt)}, reads {choice.n_read:,} of {choice.n_values:,}"
               if choice.n_read else "no format tried reads any")
    return (f"No single format reads every value ({closest}); pass datetime_format= with strftime "
            "codes (e.g. '%Y-%m-%d %H:%M', or '%Y%m%d' for 19970101) or fix the values.")
