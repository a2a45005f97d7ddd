{#
  One row per backtest customer (int_clv_backtest_summary) with what the
  calibration fits predicted for the holdout (int_clv_backtest_predictions) and
  what happened, ready to aggregate per segment.

  calibration_repeat_purchases = frequency, capped at var
  clv_backtest_max_purchase_group (7: the groups 0, 1, ..., 6 and "7 or more").
  holdout_spend_per_purchase = holdout_value / holdout_purchases (null without
  a holdout purchase). p_alive_decile = 1 + floor(10 x p_alive), 10 for p_alive = 1.
#}

with

summary as (

    select * from {{ ref('int_clv_backtest_summary') }}

),

predictions as (

    select * from {{ ref('int_clv_backtest_predictions') }}

),

scored as (

    select
        ---------- ids
        summary.customer_key,
        summary.merchant_id,
        summary.customer_id,

        ---------- strings
        summary.industry,
        predictions.bg_nbd_segment,
        predictions.gamma_gamma_segment,
        predictions.prediction_status,
        predictions.time_unit,

        ---------- calibration
        summary.frequency,
        least(summary.frequency, {{ var('clv_backtest_max_purchase_group') }}) as calibration_repeat_purchases,
        summary.monetary_value,

        ---------- holdout: actual
        summary.holdout_purchases,
        summary.holdout_value,
        summary.holdout_purchases > 0 as has_holdout_purchase,
        cast(case when summary.holdout_purchases > 0
            then summary.holdout_value / summary.holdout_purchases
        end as double) as holdout_spend_per_purchase,

        ---------- holdout: predicted at the calibration end
        predictions.p_alive,
        least(cast(floor(10 * predictions.p_alive) as integer), 9) + 1 as p_alive_decile,
        predictions.predicted_holdout_purchases,
        predictions.holdout_purchase_probability,
        predictions.expected_avg_order_value,

        ---------- dates
        summary.first_purchase_date,
        summary.calibration_end_date,
        summary.as_of_date,
        summary.holdout_days

    from summary
    inner join predictions
        on summary.merchant_id = predictions.merchant_id
        and summary.customer_id = predictions.customer_id

)

select * from scored
