{{ per_customer_incremental(['customer_key']) }}
{#
  The next day each customer's stage changes if nothing new happens: no
  order, no interaction, no customer row after AS_OF_DATE. With the
  customer's facts frozen, the stage rule (macros/lifecycle.sql) can only
  change its answer on these days:
    * last activity + silent_after_days   (turns at_risk)
    * last activity + churned_after_days  (turns churned)
    * first purchase + silent_after_days  (a one-purchase customer stops being new)
    * loyal_until_date                    (falls below loyal_min_orders_365d)
  Each candidate after AS_OF_DATE is judged with the same rule; the first one
  whose stage differs from today's is the next change. Prospects (no
  purchase) and churned customers have none: only new activity moves them.
  The reactivated rule does not depend on the day, so it holds on a candidate
  exactly when it holds today (today's stage is reactivated); where today's
  stage is at_risk, only churned can follow. An incremental build uses this
  date to find the customers whose stage moves between two as-of dates
  (int_customers_to_recompute), and recomputes only those customers here.
  Nothing changes for the others: a candidate day that passes without a
  change of stage is skipped as of either date.
#}

with

customers as (

    select customer_key, silent_after_days, churned_after_days
    from {{ ref('int_customers_windowed') }} as windowed
    {{ join_customers_to_recompute('windowed.customer_key') }}

),

current_stages as (

    select customer_key, stage_code
    from {{ ref('int_customer_stage_intervals') }}
    where valid_to is null
        and {{ customers_to_recompute('customer_key') }}

),

facts as (

    select
        customer_key,
        count(case when is_purchase_day then 1 end) as purchase_days,
        max(activity_date) as last_activity_date,
        min(case when is_purchase_day then activity_date end) as first_purchase_date,
        max(case when is_purchase_day then activity_date end) as last_purchase_date,
        max(loyal_until_date) as loyal_until_date
    from {{ ref('int_activity_days_per_customer') }}
    where {{ customers_to_recompute('customer_key') }}
    group by customer_key

),

candidates as (

    select
        current_stages.customer_key,
        current_stages.stage_code,
        facts.purchase_days,
        facts.last_activity_date,
        facts.first_purchase_date,
        facts.last_purchase_date,
        facts.loyal_until_date,
        customers.silent_after_days,
        customers.churned_after_days,
        {{ values_as_rows([
            add_days('facts.last_activity_date', 'customers.silent_after_days'),
            add_days('facts.last_activity_date', 'customers.churned_after_days'),
            'case when facts.purchase_days = 1 then '
                ~ add_days('facts.first_purchase_date', 'customers.silent_after_days') ~ ' end',
            'facts.loyal_until_date'
        ]) }} as candidate_date
    from current_stages
    inner join customers
        on current_stages.customer_key = customers.customer_key
    inner join facts
        on current_stages.customer_key = facts.customer_key
    where current_stages.stage_code not in (
        {{ lifecycle_stage_code('prospect') }}, {{ lifecycle_stage_code('churned') }}
    )

),

judged as (

    select
        customer_key,
        candidate_date,
        stage_code,
        {{ lifecycle_stage_code_on(
            'candidate_date', 'purchase_days', 'last_activity_date', 'first_purchase_date', 'last_purchase_date',
            'case when stage_code = ' ~ lifecycle_stage_code('reactivated') ~ ' then last_purchase_date end',
            'loyal_until_date', 'silent_after_days', 'churned_after_days') }} as candidate_stage_code
    from candidates
    where candidate_date > {{ as_of_date() }}

)

select
    customer_key,
    min(candidate_date) as next_stage_change_date,
    {{ value_at_min('candidate_stage_code', 'candidate_date') }} as next_stage_code
from judged
where candidate_stage_code <> stage_code
group by customer_key
