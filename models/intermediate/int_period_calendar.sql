{#
  The reporting calendar: every week (Monday to Sunday, UTC) and every
  calendar month that is complete by AS_OF_DATE (its last day <= AS_OF_DATE),
  from the period of the earliest activity day on. Periods with no activity
  at all are included, so period-over-period comparisons never skip one.
#}

with

bounds as (

    select min(activity_date) as first_date
    from {{ ref('int_activity_days_per_customer') }}

),

digits as (

    {% for digit in range(10) %}
    select {{ digit }} as digit
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

day_offsets as (

    select
        d1.digit + 10 * d2.digit + 100 * d3.digit + 1000 * d4.digit + 10000 * d5.digit as day_offset
    from digits as d1
    cross join digits as d2
    cross join digits as d3
    cross join digits as d4
    cross join digits as d5

),

days as (

    select {{ add_days('bounds.first_date', 'day_offsets.day_offset') }} as calendar_date
    from bounds
    cross join day_offsets
    where {{ add_days('bounds.first_date', 'day_offsets.day_offset') }} <= {{ as_of_date() }}

),

periods as (

    select distinct 'week' as period_type, cast({{ dbt.date_trunc('week', 'calendar_date') }} as date) as period_start
    from days
    union all
    select distinct 'month' as period_type, cast({{ dbt.date_trunc('month', 'calendar_date') }} as date) as period_start
    from days

),

bounded as (

    select
        period_type,
        period_start,
        case period_type
            when 'week' then {{ add_days('period_start', 7) }}
            else cast({{ dbt.dateadd('month', 1, 'period_start') }} as date)
        end as next_period_start,
        case period_type
            when 'week' then {{ add_days('period_start', -7) }}
            else cast({{ dbt.dateadd('month', -1, 'period_start') }} as date)
        end as previous_period_start
    from periods

)

select
    period_type,
    period_start,
    {{ add_days('next_period_start', -1) }} as period_end,
    previous_period_start,
    next_period_start
from bounded
where next_period_start <= {{ add_days(as_of_date(), 1) }}
