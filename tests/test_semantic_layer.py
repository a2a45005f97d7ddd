"""The semantic layer (models/semantic/) read through MetricFlow's `mf query`
against the published marts file, read-only, agrees with the marts' own figures."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from orchestration import summary
from orchestration.semantic_sql import SemanticLayer
from tests.support import PROJECT_DIR

MF = str(Path(sys.executable).with_name("mf"))
DBT = str(Path(sys.executable).with_name("dbt"))
PROJECT_FILES = ("dbt_project.yml", "profiles.yml", "models", "macros", "seeds", "tests")


@pytest.fixture(scope="module")
def mf_project(published_marts, tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """The project seen through a private folder, so `mf` (which reads
    <project>/target/semantic_manifest.json) never touches the repository's target/."""
    root = tmp_path_factory.mktemp("mf_project")
    for name in PROJECT_FILES:
        (root / name).symlink_to(PROJECT_DIR / name)
    env = dict(
        os.environ,
        DBT_TARGET="published",
        DBT_PROFILES_DIR=str(root),
        DBT_PROJECT_DIR=str(root),
        DUCKDB_PATH=str(published_marts["duckdb"]),
        PUBLISH_PATH=str(published_marts["publish"]),
        DBT_TARGET_PATH=str(root / "target"),
        DBT_LOG_PATH=str(root / "logs"),
    )
    subprocess.run([DBT, "parse", "--quiet"], cwd=root, env=env, check=True, capture_output=True)
    return root, env


def mf_query(mf_project, metrics: list[str], group_by: list[str], where: str | None = None) -> list[dict]:
    root, env = mf_project
    out = root / "result.csv"
    command = [MF, "query", "--metrics", ",".join(metrics), "--group-by", ",".join(group_by), "--csv", str(out)]
    if where:
        command += ["--where", where]
    completed = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True)
    assert completed.returncode == 0 and out.exists(), f"mf query failed:\n{completed.stdout[-3000:]}\n{completed.stderr[-2000:]}"
    with out.open() as f:
        return list(csv.DictReader(f))


def mart(published: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(published), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_m1_repurchase_rate_through_mf_equals_the_marts(mf_project, published_marts):
    rows = mf_query(
        mf_project,
        ["m1_repurchase_rate", "m1_first_time_buyers"],
        ["repurchase_cohort__industry", "repurchase_cohort__merchant_id", "repurchase_cohort__cohort_month__month"],
    )
    published = published_marts["publish"]
    expected = {
        (industry, merchant, str(month)): (float(rate), size)
        for industry, merchant, month, rate, size in mart(
            published,
            "select industry, merchant_id, cohort_month, repurchase_rate, cohort_customers "
            "from marts.repurchase_cohorts where months_since_first_order = 1",
        )
    }
    got = {
        (r["repurchase_cohort__industry"], r["repurchase_cohort__merchant_id"],
         r["repurchase_cohort__cohort_month__month"][:10]): (float(r["m1_repurchase_rate"]), int(r["m1_first_time_buyers"]))
        for r in rows
    }
    assert len(expected) > 10 and got.keys() == expected.keys()
    for key, (rate, size) in expected.items():
        # the mart publishes the rate rounded to 6 decimals
        assert got[key][1] == size and got[key][0] == pytest.approx(rate, abs=5e-7), key

    # customer_health_weekly's M+1 trend is the same definition: for each
    # industry and cohort month it shows, the metric rolled up over merchants.
    by_industry = {
        (r["repurchase_cohort__industry"], r["repurchase_cohort__cohort_month__month"][:10]): float(r["m1_repurchase_rate"])
        for r in mf_query(mf_project, ["m1_repurchase_rate"],
                          ["repurchase_cohort__industry", "repurchase_cohort__cohort_month__month"])
    }
    health = mart(
        published,
        "select distinct industry, m1_repurchase_cohort_month, m1_repurchase_rate from marts.customer_health_weekly "
        "where industry <> 'all' and m1_repurchase_rate is not null",
    )
    assert health
    for industry, month, rate in health:
        assert by_industry[(industry, str(month))] == pytest.approx(float(rate), abs=5e-7)


def test_weekly_activity_churn_through_mf_equals_the_marts(mf_project, published_marts):
    rows = mf_query(
        mf_project,
        ["activity_churn_rate", "retention_rate"],
        ["churn_period__industry", "churn_period__merchant_id", "churn_period__period_start__day"],
        where="{{ Dimension('churn_period__period_type') }} = 'week'",
    )
    expected = mart(
        published_marts["publish"],
        "select industry, merchant_id, period_start, activity_churn_rate, retention_rate from marts.churn_rates "
        "where period_type = 'week' and active_previous > 0",
    )
    got = {
        (r["churn_period__industry"], r["churn_period__merchant_id"], r["churn_period__period_start__day"][:10]): r
        for r in rows
    }
    assert len(expected) > 10
    for industry, merchant, start, churn, retention in expected:
        row = got[(industry, merchant, str(start))]
        assert float(row["activity_churn_rate"]) == pytest.approx(float(churn), abs=5e-7)
        assert float(row["retention_rate"]) == pytest.approx(float(retention), abs=5e-7)


def test_saved_queries_run(mf_project):
    root, env = mf_project
    for name in ("weekly_customer_health", "m1_repurchase_by_cohort", "monthly_churn_by_industry"):
        out = root / f"{name}.csv"
        completed = subprocess.run([MF, "query", "--saved-query", name, "--csv", str(out)],
                                   cwd=root, env=env, capture_output=True, text=True)
        assert completed.returncode == 0, completed.stdout[-3000:]
        with out.open() as f:
            assert len(list(csv.DictReader(f))) > 0, name


# (semantic model, its time dimension and grain): the models whose metrics are rates or formulas
RATE_MODELS = [
    ("customer_health_week", "week_start", "week"),
    ("repurchase_cohort", "cohort_month", "month"),
    ("repeat_customer_base", "as_of_date", "day"),
    ("churn_period", "period_start", "day"),
]


@pytest.mark.parametrize(("model", "time_dimension", "grain"), RATE_MODELS)
def test_superset_metric_sql_generated_from_the_yaml_equals_mf_query(mf_project, published_marts, model, time_dimension,
                                                                      grain):
    """orchestration/semantic_sql.py writes each metric's SQL from the metric YAML
    (Superset's dataset metrics and the `make run` summary use it); evaluated on
    the published table, it gives what MetricFlow gives."""
    layer = SemanticLayer.load()
    metrics = sorted(name for name in layer.metrics if layer.semantic_model_of(name) == model)
    table = layer.table_of(model)
    sql_metrics = ", ".join(f"{layer.metric_sql(name)} as {name}" for name in metrics)
    superset_rows = mart(
        published_marts["publish"],
        f"select industry, cast({time_dimension} as date) as t, {sql_metrics} from marts.{table} group by all",
    )
    by_key = {(r[0], str(r[1])): dict(zip(metrics, r[2:], strict=True)) for r in superset_rows}
    rows = mf_query(mf_project, metrics, [f"{model}__industry", f"{model}__{time_dimension}__{grain}"])
    assert len(rows) > 3
    compared = 0
    for row in rows:
        key = (row[f"{model}__industry"], row[f"{model}__{time_dimension}__{grain}"][:10])
        for name in metrics:
            mf_value, sql_value = row[name], by_key[key][name]
            if mf_value in ("", None):
                assert sql_value is None, (key, name)
            else:
                assert sql_value is not None and float(sql_value) == pytest.approx(float(mf_value), rel=1e-9, abs=1e-9), (
                    key, name)
                compared += 1
    assert compared > 0


def test_the_make_run_summary_shows_the_metrics_as_mf_query_computes_them(mf_project, published_marts, monkeypatch,
                                                                          capsys):
    """The summary's rates are the metric definitions ({metric} placeholders
    translated by orchestration.semantic_sql), not formulas of its own."""
    layer = SemanticLayer.load()
    headlines = {title: sql for title, _, sql in summary.HEADLINES}
    m1_sql = summary.headline_sql(headlines["M+1 repurchase rate by industry (mature cohorts)"], layer)
    shown = {industry: pct for industry, _, _, pct in mart(published_marts["publish"], m1_sql)}
    rows = mf_query(mf_project, ["m1_repurchase_rate"], ["repurchase_cohort__industry"])
    assert len(rows) >= 2 and shown.keys() == {r["repurchase_cohort__industry"] for r in rows}
    for r in rows:
        assert float(shown[r["repurchase_cohort__industry"]]) == round(100 * float(r["m1_repurchase_rate"]), 1)

    monkeypatch.setenv("DUCKDB_PATH", str(published_marts["duckdb"]))
    monkeypatch.setenv("PUBLISH_PATH", str(published_marts["publish"]))
    assert summary.main() == 0
    printed = capsys.readouterr().out
    for title in headlines:
        if "backtest" not in title.lower():  # the BI fixture runs `dbt run` only on a short history
            assert title in printed
