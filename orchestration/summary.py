"""Print where the outputs are and a short summary of the last build.

Used by `make run`; opens the working database read-only, so it never takes
the writer's lock.
"""

from __future__ import annotations

import sys

import duckdb

from orchestration import settings
from orchestration.freshness import read_verdict
from orchestration.semantic_sql import SemanticLayer

# Headline figures, each shown only when the tables it reads exist. A {name}
# in the SQL is the semantic layer's metric of that name (models/semantic/),
# translated to SQL by orchestration.semantic_sql: the summary has no formula
# of its own for a rate.
HEADLINES: list[tuple[str, tuple[str, ...], str]] = [
    (
        "Customers by lifecycle stage",
        ("marts.customers",),
        "select lifecycle_stage, count(*) as customers from marts.customers group by 1 order by 2 desc",
    ),
    (
        "M+1 repurchase rate by industry (mature cohorts)",
        ("marts.repurchase_cohorts",),
        """select industry,
                  {m1_first_time_buyers} as first_time_buyers,
                  {m1_returning_customers} as returned_next_month,
                  round(100.0 * {m1_repurchase_rate}, 1) as repurchase_rate_pct
           from marts.repurchase_cohorts
           group by 1 order by 1""",
    ),
    (
        "Monthly activity churn, last complete month, by industry",
        ("marts.churn_rates",),
        """with last_month as (
               select max(period_start) as period_start from marts.churn_rates
               where period_type = 'month'
                 and period_start < date_trunc('month', (select max(as_of_date) from marts.customers)))
           select industry, {activity_base} as active_previous, {activity_churned} as churned,
                  round(100.0 * {activity_churn_rate}, 1) as churn_rate_pct
           from marts.churn_rates join last_month using (period_start)
           where period_type = 'month'
           group by 1 order by 1""",
    ),
    (
        "Predicted CLV by industry (BG/NBD + Gamma-Gamma; horizon, discounting and costs in marts.customers)",
        ("marts.customers",),
        """select industry,
                  count(predicted_clv) as customers_scored,
                  any_value(clv_horizon_months) as horizon_months,
                  round(avg(p_alive), 3) as mean_p_alive,
                  round(avg(expected_purchases), 2) as mean_expected_purchases,
                  round(sum(historical_margin), 0) as realised_margin,
                  round(sum(predicted_clv), 0) as predicted_clv,
                  round(sum(net_clv), 0) as net_clv
           from marts.customers
           where completed_orders > 0
           group by 1 order by 1""",
    ),
    (
        "CLV tiers (potential = predicted CLV well above realised margin)",
        ("marts.clv_tiers",),
        """select industry, tier, customers,
                  round(100 * share_of_customers, 1) as customers_pct,
                  round(100 * share_of_value, 1) as value_pct,
                  round(100 * share_of_predicted_value, 1) as predicted_pct,
                  round(100 * budget_share, 1) as budget_pct,
                  suggested_budget_per_customer
           from marts.clv_tiers order by industry, tier_order""",
    ),
    (
        "Predicted-CLV model fits (segments per model, level and status; details in marts.clv_model_fits)",
        ("marts.clv_model_fits",),
        """with fits as (
               select distinct model, segment_level, segment, status, customers_scored
               from marts.clv_model_fits)
           select model, segment_level, status, count(*) as segments, sum(customers_scored) as customers_scored
           from fits group by all order by 1, 2, 3""",
    ),
    (
        "CLV backtest: fitted up to the calibration end, predicted vs actual holdout purchases "
        "(details in marts.clv_backtest, clv_backtest_weekly, clv_backtest_p_alive_deciles)",
        ("marts.clv_backtest_errors",),
        """select segment, calibration_end_date, as_of_date as holdout_end, customers_scored,
                  actual_holdout_purchases, round(predicted_holdout_purchases, 0) as predicted_holdout_purchases,
                  round(percent_error_holdout_purchases, 1) as percent_error,
                  round(mean_absolute_error_per_customer, 2) as mae_per_customer,
                  round(mean_actual_holdout_purchases, 2) as mean_actual_per_customer
           from marts.clv_backtest_errors
           where segment_level in ('all', 'industry')
           order by segment_level, segment""",
    ),
    (
        "Predicted CLV per industry with a 95% interval from the fits' standard errors "
        "(marts.clv_segment_intervals)",
        ("marts.clv_segment_intervals",),
        """select segment, customers_scored, round(mean_predicted_clv, 2) as mean_predicted_clv,
                  round(lower_95, 2) as lower_95, round(upper_95, 2) as upper_95,
                  round(100 * relative_half_width, 1) as half_width_pct
           from marts.clv_segment_intervals
           where segment_level in ('all', 'industry')
           order by segment_level, segment""",
    ),
    (
        "Interventions for today by reason",
        ("marts.interventions",),
        "select reason_code, count(*) as customers from marts.interventions group by 1 order by 2 desc",
    ),
    (
        "Row reconciliation (raw = clean + quarantined)",
        ("audit.row_reconciliation",),
        "select *, raw_rows = clean_rows + quarantined_rows as reconciles from audit.row_reconciliation order by entity",
    ),
    (
        "Row reconciliation per source file",
        ("audit.row_reconciliation_per_file",),
        "select *, raw_rows = clean_rows + quarantined_rows as reconciles from audit.row_reconciliation_per_file "
        "order by entity, source_file",
    ),
    (
        "Quarantined rows by reason",
        ("audit.quarantine_reasons",),
        "select * from audit.quarantine_reasons order by entity, quarantined_rows desc",
    ),
]


def _tables(con: duckdb.DuckDBPyConnection, schema: str) -> list[str]:
    rows = con.execute(
        "select table_name from information_schema.tables where table_schema = ? order by 1", [schema]
    ).fetchall()
    return [r[0] for r in rows]


class _MetricSQL(dict):
    """format_map() mapping: {metric_name} -> the metric's SQL aggregate."""

    def __init__(self, layer: SemanticLayer) -> None:
        super().__init__()
        self.layer = layer

    def __missing__(self, name: str) -> str:
        return self.layer.metric_sql(name)


def headline_sql(sql: str, layer: SemanticLayer) -> str:
    return sql.format_map(_MetricSQL(layer))


def _print_table(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    # wide enough that no column is elided when stdout is not a terminal
    con.sql(sql).show(max_width=250, max_rows=60)


def main() -> int:
    db = settings.duckdb_path()
    if not db.exists():
        print(f"No database at {db}: run `make run` first.", file=sys.stderr)
        return 1
    con = duckdb.connect(str(db), read_only=True)
    try:
        print()
        print(f"Working database : {db}")
        publish = settings.publish_path()
        if publish.exists():
            print(f"Published marts  : {publish}  (point BI tools here; any DuckDB client since 1.0 can open it)")
        print(f"Raw data         : {settings.raw_data_dir()}")
        if settings.dbt_target() == "spark":
            from orchestration.spark import warehouse_dir

            print(f"Built on Spark   : {warehouse_dir()} (its marts and audit tables copied into the databases above)")
        as_of = None
        if "customers" in _tables(con, "marts"):
            as_of = con.execute("select max(as_of_date) from marts.customers").fetchone()[0]
        if as_of is not None:
            print(f"As of            : {as_of}")
        freshness = read_verdict(db)
        if freshness is not None:
            print(freshness.line())
        print()
        marts = _tables(con, "marts")
        if marts:
            print("Mart tables (rows):")
            for name in marts:
                rows = con.execute(f'select count(*) from marts."{name}"').fetchone()[0]
                print(f"  marts.{name:<32} {rows:>12,}")
        else:
            print("No mart tables yet.")
        print()
        present = {f"{s}.{t}" for s in ("marts", "audit") for t in _tables(con, s)}
        layer = SemanticLayer.load()
        for title, needs, sql in HEADLINES:
            if all(n in present for n in needs):
                print(title)
                _print_table(con, headline_sql(sql, layer))
    finally:
        con.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
