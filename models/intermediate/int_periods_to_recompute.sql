{#
  One row: recompute_from_date, the earliest day whose periods an
  incremental build recomputes in the period models
  (macros/incremental_periods.sql); every period containing or following it
  is recomputed, every earlier one is final and kept.

  It is the earliest of
    * the day after the last successful build's as-of date a: periods
      complete by this build's date b but not by a, stage changes and rows
      dated in (a, b];
    * the earliest affected_from_date of the customers this build recomputes
      (int_customers_to_recompute: a late order, a registration, a customer
      whose industry or existence changes all their periods).
  Customers not recomputed keep every row they had, so nothing before that
  day can change. Null when every customer is recomputed (the landing
  planned no incremental build as of this date): every period is recomputed.
#}

with

recompute as (

    select
        max(case when is_full_recompute then 1 else 0 end) as is_full_recompute,
        min(affected_from_date) as first_affected_date
    from {{ ref('int_customers_to_recompute') }}

),

plan as (

    select {{ add_days('previous_as_of_date', 1) }} as day_after_previous_build
    from {{ source('raw', '_build_plan') }}
    where path = 'incremental'
        and as_of_date = {{ as_of_date() }}
        and previous_as_of_date is not null

),

bounds as (

    select
        coalesce(recompute.is_full_recompute, 0) = 1 as is_full_recompute,
        recompute.first_affected_date,
        (select day_after_previous_build from plan) as day_after_previous_build
    from recompute

)

select
    case
        when not is_full_recompute and day_after_previous_build is not null
            then least(day_after_previous_build, coalesce(first_affected_date, day_after_previous_build))
    end as recompute_from_date
from bounds
