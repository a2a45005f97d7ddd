"""Dagster's SQLite event log storage, keeping its database connections open.

Dagster's SqliteEventLogStorage creates an engine, connects, commits and
disposes for every event it stores. Closing the last connection to a WAL
database checkpoints it, and the commit and the checkpoint each wait for the
disk. A build of this project stores about 1,900 events (a planned and an
evaluated check per dbt test, an output and a materialization per model), so
that wait was a fixed cost of every run, paid mostly after dbt has exited
(orchestration.assets.metadata holds dbt's events until then).

PooledSqliteEventLogStorage is the same storage, in the same files, with one
engine per database file kept for the life of the process (the most recently
used few), and `synchronous=NORMAL`, SQLite's setting for WAL databases: a
commit no longer waits for the disk, only a checkpoint does. A power cut can
lose the last events written; it cannot corrupt the files.

Dagster's live view of a run (the UI's event log) watches the run's database
file for changes. With the connection held open a commit changes the
write-ahead log (`<run>.db-wal`), and the database file itself only at a
checkpoint, so the watch here follows both.

dagster_home/dagster.yaml configures it; the run and schedule storages stay
Dagster's defaults, and a Dagster home written before keeps its history.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dagster._config import StringSource
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    INDEX_SHARD_NAME,
    SQLITE_BUSY_TIMEOUT_SECONDS,
    SqliteEventLogStorage,
    SqliteEventLogStorageWatchdog,
)
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from watchdog.events import FileSystemEvent, PatternMatchingEventHandler
from watchdog.observers import Observer

# engines kept open per process: the index database and the runs being written or watched
OPEN_DATABASES = 8


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    """SqliteEventLogStorage with its connections kept open (module docstring).

    Config: `instance_dir`, the Dagster home. The event logs go where Dagster's
    default storage keeps them, `<instance_dir>/history/runs/`.
    """

    def __init__(self, base_dir: str, inst_data: Any = None):
        self._engines: OrderedDict[str, Engine] = OrderedDict()   # guarded by Dagster's _db_lock
        super().__init__(base_dir, inst_data)

    @classmethod
    def config_type(cls) -> dict[str, Any]:
        return {"instance_dir": StringSource}

    @classmethod
    def from_config_value(cls, inst_data: Any, config_value: dict[str, Any]) -> PooledSqliteEventLogStorage:
        return cls(os.path.join(config_value["instance_dir"], "history", "runs", ""), inst_data=inst_data)

    def _engine(self, shard: str) -> Engine:
        """The open engine of `shard`, made the most recently used (the caller holds _db_lock)."""
        engine = self._engines.pop(shard, None)
        if engine is None:
            engine = create_engine(self.conn_string_for_shard(shard), pool_size=1,
                                   connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})
            event.listen(engine, "connect", _commit_without_waiting_for_the_disk)
        self._engines[shard] = engine
        while len(self._engines) > OPEN_DATABASES:
            _, oldest = self._engines.popitem(last=False)
            oldest.dispose()
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        # as Dagster's, one connection at a time per process, but from an engine that stays open
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def _close_databases(self, keep: str | None = None) -> None:
        with self._db_lock:   # not while another thread uses one
            for shard in [shard for shard in self._engines if shard != keep]:
                self._engines.pop(shard).dispose()

    def wipe(self) -> None:
        # the run databases are deleted: close them first
        self._close_databases(keep=INDEX_SHARD_NAME)
        super().wipe()

    def dispose(self) -> None:
        super().dispose()
        self._close_databases()

    def watch(self, run_id: str, cursor: str | None, callback: Any) -> None:
        if not self._obs:
            self._obs = Observer()
            self._obs.start()
        watchdog = _RunLogWatchdog(SqliteEventLogStorageWatchdog(self, run_id, callback, cursor))
        self._watchers[run_id][callback] = (watchdog, self._obs.schedule(watchdog, self._base_dir, recursive=True))


def _commit_without_waiting_for_the_disk(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("pragma synchronous = normal")
    cursor.close()


class _RunLogWatchdog(PatternMatchingEventHandler):
    """Dagster's watch of one run's events, woken by its database file or its write-ahead log."""

    def __init__(self, watchdog: SqliteEventLogStorageWatchdog):
        self._watchdog = watchdog
        path = watchdog._log_path
        super().__init__(patterns=[path, f"{path}-wal"])

    def on_modified(self, event: FileSystemEvent) -> None:
        self._watchdog._process_log()
