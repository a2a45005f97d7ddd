"""The semantic layer (models/semantic/*.yml) translated to SQL over the marts.

MetricFlow (`mf query`) is the reference reader of the metric YAML; this module
turns the same definitions into plain aggregate SQL for the consumers that run
no MetricFlow: Superset's dataset metrics (superset/bundle.py) and the `make run`
summary (orchestration/summary.py). So every rate they show is the metric's own
definition (measure aggregation, filters, ratio of sums, derived expression),
never a second formula; tests/test_semantic_layer.py checks the SQL against
`mf query`.

Plain Python + PyYAML, nothing at import: Superset's own environment imports it too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

SEMANTIC_DIR = Path(__file__).resolve().parent.parent / "models" / "semantic"

_DIMENSION_REF = re.compile(r"\{\{\s*Dimension\(\s*'([A-Za-z0-9_]+)'\s*\)\s*\}\}")
_AGGREGATIONS = {
    "sum": "SUM({})",
    "count": "COUNT({})",
    "count_distinct": "COUNT(DISTINCT {})",
    "average": "AVG({})",
    "min": "MIN({})",
    "max": "MAX({})",
    "sum_boolean": "SUM(CAST({} AS INTEGER))",
}


class SemanticLayerError(ValueError):
    """The metric YAML cannot be translated to SQL."""


def load_yaml_dir(directory: Path) -> list[dict]:
    return [yaml.safe_load(path.read_text()) or {} for path in sorted(directory.glob("*.yml"))]


@dataclass
class SemanticLayer:
    semantic_models: dict[str, dict] = field(default_factory=dict)
    metrics: dict[str, dict] = field(default_factory=dict)
    # measure name -> semantic model name
    measure_owner: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, directory: Path = SEMANTIC_DIR) -> SemanticLayer:
        layer = cls()
        for document in load_yaml_dir(directory):
            for model in document.get("semantic_models") or []:
                layer.semantic_models[model["name"]] = model
                for measure in model.get("measures") or []:
                    layer.measure_owner[measure["name"]] = model["name"]
            for metric in document.get("metrics") or []:
                layer.metrics[metric["name"]] = metric
        return layer

    def table_of(self, semantic_model: str) -> str:
        match = re.fullmatch(r"ref\(\s*'([A-Za-z0-9_]+)'\s*\)", self.semantic_models[semantic_model]["model"].strip())
        if not match:
            raise SemanticLayerError(f"semantic model {semantic_model}: model must be ref('<mart>')")
        return match.group(1)

    def _measure(self, name: str) -> tuple[dict, dict]:
        owner = self.measure_owner.get(name)
        if owner is None:
            raise SemanticLayerError(f"measure {name} is not defined in any semantic model")
        model = self.semantic_models[owner]
        return model, next(m for m in model["measures"] if m["name"] == name)

    def _filter_sql(self, filters: object, model: dict) -> list[str]:
        """Metric filters as SQL over the semantic model's table."""
        if not filters:
            return []
        texts = [filters] if isinstance(filters, str) else list(filters)
        dimensions = {d["name"]: d.get("expr") or d["name"] for d in model.get("dimensions") or []}

        def column(match: re.Match) -> str:
            reference = match.group(1)
            name = reference.split("__")[-1]
            if name not in dimensions:
                raise SemanticLayerError(f"filter refers to {reference}, not a dimension of {model['name']}")
            return dimensions[name]

        return [f"({_DIMENSION_REF.sub(column, text)})" for text in texts]

    def semantic_model_of(self, metric_name: str) -> str:
        """The one semantic model all of a metric's measures come from."""
        owners = {self.measure_owner[m] for m in self._measures_of(metric_name)}
        if len(owners) != 1:
            raise SemanticLayerError(f"metric {metric_name} mixes semantic models {sorted(owners)}; a dataset has one table")
        return owners.pop()

    def _measures_of(self, name: str) -> list[str]:
        metric = self.metrics[name]
        params = metric.get("type_params") or {}
        if metric["type"] == "simple":
            measure = params["measure"]
            return [measure["name"] if isinstance(measure, dict) else measure]
        if metric["type"] == "ratio":
            return [*self._measures_of(_name(params["numerator"])), *self._measures_of(_name(params["denominator"]))]
        if metric["type"] == "derived":
            return [m for ref in params["metrics"] for m in self._measures_of(ref["name"])]
        raise SemanticLayerError(f"metric {name}: type {metric['type']} is not translated to SQL")

    def metric_sql(self, name: str, outer_filters: tuple[str, ...] = ()) -> str:
        """The SQL aggregate expression of a metric over its semantic model's table."""
        if name not in self.metrics:
            raise SemanticLayerError(f"metric {name} is not defined in {SEMANTIC_DIR}")
        metric = self.metrics[name]
        params = metric.get("type_params") or {}
        if metric["type"] == "simple":
            measure_ref = params["measure"]
            model, measure = self._measure(_name(measure_ref))
            conditions = [*outer_filters, *self._filter_sql(metric.get("filter"), model)]
            expression = measure.get("expr") or measure["name"]
            if conditions:
                expression = f"CASE WHEN {' AND '.join(conditions)} THEN {expression} END"
            aggregation = _AGGREGATIONS.get(measure["agg"])
            if aggregation is None:
                raise SemanticLayerError(f"measure {measure['name']}: aggregation {measure['agg']} is not translated")
            return aggregation.format(expression)
        model = self.semantic_models[self.semantic_model_of(name)]
        filters = (*outer_filters, *self._filter_sql(metric.get("filter"), model))
        if metric["type"] == "ratio":
            numerator = self.metric_sql(_name(params["numerator"]), filters)
            denominator = self.metric_sql(_name(params["denominator"]), filters)
            return f"CAST({numerator} AS DOUBLE) / CAST(NULLIF({denominator}, 0) AS DOUBLE)"
        # derived: each input metric's name in the expression becomes its SQL
        inputs = {ref.get("alias") or ref["name"]: ref["name"] for ref in params["metrics"]}
        pattern = re.compile(r"\b(" + "|".join(map(re.escape, sorted(inputs, key=len, reverse=True))) + r")\b")
        return "(" + pattern.sub(lambda m: f"({self.metric_sql(inputs[m.group(1)], filters)})", params["expr"]) + ")"


def _name(reference: object) -> str:
    return reference["name"] if isinstance(reference, dict) else str(reference)
