"""`dagster dev` serves the whole graph: start it on loopback, ask its GraphQL API, stop it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from conftest import PROJECT_DIR

DAGSTER = str(Path(sys.executable).with_name("dagster"))
STARTUP_TIMEOUT = 120

ASSET_NODES_QUERY = """
{
  assetNodes {
    assetKey { path }
    groupName
    hasAssetChecks
  }
}
"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"dagster dev exited early with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(1)
    raise AssertionError(f"dagster dev did not answer {url} within {timeout} s")


def graphql(base: str, query: str) -> dict:
    request = urllib.request.Request(
        f"{base}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        payload = json.loads(response.read())
    assert "errors" not in payload, payload
    return payload["data"]


def stop_process_group(process: subprocess.Popen, timeout: float = 20) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=timeout)


def asset_nodes_when_loaded(base: str, timeout: float) -> list[dict]:
    # The webserver can answer before the code location has finished loading.
    deadline = time.monotonic() + timeout
    while True:
        nodes = graphql(base, ASSET_NODES_QUERY)["assetNodes"]
        if nodes or time.monotonic() > deadline:
            return nodes
        time.sleep(1)


def test_dagster_dev_serves_the_whole_graph(dbt_target_path, dagster_home, tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, DUCKDB_PATH=str(tmp_path / "dev.duckdb"))
    log = (tmp_path / "dagster_dev.log").open("w")
    process = subprocess.Popen(
        [DAGSTER, "dev", "-m", "orchestration.definitions", "-h", "127.0.0.1", "-p", str(port)],
        cwd=PROJECT_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_until_up(f"{base}/server_info", process, STARTUP_TIMEOUT)
        nodes = asset_nodes_when_loaded(base, STARTUP_TIMEOUT)
        keys = {"/".join(node["assetKey"]["path"]) for node in nodes}

        assert {"raw/orders", "staging/stg_raw__orders", "audit/row_reconciliation", "published_marts"} <= keys
        assert {node["groupName"] for node in nodes} >= {"raw", "staging", "audit", "config", "publish"}
        checked = {"/".join(node["assetKey"]["path"]) for node in nodes if node["hasAssetChecks"]}
        assert "audit/row_reconciliation" in checked
    except AssertionError:
        log.flush()
        print((tmp_path / "dagster_dev.log").read_text()[-6000:])
        raise
    finally:
        stop_process_group(process)
        log.close()
