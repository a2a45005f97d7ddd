"""Install-time set-up and start of Superset for `make bi` (runs in superset/.venv).

  python superset/bootstrap.py setup   # metadata store, admin user, dashboards
  python superset/bootstrap.py serve   # setup, then serve on 127.0.0.1 and print the login

setup is idempotent: it creates SUPERSET_HOME (default data/superset) with a
secret key and an admin password generated once (or SUPERSET_SECRET_KEY /
SUPERSET_ADMIN_PASSWORD from the environment), upgrades the metadata store,
and imports the database, datasets, charts and dashboards built by
superset/bundle.py from the repository's YAML, pointing at the published marts
file (PUBLISH_PATH, default data/lifecycle_marts.duckdb), read-only.
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import zipfile
from pathlib import Path

import duckdb

HERE = Path(__file__).resolve().parent
REPO_DIR = HERE.parent
sys.path[:0] = [str(HERE), str(REPO_DIR)]  # bundle.py; orchestration/semantic_sql.py (plain Python + PyYAML)

import bundle  # noqa: E402  (superset/bundle.py, beside this file)

# Superset's own environment (built by `make bi` from superset/uv.lock); this
# module is also imported from the project's .venv by the tests and render.py.
SUPERSET_VENV = Path(os.environ.get("SUPERSET_VENV") or HERE / ".venv")
SUPERSET = str(SUPERSET_VENV / "bin" / "superset")
GUNICORN = str(SUPERSET_VENV / "bin" / "gunicorn")
ADMIN_USER = "admin"


def superset_home() -> Path:
    return Path(os.environ.get("SUPERSET_HOME") or REPO_DIR / "data" / "superset").resolve()


def publish_path() -> Path:
    value = os.environ.get("PUBLISH_PATH", "").strip()
    if value:
        return Path(value).expanduser().resolve()
    db = Path(os.environ.get("DUCKDB_PATH", "").strip() or REPO_DIR / "data" / "lifecycle.duckdb").resolve()
    return db.with_name(f"{db.stem}_marts{db.suffix or '.duckdb'}")


def environment() -> dict[str, str]:
    home = superset_home()
    return dict(os.environ, SUPERSET_HOME=str(home), SUPERSET_CONFIG_PATH=str(HERE / "superset_config.py"),
                FLASK_APP="superset.app:create_app()", SUPERSET_LOAD_EXAMPLES="no")


def _secret(home: Path, name: str, env_name: str, length: int) -> str:
    value = os.environ.get(env_name, "").strip()
    if value:
        return value
    path = home / name
    if not path.is_file():
        path.write_text(secrets.token_urlsafe(length) + "\n")
        path.chmod(0o600)
    return path.read_text().strip()


def _superset(*args: str) -> None:
    completed = subprocess.run([SUPERSET, *args], env=environment(), capture_output=True, text=True)
    if completed.returncode != 0:
        sys.stderr.write(completed.stdout[-4000:] + completed.stderr[-4000:])
        raise SystemExit(f"`superset {' '.join(args[:1])}` failed (output above).")


def published_columns(path: Path) -> dict[str, list[bundle.Column]]:
    if not path.is_file():
        raise SystemExit(f"{path} does not exist: build and publish the marts first (`make run`), or set PUBLISH_PATH.")
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute(
            "select table_name, column_name, data_type, comment from duckdb_columns() "
            "where schema_name = ? order by table_name, column_index", [bundle.SCHEMA]).fetchall()
    finally:
        con.close()
    columns: dict[str, list[bundle.Column]] = {}
    for table, column, data_type, comment in rows:
        columns.setdefault(table, []).append(bundle.Column(column, data_type, comment))
    return columns


def setup() -> tuple[str, str]:
    """Prepare SUPERSET_HOME and import the dashboards; return (user, password)."""
    home = superset_home()
    home.mkdir(parents=True, exist_ok=True)
    _secret(home, "secret_key", "SUPERSET_SECRET_KEY", 48)
    password = _secret(home, "admin_password", "SUPERSET_ADMIN_PASSWORD", 12)
    _superset("db", "upgrade")
    _superset("fab", "create-admin", "--username", ADMIN_USER, "--firstname", "Admin", "--lastname", "User",
              "--email", "admin@localhost", "--password", password)
    _superset("fab", "reset-password", "--username", ADMIN_USER, "--password", password)
    _superset("init")
    files = bundle.build_bundle(publish_path(), published_columns(publish_path()))
    archive = home / "dashboards_bundle.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for name, text in files.items():
            zf.writestr(f"bundle/{name}", text)
    _superset("import-dashboards", "--path", str(archive), "--username", ADMIN_USER)
    return ADMIN_USER, password


def serve_command(port: int, workers: int = 2) -> list[str]:
    return [GUNICORN, "--chdir", str(superset_home()), "--bind", f"127.0.0.1:{port}",
            "--workers", str(workers), "--worker-class", "gthread",
            "--threads", "4", "--timeout", "120", "--limit-request-line", "0", "--limit-request-field_size", "0",
            "superset.app:create_app()"]


def start_server(port: int, log_path: Path) -> subprocess.Popen:
    """Start Superset (gunicorn) on 127.0.0.1:port in the background; wait_until_healthy() next."""
    log = open(log_path, "ab")  # noqa: SIM115  (owned by the child for its lifetime)
    return subprocess.Popen(serve_command(port), env=environment(), stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def wait_until_healthy(url: str, process: subprocess.Popen | None = None, timeout_s: float = 300.0) -> None:
    import time
    import urllib.request

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"Superset exited with code {process.returncode} before answering on {url}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(1)
    raise TimeoutError(f"Superset did not answer on {url}/health within {timeout_s:.0f} s")


def stop_server(process: subprocess.Popen) -> None:
    """Stop the gunicorn master started by start_server (it stops its workers)."""
    import signal

    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["setup", "serve"])
    parser.add_argument("--port", type=int, default=int(os.environ.get("BI_PORT", "8088")))
    args = parser.parse_args(argv)
    user, password = setup()
    print(f"Superset dashboards imported from superset/dashboards/ over {publish_path()} (read-only).")
    if args.command == "serve":
        print(f"\n  Superset: http://127.0.0.1:{args.port}/dashboard/list/\n  login:    {user} / {password}"
              f"\n  (password in {superset_home() / 'admin_password'}; stop with Ctrl-C)\n", flush=True)
        os.execvpe(GUNICORN, serve_command(args.port), environment())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
