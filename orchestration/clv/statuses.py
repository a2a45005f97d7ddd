"""Fit statuses and the fit results (parameters, log-likelihood, status).

Fits never raise to the caller. ``status`` is one of ``ok``,
``too_few_customers``, ``too_few_repeat_buyers``, ``not_converged``,
``degenerate`` (a parameter ran off towards 0 or infinity, or a Gamma-Gamma
``q <= 1`` which makes the expected spend infinite) or ``failed: <message>``.
Parameters of a fit that is not ``ok`` may be NaN and must not be used; the
segment driver :func:`fit_and_predict_segments` falls back to the parent
segment's fit instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field

STATUS_OK = "ok"
STATUS_TOO_FEW_CUSTOMERS = "too_few_customers"
STATUS_TOO_FEW_REPEAT_BUYERS = "too_few_repeat_buyers"
STATUS_NOT_CONVERGED = "not_converged"
STATUS_DEGENERATE = "degenerate"
# a coarser segment not fitted because every one of its customers has an ok finer fit
STATUS_NOT_NEEDED = "not_needed"


class _FitResult:
    """What every fit result shares: ``status`` and whether its parameters may be used."""

    status: str
    PARAMETERS: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status == STATUS_OK

    def params(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in self.PARAMETERS}


@dataclass(frozen=True)
class BGNBDFit(_FitResult):
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
    PARAMETERS = ("r", "alpha", "a", "b")


@dataclass(frozen=True)
class GammaGammaFit(_FitResult):
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
    PARAMETERS = ("p", "q", "gamma")


# Per-customer prediction statuses (orchestration.clv.scoring.score_customers)
PREDICTION_OK = "ok"
# purchases predicted, but no usable Gamma-Gamma fit on the customer's path
PREDICTION_NO_SPEND_FIT = "no_spend_fit"
# no usable BG/NBD fit on the customer's path
PREDICTION_NO_FIT = "no_fit"
# the (frequency, recency, T) row fails the RFM checks
PREDICTION_INVALID_SUMMARY = "invalid_summary"
# first purchase on AS_OF_DATE (T = 0): the BG/NBD likelihood needs T > 0
PREDICTION_FIRST_PURCHASE_ON_AS_OF_DATE = "first_purchase_on_as_of_date"
