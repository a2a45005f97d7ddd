{#
  One row: recompute_from_date, the earliest day whose periods an
  incremental build recomputes in the period models
  (macros/incremental_periods.sql); every period containing or following it
  is recomputed, every earlier one is final and kept. The one place that
  decides it. Between the last successful build as of a and this one as of b
  it is the earliest of
    * a + 1: periods complete by b but not by a, rows dated and stage
      changes due in (a, b];
    * the earliest row in the files this build stages
      (int_customers_to_recompute.first_new_row_date): a customer's stage and
      activity on a day depend only on their rows dated on or before it, so
      a late order dated a week back changes that week and later ones only;
    * for a customer whose segment or existence may change
      (may_change_segment: a registration counting for the first time, a
      customer unknown as of a), everything they contribute: the start of
      their stage timeline as of a (previous_timeline_start), their first
      interaction (int_interaction_totals_per_customer: ratings, and
      activity where interactions count) and their new rows.
  Customers not recomputed keep every row they had. Null when every
  customer is recomputed (the landing planned no incremental build as of
  this date): every period is recomputed.
#}

with

recompute as (

    select customer_key, is_full_recompute, may_change_segment, first_new_row_date, previous_timeline_start
    from {{ ref('int_customers_to_recompute') }}

),

affected_dates as (

    select first_new_row_date as affected_date
    from recompute
    union all
    select previous_timeline_start as affected_date
    from recompute
    where may_change_segment
    union all
    select interactions.first_interaction_date as affected_date
    from recompute
    inner join {{ ref('int_interaction_totals_per_customer') }} as interactions
        on recompute.customer_key = interactions.customer_key
    where recompute.may_change_segment

),

plan as (

    select {{ add_days('previous_as_of_date', 1) }} as day_after_previous_build
    from ({{ incremental_build_plan() }}) as incremental_plan

),

bounds as (

    select
        (select count(*) from recompute where is_full_recompute) > 0 as is_full_recompute,
        (select min(affected_date) from affected_dates) as first_affected_date,
        (select day_after_previous_build from plan) as day_after_previous_build

)

select
    case
        when not is_full_recompute and day_after_previous_build is not null
            then least(day_after_previous_build, coalesce(first_affected_date, day_after_previous_build))
    end as recompute_from_date
from bounds
