{#
  Lifecycle stage intervals per customer, from the start of their timeline up
  to AS_OF_DATE, derived from the activity timeline without a customer x day
  spine. The stage rule itself lives in one place: macros/lifecycle.sql
  (lifecycle_stage_on); this model only decides *where* to evaluate it.

  Between two consecutive activity days d and n (or AS_OF_DATE + 1) nothing
  new is learned, so the stage can only change at these breakpoints:
    1. d itself (an activity day)
    2. d + silent_after_days        (turns at_risk)
    3. d + churned_after_days       (turns churned)
    4. first purchase + silent_after_days   (new -> active, when an
       interaction keeps a one-purchase customer alive)
    5. loyal_until_date             (drops below loyal_min_orders_365d)
  plus the registration day. At each breakpoint b the stage on b and on
  b - 1 are evaluated with the same rule, and only breakpoints where they
  differ start an interval. Two window passes over activity days and one
  over the resulting intervals; no row per customer per day.
#}

with

customers as (

    select
        customer_key,
        registered_date,
        silent_after_days,
        churned_after_days
    from {{ ref('int_customers_windowed') }}

),

activity_days as (

    select
        activity_days.customer_key,
        activity_days.activity_date,
        activity_days.is_purchase_day,
        activity_days.loyal_until_date,
        customers.registered_date,
        customers.silent_after_days,
        customers.churned_after_days
    from {{ ref('int_activity_days_per_customer') }} as activity_days
    inner join customers
        on activity_days.customer_key = customers.customer_key

),

-- pass 1: neighbours and running facts that need no other window result
neighboured as (

    select
        customer_key,
        activity_date,
        is_purchase_day,
        registered_date,
        silent_after_days,
        churned_after_days,
        lag(activity_date) over by_day as previous_activity_date,
        lead(activity_date) over by_day as next_activity_date,
        min(case when is_purchase_day then activity_date end) over by_customer as first_purchase_date,
        count(case when is_purchase_day then 1 end) over through_day as purchase_days,
        max(case when is_purchase_day then activity_date end) over through_day as last_purchase_date,
        max(case when is_purchase_day then activity_date end) over before_day as last_purchase_date_before,
        max(loyal_until_date) over through_day as loyal_until_date,
        max(loyal_until_date) over before_day as loyal_until_date_before
    from activity_days
    window
        by_customer as (partition by customer_key),
        by_day as (partition by customer_key order by activity_date),
        through_day as (
            partition by customer_key order by activity_date
            rows between unbounded preceding and current row
        ),
        before_day as (
            partition by customer_key order by activity_date
            rows between unbounded preceding and 1 preceding
        )

),

-- the timeline starts at registration, or at the first purchase if that is
-- earlier; interactions before that start are not part of it
timeline as (

    select
        *,
        least(registered_date, coalesce(first_purchase_date, registered_date)) as timeline_start_date,
        -- a return from churn: the customer had purchased and was churned on
        -- the day before this activity (more than churned_after_days of silence)
        case
            when previous_activity_date >= first_purchase_date
                and {{ days_between('previous_activity_date', 'activity_date') }} > churned_after_days
                then activity_date
        end as return_date
    from neighboured
    where activity_date >= least(registered_date, coalesce(first_purchase_date, registered_date))

),

-- pass 2: the latest return from churn known before each activity day
known as (

    select
        *,
        coalesce(previous_activity_date < timeline_start_date, true) as is_first_day,
        purchase_days - case when is_purchase_day then 1 else 0 end as purchase_days_before,
        max(return_date) over (
            partition by customer_key order by activity_date
            rows between unbounded preceding and 1 preceding
        ) as latest_return_date_before
    from timeline

),

breakpoint_kinds as (

    select 0 as breakpoint_kind
    union all select 1
    union all select 2
    union all select 3
    union all select 4
    union all select 5

),

breakpoints as (

    select
        known.*,
        breakpoint_kinds.breakpoint_kind,
        case breakpoint_kinds.breakpoint_kind
            when 0 then case when known.is_first_day and known.registered_date < known.activity_date
                then known.registered_date end
            when 1 then known.activity_date
            when 2 then {{ add_days('known.activity_date', 'known.silent_after_days') }}
            when 3 then {{ add_days('known.activity_date', 'known.churned_after_days') }}
            when 4 then case
                -- only inside a later (interaction) day's segment; on the purchase day itself it is kind 2
                when known.purchase_days = 1
                    and known.first_purchase_date < known.activity_date
                    and {{ add_days('known.first_purchase_date', 'known.silent_after_days') }} > known.activity_date
                    then {{ add_days('known.first_purchase_date', 'known.silent_after_days') }} end
            when 5 then case
                when known.loyal_until_date > known.activity_date
                    and known.loyal_until_date < {{ add_days('known.activity_date', 'known.silent_after_days') }}
                    and not (
                        known.purchase_days = 1
                        and known.loyal_until_date = {{ add_days('known.first_purchase_date', 'known.silent_after_days') }}
                    )
                    then known.loyal_until_date end
        end as breakpoint_date
    from known
    cross join breakpoint_kinds

),

evaluated as (

    select
        customer_key,
        breakpoint_kind,
        breakpoint_date,
        case
            when breakpoint_kind = 0 then 'prospect'
            else {{ lifecycle_stage_on(
                'breakpoint_date', 'purchase_days', 'activity_date', 'first_purchase_date',
                'last_purchase_date', 'coalesce(return_date, latest_return_date_before)', 'loyal_until_date',
                'silent_after_days', 'churned_after_days') }}
        end as lifecycle_stage,
        case
            when breakpoint_kind = 0 then null
            -- the first activity day follows registration (prospect) or starts the timeline
            when breakpoint_kind = 1 and is_first_day then
                case when registered_date < activity_date then 'prospect' end
            -- on an activity day, the day before is judged on what was known before it
            when breakpoint_kind = 1 then {{ lifecycle_stage_on(
                add_days('breakpoint_date', -1), 'purchase_days_before', 'previous_activity_date',
                'first_purchase_date', 'last_purchase_date_before', 'latest_return_date_before',
                'loyal_until_date_before', 'silent_after_days', 'churned_after_days') }}
            -- between activity days, the day before is judged on the same knowledge
            else {{ lifecycle_stage_on(
                add_days('breakpoint_date', -1), 'purchase_days', 'activity_date', 'first_purchase_date',
                'last_purchase_date', 'coalesce(return_date, latest_return_date_before)', 'loyal_until_date',
                'silent_after_days', 'churned_after_days') }}
        end as stage_on_previous_day
    from breakpoints
    where breakpoint_date is not null
        and breakpoint_date < coalesce(next_activity_date, {{ add_days(as_of_date(), 1) }})

),

changes as (

    select customer_key, breakpoint_date as valid_from, lifecycle_stage
    from evaluated
    where stage_on_previous_day is null
        or stage_on_previous_day <> lifecycle_stage

),

-- customers without activity on their timeline are prospects since registration
prospects_only as (

    select customer_key, registered_date as valid_from, 'prospect' as lifecycle_stage
    from customers
    where customer_key not in (select customer_key from timeline)

),

intervals as (

    select
        customer_key,
        lifecycle_stage,
        lag(lifecycle_stage) over by_start as previous_stage,
        valid_from,
        lead(valid_from) over by_start as valid_to
    from (
        select * from changes
        union all
        select * from prospects_only
    ) as all_changes
    window by_start as (partition by customer_key order by valid_from)

),

windowed_customers as (

    select customer_key, merchant_id, customer_id, industry
    from {{ ref('int_customers_windowed') }}

)

select
    ---------- ids
    windowed_customers.merchant_id,
    windowed_customers.customer_id,

    ---------- strings
    windowed_customers.industry,
    intervals.lifecycle_stage,
    intervals.previous_stage,

    ---------- booleans
    intervals.valid_to is null as is_current,

    ---------- dates
    intervals.valid_from,
    intervals.valid_to,
    {{ as_of_date() }} as as_of_date

from intervals
inner join windowed_customers
    on intervals.customer_key = windowed_customers.customer_key
