{{ config(
    materialized=incremental_materialization(),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_periods_to_recompute('week_start', 'week') }}"
) }}
-- depends_on: {{ ref('int_periods_to_recompute') }}
{#
  Rated interactions per complete week (Monday-Sunday) and industry, split
  into promoters, passives and detractors by seeds/nps_rating_categories.csv.
  Only weeks with a rating have a row; marts.customer_health_weekly adds the
  empty weeks, the 'all' industry and the score.
  Incremental: a daily build recomputes only the weeks from
  int_periods_to_recompute's date on (macros/incremental_periods.sql).
#}

with

calendar as (

    select period_start as week_start
    from {{ ref('int_period_calendar') }}
    where period_type = 'week'

),

interactions as (

    select merchant_id, customer_id, occurred_date, rating
    from {{ ref('stg_raw__interactions') }}
    where rating is not null
        and {{ in_periods_to_recompute('occurred_date', 'week') }}

),

customers as (

    select merchant_id, customer_id, industry
    from {{ ref('int_customers_windowed') }}

),

categories as (

    select rating, nps_category
    from {{ ref('nps_rating_categories') }}

)

select
    customers.industry,
    calendar.week_start,
    count(*) as rated_interactions,
    count(case when categories.nps_category = 'promoter' then 1 end) as promoters,
    count(case when categories.nps_category = 'passive' then 1 end) as passives,
    count(case when categories.nps_category = 'detractor' then 1 end) as detractors
from interactions
inner join customers
    on interactions.merchant_id = customers.merchant_id
    and interactions.customer_id = customers.customer_id
inner join categories
    on interactions.rating = categories.rating
inner join calendar
    on cast({{ dbt.date_trunc('week', 'interactions.occurred_date') }} as date) = calendar.week_start
group by customers.industry, calendar.week_start
