"""Run-failure and staleness alerts reach a webhook (a local HTTP server here), once, and never fail anything."""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dagster as dg

from orchestration.alerts import WEBHOOK_ENV, post_alert, run_failure_alert, stale_payload

HOOK_PORT = 13001
DEAD_PORT = 13002  # nothing listens here


class Hook:
    """A webhook on 127.0.0.1 that records what it receives; answers the queued statuses, then 200."""

    def __init__(self, port: int, statuses: tuple[int, ...] = ()):
        self.received: list[dict] = []
        self.statuses = list(statuses)
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                hook.received.append(json.loads(body))
                self.send_response(hook.statuses.pop(0) if hook.statuses else 200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{port}/hooks/secret-path"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def failed_run(defs, tmp_path, monkeypatch, instance):
    """A real failed run of the build job: a landing folder without an orders file."""
    raw_dir = tmp_path / "raw"
    raw_dir.mkdir()
    monkeypatch.setenv("RAW_DATA_DIR", str(raw_dir))
    job = defs.resolve_job_def("build_everything")
    landing = [key for key in job.asset_layer.executable_asset_keys if key.path[0] == "raw"]
    result = job.execute_in_process(instance=instance, raise_on_error=False, asset_selection=landing)
    assert not result.success
    failure = next(event for event in result.all_events if event.event_type == dg.DagsterEventType.RUN_FAILURE)
    return instance.get_run_by_id(result.run_id), failure


def evaluate_failure_sensor(instance, run, failure_event):
    context = dg.build_run_status_sensor_context(
        sensor_name="run_failure_alert", dagster_event=failure_event, dagster_instance=instance, dagster_run=run
    ).for_run_failure()
    return run_failure_alert(context)


def test_a_failed_run_posts_exactly_one_alert(defs, build_env, tmp_path, monkeypatch):
    with Hook(HOOK_PORT) as hook, dg.DagsterInstance.ephemeral() as instance:
        monkeypatch.setenv(WEBHOOK_ENV, hook.url)
        run, failure = failed_run(defs, tmp_path, monkeypatch, instance)
        evaluate_failure_sensor(instance, run, failure)

    assert len(hook.received) == 1
    alert = hook.received[0]
    assert alert["event"] == "run_failure" and alert["run_id"] == run.run_id
    assert alert["job_name"] == "build_everything"
    assert "raw_landing" in alert["text"] and "no orders.parquet" in alert["text"], "says what failed and why"


def test_an_unreachable_webhook_is_logged_and_fails_nothing(defs, build_env, tmp_path, monkeypatch, capfd):
    monkeypatch.setenv(WEBHOOK_ENV, f"http://127.0.0.1:{DEAD_PORT}/hooks/secret-path")
    monkeypatch.setattr("orchestration.alerts.BACKOFF_SECONDS", 0.01)
    with dg.DagsterInstance.ephemeral() as instance:
        run, failure = failed_run(defs, tmp_path, monkeypatch, instance)
        capfd.readouterr()
        evaluate_failure_sensor(instance, run, failure)  # returns: the tick does not fail
    output = capfd.readouterr()
    lines = [line for line in (output.out + output.err).splitlines() if "NOT delivered" in line]
    assert len(lines) == 1, output.err[-3000:]
    assert f"127.0.0.1:{DEAD_PORT}" in lines[0] and "after 3 attempt(s)" in lines[0]
    assert "secret-path" not in lines[0], "the hook's path (its secret) is not logged"


def test_alerts_are_off_when_the_variable_is_unset(defs, build_env, tmp_path, monkeypatch):
    monkeypatch.delenv(WEBHOOK_ENV, raising=False)
    with Hook(HOOK_PORT) as hook, dg.DagsterInstance.ephemeral() as instance:
        run, failure = failed_run(defs, tmp_path, monkeypatch, instance)
        outcome = evaluate_failure_sensor(instance, run, failure)
    assert isinstance(outcome, dg.SkipReason) and WEBHOOK_ENV in outcome.skip_message
    assert hook.received == []


def test_delivery_retries_server_errors_and_gives_up_on_a_refusal():
    log = logging.getLogger("test_alerts")
    with Hook(HOOK_PORT, statuses=(503, 500)) as hook:
        assert post_alert(hook.url, stale_payload(["marts/customers"]), log, backoff=0.01) is True
        assert len(hook.received) == 3, "two server errors retried, delivered on the third attempt"
    with Hook(HOOK_PORT, statuses=(404,)) as hook:
        assert post_alert(hook.url, stale_payload(["marts/customers"]), log, backoff=0.01) is False
        assert len(hook.received) == 1, "a 4xx is not retried"


def test_stale_assets_alert_once_per_stale_episode(defs, monkeypatch):
    """Freshness states recorded as the freshness daemon records them; the sensor alerts once per episode."""
    import time

    from dagster._core.definitions.freshness import FreshnessState, FreshnessStateChange

    from orchestration.alerts import stale_assets_alert

    customers = dg.AssetKey(["marts", "customers"])

    def record(instance, new, previous):
        instance._report_runless_asset_event(  # noqa: SLF001 (the daemon's own call)
            asset_event=FreshnessStateChange(
                key=customers, new_state=new, previous_state=previous, state_change_timestamp=time.time()
            )
        )

    with Hook(HOOK_PORT) as hook, dg.DagsterInstance.ephemeral() as instance:
        monkeypatch.setenv(WEBHOOK_ENV, hook.url)
        repository = defs.get_repository_def()
        cursor = None

        def tick():
            nonlocal cursor
            context = dg.build_sensor_context(instance=instance, cursor=cursor, repository_def=repository)
            stale_assets_alert(context)
            cursor = context.cursor

        tick()
        record(instance, FreshnessState.FAIL, FreshnessState.PASS)
        tick()
        tick()
        assert len(hook.received) == 1, "one alert per stale episode, not one per tick"
        assert hook.received[0]["assets"] == ["marts/customers"]
        record(instance, FreshnessState.PASS, FreshnessState.FAIL)
        tick()
        record(instance, FreshnessState.FAIL, FreshnessState.PASS)
        tick()
        assert len(hook.received) == 2, "stale again after being fresh: a new alert"
