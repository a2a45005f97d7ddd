"""The one dbt project Dagster orchestrates, and where its manifest comes from.

The dbt project sits at the repository root (dbt_project.yml and profiles.yml
beside pyproject.toml). Dagster reads the project's ``manifest.json`` to build
the asset graph; it is prepared in one of two ways, never on every import in
production:

* ``dagster dev`` (``make dev``): ``prepare_if_dev()`` runs ``dbt parse`` when
  the code location loads, so edits to models show up on reload.
* ``make run`` / CI: the manifest is built ahead of time with
  ``dbt parse --profiles-dir . --project-dir .`` (the Makefile's ``manifest``
  target); loading the definitions without one fails with that instruction.

``DBT_TARGET_PATH`` (absolute, or relative to the repository root, as dbt
reads it) moves the manifest and every run's artifacts out of ``target/``, so
tests and parallel checkouts do not overwrite each other's files.
"""

from __future__ import annotations

import copy
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dagster_dbt import DbtProject

from orchestration import settings

PROJECT_DIR = settings.PROJECT_DIR

# The interpreter's own bin folder holds the dbt that matches this environment.
_ENV_BIN = Path(sys.executable).parent


def dbt_executable() -> str:
    """The dbt CLI installed beside this Python, else whatever `dbt` is on PATH."""
    local = _ENV_BIN / "dbt"
    return str(local) if local.exists() else "dbt"


def _put_env_bin_on_path() -> None:
    # `make dev` runs .venv/bin/dagster without activating the environment, and
    # dagster-dbt's dev preparation runs plain `dbt`: make that name resolve to
    # this environment's dbt, as activating the venv would.
    if not (_ENV_BIN / "dbt").exists():
        return
    path = os.environ.get("PATH", "")
    if str(_ENV_BIN) not in path.split(os.pathsep):
        os.environ["PATH"] = os.pathsep.join([str(_ENV_BIN), path]) if path else str(_ENV_BIN)


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
            "DBT_TARGET_PATH, if you set one), or `make manifest`. `dagster dev` (`make dev`) "
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

        def position(parent: str) -> int:
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


_put_env_bin_on_path()

dbt_project = DbtProject(
    project_dir=PROJECT_DIR,
    profiles_dir=PROJECT_DIR,
    target=settings.dbt_target(),
    target_path=dbt_target_path(),
)
dbt_project.prepare_if_dev()
