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
  calls these macros (customer_stage_history evaluates the rule at each
  breakpoint), so there is exactly one implementation. First matching rule
  wins:

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

  lifecycle_stage_code_on returns a small integer code (cheap to compare
  across millions of breakpoints); lifecycle_stage_name turns it into the
  published label. Arguments are SQL expressions; dates are UTC days.
#}
{% macro lifecycle_stage_code_on(
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
        when coalesce({{ purchase_days }}, 0) = 0 then 1
        when {{ customer_lifecycle.days_between(last_activity_date, on_date) }} >= {{ churned_after_days }} then 6
        when {{ customer_lifecycle.days_between(last_activity_date, on_date) }} >= {{ silent_after_days }} then 5
        when {{ latest_return_date }} is not null
            and {{ last_purchase_date }} <= {{ latest_return_date }} then 7
        when {{ purchase_days }} = 1
            and {{ customer_lifecycle.days_between(first_purchase_date, on_date) }} < {{ silent_after_days }} then 2
        when {{ on_date }} < {{ loyal_until_date }} then 4
        else 3
    end
{%- endmacro %}

{% macro lifecycle_stage_name(code) -%}
    case {{ code }}
        {%- for stage in customer_lifecycle.lifecycle_stages() %}
        when {{ loop.index }} then '{{ stage }}'
        {%- endfor %}
    end
{%- endmacro %}

{# The stage labels, in code order 1..7. #}
{% macro lifecycle_stages() -%}
    {{ return(['prospect', 'new', 'active', 'loyal', 'at_risk', 'churned', 'reactivated']) }}
{%- endmacro %}

{#
  One row per (input row, candidate breakpoint): breakpoint_kind is the
  index of the expression in date_expressions (unqualified column names of
  `relation`), breakpoint_date its value (may be null). DuckDB unnests two
  lists in parallel; elsewhere a cross join with the kinds.
#}
{% macro breakpoints_from(relation, date_expressions) -%}
    {{ return(adapter.dispatch('breakpoints_from', 'customer_lifecycle')(relation, date_expressions)) }}
{%- endmacro %}

{% macro default__breakpoints_from(relation, date_expressions) -%}
    select
        {{ relation }}.*,
        breakpoint_kinds.breakpoint_kind,
        case breakpoint_kinds.breakpoint_kind
            {%- for expression in date_expressions %}
            when {{ loop.index0 }} then {{ expression }}
            {%- endfor %}
        end as breakpoint_date
    from {{ relation }}
    cross join (
        {%- for expression in date_expressions %}
        select {{ loop.index0 }} as breakpoint_kind{% if not loop.last %} union all{% endif %}
        {%- endfor %}
    ) as breakpoint_kinds
{%- endmacro %}

{% macro duckdb__breakpoints_from(relation, date_expressions) -%}
    select
        *,
        unnest([{{ range(date_expressions | length) | join(', ') }}]) as breakpoint_kind,
        unnest([
            {%- for expression in date_expressions %}
            {{ expression }}{% if not loop.last %},{% endif %}
            {%- endfor %}
        ]) as breakpoint_date
    from {{ relation }}
{%- endmacro %}

{# The median of an expression within a group (nulls ignored). #}
{% macro median(expression) -%}
    {{ return(adapter.dispatch('median', 'customer_lifecycle')(expression)) }}
{%- endmacro %}

{% macro default__median(expression) -%}
    percentile_cont(0.5) within group (order by {{ expression }})
{%- endmacro %}

{% macro duckdb__median(expression) -%}
    median({{ expression }})
{%- endmacro %}
