{# The model has exactly as many rows as another relation (optionally filtered). #}
{% test equal_rowcount(model, compare_model, row_condition=none, compare_row_condition=none) %}
with a as (
    select count(*) as n from {{ model }} {% if row_condition %}where {{ row_condition }}{% endif %}
),
b as (
    select count(*) as n from {{ compare_model }} {% if compare_row_condition %}where {{ compare_row_condition }}{% endif %}
)
select a.n as model_rows, b.n as compare_rows
from a cross join b
where a.n <> b.n
{% endtest %}
