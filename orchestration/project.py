"""The one dbt project Dagster orchestrates, and where its manifest comes from.

The dbt project sits at the repository root (dbt_project.yml and profiles.yml
beside pyproject.toml). Dagster reads the project's ``manifest.json`` to build
the asset graph; it is prepared in one of two ways, never on every import in
production:

* the ``dg`` CLI (``make dev`` = ``dg dev``, ``make run`` = ``dg launch``,
  ``dg check defs``): ``prepare_manifest_if_dev()`` runs ``dbt parse`` when the
  definitions are built and something dbt reads changed since the last parse
  (a project file, an environment variable the project reads, dbt itself), so
  edits to models show up on reload while the several loads of one
  ``dg launch`` parse at most once;
* a production deployment (``dagster-webserver``/``dagster-daemon`` with a
  workspace, no dev CLI): the manifest is built ahead of time with
  ``dbt parse --profiles-dir . --project-dir .`` (``make manifest``); loading
  the definitions without one fails with that instruction.

Nothing here runs at import: the project, its manifest and the parse are
built by functions that ``orchestration.definitions`` calls when Dagster
loads the definitions.

``DBT_TARGET_PATH`` (absolute, or relative to the repository root, as dbt
reads it) moves the manifest and every run's artifacts out of ``target/``, so
tests and parallel checkouts do not overwrite each other's files.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import sys
from collections.abc import Mapping
from functools import cached_property
from importlib.metadata import version
from pathlib import Path
from typing import Any

from dagster_dbt import DbtCliResource, DbtProject
from dagster_dbt.dbt_project import using_dagster_dev
from packaging.version import Version

from orchestration import settings
from orchestration.dbt_args import dbt_env_defaults, env_defaults

PROJECT_DIR = settings.PROJECT_DIR

# The interpreter's own bin folder holds the dbt that matches this environment.
_ENV_BIN = Path(sys.executable).parent


def dbt_executable() -> str:
    """The dbt CLI installed beside this Python, else whatever `dbt` is on PATH."""
    local = _ENV_BIN / "dbt"
    return str(local) if local.exists() else "dbt"


class DbtCli(DbtCliResource):
    """dagster-dbt's dbt resource, without two start-up costs it pays before every command.

    - It loads the project's macros into a dbt adapter of its own (2-5 s here)
      for the warehouse queries of `fetch_row_counts` and
      `fetch_column_metadata`. This project uses neither: it reads its
      metadata after dbt exits (orchestration.assets.metadata), because dbt
      holds DuckDB's only write connection while it runs.
    - It runs `dbt --version` (a dbt start-up, about 2 s) to learn the
      version; the dbt beside this Python is the dbt-core installed here.
    """

    def _initialize_dbt_core_adapter(self, args: Any) -> None:
        return None

    @cached_property
    def _cli_version(self) -> Version:
        if Path(self.dbt_executable) == _ENV_BIN / "dbt":
            return Version(version("dbt-core"))
        return super()._cli_version


def dbt_cli(project: DbtProject) -> DbtCli:
    """The dbt resource the definitions and the dev parse use."""
    return DbtCli(project_dir=project, dbt_executable=dbt_executable())


def dbt_target_path() -> Path:
    value = os.environ.get("DBT_TARGET_PATH", "").strip()
    return Path(value).expanduser() if value else Path("target")


PARSE_COMMAND = "dbt parse --profiles-dir . --project-dir ."


class ManifestMissingError(FileNotFoundError):
    """The dbt manifest was not prepared before the definitions were loaded."""


def require_manifest(project: DbtProject) -> Path:
    """Return the manifest path, or fail saying how to create it."""
    if not project.manifest_path.exists():
        raise ManifestMissingError(
            f"dbt manifest not found at {project.manifest_path}. Build it before loading the "
            f"Dagster definitions: from {PROJECT_DIR} run `{PARSE_COMMAND}` (with the same "
            "DBT_TARGET_PATH, if you set one), or `make manifest`. The dg CLI (`make dev`, `make run`) "
            "parses the project by itself."
        )
    return project.manifest_path


def _ancestors(manifest: Mapping[str, Any], unique_id: str) -> set[str]:
    seen: set[str] = set()
    stack = list(manifest["parent_map"].get(unique_id, []))
    while stack:
        parent = stack.pop()
        if parent not in seen:
            seen.add(parent)
            stack.extend(manifest["parent_map"].get(parent, []))
    return seen


def attach_multi_parent_tests(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the manifest where every singular test on several nodes names the one it checks.

    dagster-dbt turns a test into an asset check only when it knows which
    asset the test checks: a generic test's model, a singular test's only
    parent, or the model named in ``config(meta={"dagster": {"ref": {"name":
    ...}}})``. A singular test on several models (a reconciliation between
    layers, say) would otherwise not show as a check at all. Here it is
    attached to the model named in its meta if any, else the most downstream
    of its parents, else the first one it refs.
    """
    manifest = dict(manifest)
    nodes = dict(manifest["nodes"])
    for unique_id, node in manifest["nodes"].items():
        if node["resource_type"] != "test" or node.get("attached_node"):
            continue
        meta = node.get("config", {}).get("meta") or node.get("meta") or {}
        parents = [parent for parent in node["depends_on"]["nodes"] if parent in nodes]
        if meta.get("dagster", {}).get("ref") or len(node["depends_on"]["nodes"]) < 2 or not parents:
            continue
        upstream_of_others = set().union(*(_ancestors(manifest, parent) for parent in parents))
        most_downstream = [parent for parent in parents if parent not in upstream_of_others]
        ref_order = [ref["name"] for ref in node.get("refs", [])]

        def position(parent: str, ref_order=ref_order) -> int:
            name = nodes[parent]["name"]
            return ref_order.index(name) if name in ref_order else len(ref_order)

        candidates = sorted(most_downstream or parents, key=position)
        attached = copy.deepcopy(node)
        attached.setdefault("config", {}).setdefault("meta", {}).setdefault("dagster", {})["ref"] = {
            "name": nodes[candidates[0]]["name"]
        }
        nodes[unique_id] = attached
    manifest["nodes"] = nodes
    return manifest


def load_manifest(project: DbtProject) -> dict[str, Any]:
    """The project's manifest, ready for @dbt_assets (fails clearly when it was not built)."""
    return attach_multi_parent_tests(json.loads(require_manifest(project).read_text()))


def build_dbt_project() -> DbtProject:
    """The dbt project as the environment configures it now (DBT_TARGET, DBT_TARGET_PATH)."""
    return DbtProject(
        project_dir=PROJECT_DIR,
        profiles_dir=PROJECT_DIR,
        target=settings.dbt_target(),
        target_path=dbt_target_path(),
    )


# What dbt reads when it parses, besides the folders dbt_project.yml names.
_PROJECT_FILES = ("dbt_project.yml", "profiles.yml", "packages.yml", "dependencies.yml", "selectors.yml")
_PATH_KEYS = {"model-paths": ["models"], "seed-paths": ["seeds"], "macro-paths": ["macros"],
              "test-paths": ["tests"], "snapshot-paths": ["snapshots"], "analysis-paths": ["analyses"],
              "docs-paths": []}
_ENV_VAR = re.compile(r"env_var\(\s*['\"]([A-Za-z_][A-Za-z0-9_]*)['\"]")


def parse_inputs_fingerprint(project_dir: Path, manifest_path: Path) -> str:
    """A digest of everything a ``dbt parse`` of ``project_dir`` depends on.

    The content of dbt_project.yml, profiles.yml and every file in the folders
    dbt_project.yml names (models, seeds, macros, tests ...), the values of the
    environment variables those files read with ``env_var()`` (DUCKDB_PATH
    names the database in the manifest, DBT_TARGET picks the profile ...), the
    dbt-core and dbt-duckdb versions, and the manifest's own size and time (a
    later dbt command in the same target folder rewrites it, with its own
    ``--vars``).
    """
    import yaml

    config = yaml.safe_load((project_dir / "dbt_project.yml").read_text()) or {}
    files = [project_dir / name for name in _PROJECT_FILES if (project_dir / name).is_file()]
    for key, default in _PATH_KEYS.items():
        for folder in config.get(key, default) or []:
            root = project_dir / folder
            if root.is_dir():
                files += sorted(path for path in root.rglob("*") if path.is_file() and "__pycache__" not in path.parts)
    digest, names = hashlib.sha256(), {"DBT_TARGET"}
    for path in files:
        content = path.read_bytes()
        digest.update(f"{path.relative_to(project_dir)}\0{len(content)}\0".encode())
        digest.update(content)
        names.update(_ENV_VAR.findall(content.decode("utf-8", errors="replace")))
    environment = {name: os.environ.get(name) for name in sorted(names)}
    versions = {package: version(package) for package in ("dbt-core", "dbt-duckdb")}
    stat = manifest_path.stat() if manifest_path.exists() else None
    manifest = [stat.st_size, stat.st_mtime_ns] if stat else None
    digest.update(json.dumps([environment, versions, manifest], sort_keys=True).encode())
    return digest.hexdigest()


def _fingerprint_path(project: DbtProject) -> Path:
    return project.manifest_path.with_name("manifest_inputs.sha256")


def prepare_manifest_if_dev(project: DbtProject) -> None:
    """Under the dev CLIs (`dg dev`, `dg launch`, `dg check defs`, `dagster dev`), parse the project
    now, unless the manifest in the target folder was parsed from exactly what the project holds now.

    The check (:func:`parse_inputs_fingerprint`, written beside the manifest
    after each parse) costs milliseconds; ``dbt parse`` costs seconds even when
    nothing changed, and ``dg launch`` loads the definitions five times per run.
    dagster-dbt's own ``prepare_if_dev`` runs whatever `dbt` is first on PATH;
    this runs the dbt installed beside this Python instead, without touching
    PATH. Outside the dev CLIs it does nothing: production uses the manifest
    built ahead of time.
    """
    if not using_dagster_dev():
        return
    stamp = _fingerprint_path(project)
    if (project.manifest_path.exists() and stamp.exists()
            and stamp.read_text().strip() == parse_inputs_fingerprint(Path(project.project_dir), project.manifest_path)):
        return
    # Parse with the profile the run's dbt steps will see (the absolute DUCKDB_PATH): dbt's saved parse
    # is only reused by an invocation whose profile hashes the same, else it parses the whole project again.
    with env_defaults(dbt_env_defaults()):
        dbt_cli(project).cli(
            ["parse", "--quiet"], target_path=project.target_path, raise_on_error=True
        ).wait()
    stamp.write_text(parse_inputs_fingerprint(Path(project.project_dir), project.manifest_path) + "\n")
