"""The knobs a user sets, read from the environment in one place.

RAW_DATA_DIR  landing folder of raw files (default data/raw)
AS_OF_DATE    YYYY-MM-DD "as of when" every model judges (default today, UTC)
DUCKDB_PATH   the working database dbt builds (default data/lifecycle.duckdb)
PUBLISH_PATH  the copy of the marts BI tools read (default: beside DUCKDB_PATH,
              named <stem>_marts.duckdb)
DBT_TARGET    the profiles.yml target (default duckdb)
RAW_CSV_ENCODING  encoding of the raw CSV files, for all (``latin-1``) or per
              entity (``orders=gb18030,customers=latin-1``); default: detected
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_RAW_DATA_DIR = PROJECT_DIR / "data" / "raw"
DEFAULT_DUCKDB_PATH = PROJECT_DIR / "data" / "lifecycle.duckdb"

# The working database (dbt writes it, only this project reads it).
STORAGE_COMPATIBILITY_VERSION = "v1.5.0"

# The published marts file, which BI tools and notebooks open with whatever
# DuckDB they embed. 'v1.0.0' files (storage header 64) are read by every
# client from 1.0 on, the 1.4 LTS line included; 'v1.2.0' and later headers
# shut out older clients. tests/test_published_file_clients.py proves the
# claim with real old clients; DECISIONLOG.md says why not older or newer.
PUBLISHED_STORAGE_VERSION = "v1.0.0"

# Demo data written when the default landing folder holds no orders.
DEMO_ORDERS = 200_000
DEMO_SEED = 42


def _path_from_env(name: str, default: Path) -> Path:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    path = Path(value).expanduser()
    return path if path.is_absolute() else (Path.cwd() / path).resolve()


def raw_data_dir() -> Path:
    return _path_from_env("RAW_DATA_DIR", DEFAULT_RAW_DATA_DIR)


def raw_data_dir_is_default() -> bool:
    return not os.environ.get("RAW_DATA_DIR", "").strip()


def duckdb_path() -> Path:
    return _path_from_env("DUCKDB_PATH", DEFAULT_DUCKDB_PATH)


def dbt_target_dir() -> Path:
    """DBT_TARGET_PATH as dbt reads it (relative to the project folder, not the working directory), default target/."""
    value = os.environ.get("DBT_TARGET_PATH", "").strip()
    path = Path(value).expanduser() if value else Path("target")
    return path if path.is_absolute() else PROJECT_DIR / path


def publish_path() -> Path:
    db = duckdb_path()
    return _path_from_env("PUBLISH_PATH", db.with_name(f"{db.stem}_marts{db.suffix or '.duckdb'}"))


def parse_as_of_date(value: str | None) -> dt.date:
    """AS_OF_DATE as a date; empty means today in UTC. Raises ValueError with a clear message."""
    value = (value or "").strip()
    if not value:
        return dt.datetime.now(dt.timezone.utc).date()
    try:
        return dt.date.fromisoformat(value) if len(value) == 10 else _bad_date(value)
    except ValueError:
        return _bad_date(value)


def _bad_date(value: str) -> dt.date:
    raise ValueError(f"AS_OF_DATE must be a date written YYYY-MM-DD, got {value!r}")


def as_of_date() -> dt.date:
    return parse_as_of_date(os.environ.get("AS_OF_DATE"))


def dbt_target() -> str:
    return os.environ.get("DBT_TARGET", "").strip() or "duckdb"


def raw_csv_encoding() -> str:
    return os.environ.get("RAW_CSV_ENCODING", "").strip()
