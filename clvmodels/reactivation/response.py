"""How much a contact raises each lapsed customer's chance of buying in the response window.

Only the increment is credited: the *baseline* is what the purchase model expects without any
contact, ``P(purchase in the window | history) = 1 - P0``, and the *uplift* is the rise of that
probability the contact causes. Three sources, each named so it cannot be misread:

``uplift=<CampaignEvaluation>``
    A past campaign's measurement against a control group (:func:`clvmodels.evaluate_campaign`):
    its posterior draws of ``theta_treated - theta_control`` are used draw by draw, so the
    uplift's uncertainty reaches the value's interval (negative draws stay negative). With
    ``segment_col=`` each candidate takes the uplift of its segment (the column of the lapsed
    frame holding the same labels as the evaluation's ``segments``, e.g. a recency or P(alive)
    band); without it, the ``"all"`` row.
``uplift=<number>``
    The uplift itself, stated by the user: the average rise, over the candidates, of the
    probability of a purchase in the window (0.03 = three more buyers per hundred contacted).
    Taken as known: no uncertainty.
``response_with_contact=<number>``
    The share of contacted customers who buy in the window (a gross response rate, e.g. the 5%
    of a campaign measured without a control group). The model's mean baseline over the
    candidates is subtracted: ``uplift = response_with_contact - mean(baseline)``; a rate not
    above the baseline is refused (the contact would add nothing).

Who gets the uplift (``allocate_uplift``):

``"alive_non_buyers"`` (default)
    A contact can only turn a customer who is still alive and would not have bought in the window
    into a buyer (one who is gone cannot buy; one who would buy anyway adds nothing). The contact
    converts the same share ``k`` of those customers in a segment: customer i's uplift is
    ``k x P_i(alive and no purchase in the window)``, with ``k`` set so that the segment's mean
    uplift over the candidates is the measured or stated one (at the point estimate of the
    purchase model). So a customer with P(alive) 0.004 gets about 0.4% of the uplift of one
    certainly alive. ``k`` is capped at 1 (nobody's uplift exceeds their probability of being
    such a customer), with a warning: the candidates then have fewer alive non-buyers than the
    uplift needs, so they do not resemble the customers it was measured on.
``"equal"``
    Every candidate of a segment gets the segment's uplift, capped at
    ``P_i(alive and no purchase in the window)``.

Assumptions: the candidates (per segment) resemble the customers on whom the uplift was
measured; the measured window has the length of the response window used here; a converted
customer behaves afterwards like any customer who bought in the window (the contact changes
*whether* they buy, not their rate or spend).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np
import pandas as pd

from clvmodels._warn import warn_user
from clvmodels.errors import DataError, check_choice, describe_rows

ALLOCATIONS = ("alive_non_buyers", "equal")
ALL = "all"


def _probability(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) \
            or not 0 < value <= 1:
        raise DataError(f"{name} must be a probability in (0, 1] (e.g. 0.05 for 5%); got {value!r}")
    return float(value)


@dataclass(frozen=True)
class UpliftSource:
    """Where the uplift comes from; build it with :func:`as_uplift_source`.

    Attributes
    ----------
    kind : {"measured", "stated_uplift", "response_with_contact"}
    rate : float or None
        The stated number (uplift or response with contact).
    evaluation : CampaignEvaluation or None
    segment_col : str or None
    allocation : str
        One of :data:`ALLOCATIONS`.
    """

    kind: str
    rate: float | None
    evaluation: object | None
    segment_col: str | None
    allocation: str

    def segments(self, rows: pd.DataFrame) -> tuple[np.ndarray, list]:
        """Segment code of each candidate (shape (n,)) and the segment labels."""
        if self.segment_col is None:
            return np.zeros(len(rows), dtype=np.int64), [ALL]
        if self.segment_col not in rows.columns:
            raise DataError(f"segment_col {self.segment_col!r} is not a column of the lapsed frame; its "
                            f"columns are {list(rows.columns)[:15]}. Add the segment labels used in "
                            "evaluate_campaign(..., segments=...)")
        labels = rows[self.segment_col]
        known = [s for s in self.evaluation.posteriors if s != ALL]
        unknown = ~labels.isin(known).to_numpy()
        if unknown.any():
            raise DataError(f"{describe_rows(rows.index[unknown])} of the candidates have a segment "
                            f"({sorted(map(str, pd.unique(labels[unknown])))[:5]}) the evaluation did not "
                            f"measure; its segments are {known}. Relabel them or drop them from candidates")
        codes = pd.Index(known).get_indexer(labels)
        return codes.astype(np.int64), known

    def segment_uplift(self, labels: list, mean_baseline: np.ndarray, n_draws: int,
                       seed) -> tuple[np.ndarray, np.ndarray]:
        """Mean uplift of each segment over its candidates: point (shape (G,)) and draws (S, G).

        ``mean_baseline`` is each segment's mean baseline response (for ``response_with_contact``).
        """
        if self.kind == "measured":
            root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
            seeds = root.spawn(len(labels))
            draws = np.column_stack([self.evaluation.uplift_draws(n_draws=n_draws, seed=s, segment=g)
                                     for g, s in zip(labels, seeds)])
            point = np.array([float(self.evaluation.table.loc[g, "uplift"]) for g in labels])
            return point, draws
        point = np.full(len(labels), self.rate) if self.kind == "stated_uplift" else self.rate - mean_baseline
        if self.kind == "response_with_contact" and point[0] <= 0:
            raise DataError(
                f"response_with_contact={self.rate:g} is not above what the model expects these customers "
                f"to do without any contact (mean baseline response {mean_baseline[0]:.4g} over the "
                "candidates), so by this measure the contact adds nothing. Measure the uplift against a "
                "control group (evaluate_campaign) and pass uplift=<evaluation>, or state uplift=<rate>")
        return point, np.broadcast_to(point, (n_draws, len(labels)))

    def describe(self) -> str:
        if self.kind == "measured":
            by = f" by {self.segment_col!r}" if self.segment_col else ""
            text = f"uplift measured against a control group{by}"
        elif self.kind == "stated_uplift":
            text = f"stated uplift {self.rate:g}"
        else:
            text = f"stated response with contact {self.rate:g} minus the model's baseline"
        return f"{text}; allocated to {self.allocation.replace('_', ' ')}"


def mean_reachable(codes, reachable_point, n_segments: int) -> np.ndarray:
    """Each segment's mean P(alive and no purchase in the window) over its candidates, shape (G,).

    ``reachable_point`` (shape (n,), every candidate) is at the point estimate of the purchase model.
    """
    totals = np.bincount(codes, weights=reachable_point, minlength=n_segments)
    counts = np.bincount(codes, minlength=n_segments)
    return np.divide(totals, counts, out=np.zeros(n_segments), where=counts > 0)


def check_conversion(source: UpliftSource, segment_point, reachable_mean, counts) -> np.ndarray:
    """The share k of alive non-buyers the contact converts, per segment (G,); warns above 1 in
    a segment with candidates (``counts``, shape (G,))."""
    share = np.divide(segment_point, reachable_mean, out=np.full(len(segment_point), np.inf),
                      where=reachable_mean > 0)
    if source.allocation == "alive_non_buyers" and np.any((share > 1) & (counts > 0)):
        worst = np.max(share[counts > 0])
        warn_user("the uplift exceeds the candidates' mean probability of being alive and not buying in the "
                  f"window (conversion share {worst:.3g} > 1): these candidates hold fewer alive "
                  "non-buyers than the uplift needs, so they do not resemble the customers it was measured "
                  "on; each is credited with at most their P(alive and no purchase in the window), so the "
                  "mean uplift credited is below the one given")
    return share


def allocate(source: UpliftSource, segment_mean, codes, reachable, reachable_mean) -> np.ndarray:
    """Per-customer uplift from the segments' mean uplift, shape (S, n).

    Parameters
    ----------
    segment_mean : ndarray, shape (S, G) or (1, G)
        Mean uplift of each segment over its candidates.
    codes : ndarray of int, shape (n,)
        Segment of each customer.
    reachable : ndarray, shape (S, n) or (1, n)
        P(alive and no purchase in the window), per draw.
    reachable_mean : ndarray, shape (G,)
        :func:`mean_reachable` over all candidates (sets the conversion share k).
    """
    per_customer = np.asarray(segment_mean)[:, codes]
    if source.allocation == "equal":
        return np.minimum(per_customer, reachable)
    ref = reachable_mean[codes]
    share = np.divide(per_customer, ref, out=np.zeros(np.broadcast_shapes(per_customer.shape, ref.shape)),
                      where=ref > 0)
    return np.minimum(share, 1.0) * reachable  # nobody converts with probability above 1


def as_uplift_source(*, uplift=None, response_with_contact=None, segment_col=None,
                     allocate_uplift: str = "alive_non_buyers") -> UpliftSource:
    """An :class:`UpliftSource` from exactly one of ``uplift`` and ``response_with_contact``."""
    from clvmodels.reactivation.evaluation import CampaignEvaluation

    check_choice("allocate_uplift", allocate_uplift, ALLOCATIONS)
    if (uplift is None) == (response_with_contact is None):
        raise DataError("give exactly one of uplift= (a campaign's evaluate_campaign(...) result, or the "
                        "uplift itself, e.g. 0.03) and response_with_contact= (the share of contacted "
                        "customers who buy in the window, e.g. 0.05; the model's baseline is subtracted)")
    if segment_col is not None and not isinstance(uplift, CampaignEvaluation):
        raise DataError("segment_col needs uplift=<evaluate_campaign(..., segments=...) result>: a stated "
                        "rate has no segments")
    if isinstance(uplift, CampaignEvaluation):
        if not uplift.has_control:
            raise DataError(
                "this campaign evaluation has no control group, so it measured no uplift, only gross "
                "response; pass response_with_contact=<its response rate> instead (the model's "
                "baseline is then subtracted)")
        if segment_col is not None and len(uplift.posteriors) < 2:
            raise DataError("segment_col was given but the evaluation has no segments; pass "
                            "evaluate_campaign(..., segments=...) or drop segment_col")
        return UpliftSource("measured", None, uplift, segment_col, allocate_uplift)
    if uplift is not None:
        return UpliftSource("stated_uplift", _probability("uplift", uplift), None, None, allocate_uplift)
    return UpliftSource("response_with_contact", _probability("response_with_contact", response_with_contact),
                        None, None, allocate_uplift)
