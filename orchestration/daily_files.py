"""Split single-file raw exports into a folder of daily files per entity.

The daily schedule's normal input is a folder per entity that grows by one
file a day: ``orders/2026-11-29.parquet``, ``orders/2026-11-30.parquet``, ...
This module makes that layout from the demo generator's single files, for
the incremental contract test and ``make bench DAYS=N``:

* ``<entity>/<first_day>.parquet`` holds every row dated on or before
  ``first_day``, plus the rows whose date does not parse or lies after the
  last day (messy rows belong to the history file, as in a first export);
* ``<entity>/<day>.parquet`` holds the rows dated on that day, for every day
  after ``first_day`` up to ``last_day``.

Only entities with a date column are split (orders, customers,
interactions); merchants and acquisition costs stay single files. File names
are ISO dates, so a folder sorted by name is in arrival order, which is the
order the landing numbers rows in (orchestration.landing).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import duckdb

# entity -> the column that dates a row
DATED_ENTITIES = {"orders": "ordered_at", "customers": "registered_at", "interactions": "occurred_at"}


def _day_of(column: str) -> str:
    return f"try_cast(left(trim(cast({column} as varchar)), 10) as date)"


def day_file(folder: Path, day: dt.date) -> Path:
    return folder / f"{day.isoformat()}.parquet"


def arrive_day(daily_dir: Path, live_dir: Path, day: dt.date, *, with_undated: bool) -> None:
    """Hard-link one day's files of a split_daily folder into the live raw folder, as that day's export.

    ``with_undated`` adds the single-file entities (merchants, acquisition
    costs), which arrive once, with the history file.
    """
    for source in sorted(Path(daily_dir).rglob("*.parquet")):
        relative = source.relative_to(daily_dir)
        dated = relative.parent != Path(".")
        if (dated and source.stem == day.isoformat()) or (not dated and with_undated):
            target = Path(live_dir) / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            os.link(source, target)


def split_daily(source_dir: Path, out_dir: Path, first_day: dt.date, last_day: dt.date) -> dict[str, list[Path]]:
    """Write out_dir/<entity>/<day>.parquet for the dated entities of source_dir; copy the others.

    Returns, per split entity, its files in day order (the first one is the
    history up to first_day). Days without rows still get a file (with no
    rows), so every day has exactly one file per entity.
    """
    source_dir, out_dir = Path(source_dir), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, list[Path]] = {}
    con = duckdb.connect()
    try:
        for source in sorted(source_dir.glob("*.parquet")):
            entity = source.stem
            column = DATED_ENTITIES.get(entity)
            if column is None:
                shutil.copy(source, out_dir / source.name)
                continue
            folder = out_dir / entity
            folder.mkdir(exist_ok=True)
            path = str(source).replace("'", "''")
            day = _day_of(column)
            con.execute(f"create or replace temp table rows as select *, {day} as _day from read_parquet('{path}')")
            files = []
            history = day_file(folder, first_day)
            con.execute(
                f"copy (select * exclude (_day) from rows where _day is null or _day <= ? or _day > ?) "
                f"to '{history}' (format parquet)",
                [first_day, last_day],
            )
            files.append(history)
            current = first_day + dt.timedelta(days=1)
            while current <= last_day:
                target = day_file(folder, current)
                con.execute(
                    f"copy (select * exclude (_day) from rows where _day = ?) to '{target}' (format parquet)",
                    [current],
                )
                files.append(target)
                current += dt.timedelta(days=1)
            written[entity] = files
    finally:
        con.close()
    return written
