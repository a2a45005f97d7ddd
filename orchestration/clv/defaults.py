"""The CLV settings' defaults, read from one place: `vars:` of dbt_project.yml.

The dbt models get these values from dbt (`var('clv_min_customers')` ...);
Python callers that do not pass a value (the segment driver, the benchmark)
get the same number from here instead of repeating it. Read on first use,
never at import.
"""

from __future__ import annotations

import functools
from pathlib import Path

import yaml

DBT_PROJECT_FILE = Path(__file__).resolve().parents[2] / "dbt_project.yml"


@functools.cache
def _dbt_vars() -> dict:
    with DBT_PROJECT_FILE.open() as handle:
        return dict(yaml.safe_load(handle).get("vars") or {})


def dbt_var(name: str):
    """The default of a dbt var, as dbt_project.yml sets it; KeyError naming the file if absent."""
    values = _dbt_vars()
    if name not in values:
        raise KeyError(f"var {name!r} is not set in {DBT_PROJECT_FILE}; add it under vars:")
    return values[name]


def clv_setting(value, name: str):
    """``value`` when the caller gave one, else the dbt var ``name``'s default."""
    return dbt_var(name) if value is None else value
