{# The grain test: no two rows share the same values in these columns (macros/deduplication.sql). #}
{% test unique_combination_of_columns(model, combination_of_columns) %}
{{ customer_lifecycle.repeated_keys(model, combination_of_columns, 'true', 'rows_with_this_key') }}
{% endtest %}
