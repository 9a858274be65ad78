"""Purchase times and their discounted sums, for simulated futures.

Given how many purchases each simulated customer makes in a window and the spacings after the
last one, the purchase times follow from the normalised-spacings representation of uniform order
statistics; each purchase is discounted by ``exp(-ln(1 + d) s)`` and may carry a Gamma spend.
Shared by the BG/NBD and MBG/NBD simulators (:mod:`clvmodels.formulas.future_simulation`) and the
Pareto/NBD one (:mod:`clvmodels.formulas.family_futures`). The work is one compiled pass over the
customers (:func:`clvmodels.formulas.timing_kernel.discounted_sums`, memory O(customers)), drawing
from the generator passed in; nothing validates its input.
"""

from __future__ import annotations

import numpy as np

from clvmodels.formulas.timing_kernel import discounted_sums

_NO_SPEND = np.empty(0)


def _discounted_sums(rng, count, rest, horizon, log_discount, spend_shape, nu, batch_purchases=None,
                     one_spend_draw=False, spend_by_runs=False):
    """Discounted count, discounted spend (None without ``nu``) and time of the last purchase of
    customers making ``count`` purchases in (0, horizon], flat arrays of one length.

    Purchase times by normalised spacings (see :func:`clvmodels.formulas.future_simulation.simulate_discounted_purchases`; ``rest``
    is the Gamma(K + 1 - N) of the spacings after the last purchase); the draw order is in
    :mod:`clvmodels.formulas.timing_kernel`. ``horizon`` and ``log_discount`` are scalars or
    one value per customer. With ``one_spend_draw`` (only exact where every discount factor is
    1, i.e. ``log_discount == 0``, where it is always done) the spend total of N purchases is one
    ``Gamma(N spend_shape, rate nu)`` draw instead of N ``Gamma(spend_shape)``.
    ``batch_purchases`` and ``spend_by_runs`` are accepted for the callers of the batched numpy
    version this replaces and have no effect (no batches: nothing per purchase is stored).
    """
    count = np.require(np.ravel(count), np.int64, ("C", "W"))
    with_spend = nu is not None
    discounted, last_time = np.empty(count.size), np.empty(count.size)
    spend = np.empty(count.size) if with_spend else _NO_SPEND
    n = count.size
    discounted_sums(rng, count, _floats(rest, n), _floats(horizon, n, shared=True),
                    _floats(log_discount, n, shared=True),
                    _floats(spend_shape, n) if with_spend else _NO_SPEND,
                    _floats(nu, n) if with_spend else _NO_SPEND, bool(one_spend_draw),
                    discounted, spend, last_time)
    return discounted, spend if with_spend else None, last_time


def _floats(v, n, shared=False):
    """``v`` as a 1-D, C-ordered, writable float64 array of ``n`` values (one compiled variant of
    the kernel, which does not check bounds); with ``shared`` a single value stays one element."""
    v = np.ravel(np.asarray(v, dtype=float))
    if v.size != n and not (shared and v.size == 1):
        v = np.broadcast_to(v, (n,))  # a scalar spread; any other length raises
    return np.require(v, np.float64, ("C", "W"))
