"""Every dbt seed and model as a Dagster asset; every dbt test as an asset check.

Keys and groups follow the project's layers, so the graph reads like the
folders: ``staging/stg_raw__orders``, ``intermediate/...``, ``marts/customers``,
``audit/row_reconciliation``; seeds are ``config/<seed>`` (the schema they land
in); source tables keep dagster-dbt's ``raw/<table>``, which the landing
assets produce.

dbt tests become asset checks; an error-severity test is a blocking check. One
`dbt build` runs seeds, models, tests and unit tests in dependency order and
skips whatever sits downstream of a failed test; the step then fails, so the
run fails and nothing after it (the published copy) is refreshed.

A singular test that refs several models is attached to one of them (see
orchestration.project.attach_multi_parent_tests).

Nothing is built at import: `build_dbt_assets` makes the assets from a
manifest the caller loaded (orchestration.definitions, when Dagster loads
the code location). Every materialization carries the as-of date, the row
count and the table's columns with their descriptions, and more where a model
has more to say (orchestration.assets.metadata).
"""

import contextlib
import os
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets

from orchestration import settings
from orchestration.assets.config import DUCKDB_POOL, AsOfConfig
from orchestration.assets.freshness import BUILT_TODAY
from orchestration.assets.metadata import with_build_metadata
from orchestration.dbt_args import dbt_build_args, dbt_env_defaults, resolve_as_of_date

SEED_LAYER = "config"
# Layers whose freshness the UI tracks (stale when the daily build has not run).
FRESHNESS_LAYERS = ("marts",)


def layer_of(props: Mapping[str, Any]) -> str:
    """The layer a dbt node belongs to: its top folder under models/, `config` for seeds."""
    resource_type = props["resource_type"]
    if resource_type == "source":
        return props["source_name"]
    if resource_type == "seed":
        return SEED_LAYER
    fqn = props.get("fqn") or []
    # fqn is [project, folder, ..., name]; a model at the root of models/ has no folder.
    return fqn[1] if len(fqn) > 2 else props["schema"]


class LifecycleTranslator(DagsterDbtTranslator):
    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        return dg.AssetKey([layer_of(dbt_resource_props), dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return layer_of(dbt_resource_props)

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        if unique_id.startswith("model.") and spec.key.path[0] in FRESHNESS_LAYERS:
            spec = spec.replace_attributes(freshness_policy=BUILT_TODAY)
        return spec


translator = LifecycleTranslator(
    settings=DagsterDbtTranslatorSettings(
        enable_asset_checks=True, enable_source_tests_as_checks=True, enable_code_references=True
    )
)


@contextlib.contextmanager
def _env_defaults(defaults: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables the user has not set (or set empty), for the block."""
    saved = {name: os.environ.get(name) for name in defaults if not os.environ.get(name, "").strip()}
    os.environ.update({name: defaults[name] for name in saved})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def build_dbt_assets(project: DbtProject, manifest: Mapping[str, Any]) -> dg.AssetsDefinition:
    """Every seed and model of `manifest` as an asset, every test as a check, built by one `dbt build`."""

    @dbt_assets(
        manifest=manifest,
        project=project,
        dagster_dbt_translator=translator,
        name="dbt_build",
        pool=DUCKDB_POOL,
    )
    def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, config: AsOfConfig):
        """`dbt build` of the selected seeds and models with their tests, as of the run's date."""
        as_of = resolve_as_of_date(config.as_of_date)
        context.log.info(f"dbt build as of {as_of.isoformat()}")
        # dagster-dbt reads the environment when the invocation is created.
        with _env_defaults(dbt_env_defaults()):
            invocation = dbt.cli(dbt_build_args(as_of), context=context)
        yield from with_build_metadata(invocation.stream(), manifest, settings.duckdb_path(), as_of, context.log)

    return dbt_models


def dbt_unique_id(spec: dg.AssetSpec) -> str:
    return spec.metadata["dagster_dbt/unique_id"]


def model_keys_in_layers(dbt_models: dg.AssetsDefinition, layers: Iterable[str]) -> list[dg.AssetKey]:
    """Asset keys of the dbt models (not seeds) whose folder is one of `layers`."""
    wanted = set(layers)
    keys = [
        spec.key
        for spec in dbt_models.specs
        if dbt_unique_id(spec).startswith("model.") and spec.key.path[0] in wanted
    ]
    return sorted(keys, key=lambda key: key.to_user_string())
