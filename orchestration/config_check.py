"""The configuration checked before anything is built: seeds and vars that make no sense.

The landing step runs :func:`check_configuration` first, so a seed row or a
var that would produce nonsense (a churn window shorter than the silence
window, budget shares that do not sum to one, an override for a merchant or
industry the pipeline does not know, a column the seed's YAML does not
declare) stops the run before the raw schema or any model is touched, with a
message naming the file, the row and what to change. Plain value ranges per
column stay dbt data tests on the seeds (seeds/*.yml); the rules here are
the ones across columns, rows and seeds. See DECISIONLOG.md.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from pathlib import Path

import yaml

from orchestration.landing import RawDataError

STAGES = ("prospect", "new", "active", "loyal", "at_risk", "churned", "reactivated")
TIERS = ("high", "potential", "general", "low")
WINDOW_COLUMNS = ("silent_after_days", "churned_after_days", "loyal_min_orders_in_window", "intervention_lead_days")

# var -> (lowest allowed value, what it is); numbers a user may tune in dbt_project.yml.
NUMERIC_VARS: dict[str, tuple[float, str]] = {
    "max_order_amount": (0.01, "an amount"),
    "rhythm_min_gaps": (1, "a count of gaps"),
    "slipping_multiplier": (1, "a multiple of the typical gap"),
    "replenishment_lead_days": (0, "a number of days"),
    "intervention_newly_days": (1, "a number of days"),
    "clv_budget_total": (0, "an amount"),
    "tag_active_days": (1, "a number of days"),
    "tag_silent_days": (1, "a number of days"),
    "churn_reason_lookback_days": (0, "a number of days"),
    "clv_min_customers": (1, "a count of customers"),
    "clv_min_repeat_buyers": (1, "a count of customers"),
    "clv_horizon_months": (1, "a number of months"),
    "clv_annual_discount_rate": (0, "a rate"),
    "freshness_warn_after_days": (0, "a number of days"),
    "freshness_error_after_days": (0, "a number of days"),
}


class _Seed:
    def __init__(self, seeds_dir: Path, name: str):
        self.path = seeds_dir / f"{name}.csv"
        self.label = f"seeds/{name}.csv"
        with open(self.path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            self.columns = [c.strip() for c in reader.fieldnames or []]
            # row 1 is the header, so the first data row is row 2 (as a spreadsheet shows it)
            self.rows = [(number, {k.strip(): (v or "").strip() for k, v in row.items() if k}) for number, row in
                         enumerate(reader, start=2)]

    def refuse(self, number: int, row: dict, problem: str, fix: str) -> RawDataError:
        key = next(iter(row.items()))
        return RawDataError(f"{self.label} row {number} ({key[0]}={key[1]}): {problem}. {fix}")


def _integer(seed: _Seed, number: int, row: dict, column: str, minimum: int, blank_ok: bool = False) -> int | None:
    value = row.get(column, "")
    if value == "" and blank_ok:
        return None
    try:
        parsed = int(value)
    except ValueError:
        raise seed.refuse(number, row, f"{column} is {value!r}, not a whole number",
                          f"Write a whole number of at least {minimum}.") from None
    if parsed < minimum:
        raise seed.refuse(number, row, f"{column} is {parsed}, below {minimum}",
                          f"Use a value of at least {minimum}.")
    return parsed


def _declared_columns(seeds_dir: Path) -> dict[str, list[str]]:
    declared: dict[str, list[str]] = {}
    for path in sorted(seeds_dir.glob("*.yml")):
        for seed in (yaml.safe_load(path.read_text()) or {}).get("seeds", []):
            declared[seed["name"]] = [c["name"] for c in seed.get("columns", [])]
    return declared


def _check_columns(seeds_dir: Path) -> None:
    for name, expected in _declared_columns(seeds_dir).items():
        if not (seeds_dir / f"{name}.csv").exists() or not expected:
            continue
        seed = _Seed(seeds_dir, name)
        unknown = [c for c in seed.columns if c not in expected]
        missing = [c for c in expected if c not in seed.columns]
        if unknown or missing:
            parts = ([f"unknown column(s) {', '.join(unknown)}"] if unknown else []) + (
                [f"missing column(s) {', '.join(missing)}"] if missing else [])
            raise RawDataError(
                f"{seed.label}: {'; '.join(parts)}; its header has {', '.join(seed.columns)}, expected "
                f"{', '.join(expected)}. Fix the header."
            )


def _check_windows(seeds_dir: Path, known_merchants: set[str] | None) -> set[str]:
    seed = _Seed(seeds_dir, "industry_windows")
    industries: set[str] = set()
    for number, row in seed.rows:
        industry = row["industry"].lower()
        if industry in industries:
            raise seed.refuse(number, row, f"industry {industry} appears twice", "Keep one row per industry.")
        industries.add(industry)
        silent = _integer(seed, number, row, "silent_after_days", 1)
        churned = _integer(seed, number, row, "churned_after_days", 1)
        _integer(seed, number, row, "loyal_min_orders_in_window", 1)
        lead = _integer(seed, number, row, "intervention_lead_days", 0)
        if churned <= silent:
            raise seed.refuse(number, row, f"churned_after_days ({churned}) is not greater than silent_after_days "
                                           f"({silent})", "A customer turns silent before churning: make "
                                                          "churned_after_days the larger.")
        if lead >= silent:
            raise seed.refuse(number, row, f"intervention_lead_days ({lead}) is not less than silent_after_days "
                                           f"({silent})", "The lead counts back from the silence window: make it "
                                                          "smaller than silent_after_days.")
    if "default" not in industries:
        raise RawDataError(f"{seed.label}: no `default` row. Add one: it applies to customers of unknown industry.")

    overrides = _Seed(seeds_dir, "merchant_window_overrides")
    seen: set[str] = set()
    for number, row in overrides.rows:
        merchant = row["merchant_id"].strip().lower()
        if merchant in seen:
            raise overrides.refuse(number, row, f"merchant {merchant} appears twice", "Keep one row per merchant.")
        seen.add(merchant)
        if known_merchants is not None and merchant not in known_merchants:
            raise overrides.refuse(
                number, row, f"merchant {merchant} is in none of the raw files",
                "Fix the merchant_id (ids are compared trimmed and lower-cased) or delete the row.")
        silent = _integer(overrides, number, row, "silent_after_days", 1, blank_ok=True)
        churned = _integer(overrides, number, row, "churned_after_days", 1, blank_ok=True)
        for column in ("loyal_min_orders_in_window", "intervention_lead_days"):
            _integer(overrides, number, row, column, 1 if column.startswith("loyal") else 0, blank_ok=True)
        if silent is not None and churned is not None and churned <= silent:
            raise overrides.refuse(number, row, f"churned_after_days ({churned}) is not greater than "
                                                f"silent_after_days ({silent})",
                                   "Make churned_after_days the larger.")
    return industries


def _check_industry_keys(seeds_dir: Path, industries: set[str]) -> None:
    for name in ("industry_margin_rates", "industry_retention_costs", "clv_tier_rules"):
        seed = _Seed(seeds_dir, name)
        for number, row in seed.rows:
            if row["industry"].lower() not in industries:
                raise seed.refuse(
                    number, row, f"industry {row['industry']} is not in seeds/industry_windows.csv",
                    "Fix the spelling, or add the industry to industry_windows.csv first.")


def _check_keys(seeds_dir: Path, name: str, column: str, allowed: Iterable[str]) -> None:
    allowed = tuple(allowed)
    seed = _Seed(seeds_dir, name)
    for number, row in seed.rows:
        if row[column] not in allowed:
            raise seed.refuse(number, row, f"{column} {row[column]!r} is not one the pipeline knows",
                              f"Use one of {', '.join(allowed)}.")


def _check_budget_shares(seeds_dir: Path) -> None:
    seed = _Seed(seeds_dir, "clv_tier_budget_shares")
    total = Decimal(0)
    for number, row in seed.rows:
        try:
            share = Decimal(row["budget_share"])
        except InvalidOperation:
            raise seed.refuse(number, row, f"budget_share {row['budget_share']!r} is not a number",
                              "Write a share between 0 and 1.") from None
        if not 0 <= share <= 1:
            raise seed.refuse(number, row, f"budget_share {share} is outside 0..1", "Write a share between 0 and 1.")
        total += share
    if abs(total - 1) > Decimal("0.000001"):
        shares = ", ".join(f"{row['tier']}={row['budget_share']}" for _, row in seed.rows)
        raise RawDataError(
            f"{seed.label}: the budget_share column sums to {total}, not 1 ({shares}). Adjust the shares so "
            "they add up to 1."
        )


def _check_vars(project_dir: Path) -> None:
    variables = (yaml.safe_load((project_dir / "dbt_project.yml").read_text()) or {}).get("vars", {}) or {}
    label = "dbt_project.yml vars"
    for name, (minimum, what) in NUMERIC_VARS.items():
        if name not in variables:
            continue
        value = variables[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise RawDataError(f"{label}: {name} is {value!r}, not a number ({what}). Write a number.")
        if value < minimum:
            raise RawDataError(f"{label}: {name} is {value}, below {minimum} ({what}). Use at least {minimum}.")
    warn, error = variables.get("freshness_warn_after_days"), variables.get("freshness_error_after_days")
    if warn is not None and error is not None and warn >= error:
        raise RawDataError(
            f"{label}: freshness_warn_after_days ({warn}) is not less than freshness_error_after_days ({error}). "
            "Warn earlier than you fail."
        )
    dates = [("min_plausible_date", variables.get("min_plausible_date"))] + [
        (f"placeholder_dates[{i}]", value) for i, value in enumerate(variables.get("placeholder_dates") or [])
    ]
    for name, value in dates:
        if value is None:
            continue
        try:
            dt.date.fromisoformat(str(value))
        except ValueError:
            raise RawDataError(f"{label}: {name} is {value!r}, not a date. Write it YYYY-MM-DD.") from None


def raw_merchant_ids(duckdb_path: Path, default_merchant_id: str = "default") -> set[str]:
    """Merchant ids of the landed raw merchants and orders, as staging normalises them."""
    import duckdb

    con = duckdb.connect(str(duckdb_path), read_only=True)
    try:
        rows = con.execute(
            "select distinct lower(trim(merchant_id)) from raw.merchants "
            "union select distinct lower(trim(merchant_id)) from raw.orders"
        ).fetchall()
    finally:
        con.close()
    return {row[0] for row in rows if row[0]} | {default_merchant_id}


def check_configuration(project_dir: Path, known_merchants: set[str] | None = None) -> None:
    """Raise RawDataError naming the seed row or var that makes no sense; return quietly otherwise.

    known_merchants: the merchant ids of the raw data (trimmed, lower-cased);
    None skips the check of merchant overrides against them.
    """
    seeds_dir = Path(project_dir) / "seeds"
    _check_vars(Path(project_dir))
    _check_columns(seeds_dir)
    industries = _check_windows(seeds_dir, known_merchants)
    _check_industry_keys(seeds_dir, industries)
    _check_keys(seeds_dir, "lifecycle_playbook", "lifecycle_stage", STAGES)
    _check_keys(seeds_dir, "clv_tier_budget_shares", "tier", TIERS)
    _check_budget_shares(seeds_dir)
