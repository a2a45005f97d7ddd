{{ config(enabled=var('clv_backtest_enabled', true)) }}
{#
  The backtest runs for every segment whose calibration fit scored customers:
  each ok BG/NBD fit of int_clv_backtest_fits used by some customer has its
  segment in marts.clv_backtest_errors with a percent error or no holdout
  purchase at all. Returns the fits left out.
#}

with

used_fits as (

    select distinct bg_nbd_segment as segment
    from {{ ref('int_clv_backtest_predictions') }}
    where bg_nbd_segment is not null

)

select used_fits.segment
from used_fits
left join {{ ref('clv_backtest_errors') }} as errors
    on used_fits.segment = errors.segment
where errors.segment is null
    or (errors.percent_error_holdout_purchases is null and errors.actual_holdout_purchases > 0)
