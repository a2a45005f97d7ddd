"""Fit CLV models per segment (e.g. industry, then merchant) with fallback; predict per customer.

Pure functions on DataFrames. ``fit_segments`` is what the dbt model
``int_clv_fits`` calls; ``fit_and_predict_segments`` fits and then scores with
:func:`orchestration.clv.scoring.score_customers`, the same function the dbt
model ``int_clv_predictions`` calls. Settings not given default to the dbt
vars of dbt_project.yml (``clv_min_customers`` ...), read from there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from orchestration.clv.defaults import clv_setting
from orchestration.clv.fitter import fit_bgnbd, fit_gamma_gamma
from orchestration.clv.predictions import distinct_rows, to_monthly_discount_rate
from orchestration.clv.sampling import SAMPLE_KEY_COLUMN, capped_rows, max_customers_setting, sample_keys
from orchestration.clv.scoring import ROOT_SEGMENT, SCORE_SCHEMA, score_customers, valid_summary_rows
from orchestration.clv.statuses import (
    STATUS_NOT_NEEDED,
    STATUS_TOO_FEW_CUSTOMERS,
    STATUS_TOO_FEW_REPEAT_BUYERS,
    BGNBDFit,
    GammaGammaFit,
)
from orchestration.clv.time_units import DAYS_PER_UNIT, normalize_time_unit

MODELS = ("bg_nbd", "gamma_gamma")
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
    fit_time_unit: str | None = None,
    min_customers: int | None = None,
    min_repeat_buyers: int | None = None,
    horizon_months: int | None = None,
    margin_rate: float = 1.0,
    annual_discount_rate: float | None = None,
    monthly_discount_rate: float | None = None,
    fitted_as_of: dt.date | None = None,
    flat_priors: bool | None = None,
    max_customers: int | None = None,
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
    within it ("food_delivery/m17"), and so on. Each customer uses, per model,
    the finest segment on their path whose fit has status ``ok``, falling back
    to its parent and finally to ``all``. Fitting goes bottom-up: every finest
    segment with at least ``min_customers`` customers and ``min_repeat_buyers``
    repeat buyers is fitted (recency and T first converted to
    ``fit_time_unit``); a coarser segment is fitted only when some of its
    customers have no ok fit below it, and is otherwise listed as
    ``not_needed``. A segment holding exactly the customers of one segment
    below it reuses that fit. ``all`` has no thresholds beyond the fit
    functions' floor of 10 repeat buyers (there is nothing to pool with).
    A segment with more valid customers than ``max_customers`` (default: var
    ``clv_fit_max_customers``; 0 = no cap) is fitted on that many of them,
    drawn by :mod:`orchestration.clv.sampling` from ``customer_cols``; every
    customer is still scored.

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
    if annual_discount_rate is not None and monthly_discount_rate is not None:
        raise ValueError("give at most one of annual_discount_rate and monthly_discount_rate")
    if monthly_discount_rate is not None:
        annual_discount_rate = (1.0 + to_monthly_discount_rate(monthly_discount_rate=monthly_discount_rate)) ** 12 - 1.0
    tree = _fit_tree(summary, segment_cols, clv_setting(fit_time_unit, "clv_fit_time_unit"),
                     clv_setting(min_customers, "clv_min_customers"),
                     clv_setting(min_repeat_buyers, "clv_min_repeat_buyers"),
                     clv_setting(flat_priors, "clv_flat_priors"),
                     max_customers_setting(clv_setting(max_customers, "clv_fit_max_customers")), customer_cols)
    fits = tree.fitter.table(_as_date(fitted_as_of))
    keys = summary[list(customer_cols) + list(segment_cols)].reset_index(drop=True)
    # the summary in days, as the SQL summary gives it, for the one scoring path
    to_days = summary["time_unit"].map(lambda unit: DAYS_PER_UNIT[normalize_time_unit(unit)]).to_numpy(dtype=float)
    scored = score_customers(
        pa.table({
            **{col: pa.array(keys[col].map(lambda v: None if pd.isna(v) else str(v)), type=pa.string())
               for col in segment_cols},
            "frequency": pd.to_numeric(summary["frequency"], errors="coerce").to_numpy(dtype=float),
            "recency_days": pd.to_numeric(summary["recency"], errors="coerce").to_numpy(dtype=float) * to_days,
            "t_days": pd.to_numeric(summary["T"], errors="coerce").to_numpy(dtype=float) * to_days,
            "monetary_value": pd.to_numeric(summary["monetary_value"], errors="coerce").to_numpy(dtype=float),
            "margin_rate": _margins(summary, margin_rate),
        }),
        fits,
        segment_columns=segment_cols,
        horizon_months=int(clv_setting(horizon_months, "clv_horizon_months")),
        annual_discount_rate=float(clv_setting(annual_discount_rate, "clv_annual_discount_rate")),
        fit_time_unit=tree.fitter.unit,
    ).to_pandas()
    predictions = pd.concat([keys, scored[[name for name in SCORE_SCHEMA.names]]], axis=1)
    return SegmentResult(fits=fits, predictions=predictions)


def fit_segments(
    summary: pd.DataFrame,
    *,
    segment_cols: Sequence[str] = ("industry", "merchant"),
    customer_cols: Sequence[str] = ("customer_id",),
    fit_time_unit: str | None = None,
    min_customers: int | None = None,
    min_repeat_buyers: int | None = None,
    fitted_as_of: dt.date | None = None,
    flat_priors: bool | None = None,
    max_customers: int | None = None,
) -> pd.DataFrame:
    """The ``fits`` table of :func:`fit_and_predict_segments`, without scoring anybody
    (``customer_cols`` are read only when a segment is larger than ``max_customers``)."""
    tree = _fit_tree(summary, segment_cols, clv_setting(fit_time_unit, "clv_fit_time_unit"),
                     clv_setting(min_customers, "clv_min_customers"),
                     clv_setting(min_repeat_buyers, "clv_min_repeat_buyers"),
                     clv_setting(flat_priors, "clv_flat_priors"),
                     max_customers_setting(clv_setting(max_customers, "clv_fit_max_customers")), customer_cols)
    return tree.fitter.table(_as_date(fitted_as_of))


def _as_date(value) -> dt.date | None:
    return pd.Timestamp(value).date() if value is not None else None


@dataclass(frozen=True)
class _Tree:
    fitter: "_SegmentFitter"
    chosen: dict            # model -> per-row segment path used, or None


def _fit_tree(summary, segment_cols, fit_time_unit, min_customers, min_repeat_buyers, flat_priors,
              max_customers=None, customer_cols=()) -> _Tree:
    unit = normalize_time_unit(fit_time_unit)
    segment_cols = list(segment_cols)
    n_rows = len(summary)
    x = pd.to_numeric(summary["frequency"], errors="coerce").to_numpy(dtype=float)
    factor = _unit_factors(summary["time_unit"], unit)
    t_x = pd.to_numeric(summary["recency"], errors="coerce").to_numpy(dtype=float) * factor
    t_cal = pd.to_numeric(summary["T"], errors="coerce").to_numpy(dtype=float) * factor
    money = pd.to_numeric(summary["monetary_value"], errors="coerce").to_numpy(dtype=float)
    valid = valid_summary_rows(x, t_x, t_cal)

    paths = _segment_paths(summary, segment_cols)           # level -> array of path or None
    levels = [ROOT_SEGMENT, *segment_cols]
    fitter = _SegmentFitter(x, t_x, t_cal, money, valid, unit, min_customers, min_repeat_buyers,
                            flat_priors)
    fitter.cap(max_customers, lambda: _sample_keys(summary, customer_cols))

    # bottom-up: a row is "covered" for a model once a segment on its path has an ok fit;
    # a segment is fitted for a model only while some of its valid rows are uncovered
    chosen = {model: np.full(n_rows, None, dtype=object) for model in MODELS}
    for depth in range(len(levels) - 1, -1, -1):
        level_paths = paths[depth]
        groups = pd.Series(level_paths).groupby(level_paths, sort=True, dropna=True).indices
        for path, rows in groups.items():
            rows = rows[valid[rows]]
            needed = {model: bool(pd.isna(chosen[model][rows]).any()) for model in MODELS}
            child = paths[depth + 1][rows[0]] if depth + 1 < len(levels) and len(rows) else None
            fitter.fit(path, levels[depth], rows, needed, child=child, is_root=depth == 0)
            for model in MODELS:
                if fitter.fits[path][model].ok:
                    take = rows[pd.isna(chosen[model][rows])]
                    chosen[model][take] = path
    return _Tree(fitter=fitter, chosen=chosen)


class _SegmentFitter:
    def __init__(self, x, t_x, t_cal, money, valid, unit, min_customers, min_repeat_buyers, flat_priors):
        self.x, self.t_x, self.t_cal, self.money, self.valid = x, t_x, t_cal, money, valid
        self.unit, self.flat_priors = unit, flat_priors
        self.min_customers, self.min_repeat_buyers = min_customers, min_repeat_buyers
        self.fits: dict[str, dict] = {}          # path -> {"level", "n_valid", "bg_nbd", "gamma_gamma"}
        self.max_customers, self._keys, self._key_source = None, None, None

    def cap(self, max_customers: int | None, key_source) -> None:
        """Fit a segment on at most ``max_customers`` of its valid rows (orchestration.clv.sampling);
        ``key_source()`` gives every row's sampling key, computed once, when a segment first needs it."""
        self.max_customers, self._key_source = max_customers, key_source

    def _fitted_rows(self, rows: np.ndarray) -> np.ndarray:
        if self.max_customers is None or len(rows) <= self.max_customers:
            return rows
        if self._keys is None:
            self._keys = self._key_source()
        return capped_rows(rows, self._keys, self.max_customers)

    def fit(self, path: str, level: str, rows: np.ndarray, needed: dict[str, bool], *,
            child: str | None, is_root: bool) -> None:
        """Fit one segment from its valid ``rows``, for the models ``needed`` says.

        ``child`` is the segment below holding the first row: when it holds
        every row of this one (segments are nested, so equal counts mean the
        same customers), its attempted fits are reused. The root has no
        ``min_customers`` / ``min_repeat_buyers`` threshold beyond the fit
        functions' own floor of 10 repeat buyers.
        """
        n, n_repeat = len(rows), int(np.count_nonzero(self.x[rows] > 0))
        spenders = int(np.count_nonzero((self.x[rows] > 0) & (self.money[rows] > 0)))
        twin = self.fits.get(child) if child is not None else None
        twin = twin if twin is not None and twin["n_valid"] == n and n > 0 else None
        skipped = (STATUS_TOO_FEW_CUSTOMERS, STATUS_TOO_FEW_REPEAT_BUYERS, STATUS_NOT_NEEDED)
        entry = {"level": level, "n_valid": n}
        for model in MODELS:
            if twin is not None and twin[model].status not in skipped:
                entry[model] = twin[model]
            elif not needed[model] and n > 0:
                entry[model] = self._skipped(model, STATUS_NOT_NEEDED, n, n_repeat, spenders,
                                             "every customer has an ok fit in a finer segment")
            elif is_root:
                entry[model] = self._attempt(model, self._fitted_rows(rows), min_repeat_buyers=10)
            elif n < self.min_customers:
                entry[model] = self._skipped(model, STATUS_TOO_FEW_CUSTOMERS, n, n_repeat, spenders,
                                             f"{n} customers < min_customers {self.min_customers}")
            elif model == "bg_nbd" and n_repeat < self.min_repeat_buyers:
                entry[model] = self._skipped(model, STATUS_TOO_FEW_REPEAT_BUYERS, n, n_repeat, spenders,
                                             f"{n_repeat} repeat buyers < min_repeat_buyers "
                                             f"{self.min_repeat_buyers}")
            elif model == "gamma_gamma" and spenders < self.min_repeat_buyers:
                entry[model] = self._skipped(model, STATUS_TOO_FEW_REPEAT_BUYERS, n, n_repeat, spenders,
                                             f"{spenders} repeat buyers with spend < min_repeat_buyers "
                                             f"{self.min_repeat_buyers}")
            else:
                entry[model] = self._attempt(model, self._fitted_rows(rows), min_repeat_buyers=1)
        self.fits[path] = entry

    def _attempt(self, model: str, rows, *, min_repeat_buyers: int):
        if model == "bg_nbd":
            return fit_bgnbd(self.x[rows], self.t_x[rows], self.t_cal[rows], time_unit=self.unit,
                             flat_priors=self.flat_priors, min_repeat_buyers=min_repeat_buyers)
        return fit_gamma_gamma(self.x[rows], self.money[rows], flat_priors=self.flat_priors,
                               min_repeat_buyers=min_repeat_buyers, time_unit=self.unit)

    def _skipped(self, model, status, n, n_repeat, spenders, why):
        nan = float("nan")
        if model == "bg_nbd":
            return BGNBDFit(r=nan, alpha=nan, a=nan, b=nan, log_likelihood=nan, n_customers=n,
                            n_repeat_buyers=n_repeat, status=status, time_unit=self.unit, message=why)
        return GammaGammaFit(p=nan, q=nan, gamma=nan, log_likelihood=nan, n_customers=spenders,
                             status=status, time_unit=self.unit, message=why)

    def table(self, as_of: dt.date | None) -> pd.DataFrame:
        records = []
        order = sorted(self.fits, key=lambda p: (p != ROOT_SEGMENT, p))
        for path in order:
            entry = self.fits[path]
            for model in MODELS:
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


def _sample_keys(summary: pd.DataFrame, customer_cols: Sequence[str]) -> np.ndarray:
    if SAMPLE_KEY_COLUMN in summary.columns:      # computed by the engine (sampling.sample_key_sql)
        return summary[SAMPLE_KEY_COLUMN].to_numpy(dtype=np.uint64)
    missing = [col for col in customer_cols if col not in summary.columns]
    if not customer_cols or missing:
        raise ValueError(f"a segment is larger than the CLV fit cap, and drawing its sample needs the customer "
                         f"key columns {list(customer_cols) or '(none given)'}; missing from the summary: "
                         f"{missing}. Pass customer_cols, or max_customers=0 for no cap.")
    return sample_keys([summary[col].tolist() for col in customer_cols])


def _unit_factors(units: pd.Series, to_unit: str) -> np.ndarray:
    """Per-row factor converting that row's durations to ``to_unit``."""
    factors = {}
    for value in pd.unique(units):
        if pd.isna(value):
            raise ValueError("time_unit is NULL for some rows; every summary row needs its unit")
        factors[value] = DAYS_PER_UNIT[normalize_time_unit(value)] / DAYS_PER_UNIT[to_unit]
    return units.map(factors).to_numpy(dtype=float)


def _segment_paths(summary: pd.DataFrame, segment_cols: list[str]) -> list[np.ndarray]:
    """For each level, each row's segment path ("all", "a", "a/b", ...) or None.

    A row's paths depend on its own segment values only: they are spelt once per
    distinct combination of values and handed to its rows.
    """
    keys = summary[list(segment_cols)].reset_index(drop=True)
    if not segment_cols or len(keys) == 0:
        return _segment_paths_of_rows(keys, segment_cols)
    first, combination = distinct_rows(np.column_stack([pd.factorize(keys[col])[0] for col in segment_cols]))
    spelt = _segment_paths_of_rows(keys.iloc[first].reset_index(drop=True), segment_cols)
    return [level[combination] for level in spelt]


def _segment_paths_of_rows(summary: pd.DataFrame, segment_cols: list[str]) -> list[np.ndarray]:
    """:func:`_segment_paths`, spelt row by row."""
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
