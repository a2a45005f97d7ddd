{#
  The customers with rows new to an incremental build (macros/incremental_lifecycle.sql),
  one row per customer key (merchant_id, customer_id), from the usable rows of
  orders, interactions and customers:
    * has_new_rows: a row of theirs is in a raw file this build stages
      (raw._landed_files, not staged yet); first_new_row_date is the earliest
      date among those rows, has_new_registration says one is a customers row
      dated on or before AS_OF_DATE;
    * has_rows_dated_since_previous_build: a row of theirs staged earlier is
      dated in (a, b] (a the last successful build's as-of date, b this one's),
      so it did not count then and does now; has_registration_dated_since says
      one is a customers row.
  No row when the landing planned no incremental build as of this date
  (incremental_build_plan). A customer outside this list has, as of b, the
  rows they had as of a: int_customers_unioned and int_customers_windowed
  recompute only these customers in an incremental build, and
  int_customers_to_recompute adds the customers whose stage change falls due.
  It reads staging only, so the customer list itself can be incremental.
#}

with

plan as (

    {{ incremental_build_plan() }}

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

    select
        customer_rows.merchant_id,
        customer_rows.customer_id,
        min(customer_rows.row_date) as first_new_row_date,
        max(case when customer_rows.entity = 'customers' and customer_rows.row_date <= plan.as_of_date then 1 else 0 end)
            as has_new_registration
    from customer_rows
    cross join plan
    where customer_rows.source_file in (select path from new_files)
    group by customer_rows.merchant_id, customer_rows.customer_id

),

with_rows_dated_since as (

    select
        customer_rows.merchant_id,
        customer_rows.customer_id,
        max(case when customer_rows.entity = 'customers' then 1 else 0 end) as has_new_registration
    from customer_rows
    inner join plan
        on customer_rows.row_date > plan.previous_as_of_date
        and customer_rows.row_date <= plan.as_of_date
    group by customer_rows.merchant_id, customer_rows.customer_id

),

keyed as (

    select
        coalesce(with_new_rows.merchant_id, with_rows_dated_since.merchant_id) as merchant_id,
        coalesce(with_new_rows.customer_id, with_rows_dated_since.customer_id) as customer_id,
        with_new_rows.merchant_id is not null as has_new_rows,
        with_new_rows.first_new_row_date,
        coalesce(with_new_rows.has_new_registration, 0) = 1 as has_new_registration,
        with_rows_dated_since.merchant_id is not null as has_rows_dated_since_previous_build,
        coalesce(with_rows_dated_since.has_new_registration, 0) = 1 as has_registration_dated_since
    from with_new_rows
    full outer join with_rows_dated_since
        on with_new_rows.merchant_id = with_rows_dated_since.merchant_id
        and with_new_rows.customer_id = with_rows_dated_since.customer_id

)

select
    {{ stable_customer_key('merchant_id', 'customer_id') }} as customer_key,
    *
from keyed
