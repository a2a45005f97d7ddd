"""Closed-form BG/NBD and Gamma-Gamma log-likelihoods (for log_likelihood and the tests)."""

from __future__ import annotations

import numpy as np
from scipy.special import betaln, gammaln


def bgnbd_log_likelihood(r, alpha, a, b, frequency, recency, T) -> np.ndarray:
    """Per-customer BG/NBD log-likelihood, Fader-Hardie-Lee (2005) eq. 6.

    L = B(a, b+x)/B(a, b) * G(r+x) alpha^r / (G(r) (alpha+T)^(r+x))
        * [1 + 1{x>0} * a/(b+x-1) * ((alpha+T)/(alpha+t_x))^(r+x)]

    using B(a+1, b+x-1) / B(a, b+x) = a / (b+x-1); the bracket is summed in
    log space. ``recency`` (t_x) and ``T`` are in the unit of ``alpha``.
    """
    x, t_x, T = (np.asarray(v, dtype=float) for v in (frequency, recency, T))
    base = (gammaln(r + x) - gammaln(r) + r * np.log(alpha)
            + betaln(a, b + x) - betaln(a, b) - (r + x) * np.log(alpha + T))
    return base + np.logaddexp(0.0, _log_dropout_odds(r, alpha, a, b, x, t_x, T))


def gamma_gamma_log_likelihood(p, q, gamma, frequency, monetary_value) -> np.ndarray:
    """Per-customer Gamma-Gamma log-likelihood of the mean repeat spend m over x
    transactions (Fader-Hardie 2013, the density of z-bar with nu integrated out):

    f(m | x) = G(px+q) / (G(px) G(q)) * gamma^q * x^(px) * m^(px-1) / (gamma + x m)^(px+q)
    """
    x, m = np.asarray(frequency, dtype=float), np.asarray(monetary_value, dtype=float)
    return _gamma_gamma_terms(p, q, gamma, x, m, gammaln=gammaln, log=np.log)


def _gamma_gamma_terms(p, q, gamma, x, m, *, gammaln, log):
    """The Gamma-Gamma log-density terms, for NumPy/SciPy or PyTensor functions."""
    px = p * x
    return (gammaln(px + q) - gammaln(px) - gammaln(q) + q * log(gamma)
            + px * log(x) + (px - 1) * log(m) - (px + q) * log(gamma + x * m))


def _log_dropout_odds(r, alpha, a, b, x, t_x, T) -> np.ndarray:
    """log of a/(b+x-1) * ((alpha+T)/(alpha+t_x))^(r+x) for x > 0, -inf for x = 0.

    1 / (1 + exp(this)) is P(alive); it is also the bracket of the likelihood.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        odds = (np.log(a) - np.log(b + x - 1.0)
                + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x)))
    return np.where(x > 0, odds, -np.inf)
