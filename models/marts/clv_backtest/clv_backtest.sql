{#
  The CLV backtest per segment and calibration-purchase group: what the
  calibration fit predicted for the holdout next to what customers did (Fader,
  Hardie and Lee 2005, figure 4). Grain: segment_level, segment,
  calibration_repeat_purchases. Customers without a BG/NBD fit are counted
  (customers) but not in the means.
#}

with

scored as (

    select * from {{ ref('int_clv_backtest_scored') }}

),

grouped as (

    select
        {{ clv_rollup_segment_level('industry', 'merchant_id') }} as segment_level,
        {{ clv_rollup_segment('industry', 'merchant_id') }} as segment,
        calibration_repeat_purchases,
        count(*) as customers,
        count(predicted_holdout_purchases) as customers_scored,
        avg(case when predicted_holdout_purchases is not null then holdout_purchases end)
            as actual_holdout_purchases,
        {{ exact_avg('predicted_holdout_purchases') }} as predicted_holdout_purchases,
        count(case when expected_avg_order_value is not null and has_holdout_purchase then 1 end)
            as holdout_buyers_scored,
        {{ exact_avg('case when expected_avg_order_value is not null then holdout_spend_per_purchase end') }}
            as actual_holdout_spend,
        {{ exact_avg('case when has_holdout_purchase then expected_avg_order_value end') }} as predicted_holdout_spend,
        {{ distinct_sorted_list('bg_nbd_segment', ', ') }} as bg_nbd_fit_segments,
        {{ distinct_sorted_list('gamma_gamma_segment', ', ') }} as gamma_gamma_fit_segments,
        min(time_unit) as time_unit,
        min(calibration_end_date) as calibration_end_date,
        min(as_of_date) as as_of_date,
        min(holdout_days) as holdout_days
    from scored
    group by {{ clv_rollup_grouping_sets('industry', 'merchant_id', by=['calibration_repeat_purchases']) }}

)

select
    ---------- ids
    cast(segment_level as {{ dbt.type_string() }}) as segment_level,
    cast(segment as {{ dbt.type_string() }}) as segment,
    cast(calibration_repeat_purchases as integer) as calibration_repeat_purchases,

    ---------- counts
    cast(customers as {{ dbt.type_bigint() }}) as customers,
    cast(customers_scored as {{ dbt.type_bigint() }}) as customers_scored,
    cast(holdout_buyers_scored as {{ dbt.type_bigint() }}) as holdout_buyers_scored,

    ---------- purchases per customer over the holdout
    cast(actual_holdout_purchases as double) as actual_holdout_purchases,
    cast(predicted_holdout_purchases as double) as predicted_holdout_purchases,

    ---------- spend per purchase day (reporting currency)
    cast(actual_holdout_spend as double) as actual_holdout_spend,
    cast(predicted_holdout_spend as double) as predicted_holdout_spend,

    ---------- the fits (int_clv_backtest_fits, fitted_as_of = calibration_end_date)
    cast(bg_nbd_fit_segments as {{ dbt.type_string() }}) as bg_nbd_fit_segments,
    cast(gamma_gamma_fit_segments as {{ dbt.type_string() }}) as gamma_gamma_fit_segments,
    cast(time_unit as {{ dbt.type_string() }}) as time_unit,

    ---------- dates
    cast(calibration_end_date as date) as calibration_end_date,
    cast(as_of_date as date) as as_of_date,
    cast(holdout_days as integer) as holdout_days

from grouped
