{#
  How far off the calibration fit was over the holdout, one row per segment
  (segment_level, segment), over the customers it scored:
    percent_error_holdout_purchases = 100 x (predicted total - actual total) / actual total
    mean_absolute_error_per_customer = mean of |predicted - actual| holdout purchases
    predicted / actual holdout buyers: sum of P(buy in the holdout) vs customers who bought
#}

with

scored as (

    select * from {{ ref('int_clv_backtest_scored') }}
    where predicted_holdout_purchases is not null

),

{#- the same aggregates for every level; see `grouped` #}
{%- set aggregates -%}
        count(*) as customers_scored,
        sum(holdout_purchases) as actual_holdout_purchases,
        {{ exact_sum('predicted_holdout_purchases') }} as predicted_holdout_purchases,
        {{ exact_avg('abs(predicted_holdout_purchases - holdout_purchases)') }} as mean_absolute_error_per_customer,
        avg(holdout_purchases) as mean_actual_holdout_purchases,
        count(case when has_holdout_purchase then 1 end) as actual_holdout_buyers,
        {{ exact_sum('holdout_purchase_probability') }} as predicted_holdout_buyers,
        {{ distinct_sorted_list('bg_nbd_segment', ', ') }} as bg_nbd_fit_segments,
        min(calibration_end_date) as calibration_end_date,
        min(as_of_date) as as_of_date,
        min(holdout_days) as holdout_days
{%- endset %}

-- The 'all' row is a plain aggregate, so it exists (customers_scored 0) even
-- when nobody was scored: a grouping set () gives that row on DuckDB but no
-- row on Spark over an empty input.
grouped as (

    select
        {{ clv_rollup_segment_level('industry', 'merchant_id') }} as segment_level,
        {{ clv_rollup_segment('industry', 'merchant_id') }} as segment,
        {{ aggregates }}
    from scored
    group by grouping sets ((industry), (industry, merchant_id))

    union all

    select
        'all' as segment_level,
        'all' as segment,
        {{ aggregates }}
    from scored

)

select
    ---------- ids
    cast(segment_level as {{ dbt.type_string() }}) as segment_level,
    cast(segment as {{ dbt.type_string() }}) as segment,

    ---------- holdout purchases, totals
    cast(customers_scored as {{ dbt.type_bigint() }}) as customers_scored,
    cast(actual_holdout_purchases as {{ dbt.type_bigint() }}) as actual_holdout_purchases,
    cast(predicted_holdout_purchases as double) as predicted_holdout_purchases,
    cast(case when actual_holdout_purchases > 0
        then 100.0 * (predicted_holdout_purchases - actual_holdout_purchases) / actual_holdout_purchases
    end as double) as percent_error_holdout_purchases,

    ---------- per customer
    cast(mean_absolute_error_per_customer as double) as mean_absolute_error_per_customer,
    cast(mean_actual_holdout_purchases as double) as mean_actual_holdout_purchases,

    ---------- who bought in the holdout
    cast(actual_holdout_buyers as {{ dbt.type_bigint() }}) as actual_holdout_buyers,
    cast(predicted_holdout_buyers as double) as predicted_holdout_buyers,

    ---------- the fits and dates
    cast(bg_nbd_fit_segments as {{ dbt.type_string() }}) as bg_nbd_fit_segments,
    cast(calibration_end_date as date) as calibration_end_date,
    cast(as_of_date as date) as as_of_date,
    cast(holdout_days as integer) as holdout_days

from grouped
