{#
  Date arithmetic at whole-day grain, and the lifecycle stage rule.

  add_days / days_between are the project's portable day helpers: on DuckDB
  `date + integer` and `date - date` stay dates and integers (dbt.dateadd
  would return a timestamp), elsewhere they defer to dbt's cross-db macros.
#}

{% macro add_days(date_expression, days_expression) -%}
    {{ return(adapter.dispatch('add_days', 'customer_lifecycle')(date_expression, days_expression)) }}
{%- endmacro %}

{% macro default__add_days(date_expression, days_expression) -%}
    cast({{ dbt.dateadd('day', days_expression, date_expression) }} as date)
{%- endmacro %}

{% macro duckdb__add_days(date_expression, days_expression) -%}
    ({{ date_expression }} + cast({{ days_expression }} as integer))
{%- endmacro %}

{# Whole days from start_date to end_date (end - start). #}
{% macro days_between(start_date, end_date) -%}
    {{ return(adapter.dispatch('days_between', 'customer_lifecycle')(start_date, end_date)) }}
{%- endmacro %}

{% macro default__days_between(start_date, end_date) -%}
    {{ dbt.datediff(start_date, end_date, 'day') }}
{%- endmacro %}

{% macro duckdb__days_between(start_date, end_date) -%}
    ({{ end_date }} - {{ start_date }})
{%- endmacro %}

{#
  THE stage rule: the lifecycle stage of a customer on day `on_date`, given
  what is known up to and including that day. Every model that needs a stage
  calls this macro (customer_stage_history evaluates it at each breakpoint),
  so there is exactly one implementation. First matching rule wins:

    1. prospect     no completed purchase yet (purchase_days = 0)
    2. churned      on_date - last_activity_date >= churned_after_days
    3. at_risk      on_date - last_activity_date >= silent_after_days
    4. reactivated  a return from churn happened (latest_return_date) and no
                    purchase day came after that return day
    5. new          all purchases on one day (purchase_days = 1) and
                    on_date - first_purchase_date < silent_after_days
    6. loyal        on_date < loyal_until_date, i.e. at least
                    loyal_min_orders_365d completed orders in (on_date - 365, on_date]
    7. active       otherwise

  Arguments are SQL expressions; all dates are UTC calendar days.
#}
{% macro lifecycle_stage_on(
    on_date,
    purchase_days,
    last_activity_date,
    first_purchase_date,
    last_purchase_date,
    latest_return_date,
    loyal_until_date,
    silent_after_days,
    churned_after_days
) -%}
    case
        when coalesce({{ purchase_days }}, 0) = 0 then 'prospect'
        when {{ customer_lifecycle.days_between(last_activity_date, on_date) }} >= {{ churned_after_days }} then 'churned'
        when {{ customer_lifecycle.days_between(last_activity_date, on_date) }} >= {{ silent_after_days }} then 'at_risk'
        when {{ latest_return_date }} is not null
            and {{ last_purchase_date }} <= {{ latest_return_date }} then 'reactivated'
        when {{ purchase_days }} = 1
            and {{ customer_lifecycle.days_between(first_purchase_date, on_date) }} < {{ silent_after_days }} then 'new'
        when {{ on_date }} < {{ loyal_until_date }} then 'loyal'
        else 'active'
    end
{%- endmacro %}

{# The stage values, in lifecycle order (used by accepted_values tests and docs). #}
{% macro lifecycle_stages() -%}
    {{ return(['prospect', 'new', 'active', 'loyal', 'at_risk', 'churned', 'reactivated']) }}
{%- endmacro %}
