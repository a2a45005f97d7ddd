{#
  The CLV backtest's tracking plot per segment: cumulative repeat purchases
  week by week, actual and as the calibration fit expected (unconditional
  BG/NBD expectation summed over the segment's customers). Grain:
  segment_level, segment, week_number (<= 0 calibration, >= 1 holdout).
#}

with

tracking as (

    select * from {{ ref('int_clv_backtest_tracking') }}

)

select
    ---------- ids
    cast(segment_level as {{ dbt.type_string() }}) as segment_level,
    cast(segment as {{ dbt.type_string() }}) as segment,
    cast(week_number as integer) as week_number,

    ---------- strings
    cast(case when week_number <= 0 then 'calibration' else 'holdout' end as {{ dbt.type_string() }}) as period,

    ---------- numerics
    cast(customers as {{ dbt.type_bigint() }}) as customers,
    cast(actual_cumulative_repeat_purchases as {{ dbt.type_bigint() }}) as actual_cumulative_repeat_purchases,
    cast(expected_cumulative_repeat_purchases as double) as expected_cumulative_repeat_purchases,
    cast(time_unit as {{ dbt.type_string() }}) as time_unit,

    ---------- dates
    cast(week_end_date as date) as week_end_date,
    cast(calibration_end_date as date) as calibration_end_date

from tracking
