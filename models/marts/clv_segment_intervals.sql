{#
  Mean predicted CLV per customer segment with a 95% interval from the
  uncertainty of the fits that scored it. Grain: segment_level, segment.
#}

with

intervals as (

    select * from {{ ref('int_clv_segment_intervals') }}

)

select
    ---------- ids
    cast(segment_level as {{ dbt.type_string() }}) as segment_level,
    cast(segment as {{ dbt.type_string() }}) as segment,

    ---------- numerics
    cast(customers_scored as {{ dbt.type_bigint() }}) as customers_scored,
    cast(mean_predicted_clv as double) as mean_predicted_clv,
    cast(standard_error as double) as standard_error,
    cast(lower_95 as double) as lower_95,
    cast(upper_95 as double) as upper_95,
    cast(case when mean_predicted_clv <> 0
        then (upper_95 - lower_95) / 2 / abs(mean_predicted_clv)
    end as double) as relative_half_width,
    cast(fits_used as {{ dbt.type_bigint() }}) as fits_used

from intervals
