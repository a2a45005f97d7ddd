"""Tests for orchestration.demo_data: real files, read back with DuckDB."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from orchestration import demo_data

END = dt.date(2025, 6, 30)
ENTITIES = ("orders", "customers", "merchants", "interactions", "acquisition_costs")
TS = "'%Y-%m-%d %H:%M:%S'"
SMALL, MEDIUM = 5_000, 40_000


def _connect(out_dir: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for name in ENTITIES:
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{out_dir / (name + '.parquet')}')")
    return con


def _one(con: duckdb.DuckDBPyConnection, sql: str):
    return con.execute(sql).fetchone()[0]


def _frames(out_dir: Path) -> dict[str, pd.DataFrame]:
    return {name: pd.read_parquet(out_dir / f"{name}.parquet") for name in ENTITIES}


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo_small")
    counts = demo_data.generate(out, n_orders=SMALL, end_date=END, seed=3)
    con = _connect(out)
    yield out, counts, con
    con.close()


@pytest.fixture(scope="module")
def medium(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo_medium")
    counts = demo_data.generate(out, n_orders=MEDIUM, end_date=END.isoformat(), seed=11)
    con = _connect(out)
    yield out, counts, con
    con.close()


# ------------------------------------------------------------------ API and files


def test_counts_match_files_and_exact_orders(small):
    out, counts, con = small
    assert list(counts) == list(ENTITIES)
    assert counts["orders"] == SMALL
    for name in ENTITIES:
        assert _one(con, f"SELECT count(*) FROM {name}") == counts[name]
    # only the five final files, no temp leftovers
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{n}.parquet" for n in ENTITIES)


def test_schemas(small):
    _, _, con = small
    expected = {
        "orders": {"order_id": "VARCHAR", "customer_id": "VARCHAR", "merchant_id": "VARCHAR",
                   "ordered_at": "VARCHAR", "amount": "DOUBLE", "currency": "VARCHAR",
                   "status": "VARCHAR", "cost": "DOUBLE"},
        "customers": {"customer_id": "VARCHAR", "merchant_id": "VARCHAR", "registered_at": "VARCHAR",
                      "acquisition_channel": "VARCHAR", "industry": "VARCHAR", "email": "VARCHAR",
                      "phone": "VARCHAR"},
        "merchants": {"merchant_id": "VARCHAR", "industry": "VARCHAR", "name": "VARCHAR"},
        "interactions": {"interaction_id": "VARCHAR", "customer_id": "VARCHAR", "merchant_id": "VARCHAR",
                         "occurred_at": "VARCHAR", "interaction_type": "VARCHAR", "rating": "DOUBLE",
                         "reason": "VARCHAR"},
        "acquisition_costs": {"acquisition_channel": "VARCHAR", "month": "VARCHAR", "spend": "DOUBLE"},
    }
    for name, cols in expected.items():
        got = dict(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {name})").fetchall())
        assert got == cols, name


@pytest.mark.parametrize("n", [1_000, 12_345])
def test_exact_order_count_other_sizes(tmp_path, n):
    counts = demo_data.generate(tmp_path / "nested" / "dir", n_orders=n, end_date=END, seed=5)
    assert counts["orders"] == n
    assert pd.read_parquet(tmp_path / "nested" / "dir" / "orders.parquet").shape[0] == n


def test_too_small_is_rejected(tmp_path):
    with pytest.raises(ValueError):
        demo_data.generate(tmp_path, n_orders=demo_data.MIN_ORDERS - 1, end_date=END)


def test_deterministic(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    demo_data.generate(a, n_orders=SMALL, end_date=END, seed=123)
    demo_data.generate(b, n_orders=SMALL, end_date=END.isoformat(), seed=123)
    demo_data.generate(c, n_orders=SMALL, end_date=END, seed=124)
    fa, fb, fc = _frames(a), _frames(b), _frames(c)
    for name in ENTITIES:
        pd.testing.assert_frame_equal(fa[name], fb[name], check_exact=True)
    for name in ("orders", "customers", "interactions"):
        assert not fa[name].equals(fc[name]), name
    # re-running into the same directory replaces the files with the same content
    demo_data.generate(a, n_orders=SMALL, end_date=END, seed=123)
    pd.testing.assert_frame_equal(_frames(a)["orders"], fb["orders"], check_exact=True)


def test_default_end_date_is_today_utc(tmp_path):
    demo_data.generate(tmp_path, n_orders=1_000, seed=9)
    con = _connect(tmp_path)
    today = dt.datetime.now(dt.timezone.utc).date()
    assert _one(con, f"SELECT max(try_strptime(registered_at, {TS}))::DATE FROM customers") <= today
    dates = f"SELECT try_strptime(ordered_at, {TS})::DATE AS d FROM orders"
    # clean orders run up to today; the deliberate future rows start 3 days later
    last_clean = _one(con, f"SELECT max(d) FROM ({dates}) WHERE d <= DATE '{today}'")
    assert today - dt.timedelta(days=7) <= last_clean
    assert _one(con, f"SELECT count(*) FROM ({dates}) WHERE d > DATE '{today}' AND d < DATE '{today}' + 3") == 0


def test_cli(tmp_path):
    out = tmp_path / "cli"
    cwd = Path(__file__).resolve().parents[1]
    res = subprocess.run(
        [sys.executable, "-m", "orchestration.demo_data", "--out", str(out), "--orders", "2000",
         "--end-date", "2025-01-31", "--seed", "1"],
        cwd=cwd, capture_output=True, text=True, timeout=120, check=True,
    )
    printed = dict(line.split(": ") for line in res.stdout.strip().splitlines())
    assert set(printed) == set(ENTITIES)
    assert int(printed["orders"]) == 2000
    assert pd.read_parquet(out / "customers.parquet").shape[0] == int(printed["customers"])


# ------------------------------------------------------------------ messy rows (all at 5_000 orders)


def test_messy_orders_present(small):
    _, _, con = small
    checks = {
        "exact duplicate": "SELECT count(*) FROM (SELECT * FROM orders GROUP BY ALL HAVING count(*) > 1)",
        "same id other amount": "SELECT count(*) FROM (SELECT order_id FROM orders GROUP BY 1 "
        "HAVING count(DISTINCT amount) > 1)",
        "customer_id null": "SELECT count(*) FROM orders WHERE customer_id IS NULL",
        "customer_id empty": "SELECT count(*) FROM orders WHERE customer_id = ''",
        "customer_id blank": "SELECT count(*) FROM orders WHERE customer_id = '   '",
        "negative amount": "SELECT count(*) FROM orders WHERE amount < 0",
        "absurd amount": "SELECT count(*) FROM orders WHERE amount >= 1e7",
        "ts 'not a date'": "SELECT count(*) FROM orders WHERE ordered_at = 'not a date'",
        "ts bad month": "SELECT count(*) FROM orders WHERE ordered_at = '2024-13-45 25:00:00'",
        "ts empty": "SELECT count(*) FROM orders WHERE ordered_at = ''",
        "ts null": "SELECT count(*) FROM orders WHERE ordered_at IS NULL",
        "ts future": f"SELECT count(*) FROM orders WHERE try_strptime(ordered_at, {TS}) >= DATE '{END}' + 1",
        "status pending_review": "SELECT count(*) FROM orders WHERE status = 'pending_review'",
        "status COMPLETE??": "SELECT count(*) FROM orders WHERE status = 'COMPLETE??'",
        "currency XXX": "SELECT count(*) FROM orders WHERE currency = 'XXX'",
        "currency usd$": "SELECT count(*) FROM orders WHERE currency = 'usd$'",
        "lower customer id": "SELECT count(*) FROM orders WHERE customer_id = lower(customer_id) "
        "AND trim(customer_id) <> '' AND customer_id = trim(customer_id)",
        "padded customer id": "SELECT count(*) FROM orders WHERE customer_id <> trim(customer_id) "
        "AND trim(customer_id) <> ''",
        "lower merchant id": "SELECT count(*) FROM orders WHERE merchant_id = lower(merchant_id)",
        "padded merchant id": "SELECT count(*) FROM orders WHERE merchant_id <> trim(merchant_id)",
        "odd-case status": "SELECT count(*) FROM orders WHERE status <> lower(status) "
        "AND lower(status) IN ('completed', 'refunded', 'cancelled')",
        "zero-amount completed": "SELECT count(*) FROM orders WHERE amount = 0 AND status = 'completed'",
    }
    missing = [name for name, sql in checks.items() if _one(con, sql) < 1]
    assert not missing, missing
    # every unparseable value is really unparseable
    assert _one(con, f"SELECT count(*) FROM orders WHERE ordered_at IN ('not a date', '2024-13-45 25:00:00') "
                f"AND try_strptime(ordered_at, {TS}) IS NOT NULL") == 0


def test_messy_budget_is_about_one_percent(medium):
    _, counts, con = medium
    n = counts["orders"]
    bad = _one(con, f"""
        SELECT count(*) FROM orders
        WHERE nullif(trim(customer_id), '') IS NULL OR amount < 0 OR amount >= 1e7
           OR try_strptime(ordered_at, {TS}) IS NULL OR try_strptime(ordered_at, {TS}) >= DATE '{END}' + 1
           OR lower(trim(status)) NOT IN ('completed', 'refunded', 'cancelled')
           OR upper(trim(currency)) NOT IN ('USD', 'EUR', 'GBP')""")
    dups = n - _one(con, "SELECT count(DISTINCT order_id) FROM orders")
    assert 0.005 * n <= bad + dups <= 0.02 * n


def test_id_variants_are_valid_after_normalisation(small):
    _, _, con = small
    unmatched_merchants = _one(con, """
        SELECT count(*) FROM orders o
        WHERE upper(trim(o.merchant_id)) NOT IN (SELECT merchant_id FROM merchants)""")
    assert unmatched_merchants == 0
    # id variants of customers resolve to real customers (they are not the orphans)
    variants = con.execute("""
        SELECT count(*), count(c.cid) FROM orders o
        LEFT JOIN (SELECT DISTINCT upper(trim(customer_id)) AS cid FROM customers) c
          ON c.cid = upper(trim(o.customer_id))
        WHERE o.customer_id <> upper(trim(o.customer_id)) AND trim(o.customer_id) <> ''""").fetchone()
    assert variants[0] > 0 and variants[0] == variants[1]
    assert _one(con, "SELECT count(*) FROM orders WHERE order_id <> trim(order_id)") == 0


def test_orders_of_customers_missing_from_customers_file(small):
    _, _, con = small
    orphans = _one(con, """
        SELECT count(DISTINCT upper(trim(o.customer_id))) FROM orders o
        WHERE nullif(trim(o.customer_id), '') IS NOT NULL
          AND upper(trim(o.customer_id)) NOT IN (SELECT upper(trim(customer_id)) FROM customers)""")
    assert orphans >= 3


def test_messy_customers(small):
    _, _, con = small
    assert _one(con, "SELECT count(*) FROM (SELECT * FROM customers GROUP BY ALL HAVING count(*) > 1)") >= 1
    assert _one(con, """SELECT count(*) FROM (SELECT upper(trim(customer_id)) FROM customers GROUP BY 1
                        HAVING count(DISTINCT acquisition_channel) > 1)""") >= 1
    for marker in ("not a date", "0000-00-00 00:00:00", ""):
        assert _one(con, f"SELECT count(*) FROM customers WHERE registered_at = '{marker}'") >= 1, marker
    assert _one(con, f"SELECT count(*) FROM customers WHERE try_strptime(registered_at, {TS}) IS NULL") >= 3
    assert _one(con, "SELECT count(*) FROM customers WHERE customer_id <> upper(trim(customer_id))") >= 1


def test_messy_interactions(small):
    _, _, con = small
    for marker in ("not a date", "2024-13-45 25:00:00", ""):
        assert _one(con, f"SELECT count(*) FROM interactions WHERE occurred_at = '{marker}'") >= 1, marker
    assert _one(con, "SELECT count(*) FROM interactions WHERE interaction_type = 'review' AND rating = 7") >= 1
    assert _one(con, "SELECT count(*) FROM interactions WHERE customer_id IS NULL") >= 1
    assert _one(con, "SELECT count(*) FROM interactions WHERE customer_id = ''") >= 1


# ------------------------------------------------------------------ behaviour


def test_dates_respect_end_date(medium):
    _, _, con = medium
    start = END - dt.timedelta(days=demo_data.SPAN_DAYS - 1)
    lo, hi, n_future, future_lo, future_hi = con.execute(f"""
        WITH t AS (SELECT try_strptime(ordered_at, {TS})::DATE AS d FROM orders)
        SELECT min(d), max(d) FILTER (WHERE d <= DATE '{END}'), count(*) FILTER (WHERE d > DATE '{END}'),
               min(d) FILTER (WHERE d > DATE '{END}'), max(d) FILTER (WHERE d > DATE '{END}')
        FROM t""").fetchone()
    assert lo >= start and hi == END
    # only the deliberate future rows exceed end_date: a few, and clearly in the future
    assert 1 <= n_future <= 0.003 * MEDIUM
    assert future_lo >= END + dt.timedelta(days=3) and future_hi <= END + dt.timedelta(days=120)
    for table, col in (("customers", "registered_at"), ("interactions", "occurred_at")):
        lo, hi = con.execute(f"SELECT min(try_strptime({col}, {TS}))::DATE, "
                             f"max(try_strptime({col}, {TS}))::DATE FROM {table}").fetchone()
        assert lo >= start and hi <= END, table


def test_orders_and_interactions_follow_registration(medium):
    _, _, con = medium
    for table, col in (("orders", "ordered_at"), ("interactions", "occurred_at")):
        early = _one(con, f"""
            WITH c AS (SELECT upper(trim(customer_id)) AS cid, min(try_strptime(registered_at, {TS})) AS reg
                       FROM customers GROUP BY 1)
            SELECT count(*) FROM {table} x JOIN c ON c.cid = upper(trim(x.customer_id))
            WHERE try_strptime(x.{col}, {TS}) < c.reg""")
        assert early == 0, table


def test_sizes_and_prospects(medium):
    _, counts, con = medium
    assert MEDIUM / 14 <= counts["customers"] <= MEDIUM / 7
    prospects = _one(con, """
        WITH c AS (SELECT DISTINCT upper(trim(customer_id)) AS cid FROM customers),
             o AS (SELECT DISTINCT upper(trim(customer_id)) AS cid FROM orders)
        SELECT avg(CASE WHEN o.cid IS NULL THEN 1 ELSE 0 END) FROM c LEFT JOIN o USING (cid)""")
    assert 0.10 <= prospects <= 0.22


def test_merchants_and_industries(medium):
    _, _, con = medium
    per_industry = dict(con.execute("SELECT industry, count(*) FROM merchants GROUP BY 1").fetchall())
    for industry in ("food_delivery", "apparel_ecommerce", "education_services"):
        assert per_industry.get(industry, 0) >= 3, industry
    assert None in per_industry and per_industry[None] >= 1  # falls to `default` downstream
    assert set(per_industry) - {None, "food_delivery", "apparel_ecommerce", "education_services"}
    assert _one(con, "SELECT count(DISTINCT merchant_id) FROM merchants") == _one(con, "SELECT count(*) FROM merchants")
    # every merchant has customers and orders
    assert _one(con, "SELECT count(DISTINCT upper(trim(merchant_id))) FROM customers") == len(demo_data.MERCHANTS)
    assert _one(con, "SELECT count(DISTINCT upper(trim(merchant_id))) FROM orders") == len(demo_data.MERCHANTS)
    # customers.industry mostly null, sometimes filled, and then consistent with the merchant
    share, mismatched = con.execute("""
        SELECT avg(CASE WHEN c.industry IS NULL THEN 0 ELSE 1 END),
               count(*) FILTER (WHERE c.industry IS NOT NULL AND c.industry IS DISTINCT FROM m.industry)
        FROM customers c JOIN merchants m ON m.merchant_id = upper(trim(c.merchant_id))""").fetchone()
    assert 0.01 <= share <= 0.15 and mismatched == 0


def test_order_values(medium):
    _, _, con = medium
    status = dict(con.execute("SELECT status, count(*) / sum(count(*)) OVER () FROM orders GROUP BY 1").fetchall())
    assert 0.025 <= status["refunded"] <= 0.06
    assert 0.015 <= status["cancelled"] <= 0.045
    currency = dict(con.execute("SELECT currency, count(*) / sum(count(*)) OVER () FROM orders GROUP BY 1").fetchall())
    assert currency["USD"] > 0.8 and currency["EUR"] > 0.01 and currency["GBP"] > 0.01
    # typical baskets per industry
    basket = dict(con.execute("""
        SELECT coalesce(m.industry, 'default'), median(o.amount) FROM orders o
        JOIN merchants m ON m.merchant_id = upper(trim(o.merchant_id))
        WHERE o.amount > 0 AND o.amount < 1e7 GROUP BY 1""").fetchall())
    assert 15 <= basket["food_delivery"] <= 40
    assert 40 <= basket["apparel_ecommerce"] <= 110
    assert 180 <= basket["education_services"] <= 450
    # cost: never reported by ~30% of merchants, always reported (amount x fixed ratio) by the rest
    rows = con.execute("""
        SELECT upper(trim(merchant_id)) m, count(cost), count(*), min(cost / amount), max(cost / amount)
        FROM orders WHERE amount > 0 AND amount < 1e7 GROUP BY 1""").fetchall()
    no_cost = [m for m, n_cost, _, _, _ in rows if n_cost == 0]
    assert 3 <= len(no_cost) <= 5
    for m, n_cost, n, lo, hi in rows:
        if n_cost:
            assert n_cost == n and 0 < lo and hi < 1 and hi - lo < 0.02, m


def test_purchase_cadence_by_industry(medium):
    _, _, con = medium
    gaps = dict(con.execute(f"""
        WITH o AS (
            SELECT upper(trim(o.customer_id)) AS cid, m.industry, try_strptime(o.ordered_at, {TS}) AS t
            FROM orders o JOIN merchants m ON m.merchant_id = upper(trim(o.merchant_id))
            WHERE o.status = 'completed' AND try_strptime(o.ordered_at, {TS}) < DATE '{END}' + 1),
        g AS (SELECT industry, date_diff('second', lag(t) OVER (PARTITION BY cid ORDER BY t), t) / 86400 AS gap FROM o)
        SELECT industry, median(gap) FROM g WHERE gap IS NOT NULL AND industry IS NOT NULL GROUP BY 1""").fetchall())
    assert gaps["food_delivery"] < 10
    assert 10 <= gaps["apparel_ecommerce"] <= 60
    assert gaps["education_services"] >= 50
    assert gaps["food_delivery"] < gaps["apparel_ecommerce"] < gaps["education_services"]


def test_interactions(medium):
    _, _, con = medium
    types = dict(con.execute("SELECT interaction_type, count(*) FROM interactions GROUP BY 1").fetchall())
    assert set(types) == {"visit", "message_open", "coupon_click", "review", "complaint"}
    ratings = dict(con.execute("""SELECT rating, count(*) FROM interactions
                                  WHERE interaction_type = 'review' GROUP BY 1""").fetchall())
    assert {1.0, 2.0, 3.0, 4.0, 5.0} <= set(ratings) <= {1.0, 2.0, 3.0, 4.0, 5.0, 7.0}
    assert ratings[5.0] > ratings[1.0] and ratings[4.0] + ratings[5.0] > 0.5 * sum(ratings.values())
    reasons = {r for (r,) in con.execute("SELECT DISTINCT reason FROM interactions "
                                         "WHERE interaction_type = 'complaint'").fetchall()}
    assert reasons == {"product", "service", "logistics", "price", "other"}
    assert _one(con, "SELECT count(*) FROM interactions WHERE interaction_type <> 'review' AND rating IS NOT NULL") == 0
    assert _one(con, "SELECT count(*) FROM interactions WHERE interaction_type <> 'complaint' AND reason IS NOT NULL") == 0
    assert _one(con, "SELECT count(*) FROM interactions WHERE interaction_type = 'complaint' AND reason IS NULL") == 0


def test_education_interacts_more_than_food(medium):
    _, _, con = medium
    per_customer = dict(con.execute("""
        WITH c AS (SELECT DISTINCT upper(trim(customer_id)) AS cid, upper(trim(merchant_id)) AS mid FROM customers),
             i AS (SELECT upper(trim(customer_id)) AS cid, count(*) AS n FROM interactions GROUP BY 1)
        SELECT m.industry, avg(coalesce(i.n, 0)) FROM c JOIN merchants m ON m.merchant_id = c.mid
        LEFT JOIN i USING (cid) GROUP BY 1""").fetchall())
    assert per_customer["education_services"] > 3 * per_customer["food_delivery"]
    # ... and for education interactions outnumber orders by far
    ratio = _one(con, """
        SELECT (SELECT count(*) FROM interactions WHERE merchant_id IN (SELECT merchant_id FROM merchants
                 WHERE industry = 'education_services'))
             / (SELECT count(*) FROM orders WHERE upper(trim(merchant_id)) IN (SELECT merchant_id FROM merchants
                 WHERE industry = 'education_services'))""")
    assert ratio > 5


def test_churners_complain_more(medium):
    _, _, con = medium
    rates = dict(con.execute(f"""
        WITH o AS (SELECT upper(trim(customer_id)) AS cid, max(try_strptime(ordered_at, {TS})) AS last_order
                   FROM orders WHERE try_strptime(ordered_at, {TS}) < DATE '{END}' + 1
                   GROUP BY 1 HAVING count(*) >= 2),
             i AS (SELECT DISTINCT upper(trim(customer_id)) AS cid FROM interactions WHERE interaction_type = 'complaint')
        SELECT last_order < DATE '{END}' - 120 AS gone, avg(CASE WHEN i.cid IS NULL THEN 0 ELSE 1 END)
        FROM o LEFT JOIN i USING (cid) GROUP BY 1""").fetchall())
    assert rates[True] > 1.2 * rates[False]


def test_acquisition_costs(medium):
    _, _, con = medium
    months = _one(con, "SELECT count(DISTINCT month) FROM acquisition_costs")
    assert 24 <= months <= 26
    assert _one(con, "SELECT count(*) FROM acquisition_costs") == months * len(demo_data.CHANNELS)
    assert _one(con, "SELECT count(*) FROM acquisition_costs WHERE month NOT LIKE '____-__-01'") == 0
    assert _one(con, "SELECT count(*) FROM acquisition_costs WHERE spend < 0") == 0
    spend = dict(con.execute("SELECT acquisition_channel, sum(spend) FROM acquisition_costs GROUP BY 1").fetchall())
    assert spend["paid_search"] > 0 and spend["paid_social"] > 0 and spend["organic"] <= spend["referral"]
    # paid spend tracks the customers acquired through the channel in that month
    corr = _one(con, f"""
        WITH c AS (SELECT acquisition_channel, strftime(try_strptime(registered_at, {TS}), '%Y-%m-01') AS month,
                          count(*) AS n FROM customers GROUP BY ALL)
        SELECT corr(a.spend, c.n) FROM acquisition_costs a JOIN c USING (acquisition_channel, month)
        WHERE a.acquisition_channel = 'paid_search'""")
    assert corr > 0.75
