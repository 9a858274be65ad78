"""Models identified by role: the purchase model carries a purchase family, the spend model is the
Gamma-Gamma.

Value and win-back code never asks which purchase model it holds: it takes the model's ``family``
(a :class:`~clvmodels.families.PurchaseFamily`) and calls its functions. These checks refuse a
model in the wrong role (e.g. the two models passed in the wrong order) with a DataError that
says what was expected.
"""

from __future__ import annotations

from clvmodels.errors import DataError
from clvmodels.families.contract import PurchaseFamily

#: the family of parameter dicts passed without one to the array-level functions of
#: :mod:`clvmodels.value.expected`, :mod:`clvmodels.value.simulate` and
#: :mod:`clvmodels.reactivation.returner` (their callers before the contract held BG/NBD
#: parameters); the customer-value and win-back entry points always pass the model's family
DEFAULT_FAMILY_NAME = "bgnbd"


def family_or_default(family: PurchaseFamily | None) -> PurchaseFamily:
    """``family``, or the registry's family named :data:`DEFAULT_FAMILY_NAME` when None."""
    if family is not None:
        return family
    from clvmodels.families import get_family

    return get_family(DEFAULT_FAMILY_NAME)


def purchase_family(model, what: str = "purchase_model") -> PurchaseFamily:
    """The purchase family of ``model`` (its ``family`` attribute), or a DataError.

    Parameters
    ----------
    model : object
        A fitted purchase model (``BetaGeoModel``, ``ParetoNBDModel``, ...).
    what : str
        The argument's name, for the message.

    Returns
    -------
    PurchaseFamily
    """
    family = getattr(model, "family", None)
    if not isinstance(family, PurchaseFamily):
        raise DataError(
            f"{what} (a fitted purchase model: BetaGeoModel, ParetoNBDModel, ModifiedBetaGeoModel, "
            f"BetaGeoBetaBinomModel, any model whose `family` is a PurchaseFamily) was expected, got "
            f"{type(model).__name__}; pass the purchase model first and the spend model "
            "(GammaGammaModel) second")
    return family


def check_spend_model(model, what: str = "spend_model") -> None:
    """Refuse anything but a Gamma-Gamma spend model (the value formulas take its conditional
    mean spend and its per-transaction Gamma posterior)."""
    from clvmodels.families.spend import GAMMAGAMMA

    if getattr(model, "family", None) is GAMMAGAMMA:
        return
    raise DataError(f"{what} (a fitted Gamma-Gamma spend model, GammaGammaModel) was expected, got "
                    f"{type(model).__name__}; pass the purchase model first and the spend model second")
