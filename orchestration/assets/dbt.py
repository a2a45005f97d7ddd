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

from collections.abc import Iterable, Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets
from dagster_dbt import asset_utils as dagster_dbt_asset_utils

from orchestration import settings
from orchestration.assets.config import DUCKDB_POOL, AsOfConfig
from orchestration.assets.freshness import BUILT_TODAY
from orchestration.assets.metadata import spark_warehouse_reader, with_build_metadata
from orchestration.assets.raw import raw_asset_key
from orchestration.dbt_args import dbt_build_args, dbt_env, dbt_env_defaults, env_defaults, env_set, resolve_as_of_date
from orchestration.incremental import PLAN, read_plan, record_success

SEED_LAYER = "config"
# Staging models that stage only the raw files not staged yet (macros/incremental_staging.sql).
STAGED_INCREMENTALLY = ("stg_raw__orders_checked", "stg_raw__customers_checked", "stg_raw__interactions_checked")
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
        node = manifest["nodes"].get(unique_id, {})
        if node.get("resource_type") in ("seed", "model") and not node.get("depends_on", {}).get("nodes"):
            # A node with no parent (the seeds, the time spine) reads no raw table, but it is built
            # in a build the landing accepted, after its build plan: a refused input rebuilds
            # nothing, on Spark too, where such nodes would otherwise make a dbt step of their own
            # that does not wait for the landing.
            spec = spec.merge_attributes(deps=[raw_asset_key(PLAN)])
        return spec


translator = LifecycleTranslator(
    settings=DagsterDbtTranslatorSettings(
        enable_asset_checks=True, enable_source_tests_as_checks=True, enable_code_references=True
    )
)


# dagster-dbt hands a subset of more than 200 nodes to dbt through a
# selectors.yml written into a temporary copy of the whole project directory,
# here the repository root with its virtual environments and data (5.9 GB and
# 44 s for the first dbt step of a Spark run), a copy it never deletes. Every
# Spark dbt step is such a subset, and so is a large selection in the UI. As
# arguments, any selection of this project is one argument of under 100 KB
# (Linux takes 128 KB in one argument), so selections go as arguments.
MAX_SELECTION_ARGUMENT_BYTES = 100_000


def pass_selections_as_arguments(manifest: Mapping[str, Any]) -> None:
    """Let dagster-dbt pass any selection of this project's nodes as --select arguments, not in a project copy."""
    nodes = [*manifest["nodes"].values(), *manifest["sources"].values()]
    if len(" ".join(".".join(node["fqn"]) for node in nodes).encode()) > MAX_SELECTION_ARGUMENT_BYTES:
        return  # too large for one argument: dagster-dbt's selector file (and its copy) stays
    if not hasattr(dagster_dbt_asset_utils, "_SELECTION_ARGS_THRESHOLD"):
        raise RuntimeError("dagster-dbt no longer has _SELECTION_ARGS_THRESHOLD: see how it now passes large "
                           "selections to dbt and update orchestration.assets.dbt.pass_selections_as_arguments.")
    threshold = max(dagster_dbt_asset_utils._SELECTION_ARGS_THRESHOLD, len(nodes))
    dagster_dbt_asset_utils._SELECTION_ARGS_THRESHOLD = threshold


def build_dbt_assets(project: DbtProject, manifest: Mapping[str, Any], select: str = "fqn:*") -> dg.AssetsDefinition:
    """Every seed and model of `manifest` as an asset, every test as a check, built by one `dbt build`.

    select: the nodes dbt builds, when another step materializes the rest (on
    Spark, every node but the CLV Python models, which
    orchestration.assets.clv_spark runs: clv_spark.spark_dbt_selection).
    """
    on_spark = project.target == "spark"

    @dbt_assets(
        manifest=manifest,
        project=project,
        dagster_dbt_translator=translator,
        name="dbt_build",
        pool=DUCKDB_POOL,
        select=select,
    )
    def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, config: AsOfConfig):
        """`dbt build` of the selected seeds and models with their tests, as of the run's date."""
        as_of = resolve_as_of_date(config.as_of_date)
        duckdb_path = settings.duckdb_path()
        # the path the landing chose (orchestration.incremental); no plan: full
        plan = read_plan(duckdb_path) or {"path": "full_refresh", "reasons": "no landing plan in the database"}
        full_refresh = plan["path"] == "full_refresh" or config.full_refresh
        path = "full_refresh" if full_refresh else "incremental"
        reasons = plan["reasons"] or ("the run config asked for it" if full_refresh else "")
        context.log.info(f"dbt build as of {as_of.isoformat()}, {path}" + (f": {reasons}" if reasons else ""))
        # dagster-dbt reads the environment when the invocation is created.
        with env_defaults(dbt_env_defaults()), env_set(dbt_env(as_of)):
            invocation = dbt.cli(dbt_build_args(full_refresh, on_spark=on_spark), context=context)
        extra = {"build_path": path, "build_path_reasons": reasons}
        # on Spark the relations are read from the warehouse's Parquet tables, not the working DuckDB file
        read_from = spark_warehouse_reader() if on_spark else duckdb_path
        for event in with_build_metadata(invocation.stream(), manifest, read_from, as_of, context.log):
            yield _with_metadata(event, extra)
        # dbt succeeded: the landed files are staged, unless the selection left staging out
        staging = {spec.key for spec in context.assets_def.specs if spec.key.path[-1] in STAGED_INCREMENTALLY}
        if staging <= set(context.selected_asset_keys):
            record_success(duckdb_path, as_of, settings.raw_data_dir())
        else:
            context.log.info("The incremental staging models were not all selected: the landed files stay unstaged.")

    return dbt_models


def _with_metadata(event: Any, extra: Mapping[str, Any]) -> Any:
    """The event with `extra` added to its metadata (materializations only)."""
    if isinstance(event, (dg.Output, dg.AssetMaterialization)):
        return event.with_metadata({**event.metadata, **extra})
    return event


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
