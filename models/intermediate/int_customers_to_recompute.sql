{#
  The customers whose per-customer rows an incremental build recomputes
  (macros/incremental_lifecycle.sql); every other customer keeps the rows of
  the last build. Between the last successful build as of a and this one as
  of b (raw._build_plan, written by the landing), a customer's orders in
  sequence, activity days and stage intervals can only change if (the first
  two from int_customers_with_new_rows)
    * has_new_rows: an order, interaction or customer row of theirs came in a
      raw file this build stages (raw._landed_files, not staged yet);
    * has_rows_dated_since_previous_build: a row of theirs staged earlier is
      dated in (a, b], so it was after the as-of date then and counts now;
    * is_stage_change_due: their next stage change as of a
      (int_customer_next_stage_changes of the last build) falls in (a, b]:
      silence reaching at_risk or churned, the loyalty lapse, new turning active.
  When the landing planned no incremental build as of this date (a full
  landing, a hand-run dbt at another date, no earlier build), every customer
  is recomputed (is_full_recompute): the incremental models then equal a full
  build whatever state they were in.

  The last build's next stage changes are read without ref(): the table is
  downstream of the models this one feeds, and what is wanted is its state
  before this build, as `this` is for an incremental model.

  For the period models (int_periods_to_recompute, which turns these into
  the earliest affected day; macros/incremental_periods.sql):
    * first_new_row_date: their earliest row in the files this build stages;
    * may_change_segment: a registration of theirs counts for the first time
      (a new customers file, or one dated in (a, b]; a later row of a staged
      customer is a duplicate and changes nothing), so their industry may
      change; or they may have been unknown as of a (derived from orders
      only, none of them dated before both a + 1 and their new rows), so
      their older interactions start counting. Either moves all their periods;
    * previous_timeline_start: for a new registration, the start of their
      stage timeline as of a (the last build's intervals, read as they stood
      before this build, like the next stage changes).
#}

{%- set previous_next_changes = adapter.get_relation(
    database=this.database, schema=this.schema, identifier='int_customer_next_stage_changes') if execute else none -%}
{%- set previous_intervals = adapter.get_relation(
    database=this.database, schema=this.schema, identifier='int_customer_stage_intervals') if execute else none -%}

with

plan as (

    {{ incremental_build_plan() }}
        {%- if execute and previous_next_changes is none %}
        -- no earlier build of the next stage changes: every customer is recomputed
        and false
        {%- endif %}

),

-- rows in the files this build stages, rows dated in (a, b] (int_customers_with_new_rows),
-- as long as this model's plan holds
with_new_rows as (

    select
        new_rows.customer_key,
        new_rows.first_new_row_date,
        case when new_rows.has_new_registration then 1 else 0 end as has_new_registration
    from {{ ref('int_customers_with_new_rows') }} as new_rows
    cross join plan
    where new_rows.has_new_rows

),

with_rows_dated_since as (

    select
        new_rows.customer_key,
        case when new_rows.has_registration_dated_since then 1 else 0 end as has_new_registration
    from {{ ref('int_customers_with_new_rows') }} as new_rows
    cross join plan
    where new_rows.has_rows_dated_since_previous_build

),

previous_timelines as (

    {%- if previous_intervals is not none %}
    select customer_key, min(valid_from) as previous_timeline_start
    from {{ previous_intervals }}
    where customer_key in (
        select customer_key from with_new_rows where has_new_registration = 1
        union all
        select customer_key from with_rows_dated_since where has_new_registration = 1
    )
    group by customer_key
    {%- else %}
    select cast(null as {{ dbt.type_bigint() }}) as customer_key, cast(null as date) as previous_timeline_start
    where false
    {%- endif %}

),

stage_change_due as (

    {%- if previous_next_changes is not none %}
    select next_changes.customer_key
    from {{ previous_next_changes }} as next_changes
    inner join plan
        on next_changes.next_stage_change_date > plan.previous_as_of_date
        and next_changes.next_stage_change_date <= plan.as_of_date
    {%- else %}
    select cast(null as {{ dbt.type_bigint() }}) as customer_key
    where false
    {%- endif %}

),

flagged as (

    select
        customers.customer_key,
        customers.merchant_id,
        customers.customer_id,
        with_new_rows.customer_key is not null as has_new_rows,
        with_rows_dated_since.customer_key is not null as has_rows_dated_since_previous_build,
        stage_change_due.customer_key is not null as is_stage_change_due,
        fallback.is_full_recompute,
        with_new_rows.first_new_row_date,
        coalesce(with_new_rows.has_new_registration, 0) = 1
            or coalesce(with_rows_dated_since.has_new_registration, 0) = 1
            or (
                customers.is_derived_from_orders
                and coalesce(customers.registered_date >= least(
                    fallback.day_after_previous_build,
                    coalesce(with_new_rows.first_new_row_date, fallback.day_after_previous_build)
                ), false)
            ) as may_change_segment,
        previous_timelines.previous_timeline_start
    from {{ ref('int_customers_windowed') }} as customers
    cross join (
        select
            count(*) = 0 as is_full_recompute,
            {{ add_days('max(previous_as_of_date)', 1) }} as day_after_previous_build
        from plan
    ) as fallback
    left join with_new_rows
        on customers.customer_key = with_new_rows.customer_key
    left join with_rows_dated_since
        on customers.customer_key = with_rows_dated_since.customer_key
    left join stage_change_due
        on customers.customer_key = stage_change_due.customer_key
    left join previous_timelines
        on customers.customer_key = previous_timelines.customer_key

)

select *
from flagged
where is_full_recompute
    or has_new_rows
    or has_rows_dated_since_previous_build
    or is_stage_change_due
