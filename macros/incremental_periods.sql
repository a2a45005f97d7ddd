{#
  Incremental period models. Between two builds as of a and b (b >= a; an
  earlier date is a full refresh, orchestration/incremental.py), a model
  whose rows are keyed by a period (a day, a week, a month) can only change
  in the periods that contain or follow int_periods_to_recompute's
  recompute_from_date: the earliest date from which a recomputed customer's
  rows can differ, and a + 1 (periods complete by b, not yet by a). Every
  earlier period is final and kept.

  A model recomputed that way is incremental (a table on adapters without
  incremental builds, see incremental_materialization) with the `append`
  strategy and the pre-hook delete_periods_to_recompute: an incremental run
  first deletes the rows of the periods to recompute, then appends what its
  SQL computes for them, its inputs filtered with in_periods_to_recompute.
  Deleting by the periods rather than by the new rows (delete+insert) also
  clears a period row that has no successor (a merchant's period with a
  single churned customer who turns out to have ordered after all).
  Pre-hook and insert run in one transaction. When recompute_from_date is
  null (the landing planned no incremental build as of this date) every
  period is recomputed.

  `period_type`: day, week or month, or a SQL expression evaluating to
  'week' or 'month' (a column of a query serving both period types). A model using these macros also
  names int_periods_to_recompute in a `-- depends_on:` comment: dbt parses
  with is_incremental() false and would not see the ref otherwise.
#}

{#
  A condition: the day `date_expression` falls in a period of `period_type`
  that this build recomputes (true for every row outside incremental runs).
  Any day of a period says it, so the condition filters inputs by their own
  dates (an order in a recomputed week) as well as rows by their period start.
#}
{% macro in_periods_to_recompute(date_expression, period_type='day') -%}
    {%- if is_incremental() -%}
        {%- if period_type in ['day', 'week', 'month'] -%}
            {%- set period_type = "'" ~ period_type ~ "'" -%}
        {%- endif -%}
        {%- set recompute_from = '(select recompute_from_date from ' ~ ref('int_periods_to_recompute') ~ ')' -%}
        {%- if period_type == "'day'" -%}
            {%- set first_period_start = recompute_from -%}
        {%- else -%}
            {%- set first_period_start = period_start_of(period_type, recompute_from) -%}
        {%- endif -%}
        coalesce({{ date_expression }} >= {{ first_period_start }}, {{ recompute_from }} is null)
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{# Pre-hook: delete the rows whose period (`period_start_column`, of `period_type`) this build recomputes. #}
{% macro delete_periods_to_recompute(period_start_column, period_type='day') -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where {{ in_periods_to_recompute(period_start_column, period_type) }}
    {%- endif -%}
{%- endmacro %}
