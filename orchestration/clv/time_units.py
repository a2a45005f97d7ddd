"""Time units of the CLV models: days, weeks, months (a month is 365.25 / 12 days).

A BG/NBD fit is only meaningful in the time unit of the ``recency`` and ``T``
it was fitted on (``alpha`` scales with the unit; ``r, a, b`` do not). Every
fit records its ``time_unit`` ("days", "weeks" or "months", a month being
365.25 / 12 days). Customer inputs ``recency`` and ``T`` passed to the
prediction functions are in the fit's unit. Prediction *horizons* are never a
bare number of periods in the high-level API: they are given as
``horizon_days`` (or ``horizon_months`` for CLV) and converted with the fit's
unit, so a horizon cannot silently be read in the wrong unit. The low-level
``*_periods`` functions take ``horizon_periods`` in the model's unit, named so.
"""

from __future__ import annotations

import numpy as np

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
