"""The reference PyMC models: the same likelihood and priors written plainly in PyTensor.

Used by ``sampler="pymc"`` and ``sampler="advi"``, and by the tests as the yardstick of the fast
numba path (:mod:`.fast_loglik`): both give the same log density at the same point.

The weighted log-likelihood enters as a ``pm.Potential`` (distinct rows times their counts). The
free variables and their names mirror the unconstrained layout of :mod:`.log_density`:
``log_<name>`` when pooled; ``zeta_<name>``, ``sigma_log_<name>`` (HalfNormal, log-transformed
by PyMC) and ``v_<name>`` (dims "segment") when pooled by segment, in the parametrisation of
:mod:`.hierarchical` (flat variables, the prior and Jacobian in a Potential; the population mean
``mu_log_<name>`` is a Deterministic). The natural parameters
``r, alpha, a, b`` / ``p, q, gamma`` are Deterministics.
"""

from __future__ import annotations

import numpy as np

from clvmodels.inference.bayes.spec import ModelSpec


def bgnbd_loglik(r, alpha, a, b, x, t_x, T):
    """Elementwise BG/NBD log-likelihood (Fader, Hardie & Lee 2005 eq. 6; note 027 log form).

    Arguments are PyTensor variables (or arrays) that broadcast together.
    """
    import pytensor.tensor as pt

    A1 = pt.gammaln(r + x) - pt.gammaln(r) + r * pt.log(alpha)
    A2 = pt.gammaln(a + b) + pt.gammaln(b + x) - pt.gammaln(b) - pt.gammaln(a + b + x)
    A3 = -(r + x) * pt.log(alpha + T)
    # max(x, 1) keeps the unused branch finite when x == 0, so its gradient is not NaN
    A4 = pt.log(a) - pt.log(b + pt.maximum(x, 1) - 1) - (r + x) * pt.log(alpha + t_x)
    return A1 + A2 + pt.switch(x > 0, pt.logaddexp(A3, A4), A3)


def gammagamma_loglik(p, q, gamma, x, mbar):
    """Elementwise Gamma-Gamma log-likelihood of mean spends, x > 0 (Fader & Hardie 2013, eq. 4)."""
    import pytensor.tensor as pt

    px = p * x
    return (pt.gammaln(px + q) - pt.gammaln(px) - pt.gammaln(q) + q * pt.log(gamma)
            + (px - 1) * pt.log(mbar) + px * pt.log(x) - (px + q) * pt.log(gamma + x * mbar))


def _log_params(spec: ModelSpec, segment_idx):
    """Free variables and the log-parameters per row (a scalar each when pooled)."""
    import pymc as pm

    log_theta = {}
    # numpy float64 constants: PyTensor turns a Python float such as 2.5 into a float32 constant,
    # which would put the prior's log density off by ~1e-8
    for name in spec.names:
        mu, sd = (np.float64(v) for v in spec.priors[name])
        if not spec.hierarchical:
            log_theta[name] = pm.Normal(f"log_{name}", mu=mu, sigma=sd)
            pm.Deterministic(name, pm.math.exp(log_theta[name]))
            continue
        per_segment = _segment_log_params(spec, name, mu, sd)
        pm.Deterministic(name, pm.math.exp(per_segment), dims="segment")
        log_theta[name] = per_segment[segment_idx]
    return log_theta


def _segment_log_params(spec: ModelSpec, name: str, mu, sd):
    """Log-parameters per segment in the parametrisation of :mod:`.hierarchical`."""
    import pymc as pm
    import pytensor.tensor as pt

    from clvmodels.inference.bayes.hierarchical import MIN_CENTRED_WEIGHT

    lam = np.asarray(spec.centring[:, spec.names.index(name)], np.float64)
    total = float(np.sum(1.0 - lam))
    s = pm.HalfNormal(f"sigma_log_{name}", sigma=np.float64(spec.priors["segment_sd"]))
    zeta = pm.Flat(f"zeta_{name}")
    v = pm.Flat(f"v_{name}", dims="segment")
    jacobian = pt.sum(lam) * pt.log(s)  # log theta = s**lam v + lam m
    if total >= MIN_CENTRED_WEIGHT:  # m = omega . v + s / sqrt(W) zeta
        m = pt.dot((1.0 - lam) / total, v) + s / np.sqrt(total) * zeta
        jacobian = jacobian + pt.log(s) - 0.5 * np.log(total)
    else:
        m = zeta
    pm.Deterministic(f"mu_log_{name}", m)
    per_segment = s**lam * v + lam * m
    pm.Potential(f"prior_{name}", pm.logp(pm.Normal.dist(mu, sd), m)
                 + pm.logp(pm.Normal.dist(m, s), per_segment).sum() + jacobian)
    return per_segment


def build_pymc_model(spec: ModelSpec):
    """The reference ``pm.Model`` of ``spec`` (pooled or pooled by segment).

    Returns
    -------
    pymc.Model
    """
    import pymc as pm

    coords = {"segment": np.arange(spec.n_segments)} if spec.hierarchical else {}
    with pm.Model(coords=coords) as model:
        segment_idx = spec.segment if spec.hierarchical else None
        theta = {name: pm.math.exp(v) for name, v in _log_params(spec, segment_idx).items()}
        if spec.model == "bgnbd":
            ll = bgnbd_loglik(theta["r"], theta["alpha"], theta["a"], theta["b"],
                              spec.data["x"], spec.data["t_x"], spec.data["T"])
        else:
            ll = gammagamma_loglik(theta["p"], theta["q"], theta["gamma"], spec.data["x"], spec.data["mbar"])
        pm.Potential("loglik", (spec.weights * ll).sum())
    return model
