"""Build Superset's import bundle from the YAML kept in the repository.

Inputs, all in the repository:
- models/semantic/*.yml: the semantic layer. Every semantic model becomes a
  Superset dataset on its mart, and every metric whose measures it holds
  becomes one of that dataset's metrics, its SQL generated here from the
  metric's definition (measure aggregation, filters, ratio, derived
  expression). There is no second hand-written formula to drift.
- superset/dashboards/*.yml: one file per dashboard, a short description of
  its charts (dataset, chart type, metrics, columns, filters, size).

Output: the files of a Superset "v1" export (metadata.yaml, databases/,
datasets/, charts/, dashboards/) as a {path: text} dict, which
`superset import-dashboards` reads from a zip. Machine-specific facts (the
published file's path, its columns) are arguments, so the bundle is built
at install time, never committed.

Plain Python + PyYAML: no Superset import, so it runs and is tested in either
environment.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

# the metric YAML -> SQL translation, shared with the `make run` summary
# (bootstrap.py puts the repository on sys.path in Superset's environment)
from orchestration.semantic_sql import SemanticLayer, SemanticLayerError, load_yaml_dir

DASHBOARDS_DIR = Path(__file__).resolve().parent / "dashboards"

DATABASE_NAME = "lifecycle_marts"
SCHEMA = "marts"
# Stable ids, so a re-import updates the same objects instead of adding copies.
NAMESPACE = uuid.UUID("6a0e5c2e-3f7b-4b8e-9a51-0c1d2b3e4f50")
DATABASE_UUID = str(uuid.uuid5(NAMESPACE, "database:lifecycle_marts"))


class BundleError(SemanticLayerError):
    """The semantic or dashboard YAML cannot be turned into a Superset bundle."""


def _uuid(kind: str, name: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{kind}:{name}"))


# --- dashboards --------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str | None = None

    @property
    def is_dttm(self) -> bool:
        return self.type.upper().startswith(("DATE", "TIMESTAMP"))


def _d3_format(metric_name: str) -> str | None:
    if metric_name.endswith("_rate"):
        return ".1%"
    if metric_name == "nps":
        return ".1f"
    return None


def _adhoc_filter(spec: Mapping | str) -> dict:
    if isinstance(spec, str):
        return {"expressionType": "SQL", "sqlExpression": spec, "clause": "WHERE"}
    return {
        "expressionType": "SIMPLE",
        "subject": spec["column"],
        "operator": spec.get("operator", "=="),
        "comparator": spec["value"],
        "clause": "WHERE",
    }


def chart_params(chart: Mapping, dataset_uid: str) -> dict:
    """Superset form data for one chart of a dashboard YAML."""
    viz = chart["viz"]
    metrics = list(chart.get("metrics") or [])
    params: dict = {
        "datasource": dataset_uid,
        "viz_type": viz,
        "adhoc_filters": [_adhoc_filter(f) for f in chart.get("filters") or []],
        "row_limit": chart.get("row_limit", 10000),
    }
    if viz in ("echarts_timeseries_line", "echarts_timeseries_bar"):
        params.update(
            x_axis=chart["x"],
            metrics=metrics,
            groupby=list(chart.get("groupby") or []),
            time_grain_sqla=chart.get("time_grain"),
            stack=chart.get("stack"),
            show_legend=True,
            rich_tooltip=True,
            y_axis_format=_d3_format(metrics[0]) if len(metrics) == 1 or chart.get("rates") else None,
            truncateXAxis=True,
            x_axis_sort_asc=True,
            orientation=chart.get("orientation", "vertical"),
        )
        if chart.get("series_limit"):
            params["series_limit"] = chart["series_limit"]
    elif viz == "big_number":
        params.update(x_axis=chart["x"], metric=metrics[0], time_grain_sqla=chart.get("time_grain", "P1W"),
                      show_trend_line=True, start_y_axis_at_zero=True, y_axis_format=_d3_format(metrics[0]))
    elif viz == "big_number_total":
        params.update(metric=metrics[0], y_axis_format=_d3_format(metrics[0]), subheader=chart.get("subheader", ""))
    elif viz == "pie":
        params.update(metric=metrics[0], groupby=list(chart["groupby"]), show_labels=True, label_type="key_percent",
                      show_legend=True, donut=True)
    elif viz == "heatmap_v2":
        params.update(x_axis=chart["x"], groupby=chart["y"], metric=metrics[0], y_axis_format=_d3_format(metrics[0]),
                      show_values=True, normalize_across="heatmap", legend_type="continuous",
                      linear_color_scheme="blue_white_yellow", sort_x_axis="alpha_asc", sort_y_axis="alpha_asc",
                      time_grain_sqla=chart.get("time_grain"))
    elif viz == "histogram_v2":
        params.update(column=chart["column"], groupby=list(chart.get("groupby") or []), bins=chart.get("bins", 20),
                      normalize=False, cumulative=False)
    elif viz == "table":
        if chart.get("columns"):  # raw records, e.g. the contact list
            params.update(query_mode="raw", all_columns=list(chart["columns"]),
                          order_by_cols=[json.dumps([c, a]) for c, a in chart.get("order_by") or []])
        else:
            params.update(query_mode="aggregate", groupby=list(chart.get("groupby") or []), metrics=metrics,
                          percent_metrics=[], timeseries_limit_metric=None, order_desc=True)
        params.update(table_timestamp_format="%Y-%m-%d", page_length=chart.get("page_length", 0),
                      include_search=chart.get("search", False), show_cell_bars=False, allow_render_html=False)
    else:
        raise BundleError(f"chart {chart.get('name')}: viz {viz} is not supported by superset/bundle.py")
    return params


def _position(title: str, rows: list[list[tuple[str, str, int, int]]]) -> dict:
    """Dashboard layout: one grid row per YAML row, charts (uuid, name, width, height) left to right."""
    position: dict = {
        "DASHBOARD_VERSION_KEY": "v2",
        "ROOT_ID": {"type": "ROOT", "id": "ROOT_ID", "children": ["GRID_ID"]},
        "GRID_ID": {"type": "GRID", "id": "GRID_ID", "children": [], "parents": ["ROOT_ID"]},
        "HEADER_ID": {"id": "HEADER_ID", "type": "HEADER", "meta": {"text": title}},
    }
    for row_number, row in enumerate(rows, start=1):
        row_id = f"ROW-{row_number}"
        position["GRID_ID"]["children"].append(row_id)
        position[row_id] = {"type": "ROW", "id": row_id, "children": [], "parents": ["ROOT_ID", "GRID_ID"],
                            "meta": {"background": "BACKGROUND_TRANSPARENT"}}
        for chart_uuid, name, width, height in row:
            chart_number = len([k for k in position if k.startswith("CHART-")]) + 1
            chart_id = f"CHART-{chart_uuid[:8]}"
            position[row_id]["children"].append(chart_id)
            position[chart_id] = {"type": "CHART", "id": chart_id, "children": [],
                                  "parents": ["ROOT_ID", "GRID_ID", row_id],
                                  "meta": {"uuid": chart_uuid, "chartId": chart_number, "sliceName": name,
                                           "width": width, "height": height}}
    return position


def _native_filters(dashboard: Mapping, dataset_uuids: dict[str, str]) -> list[dict]:
    filters = []
    for spec in dashboard.get("native_filters") or []:
        filter_id = "NATIVE_FILTER-" + _uuid("filter", f"{dashboard['slug']}/{spec['column']}")[:12]
        filters.append({
            "id": filter_id,
            "name": spec["label"],
            "filterType": "filter_select",
            "type": "NATIVE_FILTER",
            "targets": [{"column": {"name": spec["column"]}, "datasetUuid": dataset_uuids[spec["dataset"]]}],
            "controlValues": {"multiSelect": True, "enableEmptyFilter": False, "searchAllOptions": False,
                              "inverseSelection": False, "defaultToFirstItem": False},
            "defaultDataMask": {"extraFormData": {}, "filterState": {}, "ownState": {}},
            "cascadeParentIds": [],
            "scope": {"rootPath": ["ROOT_ID"], "excluded": []},
            "description": spec.get("description", ""),
        })
    return filters


def load_dashboards(directory: Path = DASHBOARDS_DIR) -> list[dict]:
    return load_yaml_dir(directory)


def build_bundle(
    published_path: Path,
    columns: Mapping[str, list[Column]],
    layer: SemanticLayer | None = None,
    dashboards: list[dict] | None = None,
) -> dict[str, str]:
    """The import bundle as {path inside the zip: YAML text}.

    columns: table name -> its columns in the published file (read there at
    install time, so the datasets match the file Superset will query).
    """
    layer = layer or SemanticLayer.load()
    dashboards = load_dashboards() if dashboards is None else dashboards
    files: dict[str, str] = {
        "metadata.yaml": yaml.safe_dump({"version": "1.0.0", "type": "Dashboard",
                                         "timestamp": "2026-01-01T00:00:00+00:00"}),
        f"databases/{DATABASE_NAME}.yaml": yaml.safe_dump({
            "database_name": DATABASE_NAME,
            "sqlalchemy_uri": f"duckdb:///{Path(published_path).resolve()}",
            "cache_timeout": None,
            "expose_in_sqllab": True,
            "allow_run_async": False,
            "allow_ctas": False,
            "allow_cvas": False,
            "allow_dml": False,
            "allow_file_upload": False,
            # read-only: Superset never takes DuckDB's writer lock; Superset's
            # engines use NullPool, so no connection outlives a query and a
            # publish (an atomic rename) is seen by the next query.
            "extra": {"engine_params": {"connect_args": {"read_only": True}},
                      "metadata_params": {}, "schemas_allowed_for_file_upload": []},
            "uuid": DATABASE_UUID,
            "version": "1.0.0",
        }),
    }

    # datasets: one per semantic model, metrics generated from the metric YAML
    metrics_by_model: dict[str, list[str]] = {}
    for name in layer.metrics:
        metrics_by_model.setdefault(layer.semantic_model_of(name), []).append(name)
    dataset_uuids: dict[str, str] = {}
    dataset_uids: dict[str, str] = {}
    for model_name, model in layer.semantic_models.items():
        table = layer.table_of(model_name)
        if table not in columns:
            raise BundleError(f"table {SCHEMA}.{table} (semantic model {model_name}) is not in the published file; "
                              f"rebuild and publish the marts, then run `make bi` again.")
        dataset_uuids[table] = _uuid("dataset", table)
        time_column = (model.get("defaults") or {}).get("agg_time_dimension")
        files[f"datasets/{DATABASE_NAME}/{table}.yaml"] = yaml.safe_dump({
            "table_name": table,
            "schema": SCHEMA,
            "main_dttm_col": time_column,
            "description": (model.get("description") or "").strip(),
            "default_endpoint": None,
            "offset": 0,
            "cache_timeout": None,
            "sql": None,
            "params": None,
            "template_params": None,
            "filter_select_enabled": True,
            "fetch_values_predicate": None,
            "extra": None,
            "normalize_columns": False,
            "always_filter_main_dttm": False,
            "uuid": dataset_uuids[table],
            "metrics": [
                {
                    "metric_name": name,
                    "verbose_name": layer.metrics[name].get("label") or name,
                    "metric_type": None,
                    "expression": layer.metric_sql(name),
                    "description": " ".join((layer.metrics[name].get("description") or "").split()) or None,
                    "d3format": _d3_format(name),
                    "extra": {"warning_markdown": ""},
                    "warning_text": None,
                }
                for name in metrics_by_model.get(model_name, [])
            ],
            "columns": [
                {
                    "column_name": column.name,
                    "verbose_name": None,
                    "is_dttm": column.is_dttm,
                    "is_active": True,
                    "type": column.type,
                    "advanced_data_type": None,
                    "groupby": True,
                    "filterable": True,
                    "expression": None,
                    "description": column.description,
                    "python_date_format": None,
                    "extra": None,
                }
                for column in columns[table]
            ],
            "version": "1.0.0",
            "database_uuid": DATABASE_UUID,
        })
        dataset_uids[table] = f"__{table}"  # replaced by "<id>__table" on import

    for dashboard in dashboards:
        rows = []
        chart_uuids = []
        for row in dashboard["rows"]:
            placed = []
            for chart in row:
                table = chart["dataset"]
                if table not in dataset_uuids:
                    raise BundleError(f"dashboard {dashboard['slug']}, chart {chart['name']}: dataset {table} "
                                      f"is not a semantic model's table ({sorted(dataset_uuids)})")
                for metric in chart.get("metrics") or []:
                    owner = layer.semantic_model_of(metric) if metric in layer.metrics else None
                    if owner is None or layer.table_of(owner) != table:
                        raise BundleError(f"dashboard {dashboard['slug']}, chart {chart['name']}: metric {metric} "
                                          f"is not a semantic-layer metric of {table}")
                chart_uuid = _uuid("chart", f"{dashboard['slug']}/{chart['name']}")
                chart_uuids.append(chart_uuid)
                files[f"charts/{dashboard['slug']}/{chart_uuid[:8]}.yaml"] = yaml.safe_dump({
                    "slice_name": chart["name"],
                    "description": chart.get("description"),
                    "certified_by": None,
                    "certification_details": None,
                    "viz_type": chart["viz"],
                    "params": chart_params(chart, dataset_uids[table]),
                    "query_context": None,
                    "cache_timeout": None,
                    "uuid": chart_uuid,
                    "version": "1.0.0",
                    "dataset_uuid": dataset_uuids[table],
                })
                placed.append((chart_uuid, chart["name"], chart.get("width", 6), chart.get("height", 50)))
            rows.append(placed)
        files[f"dashboards/{dashboard['slug']}.yaml"] = yaml.safe_dump({
            "dashboard_title": dashboard["title"],
            "description": dashboard.get("description"),
            "css": "",
            "slug": dashboard["slug"],
            "certified_by": None,
            "certification_details": None,
            "published": True,
            "uuid": _uuid("dashboard", dashboard["slug"]),
            "position": _position(dashboard["title"], rows),
            "metadata": {
                "native_filter_configuration": _native_filters(dashboard, dataset_uuids),
                "chart_configuration": {},
                "color_scheme": "supersetColors",
                "refresh_frequency": 0,
                "expanded_slices": {},
                "label_colors": {},
                "timed_refresh_immune_slices": [],
                "cross_filters_enabled": False,
                "default_filters": "{}",
                "shared_label_colors": [],
            },
            "version": "1.0.0",
        })
    return files
