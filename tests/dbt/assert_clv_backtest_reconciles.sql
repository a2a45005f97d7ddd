{{ config(enabled=var('clv_backtest_enabled', true)) }}
{#
  The CLV backtest's counts reconcile: per segment, the scored customers of
  marts.clv_backtest (summed over calibration-purchase groups), of
  marts.clv_backtest_errors, of marts.clv_backtest_p_alive_deciles (summed
  over deciles) and of the last week of marts.clv_backtest_weekly are the
  same customers; and every backtest customer's purchase days split exactly
  into calibration and holdout (int_clv_fit_summary, as of the holdout end,
  the CLV fit date, counts frequency + 1 purchase days). Returns the rows that disagree.
#}

with

groups as (

    select segment_level, segment, sum(customers_scored) as customers_scored
    from {{ ref('clv_backtest') }}
    group by segment_level, segment

),

errors as (

    select segment_level, segment, customers_scored
    from {{ ref('clv_backtest_errors') }}
    where customers_scored > 0

),

deciles as (

    select segment_level, segment, sum(customers_scored) as customers_scored
    from {{ ref('clv_backtest_p_alive_deciles') }}
    group by segment_level, segment

),

last_weeks as (

    select segment_level, segment, customers as customers_scored
    from {{ ref('clv_backtest_weekly') }}
    where week_number = (select max(week_number) from {{ ref('clv_backtest_weekly') }})

),

segment_mismatches as (

    select
        coalesce(groups.segment_level, errors.segment_level) as first_key,
        coalesce(groups.segment, errors.segment) as second_key,
        'scored customers differ between the backtest marts' as problem
    from groups
    full outer join errors
        on groups.segment_level = errors.segment_level and groups.segment = errors.segment
    left join deciles
        on deciles.segment_level = coalesce(groups.segment_level, errors.segment_level)
        and deciles.segment = coalesce(groups.segment, errors.segment)
    left join last_weeks
        on last_weeks.segment_level = coalesce(groups.segment_level, errors.segment_level)
        and last_weeks.segment = coalesce(groups.segment, errors.segment)
    where coalesce(groups.customers_scored, 0) <> coalesce(errors.customers_scored, 0)
        or coalesce(groups.customers_scored, 0) <> coalesce(deciles.customers_scored, 0)
        or coalesce(groups.customers_scored, 0) <> coalesce(last_weeks.customers_scored, 0)

),

purchase_mismatches as (

    select
        backtest.merchant_id as first_key,
        backtest.customer_id as second_key,
        'calibration + holdout purchase days <> all purchase days' as problem
    from {{ ref('int_clv_backtest_summary') }} as backtest
    left join {{ ref('int_clv_fit_summary') }} as live
        on backtest.merchant_id = live.merchant_id
        and backtest.customer_id = live.customer_id
    where live.customer_id is null
        or backtest.frequency + backtest.holdout_purchases <> live.frequency

)

select * from segment_mismatches
union all
select * from purchase_mismatches
