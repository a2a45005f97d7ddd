"""Predicted customer lifetime value: BG/NBD purchase counts and Gamma-Gamma spend.

This module is the Python core of predicted CLV. It is pure functions on NumPy
arrays and pandas DataFrames (no database, no Dagster), so it can run inside a
Dagster asset or a dbt Python model unchanged.

Models and references
---------------------
* BG/NBD: Fader, Hardie and Lee (2005), "Counting your customers the easy way:
  an alternative to the Pareto/NBD model", Marketing Science 24(2). Parameters
  ``r, alpha`` (gamma heterogeneity of the purchase rate) and ``a, b`` (beta
  heterogeneity of the dropout probability).
* Gamma-Gamma: Fader and Hardie (2013), "The Gamma-Gamma model of monetary
  value". Parameters ``p, q, gamma`` (pymc-marketing calls ``gamma`` ``v``).

Fitting is MAP in PyMC with the priors of pymc-marketing's ``BetaGeoModel``
and ``GammaGammaModel`` and the likelihood of its ``BetaGeoNBD`` distribution
(BG/NBD) and of the Gamma-Gamma model, optimised like PyMC's ``find_MAP``
(L-BFGS-B on the log-transformed parameters, without the transform's
Jacobian). The PyMC model is built and its log-likelihood and gradient are
compiled *once per process* with the customer data in ``pm.Data`` containers;
each segment fit only swaps the data and optimises (see :class:`_MapFitter`):
a pipeline fitting dozens of segments pays PyTensor's graph compilation once,
not per segment. ``tests/test_clv_cdnow.py`` checks the result equals the
library classes' own ``find_MAP`` fit. With ``flat_priors=True`` every
parameter gets a ``HalfFlat`` prior, so the MAP point *is* the
maximum-likelihood estimate, the quantity the papers publish. Predictions are
closed-form NumPy/SciPy evaluated at that single point: no chains x draws x
customers arrays.

Time units
----------
A BG/NBD fit is only meaningful in the time unit of the ``recency`` and ``T``
it was fitted on (``alpha`` scales with the unit; ``r, a, b`` do not). Every
fit records its ``time_unit`` ("days", "weeks" or "months", a month being
365.25 / 12 days). Customer inputs ``recency`` and ``T`` passed to the
prediction functions are in the fit's unit. Prediction *horizons* are never a
bare number of periods in the high-level API: they are given as
``horizon_days`` (or ``horizon_months`` for CLV) and converted with the fit's
unit, so a horizon cannot silently be read in the wrong unit. The low-level
``*_periods`` functions take ``horizon_periods`` in the model's unit, named so.

Fit status
----------
Fits never raise to the caller. ``status`` is one of ``ok``,
``too_few_customers``, ``too_few_repeat_buyers``, ``not_converged``,
``degenerate`` (a parameter ran off towards 0 or infinity, or a Gamma-Gamma
``q <= 1`` which makes the expected spend infinite) or ``failed: <message>``.
Parameters of a fit that is not ``ok`` may be NaN and must not be used; the
segment driver :func:`fit_and_predict_segments` falls back to the parent
segment's fit instead.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.special import betaln, gammaln, hyp2f1

_PROJECT_DIR = Path(__file__).resolve().parents[2]


def _default_pytensor_compiledir() -> None:
    """Keep PyTensor's compile cache in the project (``.cache/pytensor``, git-ignored).

    Only when running from the project checkout, and never overriding a user's
    ``PYTENSOR_FLAGS``: a ``compiledir`` is added only if theirs names none. Must
    run before PyTensor is first imported, which this package does lazily,
    inside the fit functions.
    """
    flags = os.environ.get("PYTENSOR_FLAGS", "")
    if "compiledir" in flags or not (_PROJECT_DIR / "pyproject.toml").exists():
        return
    mine = f"compiledir={_PROJECT_DIR / '.cache' / 'pytensor'}"
    os.environ["PYTENSOR_FLAGS"] = f"{flags},{mine}" if flags.strip() else mine


_default_pytensor_compiledir()

# --------------------------------------------------------------------------
# time units
# --------------------------------------------------------------------------

DAYS_PER_MONTH = 365.25 / 12
DAYS_PER_UNIT: dict[str, float] = {"days": 1.0, "weeks": 7.0, "months": DAYS_PER_MONTH}
_UNIT_ALIASES = {
    "day": "days", "days": "days", "d": "days",
    "week": "weeks", "weeks": "weeks", "w": "weeks",
    "month": "months", "months": "months",
}


def normalize_time_unit(unit: str) -> str:
    """Canonical name ("days", "weeks", "months") of a time unit; ValueError if unknown."""
    key = str(unit).strip().lower()
    if key not in _UNIT_ALIASES:
        raise ValueError(f"unknown time unit {unit!r}; use one of {sorted(DAYS_PER_UNIT)}")
    return _UNIT_ALIASES[key]


def convert_duration(values, from_unit: str, to_unit: str):
    """Convert durations between time units (a month is 365.25 / 12 days)."""
    factor = DAYS_PER_UNIT[normalize_time_unit(from_unit)] / DAYS_PER_UNIT[normalize_time_unit(to_unit)]
    return np.asarray(values, dtype=float) * factor if np.ndim(values) else float(values) * factor


def days_to_periods(days, time_unit: str):
    """A duration in days expressed in ``time_unit`` periods."""
    return convert_duration(days, "days", time_unit)


# --------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------

STATUS_OK = "ok"
STATUS_TOO_FEW_CUSTOMERS = "too_few_customers"
STATUS_TOO_FEW_REPEAT_BUYERS = "too_few_repeat_buyers"
STATUS_NOT_CONVERGED = "not_converged"
STATUS_DEGENERATE = "degenerate"
# a coarser segment not fitted because every one of its customers has an ok finer fit
STATUS_NOT_NEEDED = "not_needed"

# Where the likelihood has no interior maximum (nobody seems to drop out, spend
# is constant, spend is heavy-tailed...), the optimiser runs along a ridge
# towards 0 or infinity. Shape parameters (r, a, b, p, q) are unit-free; scale
# parameters (alpha, gamma) are judged relative to the data's own scale
# (alpha / mean T, gamma / mean spend). Outside these bounds a fit is degenerate.
_SHAPE_MIN, _SHAPE_MAX = 1e-4, 1e4
_SCALE_RATIO_MIN, _SCALE_RATIO_MAX = 1e-4, 1e4


@dataclass(frozen=True)
class BGNBDFit:
    """A BG/NBD fit. ``alpha`` is in ``time_unit``; ``r, a, b`` are unit-free."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    n_customers: int
    n_repeat_buyers: int
    status: str
    time_unit: str
    message: str = ""
    model: str = field(default="bg_nbd", init=False)

    @property
    def ok(self) -> bool:
        return self.status == STATUS_OK

    def params(self) -> dict[str, float]:
        return {"r": self.r, "alpha": self.alpha, "a": self.a, "b": self.b}


@dataclass(frozen=True)
class GammaGammaFit:
    """A Gamma-Gamma fit (``gamma`` is pymc-marketing's ``v``). Spend has no time unit;
    ``time_unit`` records the unit of the summary it was fitted from, for the fits table."""

    p: float
    q: float
    gamma: float
    log_likelihood: float
    n_customers: int
    status: str
    time_unit: str | None = None
    message: str = ""
    model: str = field(default="gamma_gamma", init=False)

    @property
    def ok(self) -> bool:
        return self.status == STATUS_OK

    def params(self) -> dict[str, float]:
        return {"p": self.p, "q": self.q, "gamma": self.gamma}


# --------------------------------------------------------------------------
# closed-form likelihoods (used for log_likelihood and by the tests)
# --------------------------------------------------------------------------

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


# --------------------------------------------------------------------------
# fitting
# --------------------------------------------------------------------------

def _flat(names: Sequence[str]) -> dict:
    from pymc_extras.prior import Prior

    return {name: Prior("HalfFlat") for name in names}


# L-BFGS-B stops when a step improves the objective by less than ftol x |objective|.
# SciPy's default (2.2e-9, what find_MAP uses) can stop 1e-4 short of the optimum
# in relative parameter terms on sums over hundreds of thousands of customers;
# 1e-12 costs a few more evaluations and lands on the maximum-likelihood point.
_FTOL = 1e-12


class _MapFitter:
    """One model kind ("bg_nbd" or "gamma_gamma") and prior choice, compiled once.

    The PyMC model mirrors the library class without covariates: the priors
    are the class's ``model_config`` (HalfFlat on every parameter when
    ``flat_priors``, else the class defaults), the BG/NBD likelihood is
    pymc-marketing's ``BetaGeoNBD`` distribution and the Gamma-Gamma one the
    model's potential (:func:`_gamma_gamma_terms`). Customer data live in
    ``pm.Data`` containers, so :meth:`fit` swaps them and reuses one compiled
    function returning the log-likelihood and its gradient with respect to
    the log-transformed parameters. The optimiser is the one ``find_MAP``
    uses: scipy's L-BFGS-B from the model's initial point, no Jacobian term,
    with a tighter stopping tolerance (``_FTOL``).
    """

    _cache: dict[tuple[str, bool], "_MapFitter"] = {}

    @classmethod
    def get(cls, kind: str, flat_priors: bool) -> "_MapFitter":
        key = (kind, bool(flat_priors))
        if key not in cls._cache:
            cls._cache[key] = cls(kind, bool(flat_priors))
        return cls._cache[key]

    def __init__(self, kind: str, flat_priors: bool):
        import pymc as pm
        import pytensor
        import pytensor.tensor as pt

        placeholder = np.ones(2)
        if kind == "bg_nbd":
            from pymc_marketing.clv import BetaGeoModel
            from pymc_marketing.clv.distributions import BetaGeoNBD

            config = BetaGeoModel(model_config=_flat(["r", "alpha", "a", "b"]) if flat_priors else None).model_config
            with pm.Model() as model:
                T = pm.Data("T", placeholder)
                observed = pm.Data("recency_frequency", np.zeros((2, 2)))
                alpha = config["alpha"].create_variable("alpha")
                if "a" in config and "b" in config:
                    a = config["a"].create_variable("a")
                    b = config["b"].create_variable("b")
                else:   # the class's default: a = phi kappa, b = (1 - phi) kappa
                    phi = config["phi_dropout"].create_variable("phi_dropout")
                    kappa = config["kappa_dropout"].create_variable("kappa_dropout")
                    a = pm.Deterministic("a", phi * kappa)
                    b = pm.Deterministic("b", (1.0 - phi) * kappa)
                r = config["r"].create_variable("r")
                BetaGeoNBD("purchases", a=a, b=b, r=r, alpha=alpha, T=T, observed=observed)
            outputs = {"r": r, "alpha": alpha, "a": a, "b": b}
        elif kind == "gamma_gamma":
            from pymc_marketing.clv import GammaGammaModel

            config = GammaGammaModel(model_config=_flat(["p", "q", "v"]) if flat_priors else None).model_config
            with pm.Model() as model:
                x = pm.Data("frequency", placeholder)
                m = pm.Data("monetary_value", placeholder)
                p = config["p"].create_variable("p")
                q = config["q"].create_variable("q")
                v = config["v"].create_variable("v")
                pm.Potential("likelihood", _gamma_gamma_terms(p, q, v, x, m, gammaln=pt.gammaln, log=pt.log))
            outputs = {"p": p, "q": q, "gamma": v}
        else:
            raise ValueError(f"unknown model kind {kind!r}")

        self.model = model
        self.value_vars = list(model.value_vars)
        logp = model.logp(jacobian=False)
        gradient = pytensor.grad(logp, self.value_vars)
        self._logp_and_gradient = pytensor.function(self.value_vars, [logp, *gradient])
        names = list(outputs)
        values = model.replace_rvs_by_values([outputs[n] for n in names])
        self._parameters = pytensor.function(self.value_vars, values, on_unused_input="ignore")
        self._names = names
        initial = model.initial_point()
        self._x0 = np.array([float(initial[v.name]) for v in self.value_vars])

    def fit(self, data: dict[str, np.ndarray], max_evaluations: int):
        """Set the data, optimise; return (parameters, scipy result or None at the budget)."""
        import pymc as pm
        from scipy.optimize import minimize

        pm.set_data(data, model=self.model)
        evaluations = 0

        def cost(point):
            nonlocal evaluations
            evaluations += 1
            if evaluations > max_evaluations:
                raise StopIteration
            value, *gradient = self._logp_and_gradient(*point)
            return -float(value), -np.asarray(gradient, dtype=float)

        try:
            raw = minimize(cost, self._x0, jac=True, method="L-BFGS-B", options={"ftol": _FTOL})
            point = raw.x
        except StopIteration:
            raw, point = None, self._x0
        values = self._parameters(*point)
        return {n: float(np.asarray(v)) for n, v in zip(self._names, values)}, raw


def _failure(exc: Exception) -> str:
    """A one-line status for a fit that raised (PyTensor errors run to dozens of lines)."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"failed: {type(exc).__name__}: {first}"[:300]


def _converged(raw, n: int) -> tuple[bool, str]:
    """L-BFGS-B success, or a gradient (in log-parameter space) negligible per customer.

    L-BFGS-B sometimes stops with ABNORMAL_TERMINATION_IN_LNSRCH exactly at the
    optimum of a large sum, where the line search cannot improve in float64.
    """
    if raw is None:
        return False, "optimiser stopped at its evaluation limit"
    message = str(raw.get("message", ""))
    if raw.get("success", False):
        return True, message
    jac = np.asarray(raw.get("jac", np.nan), dtype=float)
    if np.all(np.isfinite(jac)) and np.max(np.abs(jac)) <= 1e-4 * max(n, 1):
        return True, message
    return False, message


def _degenerate(shapes: dict[str, float], scales: dict[str, tuple[float, float]]) -> str | None:
    """Why a fit is degenerate, or None. ``scales`` maps name -> (value, data scale)."""
    for name, value in [*shapes.items(), *((k, v) for k, (v, _) in scales.items())]:
        if not np.isfinite(value) or value <= 0:
            return f"{name} = {value!r} is not a finite positive number"
    for name, value in shapes.items():
        if not _SHAPE_MIN <= value <= _SHAPE_MAX:
            return f"{name} = {value:.3g} outside [{_SHAPE_MIN:g}, {_SHAPE_MAX:g}]"
    for name, (value, scale) in scales.items():
        ratio = value / scale
        if not _SCALE_RATIO_MIN <= ratio <= _SCALE_RATIO_MAX:
            return (f"{name} = {value:.3g} is {ratio:.3g} x the data's scale {scale:.3g}, outside "
                    f"[{_SCALE_RATIO_MIN:g}, {_SCALE_RATIO_MAX:g}]")
    return None


def fit_bgnbd(frequency, recency, T, *, time_unit: str, flat_priors: bool = True,
              min_customers: int = 1, min_repeat_buyers: int = 10,
              max_evaluations: int = 5000) -> BGNBDFit:
    """Fit BG/NBD by MAP (pymc-marketing's likelihood and priors, see :class:`_MapFitter`); never raises.

    Parameters
    ----------
    frequency : number of repeat purchase days (purchases on the same day merged).
    recency : time of the last purchase minus time of the first, in ``time_unit``.
    T : end of the calibration period minus time of the first purchase, in ``time_unit``.
    time_unit : unit of ``recency`` and ``T`` ("days", "weeks", "months"); required,
        and recorded on the fit, because ``alpha`` is meaningless without it.
    flat_priors : ``HalfFlat`` priors on r, alpha, a, b (MAP = maximum likelihood).
        False uses pymc-marketing's default weakly informative priors (MAP is then
        a posterior mode, not the published MLE).
    min_customers, min_repeat_buyers : below these the fit is not attempted and
        the status says why.
    max_evaluations : optimiser budget; hitting it gives ``not_converged``.
    """
    unit, n, n_repeat = str(time_unit), 0, 0
    nan = float("nan")

    def result(status: str, params=None, ll=nan, message="") -> BGNBDFit:
        params = params or {}
        return BGNBDFit(r=params.get("r", nan), alpha=params.get("alpha", nan), a=params.get("a", nan),
                        b=params.get("b", nan), log_likelihood=ll, n_customers=n,
                        n_repeat_buyers=n_repeat, status=status, time_unit=unit, message=message)

    try:
        unit = normalize_time_unit(time_unit)
        x, t_x, t_cal = (np.asarray(v, dtype=float).ravel() for v in (frequency, recency, T))
        n = int(x.size)
        if not (t_x.size == n and t_cal.size == n):
            return result("failed: frequency, recency and T have different lengths")
        n_repeat = int(np.count_nonzero(x > 0))
        problem = _rfm_problem(x, t_x, t_cal)
        if problem:
            return result(f"failed: invalid input: {problem}")
        if n < max(min_customers, 1):
            return result(STATUS_TOO_FEW_CUSTOMERS, message=f"{n} customers < {min_customers}")
        if n_repeat < max(min_repeat_buyers, 1):
            return result(STATUS_TOO_FEW_REPEAT_BUYERS,
                          message=f"{n_repeat} repeat buyers < {max(min_repeat_buyers, 1)}")

        fitter = _MapFitter.get("bg_nbd", flat_priors)
        params, raw = fitter.fit({"T": t_cal, "recency_frequency": np.column_stack([t_x, x])},
                                 max_evaluations)
        ll = float(np.sum(bgnbd_log_likelihood(**params, frequency=x, recency=t_x, T=t_cal)))
        converged, message = _converged(raw, n)
        bad = _degenerate({k: params[k] for k in ("r", "a", "b")},
                          {"alpha": (params["alpha"], float(np.mean(t_cal)))})
        if bad or not np.isfinite(ll):
            return result(STATUS_DEGENERATE, params, ll, bad or "log-likelihood not finite")
        if not converged:
            return result(STATUS_NOT_CONVERGED, params, ll, message)
        return result(STATUS_OK, params, ll, message)
    except Exception as exc:  # a fit must never take the pipeline down
        return result(_failure(exc))


def fit_gamma_gamma(frequency, monetary_value, *, flat_priors: bool = True,
                    min_repeat_buyers: int = 10, time_unit: str | None = None,
                    max_evaluations: int = 5000) -> GammaGammaFit:
    """Fit Gamma-Gamma by MAP (pymc-marketing's priors, see :class:`_MapFitter`); never raises.

    Only repeat buyers with a positive mean repeat spend enter the fit
    (``frequency > 0`` and ``monetary_value > 0``); others may be passed and are
    ignored, and ``n_customers`` counts those used. ``monetary_value`` is the
    mean value of the *repeat* purchase days (the first purchase excluded), the
    convention of Fader-Hardie's note that reproduces the published CDNOW fit.
    ``flat_priors=False`` uses pymc-marketing's defaults, which for this model
    are HalfFlat too. ``time_unit`` is only recorded.
    """
    nan, n = float("nan"), 0

    def result(status: str, params=None, ll=nan, message="") -> GammaGammaFit:
        params = params or {}
        return GammaGammaFit(p=params.get("p", nan), q=params.get("q", nan), gamma=params.get("gamma", nan),
                             log_likelihood=ll, n_customers=n, status=status,
                             time_unit=time_unit, message=message)

    try:
        if time_unit is not None:
            time_unit = normalize_time_unit(time_unit)
        x, m = (np.asarray(v, dtype=float).ravel() for v in (frequency, monetary_value))
        if x.size != m.size:
            return result("failed: frequency and monetary_value have different lengths")
        use = (x > 0) & np.isfinite(m) & (m > 0) & np.isfinite(x)
        x, m = x[use], m[use]
        n = int(x.size)
        if n < max(min_repeat_buyers, 1):
            return result(STATUS_TOO_FEW_REPEAT_BUYERS,
                          message=f"{n} repeat buyers with positive spend < {max(min_repeat_buyers, 1)}")

        fitter = _MapFitter.get("gamma_gamma", flat_priors)
        params, raw = fitter.fit({"frequency": x, "monetary_value": m}, max_evaluations)
        ll = float(np.sum(gamma_gamma_log_likelihood(**params, frequency=x, monetary_value=m)))
        converged, message = _converged(raw, n)
        bad = _degenerate({"p": params["p"], "q": params["q"]},
                          {"gamma": (params["gamma"], float(np.mean(m)))})
        if not bad and params["q"] <= 1.0:
            bad = f"q = {params['q']:.3g} <= 1: expected spend is infinite"
        if bad or not np.isfinite(ll):
            return result(STATUS_DEGENERATE, params, ll, bad or "log-likelihood not finite")
        if not converged:
            return result(STATUS_NOT_CONVERGED, params, ll, message)
        return result(STATUS_OK, params, ll, message)
    except Exception as exc:
        return result(_failure(exc))


def _rfm_problem(x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> str | None:
    """Why an RFM summary cannot be fitted, or None."""
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(t_x)) and np.all(np.isfinite(T))):
        return "missing or non-finite frequency/recency/T"
    if np.any(x < 0) or np.any(x != np.round(x)):
        return "frequency must be a non-negative whole number"
    if np.any(t_x < 0) or np.any(t_x > T + 1e-9):
        return "need 0 <= recency <= T"
    if np.any((x == 0) & (t_x != 0)):
        return "recency must be 0 when frequency is 0"
    if np.any((x > 0) & (t_x <= 0)):
        return "recency must be > 0 when frequency > 0"
    return None


# --------------------------------------------------------------------------
# predictions (closed form at the fitted point; parameters broadcast, so they
# may be scalars or per-customer arrays)
# --------------------------------------------------------------------------

def p_alive_from_params(r, alpha, a, b, frequency, recency, T) -> np.ndarray:
    """P(alive | x, t_x, T) = 1 / (1 + 1{x>0} a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x))
    (Fader, Hardie and Lee 2008, "Computing P(alive) using the BG/NBD model")."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (frequency, recency, T))
    return np.exp(-np.logaddexp(0.0, _log_dropout_odds(r, alpha, a, b, x, t_x, T)))


def expected_purchases_periods(r, alpha, a, b, frequency, recency, T, horizon_periods) -> np.ndarray:
    """E[Y(t) | x, t_x, T], FHL (2005) eq. 10, with t = ``horizon_periods`` in the
    unit of ``alpha``, ``recency`` and ``T``:

        (a+b+x-1)/(a-1) * [1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; z)]
        / (1 + 1{x>0} a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x)),   z = t/(alpha+T+t).

    The hypergeometric term is evaluated after Euler's transformation,
    (1-z)^(r+x) 2F1(r+x, b+x; c; z) = (1-z)^(a-1) 2F1(a+b-1-r, a-1; c; z),
    which stays finite for large x (Fader-Hardie's "#NUM!" note). At a = 1
    exactly the expression is 0/0; a is nudged by 1e-6 there.
    """
    x, t_x, T = (np.asarray(v, dtype=float) for v in (frequency, recency, T))
    return _purchase_head(r, alpha, a, b, x, T, horizon_periods) * p_alive_from_params(r, alpha, a, b, x, t_x, T)


def _purchase_head(r, alpha, a, b, x, T, t) -> np.ndarray:
    """E[Y(t) | x, t_x, T] / P(alive): the part of eq. 10 that does not depend on t_x."""
    x, T, t = (np.asarray(v, dtype=float) for v in (x, T, t))
    a = np.asarray(a, dtype=float)
    a = np.where(np.abs(a - 1.0) < 1e-6, 1.0 + 1e-6, a)
    z = t / (alpha + T + t)
    c = a + b + x - 1.0
    return (c / (a - 1.0)) * (1.0 - (1.0 - z) ** (a - 1.0) * hyp2f1(a + b - 1.0 - r, a - 1.0, c, z))


def expected_order_value_from_params(p, q, gamma, frequency, monetary_value) -> np.ndarray:
    """Gamma-Gamma E[M | p, q, gamma, m_x, x] = p (gamma + x m_x) / (p x + q - 1)
    (Fader-Hardie 2013 eq. 5): a weighted mean of the population mean p gamma/(q-1)
    and the customer's observed mean repeat spend m_x. For x = 0 it is the
    population mean (m_x is ignored, may be NaN)."""
    x = np.asarray(frequency, dtype=float)
    m = np.where(x > 0, np.asarray(monetary_value, dtype=float), 0.0)
    return p * (gamma + x * m) / (p * x + q - 1.0)


def to_monthly_discount_rate(*, annual_discount_rate: float | None = None,
                          monthly_discount_rate: float | None = None) -> float:
    """The monthly rate d from exactly one of an annual or a monthly rate:
    d = (1 + annual)^(1/12) - 1."""
    if (annual_discount_rate is None) == (monthly_discount_rate is None):
        raise ValueError("give exactly one of annual_discount_rate and monthly_discount_rate")
    if monthly_discount_rate is not None:
        return float(monthly_discount_rate)
    return float((1.0 + annual_discount_rate) ** (1.0 / 12.0) - 1.0)


def discounted_purchases_from_params(r, alpha, a, b, frequency, recency, T, *, time_unit: str,
                                     horizon_months: int, monthly_rate: float = 0.0) -> np.ndarray:
    """Expected purchases over whole months, each month's discounted:

        sum_{m=1..H} (E[Y(month m)] - E[Y(month m-1)]) / (1 + d)^m

    with E[Y] the BG/NBD conditional expectation (a month = 365.25/12 days,
    converted to ``time_unit``, the unit of ``alpha``, ``recency`` and ``T``),
    H = ``horizon_months`` and d = ``monthly_rate``. Per-purchase values (spend,
    costs) times this give their discounted total over the horizon.
    """
    months = int(horizon_months)
    if months < 0 or months != horizon_months:
        raise ValueError("horizon_months must be a non-negative whole number")
    x, t_x, T, r, alpha, a, b = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in
                                                      (frequency, recency, T, r, alpha, a, b)))
    # E[Y(t)] = head(t) x P(alive), and only head depends on t: sum the discounted
    # monthly increments of head, once per distinct (parameters, x, T), then scale
    # by each customer's P(alive). Customers share (x, T) a lot (T is whole days),
    # so this evaluates the hypergeometric function a fraction as often.
    keys = np.column_stack([r.ravel(), alpha.ravel(), a.ravel(), b.ravel(), x.ravel(), T.ravel()])
    first, inverse = distinct_rows(keys)
    distinct = keys[first]
    total = np.zeros(len(distinct))
    previous = 0.0
    for month in range(1, months + 1):
        t = days_to_periods(month * DAYS_PER_MONTH, time_unit)
        cumulative = _purchase_head(*distinct[:, :4].T, distinct[:, 4], distinct[:, 5], t)
        total = total + (cumulative - previous) / (1.0 + monthly_rate) ** month
        previous = cumulative
    alive = p_alive_from_params(r, alpha, a, b, x, t_x, T)
    return total[inverse.ravel()].reshape(x.shape) * alive


def distinct_rows(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(index of one row per distinct row of a 2-D array, each row's distinct-row number).

    The columns of ``keys`` are the values to group by (numbers; NaN groups with NaN).

    Hash-factorises column by column, folding the codes pairwise, so codes stay
    below rows x distinct values of a column; much faster than np.unique(axis=0).
    """
    import pandas as pd

    code = np.zeros(len(keys), dtype=np.int64)
    for column in keys.T:
        values, uniques = pd.factorize(column)
        code, _ = pd.factorize(code * len(uniques) + values)
    first = np.unique(code, return_index=True)[1]
    return first, code


def clv_from_params(bg: dict, gg: dict, frequency, recency, T, monetary_value, *, time_unit: str,
                    horizon_months: int, margin_rate=1.0, monthly_rate: float = 0.0) -> np.ndarray:
    """Discounted CLV on margin over whole months, from parameter dicts
    (``bg``: r, alpha, a, b in ``time_unit``; ``gg``: p, q, gamma); see :func:`predicted_clv`."""
    purchases = discounted_purchases_from_params(**bg, frequency=frequency, recency=recency, T=T,
                                                 time_unit=time_unit, horizon_months=horizon_months,
                                                 monthly_rate=monthly_rate)
    spend = expected_order_value_from_params(**gg, frequency=frequency, monetary_value=monetary_value)
    return np.asarray(margin_rate, dtype=float) * spend * purchases


# --- the same, on fit objects: units are taken from the fit -------------------

def _usable(fit, kind) -> None:
    if not isinstance(fit, kind):
        raise TypeError(f"expected a {kind.__name__}, got {type(fit).__name__}")
    if not fit.ok:
        raise ValueError(f"{fit.model} fit has status {fit.status!r}; its parameters cannot be used")


def p_alive(fit: BGNBDFit, frequency, recency, T) -> np.ndarray:
    """Probability each customer is still alive at T. ``recency``, ``T`` in ``fit.time_unit``."""
    _usable(fit, BGNBDFit)
    return p_alive_from_params(**fit.params(), frequency=frequency, recency=recency, T=T)


def expected_purchases(fit: BGNBDFit, frequency, recency, T, *, horizon_days: float) -> np.ndarray:
    """Expected purchases (repeat purchase days) in the next ``horizon_days`` days.

    ``recency`` and ``T`` are in ``fit.time_unit``; the horizon is given in days
    and converted to the fit's unit here.
    """
    _usable(fit, BGNBDFit)
    t = days_to_periods(horizon_days, fit.time_unit)
    return expected_purchases_periods(**fit.params(), frequency=frequency, recency=recency, T=T,
                                      horizon_periods=t)


def expected_order_value(fit: GammaGammaFit, frequency, monetary_value) -> np.ndarray:
    """Expected value of each customer's future purchases (Gamma-Gamma conditional mean)."""
    _usable(fit, GammaGammaFit)
    return expected_order_value_from_params(**fit.params(), frequency=frequency,
                                            monetary_value=monetary_value)


def predicted_clv(bg_fit: BGNBDFit, gg_fit: GammaGammaFit, frequency, recency, T, monetary_value, *,
                  horizon_months: int = 12, margin_rate=1.0,
                  annual_discount_rate: float | None = None,
                  monthly_discount_rate: float | None = None) -> np.ndarray:
    """Predicted CLV, discounted monthly, on margin::

        CLV = sum_{m=1..H} margin_rate * E[spend per purchase]
                           * (E[Y(month m)] - E[Y(month m-1)]) / (1 + d)^m

    where E[Y(month m)] is the BG/NBD conditional expected number of purchases
    by the end of month m (a month = 365.25/12 days, converted to the fit's
    unit), E[spend per purchase] is the Gamma-Gamma conditional mean, H =
    ``horizon_months`` and d the monthly discount rate, from exactly one of
    ``annual_discount_rate`` (d = (1+annual)^(1/12) - 1) or
    ``monthly_discount_rate``; neither given means no discounting.
    ``margin_rate`` may be a scalar or one value per customer; 1.0 gives revenue.
    ``recency`` and ``T`` are in ``bg_fit.time_unit``.
    """
    _usable(bg_fit, BGNBDFit)
    _usable(gg_fit, GammaGammaFit)
    if annual_discount_rate is None and monthly_discount_rate is None:
        rate = 0.0
    else:
        rate = to_monthly_discount_rate(annual_discount_rate=annual_discount_rate,
                                        monthly_discount_rate=monthly_discount_rate)
    return clv_from_params(bg_fit.params(), gg_fit.params(), frequency, recency, T, monetary_value,
                           time_unit=bg_fit.time_unit, horizon_months=horizon_months,
                           margin_rate=margin_rate, monthly_rate=rate)
