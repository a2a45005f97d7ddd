"""Render every Superset dashboard in headless Chromium and screenshot it.

  python superset/render.py --url http://127.0.0.1:8088 --out docs/dashboards

Runs in the project's .venv (Playwright's Python API driving Debian's
/usr/bin/chromium; Playwright's own browser download is never used). Logs in
with the admin password that `make bi` generated (data/superset/admin_password
or SUPERSET_ADMIN_PASSWORD), opens each dashboard, waits until every chart has
received its data, and records for each chart data request its HTTP status,
error and row count, and whether the page shows an error panel. Used by
tests/test_superset.py and by `make bi-screenshots`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage"]
ERROR_SELECTORS = ".ant-alert-error, [data-test='error-alert'], .error-alert, [data-test='chart-error']"


@dataclasses.dataclass
class ChartData:
    status: int
    rows: int | None
    error: str | None
    # the POST body the dashboard sent to /api/v1/chart/data (replayable through the REST API)
    request_body: str | None = None
    # request start to response end, as the browser measured it
    elapsed_ms: float | None = None


@dataclasses.dataclass
class DashboardRender:
    slug: str
    title: str
    charts: int
    chart_ids: dict[str, int]
    data: list[ChartData]
    error_panels: list[str]
    charts_visible: int
    screenshot: Path | None

    @property
    def ok(self) -> bool:
        return (not self.error_panels and len(self.data) >= self.charts and self.charts_visible >= self.charts
                and all(d.status == 200 and not d.error and (d.rows or 0) > 0 for d in self.data))


def _chart_data(response) -> list[ChartData]:
    request_body = response.request.post_data
    elapsed = response.request.timing.get("responseEnd")
    try:
        body = response.json()
    except Exception as error:  # noqa: BLE001  (a non-JSON body is itself the finding)
        return [ChartData(response.status, None, f"not JSON: {error}", request_body, elapsed)]
    results = body.get("result") if isinstance(body, dict) else None
    if not results:
        return [ChartData(response.status, None, json.dumps(body)[:500], request_body, elapsed)]
    return [ChartData(response.status, r.get("rowcount", len(r.get("data") or [])), r.get("error"), request_body,
                      elapsed) for r in results]


def render_dashboards(url: str, user: str, password: str, out_dir: Path | None,
                      timeout_s: float = 180.0, width: int = 1400) -> list[DashboardRender]:
    from playwright.sync_api import sync_playwright

    url = url.rstrip("/")
    profile = Path(tempfile.mkdtemp(prefix="chromium-profile-"))
    renders: list[DashboardRender] = []
    try:
        with sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                str(profile), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
                viewport={"width": width, "height": 1000}, device_scale_factor=1)
            page = context.new_page()
            page.goto(f"{url}/login/")
            page.fill("input#username", user)
            page.fill("input#password", password)
            page.click("button:has-text('Sign in')")
            page.wait_for_url(lambda u: "/login" not in u, timeout=60_000)

            # Right after the login a busy server can still answer the API without
            # the session (401/redirect): ask again for a while before giving up.
            deadline = time.monotonic() + 60
            while True:
                answer = page.request.get(f"{url}/api/v1/dashboard/?q=(page_size:100)")
                listing = answer.json() if answer.ok and "json" in answer.headers.get("content-type", "") else {}
                if "result" in listing:
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"Superset's dashboard list answered {answer.status}: {answer.text()[:1000]}")
                time.sleep(2)
            for dashboard in sorted(listing["result"], key=lambda d: d["id"]):
                charts = page.request.get(f"{url}/api/v1/dashboard/{dashboard['id']}/charts").json()["result"]
                responses: list = []
                def handler(response, responses=responses) -> None:
                    if "/api/v1/chart/data" in response.url:
                        responses.append(response)

                page.on("response", handler)
                page.set_viewport_size({"width": width, "height": 900})
                page.goto(f"{url}/superset/dashboard/{dashboard['slug'] or dashboard['id']}/")
                deadline = time.monotonic() + timeout_s
                while time.monotonic() < deadline:
                    page.wait_for_timeout(1000)
                    if (len(responses) >= len(charts) and page.locator(".loading").count() == 0
                            and page.locator("[data-test-chart-id]").count() >= len(charts)):
                        break
                # Grow the window to the whole dashboard first (a full-page capture resizes
                # the window, and the dashboard re-lays out its charts when that happens),
                # then let the charts re-render and their animations settle.
                height = page.evaluate("document.documentElement.scrollHeight")
                page.set_viewport_size({"width": width, "height": min(max(height, 900), 6000)})
                page.wait_for_timeout(1500)
                while time.monotonic() < deadline and page.locator(".loading").count() > 0:
                    page.wait_for_timeout(500)
                page.wait_for_timeout(2500)
                page.remove_listener("response", handler)
                data = [d for r in responses for d in _chart_data(r)]
                panels = [t.strip()[:300] for t in page.locator(ERROR_SELECTORS).all_inner_texts()]
                visible = sum(1 for c in page.locator("[data-test-chart-id]").all() if c.is_visible())
                shot = None
                if out_dir is not None:
                    out_dir.mkdir(parents=True, exist_ok=True)
                    shot = out_dir / f"{dashboard['slug'] or dashboard['id']}.png"
                    page.screenshot(path=str(shot))
                chart_ids = {c["slice_name"]: c["id"] for c in charts}
                renders.append(DashboardRender(dashboard["slug"], dashboard["dashboard_title"], len(charts),
                                               chart_ids, data, panels, visible, shot))
            context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    return renders


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=f"http://127.0.0.1:{os.environ.get('BI_PORT', '8088')}")
    parser.add_argument("--out", type=Path, default=Path("docs/dashboards"))
    parser.add_argument("--user", default="admin")
    parser.add_argument("--serve", action="store_true",
                        help="set up Superset (superset/bootstrap.py), serve it on --port for the rendering, stop it")
    parser.add_argument("--port", type=int, default=int(os.environ.get("BI_PORT", "8088")))
    args = parser.parse_args(argv)
    if args.serve:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import bootstrap

        args.user, password = bootstrap.setup()
        args.url = f"http://127.0.0.1:{args.port}"
        process = bootstrap.start_server(args.port, bootstrap.superset_home() / "superset.log")
        try:
            bootstrap.wait_until_healthy(args.url, process)
            return _report(render_dashboards(args.url, args.user, password, args.out))
        finally:
            bootstrap.stop_server(process)
    password = os.environ.get("SUPERSET_ADMIN_PASSWORD", "").strip()
    if not password:
        home = Path(os.environ.get("SUPERSET_HOME") or Path(__file__).resolve().parent.parent / "data" / "superset")
        password = (home / "admin_password").read_text().strip()
    return _report(render_dashboards(args.url, args.user, password, args.out))


def compact_png(path: Path, colours: int = 128) -> None:
    """Rewrite a screenshot as a palette PNG (a few times smaller; dashboards use few colours)."""
    from PIL import Image

    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=colours, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)


def _report(renders: list[DashboardRender]) -> int:
    failed = 0
    for render in renders:
        state = "ok" if render.ok else "FAILED"
        failed += not render.ok
        if render.screenshot is not None:
            compact_png(render.screenshot)
        times = [d.elapsed_ms for d in render.data if d.elapsed_ms and d.elapsed_ms > 0]
        timing = f"slowest {max(times) / 1000:.2f} s, sum {sum(times) / 1000:.2f} s" if times else "no timings"
        print(f"{state:6} {render.title}: {render.charts} charts, {len(render.data)} data requests ({timing}), "
              f"screenshot {render.screenshot}")
        for panel in render.error_panels:
            print(f"       error panel: {panel}")
        for d in render.data:
            if d.error or d.status != 200 or not d.rows:
                print(f"       data request: status {d.status}, rows {d.rows}, error {d.error}")
    if failed:
        print(f"{failed} dashboard(s) failed to render cleanly; see above.", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
