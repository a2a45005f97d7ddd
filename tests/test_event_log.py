"""The Dagster instance's event log storage (orchestration/event_log.py): the
project's dagster.yaml selects it, a run's events written by one process are
read and watched live by another, and the files stay where Dagster keeps them."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import time

import dagster as dg
from dagster._core.events.log import EventLogEntry

from orchestration.event_log import PooledSqliteEventLogStorage

# What a run worker does: store a run's events in a process of its own, which keeps running (its
# connection open) while another process watches them. Each line on stdin, "n", stores n more events.
WRITE_EVENTS = """
import sys, time
import dagster as dg
from dagster._core.events.log import EventLogEntry
run_id, stored = sys.argv[1], 0
with dg.DagsterInstance.get() as instance:
    for line in sys.stdin:
        for i in range(stored, stored + int(line)):
            instance.store_event(EventLogEntry(error_info=None, level=20, user_message=f"event {i}", run_id=run_id,
                                               timestamp=time.time()))
        stored += int(line)
        print("stored", stored, flush=True)
"""


def _receive(received: queue.Queue, count: int) -> list[str]:
    seen: list[str] = []
    deadline = time.monotonic() + 60
    while len(seen) < count and time.monotonic() < deadline:
        try:
            seen.append(received.get(timeout=1))
        except queue.Empty:
            pass
    return seen


def _message(entry: EventLogEntry) -> str:
    return entry.user_message


def test_a_run_written_in_one_process_is_watched_live_and_read_in_another(dagster_home):
    run_id = "watched-run"
    received: queue.Queue[str] = queue.Queue()
    with dg.DagsterInstance.get() as instance:
        storage = instance.event_log_storage
        assert isinstance(storage, PooledSqliteEventLogStorage), type(storage)
        # the watch starts before the run has written anything, as the UI's does for a run just launched
        instance.watch_event_logs(run_id, None, lambda entry, cursor: received.put(_message(entry)))
        writer = subprocess.Popen([sys.executable, "-c", WRITE_EVENTS, run_id], env=dict(os.environ),
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            # the first event creates the run's database; the next ones only reach its write-ahead log
            for first, count in ((0, 1), (1, 49)):
                writer.stdin.write(f"{count}\n")
                writer.stdin.flush()
                assert writer.stdout.readline().strip() == f"stored {first + count}", writer.stderr.read()[-3000:]
                assert _receive(received, count) == [f"event {i}" for i in range(first, first + count)]
        finally:
            writer.communicate(input="", timeout=120)
        assert writer.returncode == 0
        # read back, in order, by this process's own connection
        records = storage.get_records_for_run(run_id).records
        assert [_message(record.event_log_entry) for record in records] == [f"event {i}" for i in range(50)]
    # where Dagster's default storage keeps a run's events
    assert (dagster_home / "history" / "runs" / f"{run_id}.db").exists()


def test_wipe_deletes_the_run_databases_it_holds_open(tmp_path):
    storage = PooledSqliteEventLogStorage(str(tmp_path / "runs"))
    for run_id in ("first", "second"):
        storage.store_event(EventLogEntry(error_info=None, level=20, user_message=run_id, run_id=run_id,
                                          timestamp=time.time()))
    assert sorted(p.name for p in (tmp_path / "runs").glob("*.db")) == ["first.db", "index.db", "second.db"]
    storage.wipe()
    assert sorted(p.name for p in (tmp_path / "runs").glob("*.db")) == ["index.db"]
    assert storage.get_records_for_run("first").records == []
    storage.store_event(EventLogEntry(error_info=None, level=20, user_message="again", run_id="first",
                                      timestamp=time.time()))
    assert [_message(r.event_log_entry) for r in storage.get_records_for_run("first").records] == ["again"]
    storage.dispose()
