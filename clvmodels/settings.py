"""The settings of a scoring run (:class:`PipelineSettings`) and the rule each one must follow.

One table, :data:`RULES`, says for every setting what a valid value is. The same rules check a
:class:`PipelineSettings` built in Python, a key of the command line's TOML configuration and a
command-line flag; only the label in the message differs (``n_draws``, ``clv.toml: [value]
n_draws``, ``--n-draws``), so every refusal reads "<label> must be <valid range>; got <value>".

Only the standard library is imported here, so the command line can check its options before
pandas loads.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass

from clvmodels.errors import DataError

#: letter, then two e-mails: 1.00 per customer in all (3,000 USD for 3,000 lapsed customers,
#: the budget of the win-back example in notebook 04)
DEFAULT_SEQUENCE = (("letter", 0.8, 0), ("email 1", 0.1, 7), ("email 2", 0.1, 21))

TIME_UNIT_CHOICES = ("D", "W", "M", "Y")

#: the time unit of summaries when none is stated, in the API (``clvmodels.rfm_summary``) and on
#: the command line alike: days, the unit of a timestamp, so nothing is rounded. Horizons follow
#: the summary's unit; the command line's default horizon is one year in that unit.
DEFAULT_TIME_UNIT = "D"


#: the purchase model of the pipeline and the command line when none is named
DEFAULT_PURCHASE_MODEL = "bgnbd"


class Invalid(Exception):
    """A value breaks its rule (the rule's description is the message)."""


@dataclass(frozen=True)
class Rule:
    """What a valid value of one setting is.

    ``describe`` completes "<setting> must be ..."; ``check`` returns the value in its canonical
    form (e.g. an int horizon as float) or raises :class:`Invalid`; ``parse`` turns command-line
    text into a value for ``check``; ``choices`` lists the valid words of a choice setting.
    """

    describe: str
    check: Callable
    parse: Callable = str
    choices: tuple = ()
    metavar: str = "TEXT"


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _number_text(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise Invalid from None


def _integer_text(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise Invalid from None


def number(describe: str, low: float | None = None, high: float | None = None, *, low_open=False,
           high_open=False, optional=False) -> Rule:
    """A finite real number in [low, high] (bounds open when asked), as float."""

    def check(value):
        if value is None and optional:
            return None
        if not _is_real(value) or not math.isfinite(value):
            raise Invalid
        if low is not None and (value < low or (low_open and value == low)):
            raise Invalid
        if high is not None and (value > high or (high_open and value == high)):
            raise Invalid
        return float(value)

    return Rule(describe, check, _number_text, metavar="NUMBER")


def integer(describe: str, minimum: int) -> Rule:
    """A whole number >= minimum (an integral float such as 300.0 is not accepted: say 300)."""

    def check(value):
        if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < minimum:
            raise Invalid
        return int(value)

    return Rule(describe, check, _integer_text, metavar="INTEGER")


def choice(options: tuple, *, none_word: str | None = None) -> Rule:
    """One of ``options``; ``none_word`` (e.g. "none") stands for None where None is allowed."""
    words = options + ((none_word,) if none_word else ())

    def check(value):
        if none_word and value in (None, none_word):
            return None
        if value not in options:
            raise Invalid
        return value

    return Rule("one of " + ", ".join(repr(w) for w in words), check, choices=words,
                metavar="[" + "|".join(words) + "]")


class RegisteredChoice:
    """The rule of a setting whose valid words are registered elsewhere (the purchase models).

    It reads like a :class:`Rule` (``describe``, ``check``, ``parse``, ``choices``, ``metavar``) but
    asks ``load`` for the words only when a value is checked or refused, so this module, the
    option declarations and ``clvmodels --help`` import nothing beyond the standard library.
    """

    parse = str

    def __init__(self, load: Callable[[], tuple], metavar: str = "NAME"):
        self._load, self._words, self.metavar = load, None, metavar

    @property
    def choices(self) -> tuple:
        if self._words is None:
            self._words = tuple(self._load())
        return self._words

    @property
    def describe(self) -> str:
        return "one of " + ", ".join(repr(w) for w in self.choices)

    def check(self, value):
        if not isinstance(value, str) or value not in self.choices:
            raise Invalid
        return value


def _transaction_log_purchase_models() -> tuple:
    """Names of the registered purchase models whose families read continuous time: the ones a
    transaction log's summary (frequency, recency, T in a time unit) can be fitted with.
    Discrete-opportunity families (BG/BB) need a summary of opportunities instead."""
    from clvmodels.models.registry import purchase_model_names

    return tuple(purchase_model_names(discrete_time=False))


def text(describe: str = "a non-empty text", *, optional=False) -> Rule:
    def check(value):
        if value is None and optional:
            return None
        if not isinstance(value, str) or not value.strip():
            raise Invalid
        return value

    return Rule(describe, check)


def _date_check(value):
    """An ISO date (text, date or datetime, pandas Timestamp included) as 'YYYY-MM-DD[...]' text.

    numpy.datetime64 and a daily pandas.Period are taken by their ISO text (recognised by type
    name: this module does not import numpy or pandas); a coarser Period is refused, since which
    of its days is meant would be a guess."""
    if value is None:
        return None
    if isinstance(value, (dt.date, dt.datetime)):  # a TOML date, or pandas.Timestamp
        return value.isoformat()
    if type(value).__name__ in ("datetime64", "Period"):
        value = str(value)
    if isinstance(value, str):
        for parse in (dt.date.fromisoformat, dt.datetime.fromisoformat):
            try:
                parse(value.strip())
                return value.strip()
            except ValueError:
                continue
    raise Invalid


def _names_check(value):
    names = (value,) if isinstance(value, str) else value
    if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) and n.strip() for n in names):
        raise Invalid
    return tuple(names)


def _sequence_check(value):
    """Steps as (name, cost, day) tuples: from tuples/lists or {name, cost, day} tables (TOML)."""
    if not isinstance(value, (list, tuple)) or not value:
        raise Invalid
    steps = []
    for step in value:
        if isinstance(step, dict):
            if not {"name", "cost"} <= set(step) or set(step) - {"name", "cost", "day"}:
                raise Invalid
            step = (step["name"], step["cost"], step.get("day", 0))
        if not isinstance(step, (list, tuple)) or len(step) not in (2, 3):
            raise Invalid
        name, cost, day = (*step, 0) if len(step) == 2 else step
        if not isinstance(name, str) or not name.strip() or not _is_real(cost) or not math.isfinite(cost) \
                or cost < 0 or not isinstance(day, numbers.Integral) or isinstance(day, bool) or day < 0:
            raise Invalid
        steps.append((name, float(cost), int(day)))
    return tuple(steps)


COLUMN = text("a column name (non-empty text)")
TIME_UNIT = choice(TIME_UNIT_CHOICES)

#: setting -> its rule (every field of :class:`PipelineSettings` has one; a test says so)
RULES: dict[str, Rule | RegisteredChoice] = {
    "customer_id_col": COLUMN,
    "datetime_col": COLUMN,
    "monetary_value_col": COLUMN,
    "datetime_format": text("a strftime format such as '%Y-%m-%d'", optional=True),
    "observation_end": Rule("a date YYYY-MM-DD", _date_check, metavar="YYYY-MM-DD"),
    "time_unit": TIME_UNIT,
    "attribute_cols": Rule("a column name or a list of column names", _names_check),
    "returns": choice(("refuse", "net", "drop")),
    "late_purchases": choice(("refuse", "drop")),
    "zero_amounts": choice(("refuse", "keep", "drop")),
    "purchase_model": RegisteredChoice(_transaction_log_purchase_models),
    "method": choice(("mle", "bayes")),
    "penalizer": number("a number >= 0", 0.0),
    "horizon": number("a number of time units > 0 (e.g. 52 weeks)", 0.0, low_open=True, optional=True),
    "uncertainty": choice(("expected", "predictive"), none_word="none"),
    "level": number("a number strictly between 0 and 1 (e.g. 0.9)", 0.0, 1.0, low_open=True, high_open=True),
    "n_draws": integer("a whole number >= 2 (e.g. 300)", 2),
    "margin": number("a gross-margin rate between 0 and 1 (e.g. 0.3)", 0.0, 1.0),
    "discount_rate": number("an annual rate >= 0 and < 1 (e.g. 0.1)", 0.0, 1.0, high_open=True),
    "cost_per_transaction": number("an amount >= 0", 0.0),
    "cost_to_serve": number("an amount >= 0 per time unit", 0.0),
    "acquisition_cost_col": text("a column name (non-empty text)", optional=True),
    "lapsed_window": number("a number of units > 0 (e.g. 26)", 0.0, low_open=True),
    "lapsed_window_unit": TIME_UNIT,
    "p_alive_below": number("a probability > 0 and <= 1", 0.0, 1.0, low_open=True, optional=True),
    "uplift": number("a probability > 0 and <= 1 (e.g. 0.05: a contact raises the chance of a purchase in "
                     "the response window by 5 points)", 0.0, 1.0, low_open=True),
    "sequence": Rule("a non-empty list of steps {name = \"letter\", cost = 1.5, day = 0} "
                     "(cost >= 0, day a whole number >= 0)", _sequence_check),
    "budget": number("an amount > 0", 0.0, low_open=True, optional=True),
    "min_return": number("a finite number (value / contact cost, e.g. 1.0)", optional=True),
    "currency": text("a currency code such as 'USD'"),
    "run_id": text("a non-empty text", optional=True),
    "seed": integer("a whole number >= 0", 0),
}


def _refusal(name: str, label: str | None, shown, typed: bool) -> DataError:
    rule = RULES[name]
    hint = " (a text: write numbers without quotes)" if typed and isinstance(shown, str) and \
        rule.parse in (_number_text, _integer_text) else ""
    return DataError(f"{label or name} must be {rule.describe}; got {shown!r}{hint}")


def check_setting(name: str, value, label: str | None = None):
    """``value`` in its canonical form if it is valid for setting ``name``, else a DataError
    "<label> must be <valid range>; got <value>" (``label`` defaults to the setting's name)."""
    try:
        return RULES[name].check(value)
    except Invalid:
        raise _refusal(name, label, value, typed=True) from None


def parse_setting(name: str, text_value: str, label: str):
    """A command-line value (text) of setting ``name`` checked like any other (see check_setting);
    the message quotes the text as typed."""
    rule = RULES[name]
    try:
        return rule.check(rule.parse(text_value))
    except Invalid:
        raise _refusal(name, label, text_value, typed=False) from None


@dataclass(frozen=True)
class PipelineSettings:
    """All settings of a scoring run (money in the log's currency, times in ``time_unit``).

    Defaults: ``time_unit="D"`` (:data:`DEFAULT_TIME_UNIT`, as :func:`clvmodels.rfm_summary`);
    ``horizon=None`` is one year in the summary's time unit (365.2425 days, 52.18 weeks, 12
    months; see :meth:`horizon_in`); ``lapsed_window=26`` in its own unit
    (``lapsed_window_unit="W"``) is half a year. Interval level ``level=0.9``, the default of
    every prediction, value and parameter table. ``purchase_model="bgnbd"``
    (:data:`DEFAULT_PURCHASE_MODEL`): the name of a purchase model in
    :mod:`clvmodels.models.registry` whose family reads continuous time.

    Every value is checked against :data:`RULES` when the settings are built, so a wrong type or
    an out-of-range value is refused here, naming the setting and its valid range, instead of
    failing deep inside a step.
    """

    # reading the transaction log (see clvmodels.rfm_summary)
    customer_id_col: str = "customer_id"
    datetime_col: str = "date"
    monetary_value_col: str = "amount"
    datetime_format: str | None = None
    observation_end: str | None = None
    time_unit: str = DEFAULT_TIME_UNIT
    attribute_cols: tuple[str, ...] = ()
    returns: str = "refuse"
    late_purchases: str = "refuse"
    zero_amounts: str = "refuse"
    # models
    purchase_model: str = DEFAULT_PURCHASE_MODEL  # a name of clvmodels.models.registry
    method: str = "mle"
    penalizer: float = 0.0
    # predictions and value
    horizon: float | None = None  # None: one year in the summary's time unit
    uncertainty: str | None = "expected"
    level: float = 0.9
    n_draws: int = 300
    margin: float = 0.3
    discount_rate: float = 0.1
    cost_per_transaction: float = 0.0
    cost_to_serve: float = 0.0
    acquisition_cost_col: str | None = None
    # reactivation
    lapsed_window: float = 26.0
    lapsed_window_unit: str = "W"
    p_alive_below: float | None = None
    uplift: float = 0.05  # rise in P(purchase in the response window) a contact causes
    sequence: tuple = DEFAULT_SEQUENCE
    budget: float | None = None
    min_return: float | None = None
    # export
    currency: str = "USD"
    run_id: str | None = None
    seed: int = 0

    def __post_init__(self):
        for f in dataclasses.fields(self):
            object.__setattr__(self, f.name, check_setting(f.name, getattr(self, f.name)))

    def replace(self, **changes) -> "PipelineSettings":
        """A copy with ``changes`` (unknown names and invalid values are refused)."""
        names = [f.name for f in dataclasses.fields(self)]
        unknown = sorted(set(changes) - set(names))
        if unknown:
            raise DataError(f"unknown settings {unknown}; settings are {sorted(names)}")
        return dataclasses.replace(self, **changes)

    def horizon_in(self, time_unit: str) -> float:
        """The horizon in ``time_unit`` (the summary's): as set, or one year when unset."""
        from clvmodels.data.timeunits import units_per_year

        return self.horizon if self.horizon is not None else units_per_year(time_unit)

    def economics(self, time_unit: str) -> dict:
        """The value settings for a summary in ``time_unit`` (see :class:`clvmodels.value.Economics`)."""
        return {"margin": self.margin, "horizon": self.horizon_in(time_unit), "discount_rate": self.discount_rate,
                "cost_per_transaction": self.cost_per_transaction, "cost_to_serve": self.cost_to_serve}
