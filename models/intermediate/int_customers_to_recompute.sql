{#
  The customers whose per-customer rows an incremental build recomputes
  (macros/incremental_lifecycle.sql); every other customer keeps the rows of
  the last build. Between the last successful build as of a and this one as
  of b (raw._build_plan, written by the landing), a customer's orders in
  sequence, activity days and stage intervals can only change if
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

  affected_from_date: the earliest day from which the customer's rows can
  differ from the last build's, for the period models
  (int_periods_to_recompute, macros/incremental_periods.sql). A customer's
  stage and activity on a day depend only on their rows dated on or before
  it, so new rows change nothing before the earliest of them, and rows
  dated since the last build or a stage change due nothing before a + 1.
  Their segment (industry) and whether they count at all depend on all of
  their rows, though: when a customers row of theirs counts for the first
  time (a new file, or a registration dated in (a, b]; a later row of a
  staged customer is a duplicate and changes nothing) or the customer was
  not known as of a (no order or registration dated <= a in the staged
  files; their older interactions start counting), the date is their
  earliest row of any kind. Null when every customer is recomputed.

  The last build's next stage changes are read without ref(): the table is
  downstream of the models this one feeds, and what is wanted is its state
  before this build, as `this` is for an incremental model.
#}

{%- set previous_next_changes = adapter.get_relation(
    database=this.database, schema=this.schema, identifier='int_customer_next_stage_changes') if execute else none -%}

with

plan as (

    select previous_as_of_date, as_of_date
    from {{ source('raw', '_build_plan') }}
    where path = 'incremental'
        and as_of_date = {{ as_of_date() }}
        and previous_as_of_date is not null
        {%- if execute and previous_next_changes is none %}
        -- no earlier build of the next stage changes: every customer is recomputed
        and false
        {%- endif %}

),

new_files as (

    select path
    from {{ source('raw', '_landed_files') }}
    where not is_staged

),

-- the usable rows of every dated entity, with the day that decides whether they count as of a date
customer_rows as (

    select 'orders' as entity, merchant_id, customer_id, source_file, ordered_date as row_date
    from {{ ref('stg_raw__orders') }}
    union all
    select 'interactions' as entity, merchant_id, customer_id, source_file, occurred_date as row_date
    from {{ ref('stg_raw__interactions') }}
    union all
    select 'customers' as entity, merchant_id, customer_id, source_file, cast(registered_at as date) as row_date
    from {{ ref('stg_raw__customers') }}

),

with_new_rows as (

    select distinct {{ stable_customer_key('merchant_id', 'customer_id') }} as customer_key
    from customer_rows
    where exists (select 1 from plan)
        and source_file in (select path from new_files)

),

with_rows_dated_since as (

    select distinct {{ stable_customer_key('customer_rows.merchant_id', 'customer_rows.customer_id') }} as customer_key
    from customer_rows
    inner join plan
        on customer_rows.row_date > plan.previous_as_of_date
        and customer_rows.row_date <= plan.as_of_date

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
        fallback.is_full_recompute
    from {{ ref('int_customers_windowed') }} as customers
    cross join (select count(*) = 0 as is_full_recompute from plan) as fallback
    left join with_new_rows
        on customers.customer_key = with_new_rows.customer_key
    left join with_rows_dated_since
        on customers.customer_key = with_rows_dated_since.customer_key
    left join stage_change_due
        on customers.customer_key = stage_change_due.customer_key

),

to_recompute as (

    select *
    from flagged
    where is_full_recompute
        or has_new_rows
        or has_rows_dated_since_previous_build
        or is_stage_change_due

),

-- every row of the customers recomputed in an incremental build (none otherwise)
recomputed_rows as (

    select
        to_recompute.customer_key,
        customer_rows.row_date,
        new_files.path is not null as is_new_row,
        -- an order or a registration that counted as of the last build: the customer was known
        customer_rows.entity <> 'interactions'
            and new_files.path is null
            and customer_rows.row_date <= plan.previous_as_of_date as counted_before,
        -- a registration counting for the first time
        customer_rows.entity = 'customers'
            and customer_rows.row_date <= plan.as_of_date
            and (new_files.path is not null or customer_rows.row_date > plan.previous_as_of_date) as is_new_registration,
        plan.previous_as_of_date
    from customer_rows
    inner join to_recompute
        on customer_rows.merchant_id = to_recompute.merchant_id
        and customer_rows.customer_id = to_recompute.customer_id
    cross join plan
    left join new_files
        on customer_rows.source_file = new_files.path
    where not to_recompute.is_full_recompute

),

row_dates as (

    select
        customer_key,
        min(row_date) as first_row_date,
        min(case when is_new_row then row_date end) as first_new_row_date,
        max(case when counted_before then 1 else 0 end) as was_known,
        max(case when is_new_registration then 1 else 0 end) as has_new_registration,
        {{ add_days('min(previous_as_of_date)', 1) }} as day_after_previous_build
    from recomputed_rows
    group by customer_key

)

select
    to_recompute.customer_key,
    to_recompute.merchant_id,
    to_recompute.customer_id,
    to_recompute.has_new_rows,
    to_recompute.has_rows_dated_since_previous_build,
    to_recompute.is_stage_change_due,
    to_recompute.is_full_recompute,
    case
        when to_recompute.is_full_recompute then null
        when row_dates.has_new_registration = 1 or row_dates.was_known = 0
            then least(row_dates.day_after_previous_build, row_dates.first_row_date)
        else least(row_dates.day_after_previous_build, coalesce(row_dates.first_new_row_date, row_dates.day_after_previous_build))
    end as affected_from_date
from to_recompute
left join row_dates
    on to_recompute.customer_key = row_dates.customer_key
