"""Time units: the one place where lengths of time are converted.

A customer summary measures recency and T in a *time unit* ("D", "W", "M", "Y"); horizons given
to models are in that same unit. Calendar months and years have no fixed length, so "M" and "Y"
are defined from the mean Gregorian year (365.2425 days), stated here once and nowhere else.
"""

from __future__ import annotations

from clvmodels.errors import check_choice

DAYS_PER_GREGORIAN_YEAR = 365.2425

#: Length of each supported time unit in days.
DAYS_PER_UNIT: dict[str, float] = {
    "D": 1.0,
    "W": 7.0,
    "M": DAYS_PER_GREGORIAN_YEAR / 12.0,
    "Y": DAYS_PER_GREGORIAN_YEAR,
}


def days_per_unit(time_unit: str) -> float:
    """Length of ``time_unit`` in days; a clear error lists the valid units."""
    check_choice("time_unit", time_unit, list(DAYS_PER_UNIT))
    return DAYS_PER_UNIT[time_unit]


def units_per_year(time_unit: str) -> float:
    """How many ``time_unit`` periods make one (Gregorian mean) year."""
    return DAYS_PER_GREGORIAN_YEAR / days_per_unit(time_unit)


def per_period_discount_rate(annual_rate: float, time_unit: str) -> float:
    """Convert an annual discount rate to the equivalent rate per ``time_unit``.

    Uses compounding, ``(1 + annual) ** (1 / units_per_year) - 1``, so that discounting
    one year of periods equals discounting once at the annual rate.
    """
    return (1.0 + annual_rate) ** (1.0 / units_per_year(time_unit)) - 1.0
