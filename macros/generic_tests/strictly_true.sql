{#
  strictly_true: fails on every row where the SQL expression is not true,
  and a NULL result counts as a failure. (dbt-utils' strictly_true lets
  NULL pass; this test does not, hence its own name.) Optional
  `row_condition` narrows the rows checked.
#}
{% test strictly_true(model, expression, row_condition=none) %}
select *
from {{ model }}
where not coalesce(({{ expression }}), false)
{%- if row_condition %}
  and ({{ row_condition }})
{%- endif %}
{% endtest %}
