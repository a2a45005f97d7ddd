"""Fit CLV models per segment (e.g. industry, then merchant) with fallback; predict per customer.

A pure function on DataFrames, meant to run inside a Dagster asset or a dbt
Python model that reads the per-customer RFM summary from DuckDB and writes
the two tables back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from orchestration.clv.models import (
    DAYS_PER_MONTH,
    DAYS_PER_UNIT,
    STATUS_OK,
    STATUS_TOO_FEW_CUSTOMERS,
    STATUS_TOO_FEW_REPEAT_BUYERS,
    BGNBDFit,
    GammaGammaFit,
    clv_from_params,
    expected_order_value_from_params,
    expected_purchases_periods,
    fit_bgnbd,
    fit_gamma_gamma,
    normalize_time_unit,
    p_alive_from_params,
    to_monthly_discount_rate,
)

ROOT_SEGMENT = "all"
FIT_COLUMNS = ["segment", "segment_level", "model", "parameter", "value", "time_unit",
               "n_customers", "log_likelihood", "fitted_as_of", "status"]
PREDICTION_COLUMNS = ["time_unit", "p_alive", "expected_purchases", "horizon_months",
                      "expected_avg_order_value", "predicted_clv", "bg_nbd_segment",
                      "gamma_gamma_segment", "prediction_status"]


@dataclass(frozen=True)
class SegmentResult:
    fits: pd.DataFrame
    predictions: pd.DataFrame


def fit_and_predict_segments(
    summary: pd.DataFrame,
    *,
    segment_cols: Sequence[str] = ("industry", "merchant"),
    customer_cols: Sequence[str] = ("customer_id",),
    fit_time_unit: str = "weeks",
    min_customers: int = 200,
    min_repeat_buyers: int = 50,
    horizon_months: int = 12,
    margin_rate: float = 1.0,
    annual_discount_rate: float | None = 0.10,
    monthly_discount_rate: float | None = None,
    fitted_as_of: dt.date | None = None,
    flat_priors: bool = True,
) -> SegmentResult:
    """Fit BG/NBD and Gamma-Gamma per segment and predict every customer.

    ``summary`` has one row per customer: ``customer_cols``, ``segment_cols``
    (coarse to fine, e.g. industry then merchant; NULL allowed), ``frequency``,
    ``recency``, ``T``, ``monetary_value`` (mean repeat-purchase value, NULL
    without repeat purchases), ``time_unit`` (the unit of that row's recency and
    T) and optionally ``margin_rate`` (overrides the ``margin_rate`` argument
    where not NULL).

    Segments form a tree: ``all`` (every customer), then one segment per value
    of the first segment column ("food_delivery"), then per value of the next
    within it ("food_delivery/m17"), and so on. Every segment below ``all`` with
    at least ``min_customers`` customers and ``min_repeat_buyers`` repeat buyers
    is fitted (recency and T are first converted to ``fit_time_unit``). Each
    customer uses, per model, the finest segment on their path whose fit has
    status ``ok``, falling back to its parent and finally to ``all``, which is
    fitted only when some customer needs it (or when it holds the same
    customers as a segment already fitted). A segment with exactly its parent's
    customers reuses the parent's fit.

    Returns a :class:`SegmentResult`:

    * ``fits``: one row per segment x model x parameter (parameters named as in
      the papers: r, alpha, a, b for ``bg_nbd``; p, q, gamma for
      ``gamma_gamma``) with ``value``, ``time_unit`` (of alpha), ``n_customers``,
      ``log_likelihood``, ``fitted_as_of``, ``status``; segments not fitted
      appear with their reason and NULL values.
    * ``predictions``: one row per customer: the customer and segment columns,
      ``time_unit`` (of the fit), ``p_alive``, ``expected_purchases`` over
      ``horizon_months`` months, ``expected_avg_order_value``, ``predicted_clv``
      (see :func:`orchestration.clv.models.predicted_clv`: monthly discounting
      at the monthly equivalent of ``annual_discount_rate``, or at
      ``monthly_discount_rate``, on margin), the segments whose fits were used,
      and ``prediction_status``: ``ok``, ``invalid_summary`` (row fails the
      RFM checks), ``no_fit`` (no usable BG/NBD fit on its path) or
      ``no_spend_fit`` (purchases predicted, but no usable Gamma-Gamma fit).
    """
    unit = normalize_time_unit(fit_time_unit)
    customer_cols, segment_cols = list(customer_cols), list(segment_cols)
    if annual_discount_rate is not None and monthly_discount_rate is not None:
        raise ValueError("give at most one of annual_discount_rate and monthly_discount_rate")
    rate = 0.0 if annual_discount_rate is None and monthly_discount_rate is None else \
        to_monthly_discount_rate(annual_discount_rate=annual_discount_rate,
                                 monthly_discount_rate=monthly_discount_rate)
    as_of = pd.Timestamp(fitted_as_of).date() if fitted_as_of is not None else None

    n_rows = len(summary)
    x = pd.to_numeric(summary["frequency"], errors="coerce").to_numpy(dtype=float)
    factor = _unit_factors(summary["time_unit"], unit)
    t_x = pd.to_numeric(summary["recency"], errors="coerce").to_numpy(dtype=float) * factor
    t_cal = pd.to_numeric(summary["T"], errors="coerce").to_numpy(dtype=float) * factor
    money = pd.to_numeric(summary["monetary_value"], errors="coerce").to_numpy(dtype=float)
    valid = _valid_rows(x, t_x, t_cal)

    paths = _segment_paths(summary, segment_cols)           # level -> array of path or None
    levels = [ROOT_SEGMENT, *segment_cols]
    fitter = _SegmentFitter(x, t_x, t_cal, money, valid, unit, min_customers, min_repeat_buyers,
                            flat_priors)

    # fit every eligible segment below the root, top-down, so children can reuse parents
    for depth in range(1, len(levels)):
        groups = pd.Series(paths[depth]).groupby(paths[depth], sort=True, dropna=True).indices
        for path, rows in groups.items():
            fitter.fit(path, levels[depth], rows, parent=paths[depth - 1][rows[0]])

    # choose, per customer and model, the finest ok fit on the path
    chosen = {}
    for model in ("bg_nbd", "gamma_gamma"):
        pick = np.full(n_rows, None, dtype=object)
        for depth in range(len(levels) - 1, 0, -1):
            level_paths = paths[depth]
            need = pd.isna(pick) & pd.notna(level_paths)
            if need.any():
                ok_paths = {p for p, f in fitter.fits.items() if f[model].ok}
                take = need & pd.Series(level_paths).isin(ok_paths).to_numpy()
                pick[take] = level_paths[take]
        if (pd.isna(pick) & valid).any():
            root = fitter.root(np.flatnonzero(valid))
            if root[model].ok:
                pick[pd.isna(pick)] = ROOT_SEGMENT
        chosen[model] = pick

    predictions = _predict(summary[customer_cols + segment_cols].reset_index(drop=True), fitter.fits,
                           chosen, x, t_x, t_cal, money, valid, unit, horizon_months,
                           _margins(summary, margin_rate), rate)
    return SegmentResult(fits=fitter.table(as_of), predictions=predictions)


class _SegmentFitter:
    def __init__(self, x, t_x, t_cal, money, valid, unit, min_customers, min_repeat_buyers, flat_priors):
        self.x, self.t_x, self.t_cal, self.money, self.valid = x, t_x, t_cal, money, valid
        self.unit, self.flat_priors = unit, flat_priors
        self.min_customers, self.min_repeat_buyers = min_customers, min_repeat_buyers
        self.fits: dict[str, dict] = {}          # path -> {"level", "n_valid", "bg_nbd", "gamma_gamma"}

    def fit(self, path: str, level: str, rows: np.ndarray, parent: str | None) -> None:
        rows = rows[self.valid[rows]]
        n, n_repeat = len(rows), int(np.count_nonzero(self.x[rows] > 0))
        spenders = int(np.count_nonzero((self.x[rows] > 0) & (self.money[rows] > 0)))
        parent_entry = self.fits.get(parent) if parent != ROOT_SEGMENT else None
        if parent_entry is not None and parent_entry["n_valid"] == n:
            # segments are nested: as many valid customers as the parent means the same ones
            bg, gg = parent_entry["bg_nbd"], parent_entry["gamma_gamma"]
        elif n < self.min_customers:
            why = f"{n} customers < min_customers {self.min_customers}"
            bg = self._skipped_bg(STATUS_TOO_FEW_CUSTOMERS, n, n_repeat, why)
            gg = self._skipped_gg(STATUS_TOO_FEW_CUSTOMERS, spenders, why)
        else:
            if n_repeat < self.min_repeat_buyers:
                bg = self._skipped_bg(STATUS_TOO_FEW_REPEAT_BUYERS, n, n_repeat,
                                      f"{n_repeat} repeat buyers < min_repeat_buyers {self.min_repeat_buyers}")
            else:
                bg = self._fit_bg(rows, min_repeat_buyers=1)
            if spenders < self.min_repeat_buyers:
                gg = self._skipped_gg(STATUS_TOO_FEW_REPEAT_BUYERS, spenders,
                                      f"{spenders} repeat buyers with spend < min_repeat_buyers "
                                      f"{self.min_repeat_buyers}")
            else:
                gg = self._fit_gg(rows, min_repeat_buyers=1)
        self.fits[path] = {"level": level, "n_valid": n, "bg_nbd": bg, "gamma_gamma": gg}

    def root(self, valid_rows: np.ndarray) -> dict:
        """The fit of all valid customers, made on first use.

        A first-level segment holding every valid customer is the same data: its
        fits are reused where they were attempted. The root has no
        ``min_customers``/``min_repeat_buyers`` threshold (there is nothing to
        pool with) beyond the fit functions' own floor of 10 repeat buyers.
        """
        if ROOT_SEGMENT in self.fits:
            return self.fits[ROOT_SEGMENT]
        n = len(valid_rows)
        twin = next((e for e in self.fits.values() if e["n_valid"] == n and n > 0), None)
        skipped = (STATUS_TOO_FEW_CUSTOMERS, STATUS_TOO_FEW_REPEAT_BUYERS)
        entry = {"level": ROOT_SEGMENT, "n_valid": n}
        for model, fit_fn in (("bg_nbd", self._fit_bg), ("gamma_gamma", self._fit_gg)):
            if twin is not None and twin[model].status not in skipped:
                entry[model] = twin[model]
            else:
                entry[model] = fit_fn(valid_rows, min_repeat_buyers=10)
        self.fits[ROOT_SEGMENT] = entry
        return entry

    def _fit_bg(self, rows, *, min_repeat_buyers: int) -> BGNBDFit:
        return fit_bgnbd(self.x[rows], self.t_x[rows], self.t_cal[rows], time_unit=self.unit,
                         flat_priors=self.flat_priors, min_repeat_buyers=min_repeat_buyers)

    def _fit_gg(self, rows, *, min_repeat_buyers: int) -> GammaGammaFit:
        return fit_gamma_gamma(self.x[rows], self.money[rows], flat_priors=self.flat_priors,
                               min_repeat_buyers=min_repeat_buyers, time_unit=self.unit)

    def _skipped_bg(self, status, n, n_repeat, why) -> BGNBDFit:
        nan = float("nan")
        return BGNBDFit(r=nan, alpha=nan, a=nan, b=nan, log_likelihood=nan, n_customers=n,
                        n_repeat_buyers=n_repeat, status=status, time_unit=self.unit, message=why)

    def _skipped_gg(self, status, n, why) -> GammaGammaFit:
        nan = float("nan")
        return GammaGammaFit(p=nan, q=nan, gamma=nan, log_likelihood=nan, n_customers=n,
                             status=status, time_unit=self.unit, message=why)

    def table(self, as_of: dt.date | None) -> pd.DataFrame:
        records = []
        order = sorted(self.fits, key=lambda p: (p != ROOT_SEGMENT, p))
        for path in order:
            entry = self.fits[path]
            for model in ("bg_nbd", "gamma_gamma"):
                fit = entry[model]
                for name, value in fit.params().items():
                    records.append({
                        "segment": path, "segment_level": entry["level"], "model": model,
                        "parameter": name, "value": value if np.isfinite(value) else None,
                        "time_unit": fit.time_unit, "n_customers": fit.n_customers,
                        "log_likelihood": fit.log_likelihood if np.isfinite(fit.log_likelihood) else None,
                        "fitted_as_of": as_of, "status": fit.status,
                    })
        table = pd.DataFrame.from_records(records, columns=FIT_COLUMNS)
        table["value"] = table["value"].astype(float)
        table["log_likelihood"] = table["log_likelihood"].astype(float)
        table["n_customers"] = table["n_customers"].astype("int64")
        return table


def _unit_factors(units: pd.Series, to_unit: str) -> np.ndarray:
    """Per-row factor converting that row's durations to ``to_unit``."""
    factors = {}
    for value in pd.unique(units):
        if pd.isna(value):
            raise ValueError("time_unit is NULL for some rows; every summary row needs its unit")
        factors[value] = DAYS_PER_UNIT[normalize_time_unit(value)] / DAYS_PER_UNIT[to_unit]
    return units.map(factors).to_numpy(dtype=float)


def _valid_rows(x, t_x, t_cal) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return (np.isfinite(x) & np.isfinite(t_x) & np.isfinite(t_cal) & (x >= 0) & (x == np.round(x))
                & (t_x >= 0) & (t_x <= t_cal + 1e-9) & (t_cal > 0)
                & ((x == 0) == (t_x == 0)))


def _segment_paths(summary: pd.DataFrame, segment_cols: list[str]) -> list[np.ndarray]:
    """For each level, each row's segment path ("all", "a", "a/b", ...) or None."""
    n = len(summary)
    paths = [np.full(n, ROOT_SEGMENT, dtype=object)]
    current = None
    for col in segment_cols:
        keys = summary[col].reset_index(drop=True)
        text = keys.astype(str)
        current = text if current is None else current + "/" + text
        current = current.where(keys.notna() & (paths[-1] != None))  # noqa: E711
        paths.append(current.to_numpy(dtype=object))
        paths[-1][pd.isna(paths[-1])] = None
    return paths


def _margins(summary: pd.DataFrame, default: float) -> np.ndarray:
    if "margin_rate" not in summary.columns:
        return np.full(len(summary), float(default))
    return pd.to_numeric(summary["margin_rate"], errors="coerce").fillna(default).to_numpy(dtype=float)


def _param_arrays(fits: dict, pick: np.ndarray, model: str) -> dict[str, np.ndarray]:
    names = ["r", "alpha", "a", "b"] if model == "bg_nbd" else ["p", "q", "gamma"]
    out = {}
    picked = pd.Series(pick)
    for name in names:
        lookup = {path: entry[model].params()[name] for path, entry in fits.items() if entry[model].ok}
        out[name] = picked.map(lookup).to_numpy(dtype=float)
    return out


def _predict(keys: pd.DataFrame, fits, chosen, x, t_x, t_cal, money, valid, unit, horizon_months,
             margins, rate) -> pd.DataFrame:
    n = len(keys)
    has_bg = valid & pd.notna(chosen["bg_nbd"])
    has_gg = has_bg & pd.notna(chosen["gamma_gamma"])
    p_alive = np.full(n, np.nan)
    purchases = np.full(n, np.nan)
    aov = np.full(n, np.nan)
    clv = np.full(n, np.nan)
    horizon_periods = horizon_months * DAYS_PER_MONTH / DAYS_PER_UNIT[unit]

    bg = {k: v[has_bg] for k, v in _param_arrays(fits, chosen["bg_nbd"], "bg_nbd").items()}
    sub = dict(frequency=x[has_bg], recency=t_x[has_bg], T=t_cal[has_bg])
    p_alive[has_bg] = p_alive_from_params(**bg, **sub)
    purchases[has_bg] = expected_purchases_periods(**bg, **sub, horizon_periods=horizon_periods)

    gg_all = _param_arrays(fits, chosen["gamma_gamma"], "gamma_gamma")
    gg = {k: v[has_gg] for k, v in gg_all.items()}
    bg_gg = {k: v[has_gg] for k, v in _param_arrays(fits, chosen["bg_nbd"], "bg_nbd").items()}
    aov[has_gg] = expected_order_value_from_params(**gg, frequency=x[has_gg], monetary_value=money[has_gg])
    clv[has_gg] = clv_from_params(bg_gg, gg, x[has_gg], t_x[has_gg], t_cal[has_gg], money[has_gg],
                                  time_unit=unit, horizon_months=horizon_months,
                                  margin_rate=margins[has_gg], monthly_rate=rate)

    status = np.where(~valid, "invalid_summary",
                      np.where(~has_bg, "no_fit", np.where(~has_gg, "no_spend_fit", STATUS_OK)))
    out = keys.copy()
    out["time_unit"] = unit
    out["p_alive"] = p_alive
    out["expected_purchases"] = purchases
    out["horizon_months"] = int(horizon_months)
    out["expected_avg_order_value"] = aov
    out["predicted_clv"] = clv
    out["bg_nbd_segment"] = np.where(has_bg, chosen["bg_nbd"], None)
    out["gamma_gamma_segment"] = np.where(has_gg, chosen["gamma_gamma"], None)
    out["prediction_status"] = status
    return out
