"""Failure and staleness alerts to a webhook (Slack-compatible JSON), off unless ALERT_WEBHOOK_URL is set.

* `run_failure_alert`: one message per failed run of this code location
  (job, run id, the failed steps' errors, a link to the run when
  DAGSTER_WEBSERVER_URL is set).
* `stale_assets_alert`: one message when assets with a freshness policy (the
  marts, the raw landing) turn stale (freshness FAIL), listing them; nothing
  more until they are fresh again.

The body is `{"text": ...}` (what a Slack incoming webhook, Mattermost or
Teams' Slack-compatible endpoints read) plus machine-readable fields. Delivery
is retried with backoff; when the hook still cannot be reached, a log line
says so and names the URL's host, and nothing else fails: an alert is never a
reason for a run or a sensor tick to fail. Both sensors run by default and
skip while ALERT_WEBHOOK_URL is unset; they need the Dagster daemon (`dg dev`
starts it).
"""

from __future__ import annotations

import json
import logging
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg

WEBHOOK_ENV = "ALERT_WEBHOOK_URL"
WEBSERVER_URL_ENV = "DAGSTER_WEBSERVER_URL"
ATTEMPTS = 3
TIMEOUT_SECONDS = 5.0
BACKOFF_SECONDS = 1.0


def webhook_url() -> str | None:
    return os.environ.get(WEBHOOK_ENV, "").strip() or None


def post_alert(
    url: str,
    payload: Mapping[str, Any],
    log: logging.Logger | Any,
    attempts: int = ATTEMPTS,
    timeout: float = TIMEOUT_SECONDS,
    backoff: float = BACKOFF_SECONDS,
) -> bool:
    """POST `payload` as JSON; retry on network errors and 5xx/429. True once delivered.

    Never raises: an undeliverable alert is logged (host only: the URL's path
    of a Slack hook is a secret) and reported by the return value.
    """
    body = json.dumps(payload).encode()
    host = urllib.parse.urlsplit(url).netloc or url
    error: str = "no attempt"
    for attempt in range(1, attempts + 1):
        request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                if 200 <= response.status < 300:
                    return True
                error = f"HTTP {response.status}"
        except urllib.error.HTTPError as http_error:
            error = f"HTTP {http_error.code}"
            if http_error.code < 500 and http_error.code != 429:
                break  # the hook refused the message: sending it again will not help
        except (urllib.error.URLError, OSError, ValueError) as network_error:
            error = str(getattr(network_error, "reason", network_error))
        if attempt < attempts:
            time.sleep(backoff * 2 ** (attempt - 1))
    log.error(
        f"alert NOT delivered to webhook at {host} after {attempt} attempt(s): {error}. "
        f"Check {WEBHOOK_ENV}; the alert was: {payload.get('text', '')[:300]}"
    )
    return False


def _run_link(run_id: str) -> str:
    base = os.environ.get(WEBSERVER_URL_ENV, "").strip().rstrip("/")
    return f" <{base}/runs/{run_id}|open the run>" if base else ""


def run_failure_payload(job_name: str, run_id: str, errors: Sequence[str]) -> dict[str, Any]:
    summary = "; ".join(errors)[:1500] or "no step error recorded (see the run's logs)"
    return {
        "text": f":red_circle: customer-lifecycle: run of `{job_name}` failed ({run_id[:8]}).{_run_link(run_id)}\n{summary}",
        "event": "run_failure",
        "job_name": job_name,
        "run_id": run_id,
        "errors": list(errors),
    }


def stale_payload(keys: Sequence[str]) -> dict[str, Any]:
    shown = ", ".join(keys[:20]) + (f" and {len(keys) - 20} more" if len(keys) > 20 else "")
    return {
        "text": (
            f":warning: customer-lifecycle: {len(keys)} asset(s) are stale (the daily build has not "
            f"refreshed them by their deadline): {shown}"
        ),
        "event": "assets_stale",
        "assets": list(keys),
    }


def _step_errors(context: dg.RunFailureSensorContext) -> list[str]:
    errors = []
    for event in context.get_step_failure_events():
        data = event.step_failure_data
        message = data.error.message.strip() if data and data.error else "failed"
        errors.append(f"{event.step_key}: {message.splitlines()[0] if message else 'failed'}")
    if not errors and context.failure_event.message:
        errors.append(context.failure_event.message)
    return errors


@dg.run_failure_sensor(
    name="run_failure_alert",
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    description=f"Posts one alert per failed run to {WEBHOOK_ENV} (skips while it is unset).",
)
def run_failure_alert(context: dg.RunFailureSensorContext):
    url = webhook_url()
    if url is None:
        return dg.SkipReason(f"{WEBHOOK_ENV} is not set: alerts are off")
    run = context.dagster_run
    post_alert(url, run_failure_payload(run.job_name, run.run_id, _step_errors(context)), context.log)
    return None


def freshness_policy_keys(context: dg.SensorEvaluationContext) -> list[dg.AssetKey]:
    graph = context.repository_def.asset_graph
    return sorted(
        (key for key in graph.get_all_asset_keys() if graph.get(key).freshness_policy is not None),
        key=lambda key: key.to_user_string(),
    )


@dg.sensor(
    name="stale_assets_alert",
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=300,
    description=f"Posts one alert when assets turn stale (freshness FAIL) to {WEBHOOK_ENV} (skips while unset).",
)
def stale_assets_alert(context: dg.SensorEvaluationContext):
    url = webhook_url()
    if url is None:
        return dg.SkipReason(f"{WEBHOOK_ENV} is not set: alerts are off")
    records = context.instance.get_freshness_state_records(freshness_policy_keys(context))
    stale = sorted(key.to_user_string() for key, record in records.items() if record.freshness_state.value == "FAIL")
    already = set(json.loads(context.cursor)) if context.cursor else set()
    newly = [key for key in stale if key not in already]
    if newly:
        post_alert(url, stale_payload(newly), context.log)
    # Remember what is stale now (delivered or not: one attempt per stale episode).
    context.update_cursor(json.dumps(stale))
    return None if newly else dg.SkipReason("no asset newly stale")


def alert_sensors() -> list[dg.SensorDefinition]:
    return [run_failure_alert, stale_assets_alert]
