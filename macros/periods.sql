{#
  Reporting periods: 'week' (Monday to Sunday, UTC) and 'month'. The period
  type is a SQL expression evaluating to 'week' or 'month', so one query can
  serve both period types.
#}

{# First day of the week or month containing date_expression (a date). #}
{% macro period_start_of(period_type, date_expression) -%}
    case {{ period_type }}
        when 'week' then cast({{ dbt.date_trunc('week', date_expression) }} as date)
        else cast({{ dbt.date_trunc('month', date_expression) }} as date)
    end
{%- endmacro %}

{# First day of the period after the one containing date_expression. #}
{% macro next_period_start_of(period_type, date_expression) -%}
    case {{ period_type }}
        when 'week' then {{ customer_lifecycle.add_days('cast(' ~ dbt.date_trunc('week', date_expression) ~ ' as date)', 7) }}
        else cast({{ dbt.dateadd('month', 1, dbt.date_trunc('month', date_expression)) }} as date)
    end
{%- endmacro %}
