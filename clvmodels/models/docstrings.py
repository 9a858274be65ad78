"""Shared docstring text of the model classes, so every class and prediction method documents
its settings and interval arguments in one wording (``help(BetaGeoModel)`` shows them)."""

from __future__ import annotations

import re
import textwrap

#: the constructor settings of every model class (numpydoc Parameters and Attributes sections),
#: inserted into each class's docstring by :func:`document_settings` so ``help(BetaGeoModel)``
#: shows them although they are stored by the shared base class
SETTINGS_DOC = """\
    Parameters
    ----------
    method : {"mle", "bayes"}, default "mle"
        Maximum likelihood with a Laplace approximation (fast; intervals from draws of the
        approximate normal posterior of the log-parameters), or full Bayesian inference with PyMC.
    penalizer : float, default 0.0
        MLE only: L2 penalty on log-parameters per customer (see :mod:`clvmodels.inference.mle`).
    priors : dict, optional
        Bayes only: replacement priors (see :func:`clvmodels.inference.bayes.default_priors`).
    sampler : str, default "nutpie"
        Bayes only: "nutpie" (NUTS, fastest here), "pymc", or a fast approximation (see the engine).
    chains : int, default 4
        Bayes only: number of Markov chains.
    draws : int, default 1000
        Bayes only: kept draws per chain.
    tune : int, default 1000
        Bayes only: tuning (warm-up) steps per chain, discarded.
    pool_by : str, optional
        A segment column of the summary (e.g. "channel"); each segment gets its own parameters.
        Bayes: partial pooling through a hierarchical prior. MLE: one fit per segment (on its
        distinct rows with counts), shrunk toward the pooled fit as ``shrinkage`` says; each
        segment has its own Laplace covariance, so standard errors, draws and every prediction
        and value are per segment. Scoring a customer of a segment the fit did not see raises a
        DataError.
    shrinkage : {"empirical_bayes", None}, default "empirical_bayes"
        MLE with ``pool_by`` only. ``"empirical_bayes"`` (default): each segment's likelihood gets
        a Gaussian prior on its log-parameters centred on the pooled fit, ``N(log theta_pooled,
        diag(tau**2))``, whose scale ``tau`` (one per parameter) is estimated from the spread of the
        segments' own estimates around the pooled fit, net of their sampling variances (maximum
        marginal likelihood; :mod:`clvmodels.inference.shrinkage`); a small segment is pulled
        toward the pooled fit, a large one keeps essentially its own estimate. ``None``: each
        segment's own maximum likelihood fit, unchanged. ``shrinkage_`` reports the result.
    seed : int, optional
        Seed of the sampler (Bayes). Prediction seeds are passed to the prediction methods.
    progressbar : bool, default False
        Show the sampler's progress.

    Attributes
    ----------
    params_ : Series (k,) or DataFrame (G, k)
        Estimates (MLE, or posterior means); one row per segment with ``pool_by``.
    cov_log_ : ndarray, shape (k, k) or (G, k, k)
        MLE: Laplace covariance of the log-parameters (per segment with ``pool_by``).
    segments_ : list
        With ``pool_by``: the segment labels, in the order of ``params_`` rows and draw axis 1.
    segment_fits_ : clvmodels.models.segments.SegmentFits
        MLE with ``pool_by``: the pooled fit, each segment's own and final fit, the prior scale.
    shrinkage_ : DataFrame
        MLE with ``pool_by``: per segment and parameter, the pooled, unshrunk and final estimates
        and how far shrinkage moved them (see :meth:`SegmentFits.table`).
    log_likelihood_, converged_, n_customers_, n_distinct_rows_, time_unit_, fit_seconds_
        Fit facts; with ``pool_by`` (MLE) the log-likelihood is the sum over segments, prior
        excluded, and ``n_customers_`` the total weight when ``fit`` had ``weights``.
"""


#: the interval arguments every prediction method shares (numpydoc Parameters entries);
#: a method's docstring has a line ``<interval parameters>`` where they go, at its own indentation
#: (see :func:`interval_doc`)
INTERVAL_PARAMETERS = """\
    uncertainty : {None, "expected", "predictive"}, default None
        None: the point estimate only. ``"expected"``: adds ``<column>_lower``/``<column>_upper``,
        the interval of the expected value from parameter uncertainty (Laplace draws for MLE,
        posterior draws for Bayes). ``"predictive"``: for outcomes (purchase counts, spend) the
        interval of what the customer will actually do, simulated from the individual-level
        posterior; probabilities have no predictive interval.
    level : float, default 0.9
        Probability of the interval (the same default everywhere in clvmodels).
    n_draws : int, default 300
        Number of parameter draws behind an interval (ignored without ``uncertainty``).
    seed : int, optional
        Seed of the draws; the same seed gives the same numbers whatever the thread count."""


def interval_doc(func):
    """Decorator: replace the line ``<interval parameters>`` of ``func``'s docstring by
    :data:`INTERVAL_PARAMETERS` (one text for every prediction method)."""
    text = textwrap.dedent(INTERVAL_PARAMETERS)
    func.__doc__ = re.sub(r"^( *)<interval parameters>$", lambda m: textwrap.indent(text, m.group(1)),
                          func.__doc__, flags=re.M)
    return func


def document_settings(cls):
    """Class decorator: put :data:`SETTINGS_DOC` into ``cls``'s docstring before its Examples
    (or at its end), so the settings show in ``help(cls)`` and the API reference."""
    doc = cls.__doc__ or ""
    marker = "\n    Examples\n    --------\n"
    head, sep, tail = doc.partition(marker)
    cls.__doc__ = head.rstrip() + "\n\n" + SETTINGS_DOC + (sep + tail if sep else "")
    return cls
