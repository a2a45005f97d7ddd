"""Incremental daily builds: which raw files the build has staged, and which path a run takes.

A run is either a *full refresh* (every raw file landed and staged again,
every incremental model rebuilt with dbt's ``--full-refresh``) or
*incremental* (only raw files the build has not staged yet are parsed and
staged; the per-customer lifecycle models recompute only the customers that
new rows, rows dated since the last build or a stage change due touch,
models/intermediate/int_customers_to_recompute.sql; the other models are
rebuilt in full). The
rule above everything: an incremental build produces, table for table, what a
full refresh of the same files as of the same date produces
(tests/test_incremental_contract.py proves it step by step).

State lives in the working database, in the ``raw`` schema:

* ``raw._landed_files``: one row per raw file of the last landing (entity,
  path, position in its entity's sorted file list, size, mtime, SHA-256,
  and ``is_staged``: whether a successful build has staged it);
* ``raw._build_state``: the as-of date, project fingerprint and raw folder
  of the last successful build.

``plan_build`` compares the landing folder and the configuration with that
state and returns a ``BuildPlan``: full refresh, and why; or incremental,
and which files are new. A full refresh happens when

* it is asked for (``FULL_REFRESH=1``, the run config ``full_refresh``);
* there is no successful build yet in this database;
* AS_OF_DATE moved backwards (rows flagged as future must come back), from
  the last successful build or from a later build that did not finish (it
  may have recomputed some customers as of its date);
* the project changed: a seed, ``dbt_project.yml`` (its vars), a model or a
  macro, or a setting that changes what the landing reads (RAW_DATA_DIR,
  RAW_CSV_ENCODING);
* an already-staged raw file changed or vanished, or a new file sorts before
  one already staged (row numbering, hence "first row wins" deduplication,
  follows the sorted file order).

Every reason is a sentence; the run logs them and puts them in Dagster
metadata. ``record_success`` marks the new files as staged once the dbt build
succeeded, so a failed build stages them again on the next run.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import os
from pathlib import Path

import duckdb

from orchestration import settings

LEDGER = "_landed_files"
STATE = "_build_state"
PLAN = "_build_plan"

# What the models' results depend on, besides the raw files and AS_OF_DATE.
PROJECT_INPUTS = ("dbt_project.yml", "seeds", "models", "macros")
# Settings that change what the landing reads.
LANDING_SETTINGS = ("RAW_CSV_ENCODING",)


def full_refresh_requested() -> bool:
    """FULL_REFRESH=1 (or true/yes) in the environment: `make run FULL_REFRESH=1`."""
    return os.environ.get("FULL_REFRESH", "").strip().lower() in ("1", "true", "yes")


@dataclasses.dataclass(frozen=True)
class LandedFile:
    entity: str
    path: str
    position: int
    size: int
    mtime_ns: int
    sha256: str


@dataclasses.dataclass
class BuildPlan:
    full_refresh: bool
    reasons: list[str]
    as_of: dt.date
    previous_as_of: dt.date | None
    files: list[LandedFile]
    new_files: dict[str, list[str]]

    @property
    def path(self) -> str:
        return "full_refresh" if self.full_refresh else "incremental"

    def describe(self) -> str:
        if self.full_refresh:
            return "full refresh: " + "; ".join(self.reasons)
        count = sum(len(paths) for paths in self.new_files.values())
        since = self.previous_as_of.isoformat() if self.previous_as_of else "-"
        return f"incremental: {count} new raw file(s), as of {self.as_of.isoformat()} (previous build as of {since})"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def project_fingerprint(project_dir: Path = settings.PROJECT_DIR) -> str:
    """A digest of everything besides the raw files that the build's results depend on."""
    digest = hashlib.sha256()
    for name in PROJECT_INPUTS:
        root = Path(project_dir) / name
        paths = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in paths:
            digest.update(path.relative_to(project_dir).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    for name in LANDING_SETTINGS:
        digest.update(f"{name}={os.environ.get(name, '').strip()}\0".encode())
    return digest.hexdigest()[:24]


def _state(
    con: duckdb.DuckDBPyConnection,
) -> tuple[dict[str, str], dt.date | None, dict[str, LandedFile], set[str]]:
    """(last successful build's state, attempted as-of date, landed files by path, staged paths).

    Empty when this database has none. The attempted as-of date is that of the
    last landing's plan, which may belong to a build that did not finish.
    """
    tables = {row[0] for row in con.execute(
        "select table_name from information_schema.tables where table_schema = 'raw'").fetchall()}
    if STATE not in tables or LEDGER not in tables:
        return {}, None, {}, set()
    state = dict(con.execute(f"select key, value from raw.{STATE}").fetchall())
    attempted = con.execute(f"select max(as_of_date) from raw.{PLAN}").fetchone()[0] if PLAN in tables else None
    landed, staged = {}, set()
    for entity, path, position, size, mtime_ns, sha256, is_staged in con.execute(
        f"select entity, path, position, size, mtime_ns, sha256, is_staged from raw.{LEDGER}"
    ).fetchall():
        landed[path] = LandedFile(entity, path, position, size, mtime_ns, sha256)
        if is_staged:
            staged.add(path)
    return state, attempted, landed, staged


def _describe_file(entity: str, path: Path, position: int, known: LandedFile | None) -> LandedFile:
    """The file's fingerprint; the SHA-256 is computed only when size or mtime says it may have changed."""
    stat = path.stat()
    if known is not None and known.size == stat.st_size and known.mtime_ns == stat.st_mtime_ns:
        sha256 = known.sha256
    else:
        sha256 = _sha256(path)
    return LandedFile(entity, str(path), position, stat.st_size, stat.st_mtime_ns, sha256)


def plan_build(
    con: duckdb.DuckDBPyConnection | None,
    entity_files: dict[str, list[Path]],
    as_of: dt.date,
    raw_dir: Path,
    requested: bool = False,
    project_dir: Path = settings.PROJECT_DIR,
) -> BuildPlan:
    """Decide the run's path from the files found now (entity -> sorted files) and the last build's state.

    con: the working database (read-only is enough), None when it does not exist yet.
    """
    state, attempted, landed, staged = _state(con) if con is not None else ({}, None, {}, set())
    files = [
        _describe_file(entity, Path(path), position, landed.get(str(path)))
        for entity, paths in entity_files.items()
        for position, path in enumerate(paths)
    ]

    reasons: list[str] = []
    previous = dt.date.fromisoformat(state["as_of_date"]) if state.get("as_of_date") else None
    if requested:
        reasons.append("a full refresh was requested (FULL_REFRESH=1 or the run config full_refresh)")
    if not state:
        reasons.append("no earlier successful build in this database")
    else:
        if previous is not None and as_of < previous:
            reasons.append(f"AS_OF_DATE moved backwards ({previous.isoformat()} -> {as_of.isoformat()})")
        elif attempted is not None and as_of < attempted:
            # the unfinished build may have recomputed customers as of its later date
            reasons.append(f"AS_OF_DATE is before that of the last build attempted, which did not finish "
                           f"({attempted.isoformat()} -> {as_of.isoformat()})")
        if state.get("project_fingerprint") != project_fingerprint(project_dir):
            reasons.append("the project changed since the last build (a seed, a var in dbt_project.yml, a model, "
                           "a macro, or RAW_CSV_ENCODING)")
        if state.get("raw_data_dir") != str(Path(raw_dir).resolve()):
            reasons.append(f"RAW_DATA_DIR changed ({state.get('raw_data_dir')} -> {Path(raw_dir).resolve()})")
        reasons += _file_reasons(files, landed, staged)

    new_files: dict[str, list[str]] = {}
    for landed_file in files:
        if reasons or landed_file.path not in staged:
            new_files.setdefault(landed_file.entity, []).append(landed_file.path)
    return BuildPlan(bool(reasons), reasons, as_of, previous, files, new_files)


def _file_reasons(files: list[LandedFile], landed: dict[str, LandedFile], staged: set[str]) -> list[str]:
    reasons = []
    now = {f.path: f for f in files}
    for path in sorted(staged):
        before = landed[path]
        current = now.get(path)
        if current is None:
            reasons.append(f"{before.entity}: {path}, already staged, is gone")
        elif current.sha256 != before.sha256:
            reasons.append(f"{before.entity}: {path}, already staged, changed (size {before.size} -> {current.size} "
                           "bytes, content differs)")
        elif current.position != before.position:
            reasons.append(f"{before.entity}: {path} moved from position {before.position} to {current.position} "
                           "in its folder's sorted files (a file was added before it or removed; row numbers "
                           "follow that order)")
    return reasons


def write_ledger(con: duckdb.DuckDBPyConnection, plan: BuildPlan) -> None:
    """Record the files and the plan of this landing (inside its transaction); new files are not staged yet."""
    new = {path for paths in plan.new_files.values() for path in paths}
    con.execute(
        f"create or replace table raw.{PLAN} (path varchar, reasons varchar, as_of_date date, "
        "previous_as_of_date date, new_files integer)"
    )
    con.execute(
        f"insert into raw.{PLAN} values (?, ?, ?, ?, ?)",
        [plan.path, "; ".join(plan.reasons), plan.as_of, plan.previous_as_of, len(new)],
    )
    con.execute(
        f"create or replace table raw.{LEDGER} (entity varchar, path varchar, position integer, size bigint, "
        "mtime_ns bigint, sha256 varchar, is_staged boolean)"
    )
    if plan.files:
        con.executemany(
            f"insert into raw.{LEDGER} values (?, ?, ?, ?, ?, ?, ?)",
            [(f.entity, f.path, f.position, f.size, f.mtime_ns, f.sha256, f.path not in new) for f in plan.files],
        )
    if plan.full_refresh:
        # until this full refresh succeeds, the database has no build to continue from
        con.execute(f"drop table if exists raw.{STATE}")


def read_plan(duckdb_path: Path) -> dict | None:
    """The plan of the last landing (path, reasons, as_of_date, ...), or None when there is none."""
    if not Path(duckdb_path).exists():
        return None
    con = duckdb.connect(str(duckdb_path), read_only=True)
    try:
        found = con.execute(
            "select count(*) from information_schema.tables where table_schema = 'raw' and table_name = ?", [PLAN]
        ).fetchone()[0]
        if not found:
            return None
        row = con.execute(f"select path, reasons, as_of_date, previous_as_of_date, new_files from raw.{PLAN}").fetchone()
    finally:
        con.close()
    if row is None:
        return None
    return dict(zip(("path", "reasons", "as_of_date", "previous_as_of_date", "new_files"), row, strict=True))


def record_success(duckdb_path: Path, as_of: dt.date, raw_dir: Path,
                   project_dir: Path = settings.PROJECT_DIR) -> None:
    """After a successful dbt build: every landed file is staged; remember the date and the project."""
    con = duckdb.connect(str(duckdb_path))
    try:
        con.execute("begin transaction")
        con.execute(f"update raw.{LEDGER} set is_staged = true")
        path = con.execute(f"select path from raw.{PLAN}").fetchone()
        con.execute(f"create or replace table raw.{STATE} (key varchar, value varchar)")
        con.executemany(f"insert into raw.{STATE} values (?, ?)", [
            ("as_of_date", as_of.isoformat()),
            ("project_fingerprint", project_fingerprint(project_dir)),
            ("raw_data_dir", str(Path(raw_dir).resolve())),
            ("path", path[0] if path else ""),
        ])
        con.execute("commit")
    finally:
        con.close()
