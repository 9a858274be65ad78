"""Contact sequences: the multi-step, multi-medium win-back programme (letter, e-mail, call...).

A sequence is an ordered list of steps, each sent a number of days after the campaign start and
costing a fixed amount per customer. A customer who returns receives none of the remaining steps
(see :func:`clvmodels.reactivation.sequence_status`).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from clvmodels.errors import DataError


def _number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True)
class ContactStep:
    """One contact of a sequence.

    Parameters
    ----------
    name : str
        What is sent, e.g. "letter", "email 1", "phone call".
    cost : float
        Cost per customer contacted (printing, postage, labour), >= 0, in the log's currency.
    day : int
        Days after the campaign start on which the step is sent (0 = the start day).
    """

    name: str
    cost: float
    day: int = 0

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name.strip():
            raise DataError(f"a contact step needs a non-empty name, e.g. 'letter'; got {self.name!r}")
        if not _number(self.cost) or self.cost < 0:
            raise DataError(f"step {self.name!r}: cost must be a finite amount >= 0 per customer; got {self.cost!r}")
        if not isinstance(self.day, numbers.Integral) or isinstance(self.day, bool) or self.day < 0:
            raise DataError(f"step {self.name!r}: day must be a whole number of days >= 0 after the "
                            f"campaign start; got {self.day!r}")


@dataclass(frozen=True)
class ContactSequence:
    """An ordered win-back sequence.

    Parameters
    ----------
    steps : sequence of ContactStep, or of (name, cost, day) tuples / dicts
        At least one step; days must not decrease and names must be unique.
    name : str
        Name shown in campaign lists, e.g. "winback-3-step".

    Examples
    --------
    >>> seq = ContactSequence([("letter", 0.6, 0), ("email", 0.05, 14), ("call", 2.0, 30)], name="3-step")
    >>> seq.cost_per_customer
    2.65
    >>> seq.describe()
    'letter (day 0, 0.6) > email (day 14, 0.05) > call (day 30, 2)'
    """

    steps: tuple[ContactStep, ...]
    name: str = "winback"

    def __init__(self, steps: Iterable, name: str = "winback"):
        parsed = tuple(_as_step(s) for s in steps)
        if not parsed:
            raise DataError("a contact sequence needs at least one step, e.g. [('letter', 0.6, 0)]")
        names = [s.name for s in parsed]
        if len(set(names)) != len(names):
            raise DataError(f"step names must be unique within a sequence (they identify steps in "
                            f"status reports); got {names}")
        days = [s.day for s in parsed]
        if days != sorted(days):
            raise DataError(f"steps must be listed in the order they are sent (days not decreasing); got days {days}")
        if not isinstance(name, str) or not name.strip():
            raise DataError(f"a sequence needs a non-empty name; got {name!r}")
        object.__setattr__(self, "steps", parsed)
        object.__setattr__(self, "name", name)

    @property
    def cost_per_customer(self) -> float:
        """Cost of sending every step to one customer (the planned, worst-case cost)."""
        return float(sum(s.cost for s in self.steps))

    @property
    def duration_days(self) -> int:
        """Day of the last step."""
        return self.steps[-1].day

    def describe(self) -> str:
        """One line for a campaign list: ``"letter (day 0, 0.6) > email (day 14, 0.05)"``."""
        return " > ".join(f"{s.name} (day {s.day}, {s.cost:g})" for s in self.steps)

    def schedule(self, start) -> pd.DataFrame:
        """Dates and costs of the steps for a campaign starting on ``start``.

        Parameters
        ----------
        start : date-like
            Day 0 of the sequence (ISO text, ``datetime.date`` or ``pandas.Timestamp``).

        Returns
        -------
        DataFrame
            Columns ``step``, ``day``, ``date``, ``cost`` (one row per step, in order; cost in the
            log's currency per customer).

        Examples
        --------
        >>> seq = ContactSequence([("letter", 0.6, 0), ("email", 0.05, 14)])
        >>> seq.schedule("2024-01-01")["date"].dt.strftime("%Y-%m-%d").tolist()
        ['2024-01-01', '2024-01-15']
        """
        start = pd.Timestamp(start).normalize()
        return pd.DataFrame({
            "step": [s.name for s in self.steps],
            "day": [s.day for s in self.steps],
            "date": [start + pd.Timedelta(days=s.day) for s in self.steps],
            "cost": [float(s.cost) for s in self.steps],
        })

    def to_dict(self) -> dict:
        """Plain, JSON-serialisable form (stored in campaign lists' attrs)."""
        return {"name": self.name, "steps": [{"name": s.name, "cost": s.cost, "day": s.day} for s in self.steps]}

    @classmethod
    def from_dict(cls, data: dict) -> "ContactSequence":
        """Inverse of :meth:`to_dict`."""
        try:
            return cls(data["steps"], name=data["name"])
        except (KeyError, TypeError):
            raise DataError("a stored sequence must be {'name': ..., 'steps': [{'name', 'cost', 'day'}, ...]}; "
                            f"got {data!r}") from None


def _as_step(step) -> ContactStep:
    if isinstance(step, ContactStep):
        return step
    if isinstance(step, dict):
        try:
            return ContactStep(**step)
        except TypeError:
            raise DataError(f"a step dict has keys name, cost and optionally day; got {sorted(step)}") from None
    if isinstance(step, (tuple, list)) and len(step) in (2, 3):
        return ContactStep(*step)
    raise DataError(f"a step is a ContactStep, a (name, cost[, day]) tuple or a dict; got {step!r}")


def as_sequence(sequence) -> ContactSequence:
    """Accept a :class:`ContactSequence`, or a list of steps (named "winback")."""
    if isinstance(sequence, ContactSequence):
        return sequence
    if isinstance(sequence, dict):
        return ContactSequence.from_dict(sequence)
    if isinstance(sequence, (list, tuple)):
        return ContactSequence(sequence)
    raise DataError(f"sequence must be a ContactSequence or a list of (name, cost, day) steps; "
                    f"got {type(sequence).__name__}")
