{#
  Fails on every row where the SQL expression is not true (null counts as a
  failure). Optional `row_condition` narrows the rows checked.
#}
{% test expression_is_true(model, expression, row_condition=none) %}
select *
from {{ model }}
where not coalesce(({{ expression }}), false)
{%- if row_condition %}
  and ({{ row_condition }})
{%- endif %}
{% endtest %}
