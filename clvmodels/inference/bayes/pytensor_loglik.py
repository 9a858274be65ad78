"""The reference PyMC models: the same likelihood and priors written plainly in PyTensor.

The elementwise log-likelihoods of BG/NBD and Gamma-Gamma live here; each family points at its own
through :class:`~clvmodels.families.bayes_hooks.BayesHooks` ``pytensor_log_likelihood``, and
:func:`build_pymc_model` uses whatever the family gives. Used by ``sampler="pymc"`` and ``sampler="advi"``, and by the tests as the yardstick of the fast
numba path (:mod:`.fast_loglik`): both give the same log density at the same point.

The weighted log-likelihood enters as a ``pm.Potential`` (distinct rows times their counts). The
free variables and their names mirror the unconstrained layout of :mod:`.log_density`:
``log_<name>`` when pooled; ``zeta_<name>``, ``sigma_log_<name>`` (Gamma(2), log-transformed
by PyMC) and ``v_<name>`` (dims "segment") when pooled by segment, in the layout of
:mod:`.hierarchical` (flat variables, the prior and Jacobians in a Potential; the population mean
``mu_log_<name>`` is a Deterministic). The natural parameters
(``r, alpha, a, b``; ``p, q, gamma``; any family's ``param_names``) are Deterministics.
"""

from __future__ import annotations

import numpy as np

from clvmodels.errors import DataError
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


#: Pareto/NBD death-time integral in PyTensor: unit panels of log-time, 12 Gauss-Legendre nodes each,
#: as in formulas.paretonbd._power_integral, but a fixed number of panels (no data-dependent cut)
_PNBD_PANELS, _PNBD_NODES = 24, 12


def paretonbd_loglik(r, alpha, s, beta, x, t_x, T):
    """Elementwise Pareto/NBD log-likelihood (note 009 eq. 18; Schmittlein, Morrison & Colombo 1987).

    The route of :mod:`clvmodels.formulas.paretonbd`: ``ln G(r+x) - ln G(r) + r ln alpha + s ln beta
    - (r+x) ln(alpha+T) - s ln(beta+T) + ln(1 + exp(z))`` with ``z`` the log-odds of death in
    (t_x, T], whose integral ``J = int_0^(T-t_x) (1+w/A)^-(r+x) (1+w/B)^-(s+1) dw``
    (``A = alpha + t_x``, ``B = beta + t_x``) is taken on the log-time axis ``w = c expm1(v)`` by
    Gauss-Legendre on unit panels of v. Where numpy stops at the panel after which the integrand is
    below e^-45, this graph evaluates all ``_PNBD_PANELS`` panels, the ones past the end with zero
    width (so it is exact up to ``log1p((T-t_x)/c) = 24``, i.e. ``(T-t_x)/c < 2.6e10``), and the
    gradient is PyTensor's derivative of that quadrature. Arguments broadcast together (e.g.
    scalars and rows of shape (n,)).
    """
    import pytensor.tensor as pt

    xi, omega = np.polynomial.legendre.leggauss(_PNBD_NODES)
    nodes = ((xi + 1.0) / 2.0).astype(np.float64)
    weights = (omega / 2.0).astype(np.float64)
    lo = np.arange(_PNBD_PANELS, dtype=np.float64)[:, None]  # (panels, 1)
    rx = r + x
    k2 = s + 1.0
    gap = T - t_x
    A, B = alpha + t_x, beta + t_x
    c = 1.0 / (rx / A + k2 / B)
    dead_possible = gap > 0
    v_end = pt.log1p(gap / c)

    def cell(v):  # rows -> rows x panels x nodes
        return pt.shape_padright(v, 2)

    width = pt.clip(cell(v_end) - lo, 0.0, 1.0)  # (..., panels, 1)
    v = lo + nodes * width
    w = cell(c) * pt.expm1(v)
    f = weights * pt.exp(v - cell(rx) * pt.log1p(w / cell(A)) - cell(k2) * pt.log1p(w / cell(B)))
    J = c * (f * width).sum(axis=(-2, -1))
    J = pt.switch(dead_possible, J, 1.0)  # t_x == T: no death term (and a finite unused branch)
    log_odds = (pt.log(s) - pt.log(B) + pt.log(J) + rx * pt.log1p(gap / A) + s * pt.log1p(gap / B))
    death = pt.switch(dead_possible, pt.softplus(log_odds), 0.0)
    return (pt.gammaln(rx) - pt.gammaln(r) + r * pt.log(alpha) + s * pt.log(beta)
            - rx * pt.log(alpha + T) - s * pt.log(beta + T) + death)


def mbgnbd_loglik(r, alpha, a, b, x, t_x, T):
    """Elementwise MBG/NBD log-likelihood (Batislam, Denizel & Filiztekin 2007; the BG/NBD log form of
    note 027 with dropout possible at time zero, so the dropout term applies at x = 0 too)."""
    import pytensor.tensor as pt

    A1 = pt.gammaln(r + x) - pt.gammaln(r) + r * pt.log(alpha)
    A2 = pt.gammaln(a + b) + pt.gammaln(b + x + 1) - pt.gammaln(b) - pt.gammaln(a + b + x + 1)
    A3 = -(r + x) * pt.log(alpha + T)
    A4 = pt.log(a) - pt.log(b + x) - (r + x) * pt.log(alpha + t_x)
    # logaddexp written out: PyTensor's differentiates exp(A3) + exp(A4), 0/0 when both underflow
    return A1 + A2 + pt.maximum(A3, A4) + pt.log1p(pt.exp(-pt.abs(A3 - A4)))


def _log_params(spec: ModelSpec, segment_idx):
    """Free variables and the log-parameters per row (a scalar each when pooled)."""
    import pymc as pm

    if spec.hierarchical:
        return _segment_log_params(spec, segment_idx)
    log_theta = {}
    # numpy float64 constants: PyTensor turns a Python float such as 2.5 into a float32 constant,
    # which would put the prior's log density off by ~1e-8
    for name in spec.names:
        mu, sd = (np.float64(v) for v in spec.priors[name])
        log_theta[name] = pm.Normal(f"log_{name}", mu=mu, sigma=sd)
        pm.Deterministic(name, pm.math.exp(log_theta[name]))
    return log_theta


def _segment_log_params(spec: ModelSpec, segment_idx):
    """Log-parameters per row in the layout of :mod:`.hierarchical` (flat variables; the prior and
    the Jacobians in a Potential)."""
    import pymc as pm
    import pytensor.tensor as pt

    layout = spec.layout
    mu = np.array([spec.priors[n][0] for n in spec.names], np.float64)
    sd = np.array([spec.priors[n][1] for n in spec.names], np.float64)
    rate = np.float64(2.0 / spec.priors["segment_sd"])  # Gamma(2) with mean segment_sd
    s = pt.stack([pm.Gamma(f"sigma_log_{n}", alpha=np.float64(2.0), beta=rate) for n in spec.names])
    zeta = pt.stack([pm.Flat(f"zeta_{n}") for n in spec.names])
    v = pt.stack([pm.Flat(f"v_{n}", dims="segment") for n in spec.names], axis=1)  # (segments, k)
    whitened = layout.shift + (layout.chol * v[:, None, :]).sum(axis=2)  # shift + L v per segment
    n_centred = int(layout.centred.sum())
    n_noncentred = spec.n_segments - n_centred
    jacobian = np.float64(layout.log_det) + n_noncentred * pt.log(s).sum()
    if n_centred:
        m = whitened[layout.centred].mean(axis=0) + s / np.sqrt(n_centred) * zeta
        jacobian = jacobian + (pt.log(s) - 0.5 * np.log(n_centred)).sum()
    else:
        m = zeta
    log_theta = pt.where(layout.centred[:, None], whitened, m + s * v)
    pm.Potential("segment_prior", pm.logp(pm.Normal.dist(mu, sd), m).sum()
                 + pm.logp(pm.Normal.dist(m, s), log_theta).sum() + jacobian)
    out = {}
    for j, name in enumerate(spec.names):
        pm.Deterministic(f"mu_log_{name}", m[j])
        pm.Deterministic(name, pt.exp(log_theta[:, j]), dims="segment")
        out[name] = log_theta[segment_idx, j]
    return out


def build_pymc_model(spec: ModelSpec):
    """The reference ``pm.Model`` of ``spec`` (pooled or pooled by segment), with the family's
    PyTensor log-likelihood (:class:`~clvmodels.families.bayes_hooks.BayesHooks`
    ``pytensor_log_likelihood``; a DataError when it has none).

    Returns
    -------
    pymc.Model
    """
    loglik = spec.family.bayes.pytensor_log_likelihood
    if loglik is None:
        raise DataError(f"sampler='pymc' and 'advi' need a PyTensor log-likelihood, which the {spec.family.label} "
                        "family does not provide; use sampler='nutpie' (or 'map')")
    import pymc as pm

    coords = {"segment": np.arange(spec.n_segments)} if spec.hierarchical else {}
    with pm.Model(coords=coords) as model:
        segment_idx = spec.segment if spec.hierarchical else None
        theta = {name: pm.math.exp(v) for name, v in _log_params(spec, segment_idx).items()}
        ll = loglik(theta, *spec.history)
        pm.Potential("loglik", (spec.weights * ll).sum())
    return model
