"""The probability that a contacted lapsed customer comes back *because of* the campaign.

Two sources:

- a **base rate** the user gives (e.g. 0.05 from experience). It is taken as known, so it adds
  no uncertainty. If it is a gross response rate (measured without a control group) it counts
  customers who would have returned anyway, and the value of winning them back is overstated.
- a past campaign's **measured uplift** (a :class:`CampaignEvaluation` with a control group): the
  posterior draws of ``theta_treated - theta_control`` are used draw by draw, so the uncertainty
  of the uplift reaches the intervals of the value (and negative draws stay negative: a campaign
  that may not work may destroy value).

By default the rate is **scaled by P(alive)** (``scale_by_p_alive=False`` turns it off). A rate
measured on lapsed customers averages over alive customers (who can respond) and dead ones (who
cannot): ``rate = mean P(alive) x rate_if_alive``. Customer i's probability is then
``rate x P_i(alive) / reference``, where ``reference`` is the mean P(alive) of the group the rate
was measured on (by default the mean of the current candidates, i.e. assuming they resemble that
group), capped at 1. The assumption is that alive customers respond equally, whatever their
other traits.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from clvmodels.errors import DataError


@dataclass(frozen=True)
class ResponseModel:
    """Response probability as used by :func:`clvmodels.winback_targets`.

    Build it with :func:`as_response_model`.
    """

    rate: float
    evaluation: object | None = None
    segment: str = "all"
    scale_by_p_alive: bool = True
    reference_p_alive: float | None = None

    def draws(self, n_draws: int, seed) -> np.ndarray:
        """Rate per draw, shape (n_draws, 1) (constant for a base rate)."""
        if self.evaluation is None:
            return np.full((n_draws, 1), self.rate)
        return self.evaluation.uplift_draws(n_draws=n_draws, seed=seed, segment=self.segment)[:, None]

    def per_customer(self, rate, p_alive, reference: float):
        """Each customer's response probability from the rate(s) and P(alive) (any broadcastable shapes)."""
        if not self.scale_by_p_alive:
            return np.broadcast_to(rate, np.broadcast_shapes(np.shape(rate), np.shape(p_alive)))
        if reference <= 0:  # every candidate has P(alive) = 0 in floating point: nobody can respond
            return np.zeros(np.broadcast_shapes(np.shape(rate), np.shape(p_alive)))
        return np.minimum(rate * p_alive / reference, 1.0)

    def describe(self) -> str:
        source = (f"base rate {self.rate:g}" if self.evaluation is None else
                  f"measured uplift {self.rate:.4g} (posterior mean, segment {self.segment!r})")
        if self.scale_by_p_alive:
            ref = "mean P(alive) of the candidates" if self.reference_p_alive is None else f"{self.reference_p_alive:g}"
            source += f", scaled by P(alive) / {ref}"
        return source


def as_response_model(response, *, scale_by_p_alive: bool = True, reference_p_alive: float | None = None,
                      segment: str = "all") -> ResponseModel:
    """A :class:`ResponseModel` from a base rate in (0, 1] or a :class:`CampaignEvaluation`."""
    from clvmodels.reactivation.evaluation import CampaignEvaluation

    if reference_p_alive is not None:
        if not (isinstance(reference_p_alive, numbers.Real) and 0 < reference_p_alive <= 1):
            raise DataError(f"reference_p_alive must be a probability in (0, 1]; got {reference_p_alive!r}")
        if not scale_by_p_alive:
            raise DataError("reference_p_alive only matters with scale_by_p_alive=True")
    if isinstance(response, CampaignEvaluation):
        if not response.has_control:
            raise DataError(
                "this campaign evaluation has no control group, so it measured no uplift, only gross "
                "response; pass response=<rate> instead, knowing that a gross rate overstates what the "
                "campaign causes"
            )
        table = response.table
        if segment not in table.index:
            raise DataError(f"unknown segment {segment!r} of the evaluation; segments are {list(table.index)}")
        rate = float(table.loc[segment, "uplift"])
        return ResponseModel(rate, response, segment, scale_by_p_alive, reference_p_alive)
    if isinstance(response, bool) or not isinstance(response, numbers.Real) or not math.isfinite(response) \
            or not 0 < response <= 1:
        raise DataError(f"response must be a probability in (0, 1] (e.g. 0.05 for 5%) or the result of "
                        f"evaluate_campaign(...); got {response!r}")
    return ResponseModel(float(response), None, segment, scale_by_p_alive, reference_p_alive)
