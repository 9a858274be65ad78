"""The quantity functions of a purchase model and the frame they are evaluated into.

A mixin of :class:`~clvmodels.models.purchase.PurchaseModel`: each prediction is a quantity
``fn(params, data) -> (S, n)`` built from the model's family (P(alive) times an alive-branch factor
per distinct key, :mod:`clvmodels.models.histories`) and, for outcomes, a simulator; ``_frame``
evaluates a list of them with the requested interval kind into one DataFrame.
"""

from __future__ import annotations

import pandas as pd

from clvmodels.errors import DataError
from clvmodels.models import histories
from clvmodels.models.grouped import GroupMember, QuantityGroup, evaluate_group
from clvmodels.models.outputs import FrameColumns
from clvmodels.models.paired import ProductQuantity, evaluate_product
from clvmodels.models.scoring import cheap, complement, evaluate


class PurchaseQuantities:
    """Quantity builders and the prediction frame, written against ``self.family`` only."""

    # ----- the family, as the shared machinery needs it ------------------------------------------
    def _hist(self, D) -> tuple:
        return histories.history_of(self.family, D)

    def _p_alive_fn(self):
        family = self.family
        return cheap(lambda P, D: family.p_alive(P, *histories.history_of(family, D)))

    def _purchases(self, h: float):
        """Expected purchases in the next ``h`` periods and their simulator, as quantity functions."""
        family = self.family
        # cheap per row: P(alive) is a few logarithms and the alive branch groups the rows by their
        # alive key itself, so compressing whole histories first would only cost time
        return (cheap(lambda P, D: histories.expected_purchases(family, P, D, h)),
                lambda rng, P, D: self._simulate_purchases(rng, P, D, h))

    def _churn_by(self, h: float):
        """Probability of having dropped out by ``h`` periods after T, as a quantity function."""
        family = self.family
        return cheap(lambda P, D: 1.0 - histories.p_alive_at(family, P, D, h))

    def _simulate_purchases(self, rng, P, D, horizon):
        """Predictive draws of each customer's purchase count in the next ``horizon`` periods, (S, n).

        Latent traits from each customer's exact posterior given their history, then the family's
        future simulation (``family.sample_latents`` and ``family.simulate_purchases``).
        """
        latents = self.family.sample_latents(rng, P, *self._hist(D))
        return self.family.simulate_purchases(rng, latents, horizon)

    # ----- predictions ---------------------------------------------------------------------------
    def _frame(self, summary, quantities, *, uncertainty, level, n_draws, seed,
               spend_model=None) -> pd.DataFrame:
        """Evaluate named quantities into one DataFrame indexed like ``summary``.

        quantities : list of (column, what, simulator or None[, uses]). ``what`` is a quantity
            function, a :class:`~clvmodels.models.paired.ProductQuantity` of this model and the
            spend model (``column`` then names its two columns: the purchase factor and the
            product), the name of an earlier column whose complement (1 - it) this column is, a
            :class:`~clvmodels.models.grouped.QuantityGroup` (``column`` None: evaluated in one pass,
            no column of its own) or a :class:`~clvmodels.models.grouped.GroupMember` naming one of
            an earlier group's quantities.
            ``uses`` is "purchase" (default) or "spend": which model's parameters and data it reads.
        """
        self._check_scoring(summary)
        # one CustomerData per model, so each compresses its rows once for all quantities
        inputs = {"purchase": ([self], self._scoring_data(summary))}
        if spend_model is not None:
            spend_model._check_scoring(summary)
            inputs["spend"] = ([spend_model], spend_model._scoring_data(summary))
        out = FrameColumns()
        results = {}
        for column, what, sim, *uses in quantities:
            is_outcome = sim is not None or isinstance(what, ProductQuantity)
            kind = uncertainty if (uncertainty != "predictive" or is_outcome) else "expected"
            if isinstance(what, QuantityGroup):  # evaluated together; its columns follow as members
                models, data = inputs["purchase"]
                results.update(evaluate_group(what, models, data, uncertainty=uncertainty,
                                              level=level, n_draws=n_draws, seed=seed))
                continue
            if isinstance(what, GroupMember):
                result = results[what.name]
            elif isinstance(what, str):
                result = complement(results[what])
            elif isinstance(what, ProductQuantity):  # two columns: the purchase factor and the product
                both = evaluate_product(what, [self, spend_model],
                                        [inputs["purchase"][1], inputs["spend"][1]],
                                        uncertainty=kind, level=level, n_draws=n_draws, seed=seed)
                first_column, column = column
                out.add(first_column, both["first"], kind)
                result = both["product"]
            else:
                models, data = inputs[uses[0] if uses else "purchase"]
                result = evaluate(what, models, data, uncertainty=kind, level=level, n_draws=n_draws,
                                  seed=seed, sim=sim)
            results[column] = result
            out.add(column, result, kind)
        out = out.frame(summary.index)
        out.attrs["clvmodels"] = {"uncertainty": uncertainty, "level": level, "n_draws": n_draws,
                                  "seed": seed, "method": self.method, "time_unit": self.time_unit_}
        return out

    def _predict_group(self, h: float, with_purchases: bool) -> QuantityGroup:
        """P(alive), churn by the horizon end, P(no purchase) (and the expected purchases) in one
        quantity, P(alive) computed once and passed to the functions :meth:`_churn_by`,
        :meth:`_probability_of` and :meth:`_purchases` use."""
        family = self.family

        def together(P, D):
            alive = family.p_alive(P, *histories.history_of(family, D))
            out = {
                "p_alive": alive,
                "churn_probability": 1.0 - histories.p_alive_at(family, P, D, h, alive),
                "prob_no_purchase": histories.purchase_probability(family, P, D, h, 0, alive),
            }
            if with_purchases:
                out["expected_purchases"] = histories.expected_purchases(family, P, D, h, alive)
            return out

        names = ("p_alive", "churn_probability", "prob_no_purchase")
        if not with_purchases:
            return QuantityGroup(together, names)
        return QuantityGroup(together, (*names, "expected_purchases"),
                             {"expected_purchases": self._purchases(h)[1]})

    def _probability_of(self, h: float, k: int):
        """P(k purchases in the next ``h`` periods | history) as a quantity function: P(alive)
        times the alive-branch probability, evaluated once per distinct alive key (the costly
        part; for Pareto/NBD an integral per draw and key), plus P(gone) for k = 0."""
        family = self.family
        return cheap(lambda P, D: histories.purchase_probability(family, P, D, h, k))

    def _no_predictive(self, uncertainty, what):
        if uncertainty == "predictive":
            raise DataError(
                f"{what} is a probability, not an outcome, so it has no predictive interval; use "
                "uncertainty='expected' for its parameter-uncertainty interval"
            )

    def _only(self, out: pd.DataFrame, column: str) -> pd.DataFrame:
        """Keep ``column`` (and its bounds) of a frame that computed helper columns too."""
        keep = [c for c in out.columns if c in (column, f"{column}_lower", f"{column}_upper")]
        kinds = {k: v for k, v in out.attrs.get("interval_kinds", {}).items() if k == column}
        result = out[keep]
        result.attrs = {**out.attrs, **({"interval_kinds": kinds} if kinds else {})}
        if not kinds:
            result.attrs.pop("interval_kinds", None)
        return result
