"""Apache Superset over a real published build: the dashboards-as-code import,
every chart's data, every dashboard rendered in headless Chromium, and a
publish while Superset runs.

Slow (Superset's own environment, its metadata store, a browser): marked
`superset`; deselect locally with `-m "not superset"`. CI runs it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import socket
import sys
import urllib.request
from pathlib import Path

import duckdb
import pytest

from orchestration.publish import publish
from tests.support import PROJECT_DIR

pytestmark = pytest.mark.superset

SUPERSET_DIR = PROJECT_DIR / "superset"
PORTS = range(18090, 18100)


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"superset_{name}", SUPERSET_DIR / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError(f"no free port in {PORTS.start}-{PORTS.stop - 1} for Superset")


def _log(request, line: str) -> None:
    """A line in the test log itself, past pytest's output capture."""
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None:
        print(line)
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line(line)


@pytest.fixture(scope="module")
def superset(published_marts, tmp_path_factory, request):
    """Superset set up by superset/bootstrap.py against a copy of the fixture build's
    published file (the live-data test publishes onto it), served on a free test port."""
    bootstrap = _load("bootstrap")
    if not Path(bootstrap.SUPERSET).exists():
        pytest.fail(f"{bootstrap.SUPERSET} is missing: run `make bi-install` (make test does).")
    root = tmp_path_factory.mktemp("superset")
    published = root / "lifecycle_marts.duckdb"
    shutil.copy(published_marts["publish"], published)
    env = {"SUPERSET_HOME": str(root / "home"), "PUBLISH_PATH": str(published),
           "SUPERSET_ADMIN_PASSWORD": "", "SUPERSET_SECRET_KEY": ""}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        user, password = bootstrap.setup()
        port = _free_port()
        process = bootstrap.start_server(port, root / "superset.log")
        url = f"http://127.0.0.1:{port}"
        try:
            bootstrap.wait_until_healthy(url, process)
            _log(request, f"Superset for the tests: {url} (log {root / 'superset.log'})")
            yield {"url": url, "user": user, "password": password, "published": published,
                   "process": process, "root": root}
        finally:
            bootstrap.stop_server(process)


@pytest.fixture(scope="module")
def renders(superset, request):
    render = _load("render")
    out = superset["root"] / "screenshots"
    results = render.render_dashboards(superset["url"], superset["user"], superset["password"], out)
    for result in results:
        _log(request, f"screenshot of dashboard '{result.title}': {result.screenshot}")
    return results


def test_setup_kept_secrets_out_of_the_repository(superset):
    home = superset["root"] / "home"
    assert (home / "secret_key").stat().st_mode & 0o077 == 0
    assert (home / "admin_password").read_text().strip() == superset["password"]
    assert len(superset["password"]) >= 12


def test_every_dashboard_renders_with_data_and_no_error_panel(renders):
    expected = {"weekly-customer-health", "lifecycle", "repurchase", "churn", "value", "interventions"}
    assert {r.slug for r in renders} == expected
    for result in renders:
        assert not result.error_panels, (result.title, result.error_panels)
        assert len(result.data) >= result.charts > 0, result.title
        assert result.charts_visible == result.charts, (result.title, "charts on screen", result.charts_visible)
        for data in result.data:
            assert data.status == 200 and not data.error, (result.title, data.status, data.error)
            assert data.rows and data.rows > 0, (result.title, data.request_body)
        assert result.screenshot.stat().st_size > 20_000, result.screenshot


def _api(url: str, path: str, body: dict, token: str | None = None) -> dict:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(f"{url}{path}", data=json.dumps(body).encode(), headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read())


def _chart_request(renders, slug: str, chart_name: str) -> dict:
    """The data request the rendered dashboard sent for one chart."""
    result = next(r for r in renders if r.slug == slug)
    for data in result.data:
        body = json.loads(data.request_body or "{}")
        if (body.get("form_data") or {}).get("slice_id") == result.chart_ids[chart_name]:
            return body
    raise AssertionError(f"no data request for chart {chart_name!r} on {slug}")


def _open_handles(process, path: Path) -> list[str]:
    """Files descriptors of the Superset processes (master and workers) open on path."""
    pids = [process.pid]
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    found = []
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if os.readlink(fd).startswith(str(path)):
                    found.append(f"{pid}:{fd.name}")
            except OSError:
                continue
    return found


def test_a_publish_while_superset_runs_is_visible_without_restart(superset, renders, published_marts, tmp_path):
    url = superset["url"]
    token = _api(url, "/api/v1/security/login", {"username": superset["user"], "password": superset["password"],
                                                 "provider": "db", "refresh": False})["access_token"]
    body = _chart_request(renders, "interventions", "Interventions by reason")

    def interventions_shown() -> int:
        result = _api(url, "/api/v1/chart/data", body, token)["result"][0]
        columns = [c for c in result["colnames"] if c not in ("reason_code", "tier")]
        return int(sum(row[c] or 0 for row in result["data"] for c in columns))

    before = interventions_shown()
    assert before == duckdb.connect(str(superset["published"]), read_only=True).execute(
        "select count(*) from marts.interventions").fetchone()[0]
    # No pooled connection holds the published file between queries.
    assert _open_handles(superset["process"], superset["published"]) == []

    # A new build: the working database changes (one reason's rows resolved), and
    # the project's publish step replaces the file Superset reads, atomically.
    working = tmp_path / "lifecycle.duckdb"
    shutil.copy(published_marts["duckdb"], working)
    con = duckdb.connect(str(working))
    reason, removed = con.execute(
        "select reason_code, count(*) from marts.interventions group by 1 order by 2 desc limit 1").fetchone()
    con.execute("delete from marts.interventions where reason_code = ?", [reason])
    con.close()
    publish(working, superset["published"])

    assert interventions_shown() == before - removed
