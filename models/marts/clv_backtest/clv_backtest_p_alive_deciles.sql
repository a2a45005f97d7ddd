{#
  P(alive) calibration of the CLV backtest: customers in tenths of P(alive) at
  the calibration end (decile 1 = [0, 0.1), ..., 10 = [0.9, 1]) against the
  share who bought in the holdout, and the share the model expected to buy
  (mean P(at least one holdout purchase) = P(alive) x P(a live customer buys
  within the holdout)). Grain: segment_level, segment, p_alive_decile.
#}

with

scored as (

    select * from {{ ref('int_clv_backtest_scored') }}
    where p_alive is not null

),

grouped as (

    select
        {{ clv_rollup_segment_level('industry', 'merchant_id') }} as segment_level,
        {{ clv_rollup_segment('industry', 'merchant_id') }} as segment,
        p_alive_decile,
        count(*) as customers_scored,
        {{ exact_avg('p_alive') }} as mean_p_alive,
        {{ exact_avg('holdout_purchase_probability') }} as predicted_share_buying,
        avg(case when has_holdout_purchase then 1.0 else 0.0 end) as actual_share_buying,
        min(calibration_end_date) as calibration_end_date,
        min(as_of_date) as as_of_date
    from scored
    group by {{ clv_rollup_grouping_sets('industry', 'merchant_id', by=['p_alive_decile']) }}

)

select
    ---------- ids
    cast(segment_level as {{ dbt.type_string() }}) as segment_level,
    cast(segment as {{ dbt.type_string() }}) as segment,
    cast(p_alive_decile as integer) as p_alive_decile,

    ---------- numerics
    cast(customers_scored as {{ dbt.type_bigint() }}) as customers_scored,
    cast(mean_p_alive as double) as mean_p_alive,
    cast(predicted_share_buying as double) as predicted_share_buying,
    cast(actual_share_buying as double) as actual_share_buying,

    ---------- dates
    cast(calibration_end_date as date) as calibration_end_date,
    cast(as_of_date as date) as as_of_date

from grouped
