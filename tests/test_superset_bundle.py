"""superset/bundle.py: the dashboards YAML and the semantic layer make a
consistent Superset import bundle (fast; no Superset needed)."""

from __future__ import annotations

import importlib.util
import sys

import pytest
import yaml

from tests.support import PROJECT_DIR


@pytest.fixture(scope="module")
def bundle():
    spec = importlib.util.spec_from_file_location("superset_bundle", PROJECT_DIR / "superset" / "bundle.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _columns(bundle):
    layer = bundle.SemanticLayer.load()
    return {layer.table_of(m): [bundle.Column("industry", "VARCHAR")] for m in layer.semantic_models}


def test_every_chart_metric_is_a_generated_semantic_layer_metric(bundle, tmp_path):
    files = bundle.build_bundle(tmp_path / "marts.duckdb", _columns(bundle))
    datasets = {}
    for path, text in files.items():
        if path.startswith("datasets/"):
            document = yaml.safe_load(text)
            datasets[document["uuid"]] = {m["metric_name"]: m["expression"] for m in document["metrics"]}
    charts = [yaml.safe_load(text) for path, text in files.items() if path.startswith("charts/")]
    dashboards = [yaml.safe_load(text) for path, text in files.items() if path.startswith("dashboards/")]
    assert len(dashboards) == 6 and len(charts) >= 25
    layer = bundle.SemanticLayer.load()
    for chart in charts:
        params = chart["params"]
        names = list(params.get("metrics") or []) + ([params["metric"]] if params.get("metric") else [])
        for name in names:
            assert isinstance(name, str), f"{chart['slice_name']}: ad-hoc metric {name!r}"
            assert datasets[chart["dataset_uuid"]][name] == layer.metric_sql(name)
    # every chart sits on its dashboard's grid
    placed = {v["meta"]["uuid"] for d in dashboards for v in d["position"].values()
              if isinstance(v, dict) and v.get("type") == "CHART"}
    assert placed == {c["uuid"] for c in charts}
    database = yaml.safe_load(files["databases/lifecycle_marts.yaml"])
    assert database["extra"]["engine_params"]["connect_args"] == {"read_only": True}
    assert database["sqlalchemy_uri"] == f"duckdb:///{(tmp_path / 'marts.duckdb').resolve()}"


def test_ratio_and_filtered_metrics_translate_to_sql(bundle):
    layer = bundle.SemanticLayer.load()
    assert layer.metric_sql("m1_repurchase_rate") == (
        "CAST(SUM(CASE WHEN (months_since_first_order = 1) THEN returning_customers END) AS DOUBLE) / "
        "CAST(NULLIF(SUM(CASE WHEN (months_since_first_order = 1) THEN cohort_customers END), 0) AS DOUBLE)")
    assert layer.metric_sql("new_customers") == "SUM(CASE WHEN (industry != 'all') THEN new_customers END)"


def test_a_chart_with_a_metric_outside_the_semantic_layer_is_refused(bundle, tmp_path):
    dashboard = {"title": "T", "slug": "t", "rows": [[
        {"name": "hand-written", "dataset": "churn_rates", "viz": "big_number_total", "metrics": ["my_churn"]}]]}
    with pytest.raises(bundle.BundleError, match="my_churn is not a semantic-layer metric of churn_rates"):
        bundle.build_bundle(tmp_path / "m.duckdb", _columns(bundle), dashboards=[dashboard])


def test_a_table_missing_from_the_published_file_says_what_to_do(bundle, tmp_path):
    columns = _columns(bundle)
    del columns["churn_rates"]
    with pytest.raises(bundle.BundleError, match=r"marts.churn_rates .* not in the published file; rebuild"):
        bundle.build_bundle(tmp_path / "m.duckdb", columns)
