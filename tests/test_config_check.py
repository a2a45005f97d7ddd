"""Seeds and vars that make no sense stop the run, naming the seed row (or var) and the fix."""

from __future__ import annotations

import shutil

import pytest
from support import PROJECT_DIR

from orchestration.config_check import check_configuration, raw_merchant_ids
from orchestration.landing import RawDataError, land_raw_data


@pytest.fixture()
def project(tmp_path):
    """A copy of the project's seeds and dbt_project.yml to break."""
    shutil.copytree(PROJECT_DIR / "seeds", tmp_path / "seeds")
    shutil.copy(PROJECT_DIR / "dbt_project.yml", tmp_path / "dbt_project.yml")
    return tmp_path


def edit(path, old, new):
    text = path.read_text()
    assert old in text, (old, path)
    path.write_text(text.replace(old, new, 1))


def refused(project, **kwargs) -> str:
    with pytest.raises(RawDataError) as error:
        check_configuration(project, **kwargs)
    return str(error.value)


def test_the_shipped_configuration_passes():
    check_configuration(PROJECT_DIR, known_merchants={"default"})


def test_churned_not_after_silent(project):
    edit(project / "seeds" / "industry_windows.csv", "food_delivery,7,30,", "food_delivery,7,7,")
    assert refused(project) == (
        "seeds/industry_windows.csv row 2 (industry=food_delivery): churned_after_days (7) is not greater than "
        "silent_after_days (7). A customer turns silent before churning: make churned_after_days the larger."
    )


def test_negative_window(project):
    edit(project / "seeds" / "industry_windows.csv", "apparel_ecommerce,30,60,false,4,5", "apparel_ecommerce,-30,60,false,4,5")
    assert refused(project) == (
        "seeds/industry_windows.csv row 3 (industry=apparel_ecommerce): silent_after_days is -30, below 1. "
        "Use a value of at least 1."
    )


def test_lead_not_inside_the_silence_window(project):
    edit(project / "seeds" / "industry_windows.csv", "food_delivery,7,30,false,20,2", "food_delivery,7,30,false,20,9")
    assert "intervention_lead_days (9) is not less than silent_after_days (7)" in refused(project)


def test_budget_shares_not_summing_to_one(project):
    edit(project / "seeds" / "clv_tier_budget_shares.csv", "high,0.80", "high,0.70")
    assert refused(project) == (
        "seeds/clv_tier_budget_shares.csv: the budget_share column sums to 0.90, not 1 (high=0.70, "
        "potential=0.15, general=0.04, low=0.01). Adjust the shares so they add up to 1."
    )


def test_override_for_an_unknown_merchant(project, tmp_path):
    (project / "seeds" / "merchant_window_overrides.csv").write_text(
        "merchant_id,silent_after_days,churned_after_days,counts_interactions,loyal_min_orders_in_window,intervention_lead_days\n"
        "M1,10,45,,,3\n"
        "m-typo,10,45,,,3\n"
    )
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "orders.csv").write_text("order_id,customer_id,ordered_at,amount,merchant_id\no1,c1,2024-01-01,5, m1 \n")
    land_raw_data(raw, tmp_path / "db.duckdb", encodings={})
    known = raw_merchant_ids(tmp_path / "db.duckdb")
    assert known == {"m1", "default"}
    assert refused(project, known_merchants=known) == (
        "seeds/merchant_window_overrides.csv row 3 (merchant_id=m-typo): merchant m-typo is in none of the raw "
        "files. Fix the merchant_id (ids are compared trimmed and lower-cased) or delete the row."
    )


def test_override_churned_not_after_silent(project):
    (project / "seeds" / "merchant_window_overrides.csv").write_text(
        "merchant_id,silent_after_days,churned_after_days,counts_interactions,loyal_min_orders_in_window,intervention_lead_days\n"
        "m1,40,20,,,3\n"
    )
    assert "row 2 (merchant_id=m1): churned_after_days (20) is not greater than silent_after_days (40)" in refused(project)


def test_unknown_industry_in_another_seed(project):
    edit(project / "seeds" / "industry_margin_rates.csv", "apparel_ecommerce,", "apparel_ecomerce,")
    assert refused(project) == (
        "seeds/industry_margin_rates.csv row 3 (industry=apparel_ecomerce): industry apparel_ecomerce is not in "
        "seeds/industry_windows.csv. Fix the spelling, or add the industry to industry_windows.csv first."
    )


def test_unknown_key_in_a_seed(project):
    edit(project / "seeds" / "lifecycle_playbook.csv", "\nchurned,", "\nchurn,")
    message = refused(project)
    assert message.startswith("seeds/lifecycle_playbook.csv row ")
    assert "lifecycle_stage 'churn' is not one the pipeline knows. Use one of prospect, new, active, loyal, " \
           "at_risk, churned, reactivated." in message


def test_unknown_column_in_a_seed(project):
    edit(project / "seeds" / "industry_windows.csv", "industry,silent_after_days,", "industry,silent_after_day,")
    assert refused(project) == (
        "seeds/industry_windows.csv: unknown column(s) silent_after_day; missing column(s) silent_after_days; "
        "its header has industry, silent_after_day, churned_after_days, counts_interactions, "
        "loyal_min_orders_in_window, intervention_lead_days, expected industry, silent_after_days, churned_after_days, "
        "counts_interactions, loyal_min_orders_in_window, intervention_lead_days. Fix the header."
    )


def test_negative_var(project):
    edit(project / "dbt_project.yml", "tag_silent_days: 60", "tag_silent_days: -60")
    assert refused(project) == (
        "dbt_project.yml vars: tag_silent_days is -60, below 1 (a number of days). Use at least 1."
    )


def test_freshness_thresholds_in_order(project):
    edit(project / "dbt_project.yml", "freshness_warn_after_days: 2", "freshness_warn_after_days: 9")
    assert "freshness_warn_after_days (9) is not less than freshness_error_after_days (7)" in refused(project)


def test_date_floor_var_must_be_a_date(project):
    edit(project / "dbt_project.yml", 'min_plausible_date: "2000-01-01"', 'min_plausible_date: "01/01/2000"')
    assert refused(project) == (
        "dbt_project.yml vars: min_plausible_date is '01/01/2000', not a date. Write it YYYY-MM-DD."
    )
