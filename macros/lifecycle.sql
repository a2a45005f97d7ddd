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

{#
  Spark: dbt.dateadd expands to a to_unix_timestamp/from_unixtime chain; nested
  in the stage case expressions it made a multi-megabyte plan expression and
  most of the Spark build time went to compiling it. Spark's own date_add
  takes a date and an int and returns a date.
#}
{% macro spark__add_days(date_expression, days_expression) -%}
    date_add({{ date_expression }}, cast({{ days_expression }} as int))
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

{# Spark's datediff is an int; DuckDB's date difference, and the marts' contracts, a bigint #}
{% macro spark__days_between(start_date, end_date) -%}
    cast({{ dbt.datediff(start_date, end_date, 'day') }} as bigint)
{%- endmacro %}

{#
  THE stage rule: the lifecycle stage of a customer on day `on_date`, given
  what is known up to and including that day. Every model that needs a stage
  calls these macros (int_customer_stage_intervals evaluates the rule at each
  breakpoint), so there is exactly one implementation; its description for
  readers is the `lifecycle_stage_rule` docs block in models/docs.md, which
  every YAML reuses. First matching rule wins:

    1. prospect     no completed purchase yet (purchase_days = 0)
    2. churned      on_date - last_activity_date >= churned_after_days
    3. at_risk      on_date - last_activity_date >= silent_after_days
    4. reactivated  a return from churn happened (latest_return_date) and no
                    purchase day came after that return day
    5. new          all purchases on one day (purchase_days = 1) and
                    on_date - first_purchase_date < silent_after_days
    6. loyal        on_date < loyal_until_date, i.e. at least
                    loyal_min_orders_in_window completed orders in the trailing
                    loyalty_window_days (var, 365) days
    7. active       otherwise

  lifecycle_stage_code_on returns a small integer code (cheap to compare
  across millions of breakpoints); lifecycle_stage_name turns it into the
  published label and lifecycle_stage_code(name) gives the code of a label.
  Arguments are SQL expressions; dates are UTC days.
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
        when coalesce({{ purchase_days }}, 0) = 0 then {{ customer_lifecycle.lifecycle_stage_code('prospect') }}
        when {{ customer_lifecycle.days_between(last_activity_date, on_date) }} >= {{ churned_after_days }}
            then {{ customer_lifecycle.lifecycle_stage_code('churned') }}
        when {{ customer_lifecycle.days_between(last_activity_date, on_date) }} >= {{ silent_after_days }}
            then {{ customer_lifecycle.lifecycle_stage_code('at_risk') }}
        when {{ latest_return_date }} is not null
            and {{ last_purchase_date }} <= {{ latest_return_date }}
            then {{ customer_lifecycle.lifecycle_stage_code('reactivated') }}
        when {{ purchase_days }} = 1
            and {{ customer_lifecycle.days_between(first_purchase_date, on_date) }} < {{ silent_after_days }}
            then {{ customer_lifecycle.lifecycle_stage_code('new') }}
        when {{ on_date }} < {{ loyal_until_date }} then {{ customer_lifecycle.lifecycle_stage_code('loyal') }}
        else {{ customer_lifecycle.lifecycle_stage_code('active') }}
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

{# The integer code of a stage label (its position in lifecycle_stages). #}
{% macro lifecycle_stage_code(stage) -%}
    {%- set stages = customer_lifecycle.lifecycle_stages() -%}
    {%- if stage not in stages -%}
        {{ exceptions.raise_compiler_error("Unknown lifecycle stage '" ~ stage ~ "'; stages are " ~ stages | join(', ')) }}
    {%- endif -%}
    {{ stages.index(stage) + 1 }}
{%- endmacro %}

{#
  Stage groups, defined once (docs block `lifecycle_stage_groups`):
    in_window  new, active, loyal, reactivated: purchased and inside the
               industry's silence window (the "active base"; the stages whose
               silence counts down to at_risk, and whose rhythm can slip)
    live       in_window plus at_risk: purchased and not churned (the base
               lifecycle churn is measured on)
  lifecycle_stage_group(name) returns the labels; stage_in_group(column,
  name) the SQL test `column in ('new', ...)` (codes=true: on integer codes).
#}
{% macro lifecycle_stage_group(group) -%}
    {%- set groups = {
        'in_window': ['new', 'active', 'loyal', 'reactivated'],
        'live': ['new', 'active', 'loyal', 'at_risk', 'reactivated'],
    } -%}
    {%- if group not in groups -%}
        {{ exceptions.raise_compiler_error("Unknown stage group '" ~ group ~ "'; groups are " ~ groups.keys() | join(', ')) }}
    {%- endif -%}
    {{ return(groups[group]) }}
{%- endmacro %}

{% macro stage_in_group(column, group, codes=false) -%}
    {%- set stages = customer_lifecycle.lifecycle_stage_group(group) -%}
    {{ column }} in (
        {%- for stage in stages -%}
            {%- if codes -%}{{ customer_lifecycle.lifecycle_stage_code(stage) }}{%- else -%}'{{ stage }}'{%- endif -%}
            {%- if not loop.last %}, {% endif -%}
        {%- endfor -%}
    )
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
