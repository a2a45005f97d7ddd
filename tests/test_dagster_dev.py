"""`make dev` (dg dev) end to end: serve the graph, build it from the UI's API, read back metadata and freshness.

One `make dev` on 127.0.0.1 with a private DAGSTER_HOME and database, on the
small messy fixture. Through Dagster's GraphQL API the test launches
`build_everything` (queued, started by the daemon `dg dev` runs), waits for
it, checks that the marts carry row-count metadata and pass their freshness
policy, and takes a headless-Chromium screenshot of a mart's asset page
(`UPDATE_README_SCREENSHOT=1` copies it to docs/ for the README). `dg dev`
ignores SIGINT, so it is stopped by process group id.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import PROJECT_DIR

PORT = 13005
BASE = f"http://127.0.0.1:{PORT}"
FIXTURE = PROJECT_DIR / "tests" / "fixtures" / "raw_messy"
AS_OF = "2024-06-30"
STARTUP_TIMEOUT = 600
RUN_TIMEOUT = 900
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOT_PAGE = "/assets/marts/customers"
README_SCREENSHOT = PROJECT_DIR / "docs" / "asset_page_customers.png"

ASSET_NODES = "{ assetNodes { assetKey { path } groupName hasAssetChecks } }"
REPOSITORIES = "{ repositoriesOrError { ... on RepositoryConnection { nodes { name location { name } } } } }"
LAUNCH = """
mutation ($location: String!, $repository: String!) {
  launchPipelineExecution(executionParams: {
    selector: {repositoryLocationName: $location, repositoryName: $repository, pipelineName: "build_everything"}
    mode: "default"
  }) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on RunConfigValidationInvalid { errors { message } }
  }
}
"""
RUN_STATUS = 'query ($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }'
MART_STATE = """
{
  assetNodes {
    assetKey { path }
    freshnessStatusInfo { freshnessStatus }
    assetMaterializations(limit: 1) {
      metadataEntries {
        label
        ... on IntMetadataEntry { intValue }
        ... on TextMetadataEntry { text }
        ... on TableSchemaMetadataEntry { schema { columns { name description } } }
      }
    }
  }
}
"""


def graphql(query: str, variables: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"{BASE}/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        payload = json.loads(response.read())
    assert "errors" not in payload, payload
    return payload["data"]


def wait_for(what: str, probe, timeout: float, process: subprocess.Popen, interval: float = 2.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"make dev exited early with code {process.returncode} while waiting for {what}")
        try:
            value = probe()
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            value = None
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def stop_process_group(process: subprocess.Popen, timeout: float = 10) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=timeout)


def screenshot(url: str, out: Path, profile: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run", f"--user-data-dir={profile}",
            "--hide-scrollbars", "--window-size=1500,1100", "--virtual-time-budget=20000",
            f"--screenshot={out}", url,
        ],
        capture_output=True, text=True, timeout=180,
    )


@pytest.fixture(scope="module")
def dev_server(dbt_target_path, tmp_path_factory):
    """`make dev` on port 13005 against a private instance and database, stopped by process-group id."""
    work = tmp_path_factory.mktemp("dev")
    home = work / "dagster_home"
    home.mkdir()
    shutil.copy(PROJECT_DIR / "dagster_home" / "dagster.yaml", home / "dagster.yaml")
    env = {
        **{key: value for key, value in os.environ.items() if key not in ("DAGSTER_IS_DEV_CLI", "MAKEFLAGS")},
        "RAW_DATA_DIR": str(FIXTURE),
        "AS_OF_DATE": AS_OF,
        "DUCKDB_PATH": str(work / "dev.duckdb"),
        "PUBLISH_PATH": str(work / "dev_marts.duckdb"),
        "DBT_TARGET_PATH": str(dbt_target_path),
        "FRESHNESS_DAEMON_INTERVAL_SECONDS": "5",
    }
    log_path = work / "make_dev.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            ["make", "--no-print-directory", "dev", f"DEV_PORT={PORT}", f"DAGSTER_HOME={home}"],
            cwd=PROJECT_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        try:
            wait_for("the webserver", lambda: urllib.request.urlopen(f"{BASE}/server_info", timeout=5).status == 200,
                     STARTUP_TIMEOUT, process)
            wait_for("the code location", lambda: graphql(ASSET_NODES)["assetNodes"], STARTUP_TIMEOUT, process)
            yield {"process": process, "log": log_path, "work": work}
        except BaseException:
            log.flush()
            print(log_path.read_text()[-8000:])
            raise
        finally:
            stop_process_group(process)


def test_make_dev_serves_the_whole_graph(dev_server):
    nodes = graphql(ASSET_NODES)["assetNodes"]
    keys = {"/".join(node["assetKey"]["path"]) for node in nodes}
    assert {"raw/orders", "staging/stg_raw__orders", "audit/row_reconciliation", "published_marts"} <= keys
    assert "demo/raw_files" not in keys, "RAW_DATA_DIR is set: no demo step"
    assert {node["groupName"] for node in nodes} >= {"raw", "staging", "audit", "config", "publish"}
    checked = {"/".join(node["assetKey"]["path"]) for node in nodes if node["hasAssetChecks"]}
    assert "audit/row_reconciliation" in checked
    log = dev_server["log"].read_text()
    assert "DeprecationWarning" not in log and "superseded" not in log.lower(), log[-3000:]


def test_a_build_from_the_ui_leaves_marts_with_row_counts_and_fresh(dev_server, tmp_path):
    process = dev_server["process"]
    repository = graphql(REPOSITORIES)["repositoriesOrError"]["nodes"][0]
    launched = graphql(LAUNCH, {"location": repository["location"]["name"], "repository": repository["name"]})
    launched = launched["launchPipelineExecution"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]

    def finished():
        status = graphql(RUN_STATUS, {"id": run_id})["runOrError"]["status"]
        return status if status in ("SUCCESS", "FAILURE", "CANCELED") else None

    assert wait_for("the build", finished, RUN_TIMEOUT, process, interval=5) == "SUCCESS", \
        dev_server["log"].read_text()[-6000:]

    def marts_state():
        nodes = [node for node in graphql(MART_STATE)["assetNodes"] if node["assetKey"]["path"][0] == "marts"]
        fresh = all((node["freshnessStatusInfo"] or {}).get("freshnessStatus") == "HEALTHY" for node in nodes)
        return nodes if nodes and fresh else None

    marts = wait_for("the marts to pass freshness", marts_state, 180, process, interval=5)
    for node in marts:
        name = "/".join(node["assetKey"]["path"])
        entries = {entry["label"]: entry for entry in node["assetMaterializations"][0]["metadataEntries"]}
        assert entries["dagster/row_count"]["intValue"] is not None, name
        assert entries["as_of_date"]["text"] == AS_OF, name
        columns = entries["dagster/column_schema"]["schema"]["columns"]
        assert columns and any(column["description"] for column in columns), name

    graphql("mutation { setNuxSeen }")  # the first-visit "join the community" dialog would cover the page
    shot = tmp_path / "asset_page.png"
    completed = screenshot(f"{BASE}{SCREENSHOT_PAGE}", shot, tmp_path / "chromium_profile")
    assert completed.returncode == 0 and shot.is_file(), completed.stderr[-3000:]
    assert shot.stat().st_size > 20_000, "a rendered page, not a blank one"
    if os.environ.get("UPDATE_README_SCREENSHOT"):
        README_SCREENSHOT.parent.mkdir(exist_ok=True)
        shutil.copy(shot, README_SCREENSHOT)
