"""The CDNOW sample (Fader, Hardie and Lee 2005), read from the files the `lifetimes`
wheel ships. Only the data is used: the package is located, never imported."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd

CALIBRATION_END = "1997-09-30"   # 39 weeks from 1997-01-01


def cdnow_file(name: str = "CDNOW_sample.txt") -> Path:
    spec = importlib.util.find_spec("lifetimes")  # finds the folder without running its __init__
    assert spec is not None and spec.submodule_search_locations, \
        "the dev dependency 'lifetimes' (CDNOW data files) is not installed"
    path = Path(spec.submodule_search_locations[0]) / "datasets" / name
    assert path.is_file(), f"{path} is missing"
    return path


def cdnow_sample_transactions() -> pd.DataFrame:
    """CDNOW_sample.txt: whitespace-separated, no header, CRLF; columns are the
    master-file customer id, the sample customer id (1..2357), the date
    YYYYMMDD, the number of CDs and the dollar value."""
    rows = [line.split() for line in cdnow_file().read_text().splitlines() if line.strip()]
    assert all(len(r) == 5 for r in rows)
    return pd.DataFrame({
        "customer_id": [int(r[1]) for r in rows],
        "order_date": pd.to_datetime([r[2] for r in rows], format="%Y%m%d"),
        "n_cds": [int(r[3]) for r in rows],
        "amount": [float(r[4]) for r in rows],
    })


def pandas_rfm_summary(transactions: pd.DataFrame, calibration_end: str, days_per_unit: float,
                       include_first_purchase_in_spend: bool = False) -> pd.DataFrame:
    """An independent, plain-pandas version of the RFM summary, to check the SQL one."""
    end = pd.Timestamp(calibration_end)
    tx = transactions[transactions["order_date"] <= end]
    days = tx.groupby(["customer_id", "order_date"], as_index=False)["amount"].sum()
    first = days.groupby("customer_id")["order_date"].transform("min")
    days = days.assign(is_repeat=days["order_date"] > first)
    g = days.groupby("customer_id")
    out = pd.DataFrame({
        "frequency": g.size() - 1,
        "recency": (g["order_date"].max() - g["order_date"].min()).dt.days / days_per_unit,
        "T": (end - g["order_date"].min()).dt.days / days_per_unit,
    })
    spend = days if include_first_purchase_in_spend else days[days["is_repeat"]]
    out["monetary_value"] = spend.groupby("customer_id")["amount"].mean()
    return out.reset_index()
