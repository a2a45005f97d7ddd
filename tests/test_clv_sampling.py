"""Bounded CLV fits: a segment above var clv_fit_max_customers is fitted on a fixed
sample (orchestration.clv.sampling), the same one in any row order and on any
engine with MD5; segments at or below the cap are fitted on everyone."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from orchestration import clv
from orchestration.clv.dbt_fits import fit_summary
from orchestration.clv.sampling import capped_rows, max_customers_setting, sample_key_sql, sample_keys

CAP = 1500


@pytest.fixture(scope="module")
def summary() -> pd.DataFrame:
    """A dbt-shaped summary (days): a big merchant (4000 customers) and a small one (1000)."""
    rng = np.random.default_rng(11)
    parts = []
    for merchant, n in (("m1", 4000), ("m2", 1000)):
        T = rng.integers(8 * 7, 52 * 7 + 1, n) / 7.0
        s = clv.simulate_bgnbd(n, r=0.8, alpha=3.0, a=0.6, b=3.0, T=T, rng=rng)
        s["monetary_value"] = clv.simulate_gamma_gamma_spend(s["frequency"], p=6.0, q=4.0, gamma=15.0, rng=rng)
        s["merchant_id"] = merchant
        s["customer_id"] = [f"{merchant}-c{i}" for i in range(n)]
        parts.append(s)
    out = pd.concat(parts, ignore_index=True)
    out["industry"] = "food_delivery"
    out["recency_days"], out["t_days"] = out.pop("recency") * 7, out.pop("T") * 7
    out["as_of_date"] = pd.Timestamp("2026-06-30")
    return out


def _fits(summary: pd.DataFrame, cap) -> pd.DataFrame:
    con = duckdb.connect()
    con.register("summary_frame", summary)
    return fit_summary(con.table("summary_frame"), as_of_column="as_of_date", fit_time_unit="weeks",
                       min_customers=200, min_repeat_buyers=50, flat_priors="true", max_customers=cap)


def _value(fits, segment, model, parameter):
    row = fits[(fits["segment"] == segment) & (fits["model"] == model) & (fits["parameter"] == parameter)]
    return row.iloc[0]


def test_the_cap_setting_reads_a_rendered_var():
    assert max_customers_setting("200000") == 200000
    assert max_customers_setting(" 0 ") is None and max_customers_setting("") is None
    assert max_customers_setting(None) is None
    with pytest.raises(ValueError, match="0 \\(no cap\\) or a positive number"):
        max_customers_setting("-5")


def test_sample_keys_are_the_md5_of_the_natural_key_as_sql_computes_it():
    merchants, customers = ["m1", None, "m2"], ["c1", "c2", "x|y"]
    ours = sample_keys([merchants, customers])
    con = duckdb.connect()
    values = "(values (1, 'm1', 'c1'), (2, null, 'c2'), (3, 'm2', 'x|y')) as t(i, m, c)"
    rows = con.execute(f"select left(md5(coalesce(m, '') || '|' || c), 16) from {values} order by i").fetchall()
    assert [int(hex_prefix, 16) for (hex_prefix,) in rows] == [int(k) for k in ours]
    # the expression the fit models read their keys with gives the same numbers
    engine = con.execute(f"select {sample_key_sql('m', 'c')} from {values} order by i").fetchall()
    assert [int(k) for (k,) in engine] == [int(k) for k in ours]


def test_the_sample_does_not_depend_on_row_order(summary):
    keys = sample_keys([summary["merchant_id"].tolist(), summary["customer_id"].tolist()])
    chosen = set(summary["customer_id"].to_numpy()[capped_rows(np.arange(len(summary)), keys, CAP)])
    shuffled = summary.sample(frac=1.0, random_state=3).reset_index(drop=True)
    shuffled_keys = sample_keys([shuffled["merchant_id"].tolist(), shuffled["customer_id"].tolist()])
    rows = capped_rows(np.arange(len(shuffled)), shuffled_keys, CAP)
    assert len(chosen) == CAP and set(shuffled["customer_id"].to_numpy()[rows]) == chosen
    assert list(rows) == sorted(rows)   # kept in the summary's order (the likelihood's sum order)
    assert capped_rows(np.arange(10), None, CAP).tolist() == list(range(10))   # under the cap: untouched


def test_a_segment_above_the_cap_is_fitted_on_a_sample_and_the_others_on_everyone(summary):
    full, capped = _fits(summary, 0), _fits(summary, CAP)
    again = _fits(summary.sample(frac=1.0, random_state=5), CAP)
    pd.testing.assert_frame_equal(capped, again)     # the same sample, fit and fingerprint in any row order

    big = _value(capped, "food_delivery/m1", "bg_nbd", "r")
    assert big["status"] == "ok" and big["n_customers"] == CAP
    assert _value(full, "food_delivery/m1", "bg_nbd", "r")["n_customers"] == 4000
    assert _value(capped, "food_delivery/m1", "gamma_gamma", "p")["n_customers"] < CAP   # the sample's spenders
    # the capped fit is the full fit of exactly the CAP customers of m1 with the smallest keys
    m1 = summary[summary["merchant_id"] == "m1"].reset_index(drop=True)
    keys = sample_keys([m1["merchant_id"].tolist(), m1["customer_id"].tolist()])
    sample = m1.iloc[np.argsort(keys)[:CAP]]
    alone = _fits(sample, 0)
    for model, parameter in (("bg_nbd", "r"), ("bg_nbd", "alpha"), ("bg_nbd", "a"), ("bg_nbd", "b"),
                             ("gamma_gamma", "p"), ("gamma_gamma", "q"), ("gamma_gamma", "gamma")):
        assert _value(capped, "food_delivery/m1", model, parameter)["value"] == pytest.approx(
            _value(alone, "food_delivery/m1", model, parameter)["value"], rel=1e-6)
    # m2 is under the cap: fitted on everyone either way (the fingerprints differ: the settings do)
    small = capped[capped["segment"] == "food_delivery/m2"].drop(columns="input_fingerprint").reset_index(drop=True)
    alike = full[full["segment"] == "food_delivery/m2"].drop(columns="input_fingerprint").reset_index(drop=True)
    pd.testing.assert_frame_equal(small, alike)
    assert capped["input_fingerprint"].nunique() == 1 and capped["input_fingerprint"][0] != full["input_fingerprint"][0]
