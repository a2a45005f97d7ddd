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
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from orchestration.clv.likelihoods import _gamma_gamma_terms, bgnbd_log_likelihood, gamma_gamma_log_likelihood
from orchestration.clv.statuses import (
    STATUS_DEGENERATE,
    STATUS_NOT_CONVERGED,
    STATUS_OK,
    STATUS_TOO_FEW_CUSTOMERS,
    STATUS_TOO_FEW_REPEAT_BUYERS,
    BGNBDFit,
    GammaGammaFit,
)
from orchestration.clv.time_units import normalize_time_unit

_PROJECT_DIR = Path(__file__).resolve().parents[2]


def _default_pytensor_compiledir() -> None:
    """Keep PyTensor's compile cache in the project (``.cache/pytensor``, git-ignored).

    Only when running from the project checkout, and never overriding a user's
    ``PYTENSOR_FLAGS``: a ``compiledir`` is added only if theirs names none.
    Called when the first fitter is built, just before PyTensor is first
    imported (never at import of this package).
    """
    flags = os.environ.get("PYTENSOR_FLAGS", "")
    if "compiledir" in flags or not (_PROJECT_DIR / "pyproject.toml").exists():
        return
    mine = f"compiledir={_PROJECT_DIR / '.cache' / 'pytensor'}"
    os.environ["PYTENSOR_FLAGS"] = f"{flags},{mine}" if flags.strip() else mine


# Where the likelihood has no interior maximum (nobody seems to drop out, spend
# is constant, spend is heavy-tailed...), the optimiser runs along a ridge
# towards 0 or infinity. Shape parameters (r, a, b, p, q) are unit-free; scale
# parameters (alpha, gamma) are judged relative to the data's own scale
# (alpha / mean T, gamma / mean spend). Outside these bounds a fit is degenerate.
_SHAPE_MIN, _SHAPE_MAX = 1e-4, 1e4
_SCALE_RATIO_MIN, _SCALE_RATIO_MAX = 1e-4, 1e4


def _flat(names: Sequence[str]) -> dict:
    from pymc_extras.prior import Prior

    return {name: Prior("HalfFlat") for name in names}


# L-BFGS-B stops when a step improves the objective by less than ftol x |objective|.
# SciPy's default (2.2e-9, what find_MAP uses) can stop 1e-4 short of the optimum
# in relative parameter terms on sums over hundreds of thousands of customers;
# 1e-12 costs a few more evaluations and lands on the maximum-likelihood point.
_FTOL = 1e-12


class _SingleThreadedBLAS:
    """While any fit runs, BLAS (OpenBLAS, loaded by NumPy and SciPy) uses one thread.

    L-BFGS-B calls BLAS on vectors of 4 to 7 parameters once per iteration, and a
    multi-threaded OpenBLAS wakes its threads for each call and lets them spin:
    measured on the 2-core machine, ~10 ms of two busy cores per call, a third of
    a 200,000-customer BG/NBD fit's CPU time, with the same parameters to the
    last bit on one thread (nothing a fit does is large enough for BLAS to split).
    Process-wide (that is what threadpoolctl changes), so the live and the
    backtest fits, which dbt may run in two threads, share one count: the limit
    is set by the first fit to start and lifted by the last to end. threadpoolctl
    comes with PyMC, which a fit imports anyway.
    """

    _lock = threading.Lock()
    _users = 0
    _limits = None

    def __enter__(self):
        from threadpoolctl import threadpool_limits

        cls = type(self)
        with cls._lock:
            if cls._users == 0:
                cls._limits = threadpool_limits(limits=1, user_api="blas")
            cls._users += 1
        return self

    def __exit__(self, *exc):
        cls = type(self)
        with cls._lock:
            cls._users -= 1
            if cls._users == 0:
                cls._limits.restore_original_limits()
                cls._limits = None
        return False


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

    One instance per kind and prior choice is shared by the whole process, and
    dbt runs Python models in threads (the live and the backtest fits may run
    side by side), so the shared state is guarded: building a fitter holds the
    class lock (one compile per key), and :meth:`fit` holds the instance's lock
    from swapping the data in to reading the parameters out, so two threads
    never optimise on each other's data.
    """

    _cache: dict[tuple[str, bool], "_MapFitter"] = {}
    _cache_lock = threading.Lock()

    @classmethod
    def get(cls, kind: str, flat_priors: bool) -> "_MapFitter":
        key = (kind, bool(flat_priors))
        with cls._cache_lock:
            if key not in cls._cache:
                cls._cache[key] = cls(kind, bool(flat_priors))
            return cls._cache[key]

    def __init__(self, kind: str, flat_priors: bool):
        _default_pytensor_compiledir()   # before PyTensor is first imported
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

        self._lock = threading.Lock()
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

        evaluations = 0

        def cost(point):
            nonlocal evaluations
            evaluations += 1
            if evaluations > max_evaluations:
                raise StopIteration
            value, *gradient = self._logp_and_gradient(*point)
            return -float(value), -np.asarray(gradient, dtype=float)

        with self._lock, _SingleThreadedBLAS():   # the data live in the shared model until the parameters are read
            pm.set_data(data, model=self.model)
            try:
                raw = minimize(cost, self._x0, jac=True, method="L-BFGS-B", options={"ftol": _FTOL})
                point = raw.x
            except StopIteration:
                raw, point = None, self._x0
            values = self._parameters(*point)
        return {n: float(np.asarray(v)) for n, v in zip(self._names, values, strict=True)}, raw


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
