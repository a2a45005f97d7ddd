"""Property: the stage history never uses information from the future.

The project is built on one small generated dataset as of a late date A and
as of several earlier dates D. For every customer known on D, the stage read
from A's customer_stage_history on day D must equal the current stage that
the build as of D reports in marts.customers. The dataset mixes industries
(food, apparel, education with interactions, an unknown industry), refunds,
cancellations, several orders on one day, long silences and returns.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from orchestration.landing import land_raw_data  # noqa: E402

DBT = str(Path(sys.executable).parent / "dbt")
AS_OF_LATE = "2024-06-30"
NO_CLV_FIT = 10**9
EARLIER_DATES = ["2023-08-20", "2023-12-31", "2024-03-15", "2024-05-31"]


def _write_raw(raw_dir: Path) -> None:
    raw_dir.mkdir(parents=True)
    con = duckdb.connect()
    con.execute("select setseed(0.42)")
    con.execute(
        """
        create table merchants as
        select * from (values
            ('m_food', 'food_delivery', 'Food'),
            ('m_apparel', 'apparel_ecommerce', 'Apparel'),
            ('m_edu', 'education_services', 'Education'),
            ('m_pets', 'pet_grooming', 'Pets')
        ) as t(merchant_id, industry, name)
        """
    )
    con.execute(
        """
        create table customers as
        select
            'c' || lpad(cast(i as varchar), 4, '0') as customer_id,
            (['m_food', 'm_apparel', 'm_edu', 'm_pets'])[1 + i % 4] as merchant_id,
            timestamp '2023-01-01 08:00:00' + to_days(cast(floor(random() * 420) as integer)) as registered_at,
            -- mean days between orders, per customer
            (case i % 4 when 0 then 4 when 1 then 25 when 2 then 40 else 30 end)
                * (0.5 + random() * 2) as mean_gap,
            cast(floor(random() * 14) as integer) as n_orders
        from range(1, 321) as r(i)
        """
    )
    con.execute(
        """
        create table order_steps as
        select
            customers.customer_id,
            customers.merchant_id,
            customers.registered_at,
            step,
            -- mostly short gaps, sometimes a long silence, sometimes the same day
            case
                when random() < 0.08 then 0
                when random() < 0.12 then customers.mean_gap * 6
                else customers.mean_gap * (0.3 + random() * 1.4)
            end as gap_days
        from customers, range(0, 14) as s(step)
        where step < customers.n_orders
        """
    )
    con.execute(
        """
        create table orders as
        select
            'o' || cast(row_number() over (order by customer_id, step) as varchar) as order_id,
            customer_id,
            merchant_id,
            strftime(
                registered_at + to_hours(cast(1 + 2 * step as integer))
                + to_days(cast(floor(sum(gap_days) over (partition by customer_id order by step)) as integer)),
                '%Y-%m-%d %H:%M:%S'
            ) as ordered_at,
            cast(round(10 + random() * 90, 2) as varchar) as amount,
            'USD' as currency,
            case when random() < 0.1 then 'refunded' when random() < 0.06 then 'cancelled' else 'completed' end as status,
            case when random() < 0.5 then cast(round(5 + random() * 4, 2) as varchar) end as cost
        from order_steps
        """
    )
    con.execute(
        """
        create table interactions as
        select
            'i' || cast(row_number() over () as varchar) as interaction_id,
            customer_id,
            merchant_id,
            strftime(registered_at + to_days(cast(floor(random() * 560) as integer)), '%Y-%m-%d %H:%M:%S')
                as occurred_at,
            (['visit', 'message_open', 'coupon_click'])[1 + cast(floor(random() * 3) as integer)] as interaction_type,
            cast(null as varchar) as rating,
            cast(null as varchar) as reason
        from customers, range(0, 8) as s(k)
        where merchant_id in ('m_edu', 'm_food') and random() < 0.5
        """
    )
    for table, columns in {
        "merchants": "merchant_id, industry, name",
        "customers": "customer_id, merchant_id, strftime(registered_at, '%Y-%m-%d %H:%M:%S') as registered_at",
        "orders": "*",
        "interactions": "*",
    }.items():
        con.execute(f"copy (select {columns} from {table}) to '{raw_dir / (table + '.csv')}' (header)")
    con.close()


def _build(raw_dir: Path, work_dir: Path, as_of: str) -> Path:
    # The builds run one after another in one database path and one target folder, each database moved
    # aside when built: dbt's profile (DUCKDB_PATH) and vars stay the same, so the project is parsed
    # once and later builds re-parse only the files that read AS_OF_DATE.
    db_path = work_dir / "building.duckdb"
    land_raw_data(raw_dir, db_path)
    env = dict(
        os.environ,
        DUCKDB_PATH=str(db_path),
        DBT_TARGET_PATH=str(work_dir / "target"),
        DBT_LOG_PATH=str(work_dir / "logs"),
        AS_OF_DATE=as_of,
    )
    result = subprocess.run(
        [DBT, "build", "--profiles-dir", str(PROJECT_DIR), "--project-dir", str(PROJECT_DIR),
         "--select", "+customers", "+customer_stage_history", "--exclude-resource-type", "test", "unit_test", "--quiet",
         # stages only: no segment reaches the CLV fit threshold, so no fit runs (half the build's time)
         "--vars", json.dumps({"clv_min_customers": NO_CLV_FIT})],
        env=env, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    built = work_dir / f"as_of_{as_of}.duckdb"
    db_path.rename(built)
    return built


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    if shutil.which(DBT) is None and not Path(DBT).exists():
        pytest.skip("dbt is not installed in this environment")
    work_dir = tmp_path_factory.mktemp("stage_property")
    raw_dir = work_dir / "raw"
    _write_raw(raw_dir)
    return {as_of: _build(raw_dir, work_dir, as_of) for as_of in [AS_OF_LATE, *EARLIER_DATES]}


def _rows(db_path: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.mark.parametrize("as_of", EARLIER_DATES)
def test_history_on_an_earlier_date_equals_the_build_as_of_that_date(builds, as_of):
    late = {
        (merchant, customer): stage
        for merchant, customer, stage in _rows(
            builds[AS_OF_LATE],
            f"""
            select merchant_id, customer_id, lifecycle_stage
            from marts.customer_stage_history
            where valid_from <= date '{as_of}' and (valid_to is null or valid_to > date '{as_of}')
            """,
        )
    }
    then = {
        (merchant, customer): (industry, stage)
        for merchant, customer, industry, stage in _rows(
            builds[as_of], "select merchant_id, customer_id, industry, lifecycle_stage from marts.customers"
        )
    }
    assert then, "the earlier build has no customers"
    mismatches = {
        key: (industry, stage, late.get(key))
        for key, (industry, stage) in then.items()
        if late.get(key) != stage
    }
    assert not mismatches, f"{len(mismatches)} of {len(then)} customers differ: {list(mismatches.items())[:10]}"


def test_the_dataset_exercises_every_industry_and_many_stages(builds):
    industries = {row[0] for row in _rows(builds[AS_OF_LATE], "select distinct industry from marts.customers")}
    assert industries == {"food_delivery", "apparel_ecommerce", "education_services", "default"}
    stages = {row[0] for row in _rows(builds[AS_OF_LATE], "select distinct lifecycle_stage from marts.customer_stage_history")}
    assert {"prospect", "new", "active", "at_risk", "churned", "reactivated"} <= stages
