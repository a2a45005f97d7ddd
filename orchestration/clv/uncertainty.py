"""How sure a fit is: standard errors of the fitted parameters, and an interval
for a segment's mean predicted CLV.

Standard errors come from the curvature of the log-likelihood at the optimum
(the observed information): the Hessian H of the negative log-likelihood in
the log-parameters theta = log(param), by central differences of the
package's closed-form likelihoods, inverted, and mapped to the natural
parameters by the delta method, cov(param) = D cov(theta) D with D =
diag(param). At the maximum this equals inverting the Hessian in the natural
parameters; the log scale keeps the difference steps relative to each
parameter's size. Customers with identical inputs share one likelihood term
(weighted), so the cost grows with distinct (x, t_x, T), not with customers.

The interval of a segment's mean predicted CLV propagates the parameters'
covariance through the CLV formula (delta method): var(mean) = g' cov g, g
the gradient of the mean with respect to the parameters. It is parameter
uncertainty only, what separates a small merchant's fit from a large one's.
"""

from __future__ import annotations

import numpy as np

from orchestration.clv import bgnbd_log_likelihood, distinct_rows, gamma_gamma_log_likelihood

BG_NBD_PARAMETERS = ("r", "alpha", "a", "b")
GAMMA_GAMMA_PARAMETERS = ("p", "q", "gamma")
# central-difference step on log(parameter): truncation error ~ STEP^2, rounding
# error ~ 1e-16 x |log-likelihood| / STEP^2, both negligible against the curvature
_STEP = 1e-3
Z_95 = 1.959963984540054


def _grouped(columns: list[np.ndarray]) -> tuple[list[np.ndarray], np.ndarray]:
    """Distinct rows of the given columns and how many customers share each."""
    keys = np.column_stack(columns)
    first, code = distinct_rows(keys)
    # row g of keys[first] is group code g (distinct_rows numbers groups 0..G-1)
    weights = np.bincount(code, minlength=len(first)).astype(float)
    return [keys[first, j] for j in range(keys.shape[1])], weights


def _covariance_from_loglik(total_loglik, values: np.ndarray) -> np.ndarray:
    """Covariance of the natural parameters from the Hessian of -loglik in log space."""
    theta = np.log(values)
    k = len(theta)

    def f(point):
        return -total_loglik(np.exp(point))

    hessian = np.empty((k, k))
    f0 = f(theta)
    for i in range(k):
        e_i = np.zeros(k)
        e_i[i] = _STEP
        hessian[i, i] = (f(theta + e_i) - 2.0 * f0 + f(theta - e_i)) / _STEP ** 2
        for j in range(i):
            e_j = np.zeros(k)
            e_j[j] = _STEP
            value = (f(theta + e_i + e_j) - f(theta + e_i - e_j) - f(theta - e_i + e_j)
                     + f(theta - e_i - e_j)) / (4.0 * _STEP ** 2)
            hessian[i, j] = hessian[j, i] = value
    log_cov = np.linalg.inv(hessian)
    return log_cov * np.outer(values, values)


def _valid_covariance(cov: np.ndarray) -> bool:
    return bool(np.all(np.isfinite(cov)) and np.all(np.diag(cov) > 0)
                and np.all(np.linalg.eigvalsh((cov + cov.T) / 2.0) > 0))


def bgnbd_covariance(r, alpha, a, b, frequency, recency, T) -> np.ndarray | None:
    """4 x 4 covariance of (r, alpha, a, b) at a BG/NBD fit, from the observed
    information; ``recency`` and ``T`` in alpha's unit. None when the
    likelihood is not curved at that point (not a maximum, or flat)."""
    (x, t_x, t_cal), w = _grouped([np.asarray(v, dtype=float).ravel() for v in (frequency, recency, T)])

    def total(params):
        return float(np.dot(w, bgnbd_log_likelihood(*params, frequency=x, recency=t_x, T=t_cal)))

    return _checked(total, np.array([r, alpha, a, b], dtype=float))


def gamma_gamma_covariance(p, q, gamma, frequency, monetary_value) -> np.ndarray | None:
    """3 x 3 covariance of (p, q, gamma) at a Gamma-Gamma fit, over the repeat
    buyers with positive spend (those the fit used); None when not curved."""
    x, m = (np.asarray(v, dtype=float).ravel() for v in (frequency, monetary_value))
    use = (x > 0) & np.isfinite(m) & (m > 0)
    (x, m), w = _grouped([x[use], m[use]])

    def total(params):
        return float(np.dot(w, gamma_gamma_log_likelihood(*params, frequency=x, monetary_value=m)))

    return _checked(total, np.array([p, q, gamma], dtype=float))


def _checked(total, values: np.ndarray) -> np.ndarray | None:
    if not (np.all(np.isfinite(values)) and np.all(values > 0)):
        return None
    try:
        with np.errstate(all="ignore"):
            cov = _covariance_from_loglik(total, values)
    except np.linalg.LinAlgError:
        return None
    return cov if _valid_covariance(cov) else None


def standard_errors(cov: np.ndarray | None, names) -> dict[str, float]:
    """Parameter name -> standard error (sqrt of the covariance's diagonal); NaN without one."""
    if cov is None:
        return {name: float("nan") for name in names}
    return {name: float(np.sqrt(cov[i, i])) for i, name in enumerate(names)}


def delta_method_interval(mean: float, gradient: np.ndarray, cov: np.ndarray,
                          z: float = Z_95) -> tuple[float, float, float]:
    """(standard error, lower, upper) of a function of the parameters with value
    ``mean`` and ``gradient`` at the fit: se = sqrt(g' cov g), mean -/+ z se."""
    g = np.asarray(gradient, dtype=float)
    variance = float(g @ cov @ g)
    se = float(np.sqrt(max(variance, 0.0)))
    return se, mean - z * se, mean + z * se
