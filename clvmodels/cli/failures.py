"""How an error reaches a command-line user: in the command line's words, a list kept a list.

The library speaks Python (``pass returns='net'``); at the command line the same advice is a flag
(``--returns net``). :func:`cli_words` translates the keyword hints the library is known to give,
by a table of keyword -> flag, at this one boundary, so the library keeps one wording for its
Python users. :func:`error_lines` lays out a message: one line, or a headline and one line per
problem when the library listed several. Only the standard library is imported.
"""

from __future__ import annotations

import re
import shlex

#: library keyword -> command-line flag, for the hints library messages give
KEYWORD_FLAGS = {
    "returns": "--returns",
    "zero_amounts": "--zero-amounts",
    "late_purchases": "--late-purchases",
    "datetime_format": "--datetime-format",
    "customer_id_col": "--customer-id-col",
    "datetime_col": "--datetime-col",
    "monetary_value_col": "--monetary-value-col",
    "attribute_cols": "--attribute-col",
    "acquisition_cost_col": "--acquisition-cost-col",
    "observation_period_end": "--observation-end",
    "time_unit": "--time-unit",
    "penalizer": "--penalizer",
    "n_draws": "--n-draws",
    "uplift": "--uplift",
}

_KEYWORDS = "|".join(sorted(map(re.escape, KEYWORD_FLAGS), key=len, reverse=True))
#: ``name='value'`` or ``name="value"``; ``name=<number>``; a bare ``name=`` (no value given)
_WITH_TEXT = re.compile(rf"(?<![\w.-])({_KEYWORDS})=(['\"])(.*?)\2")
_WITH_NUMBER = re.compile(rf"(?<![\w.-])({_KEYWORDS})=(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)")
_BARE = re.compile(rf"(?<![\w.-])({_KEYWORDS})=(?=[\s,;.)]|$)")
#: setting dates named without ``=`` ("a later observation_period_end")
_DATE_NAMES = re.compile(r"(?<![\w.-])observation_period_end(?![\w=])")


def cli_words(message: str) -> str:
    """``message`` with the library's keyword hints as the command line's flags.

    Examples
    --------
    >>> cli_words("Pass returns='net' to subtract returns, or returns='drop'.")
    'Pass --returns net to subtract returns, or --returns drop.'
    >>> cli_words("pass datetime_format= with strftime codes (e.g. '%Y-%m-%d %H:%M')")
    "pass --datetime-format with strftime codes (e.g. '%Y-%m-%d %H:%M')"
    """
    message = _WITH_TEXT.sub(lambda m: f"{KEYWORD_FLAGS[m[1]]} {shlex.quote(m[3])}", message)
    message = _WITH_NUMBER.sub(lambda m: f"{KEYWORD_FLAGS[m[1]]} {m[2]}", message)
    message = _BARE.sub(lambda m: KEYWORD_FLAGS[m[1]], message)
    return _DATE_NAMES.sub(KEYWORD_FLAGS["observation_period_end"], message)


def one_line(message) -> str:
    """A message on one line (multi-line library messages joined with spaces)."""
    return " ".join(part.strip() for part in str(message).splitlines() if part.strip())


def error_lines(message) -> list[str]:
    """The lines to print for an error message.

    A message of one line, or a headline with a single listed problem, gives one line; a headline
    followed by several problems (the library's "- problem" lines) keeps one problem per line,
    each indented under the headline, so a list stays a readable list.
    """
    lines = [line.strip() for line in str(message).splitlines() if line.strip()]
    if len(lines) <= 2:
        return [" ".join(line[2:] if line.startswith("- ") else line for line in lines)]
    return [lines[0]] + ["  " + (line if line.startswith("- ") else "- " + line) for line in lines[1:]]
