{{ per_customer_incremental(['customer_key']) }}
{#
  Lifecycle stage intervals per customer (customer_key, integer stage codes),
  from the start of their timeline up to AS_OF_DATE, derived from the
  activity timeline without a customer x day spine. The stage rule itself
  lives in one place, macros/lifecycle.sql (lifecycle_stage_code_on); this
  model only decides *where* to evaluate it. marts.customer_stage_history
  adds the ids and stage names; intermediate models read this one.

  Between two consecutive activity days d and n (or AS_OF_DATE + 1) nothing
  new is learned, so the stage can only change at these breakpoints:
    0. registration, before the first activity day (prospect)
    1. d itself (an activity day)
    2. d + silent_after_days                 (turns at_risk, once purchased)
    3. d + churned_after_days                (turns churned, once purchased)
    4. first purchase + silent_after_days    (new -> active, when an
       interaction keeps a one-purchase customer alive)
    5. loyal_until_date                      (drops below loyal_min_orders_in_window)
  At each breakpoint b the stage on b and on b - 1 are evaluated with the
  same rule; only breakpoints where they differ start an interval.
  Window passes: one over activity days (plain row facts where only
  purchases count), a second one only for customers whose interactions
  count (to carry the latest return from churn across interaction days),
  and one over the resulting intervals.
  Incremental: a daily build recomputes only the customers in
  int_customers_to_recompute (macros/incremental_lifecycle.sql); for every
  other customer no breakpoint falls between the two as-of dates, so their
  intervals are unchanged.
#}

with

customers as (

    select
        customer_key,
        registered_date,
        silent_after_days,
        churned_after_days,
        counts_interactions
    from {{ ref('int_customers_windowed') }} as windowed
    {{ join_customers_to_recompute('windowed.customer_key') }}

),

activity_days as (

    select
        activity_days.customer_key,
        activity_days.activity_date,
        activity_days.is_purchase_day,
        activity_days.loyal_until_date,
        customers.registered_date,
        customers.silent_after_days,
        customers.churned_after_days,
        coalesce(customers.counts_interactions, true) as counts_interactions
    from {{ ref('int_activity_days_per_customer') }} as activity_days
    inner join customers
        on activity_days.customer_key = customers.customer_key

),

-- Where interactions count, customers are often active every few days. Split
-- time into blocks of silent_after_days days; within a block two activity
-- days are less than silent_after_days apart, so an interaction-only day
-- strictly inside a block can change nothing (no silence reaches the window,
-- no return, no purchase). Keeping each block's first and last activity day
-- and every purchase day keeps every gap between blocks exact and yields the
-- same intervals from far fewer rows.
interacting_days as (

    select *
    from (
        select
            activity_days.*,
            activity_date = min(activity_date) over silence_block
                or activity_date = max(activity_date) over silence_block as is_block_edge
        from activity_days
        where counts_interactions
        window silence_block as (
            partition by
                customer_key,
                floor({{ days_between("cast('1970-01-01' as date)", 'activity_date') }} / silent_after_days)
        )
    ) as blocked
    where is_purchase_day or is_block_edge

),

-- pass 1: neighbours and running facts per activity day. Where only
-- purchases count, every activity day is a purchase day, so the running
-- facts are plain row facts (cheap); where interactions count they are
-- running aggregates over the purchase days.
neighboured as (

    select
        customer_key,
        activity_date,
        is_purchase_day,
        registered_date,
        silent_after_days,
        churned_after_days,
        counts_interactions,
        lag(activity_date) over by_day as previous_activity_date,
        lag(activity_date, 2) over by_day as second_previous_activity_date,
        lead(activity_date) over by_day as next_activity_date,
        first_value(activity_date) over by_day as first_purchase_date,
        row_number() over by_day as purchase_days,
        activity_date as last_purchase_date,
        lag(activity_date) over by_day as last_purchase_date_before,
        -- loyal_until_date never decreases from one purchase to the next
        loyal_until_date,
        lag(loyal_until_date) over by_day as loyal_until_date_before
    from activity_days
    where not counts_interactions
    window by_day as (partition by customer_key order by activity_date)

    union all

    select
        customer_key,
        activity_date,
        is_purchase_day,
        registered_date,
        silent_after_days,
        churned_after_days,
        counts_interactions,
        lag(activity_date) over by_day as previous_activity_date,
        lag(activity_date, 2) over by_day as second_previous_activity_date,
        lead(activity_date) over by_day as next_activity_date,
        -- running, not per customer: equal to the first purchase wherever it
        -- is used (from the first purchase day on)
        min(case when is_purchase_day then activity_date end) over through_day as first_purchase_date,
        count(case when is_purchase_day then 1 end) over through_day as purchase_days,
        max(case when is_purchase_day then activity_date end) over through_day as last_purchase_date,
        max(case when is_purchase_day then activity_date end) over before_day as last_purchase_date_before,
        max(loyal_until_date) over through_day as loyal_until_date,
        max(loyal_until_date) over before_day as loyal_until_date_before
    from interacting_days
    window
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
        neighboured.*,
        coalesce(
            neighboured.previous_activity_date
                < least(neighboured.registered_date, coalesce(neighboured.first_purchase_date, neighboured.registered_date)),
            true
        ) as is_first_day,
        neighboured.purchase_days - case when neighboured.is_purchase_day then 1 else 0 end as purchase_days_before,
        -- a return from churn: the customer had purchased and was churned on
        -- the day before this activity (more than churned_after_days of silence)
        case
            when neighboured.previous_activity_date >= neighboured.first_purchase_date
                and {{ days_between('neighboured.previous_activity_date', 'neighboured.activity_date') }}
                    > neighboured.churned_after_days
                then neighboured.activity_date
        end as return_date,
        -- the same for the previous activity day
        case
            when neighboured.second_previous_activity_date >= neighboured.first_purchase_date
                and {{ days_between('neighboured.second_previous_activity_date', 'neighboured.previous_activity_date') }}
                    > neighboured.churned_after_days
                then neighboured.previous_activity_date
        end as previous_return_date
    from neighboured
    where neighboured.activity_date
        >= least(neighboured.registered_date, coalesce(neighboured.first_purchase_date, neighboured.registered_date))

),

known as (

    -- only purchases count: every activity day is a purchase day, so a return
    -- before day d can matter only if it is the previous activity day
    select *, previous_return_date as latest_return_date_before
    from timeline
    where not counts_interactions

    union all

    -- interactions count: pass 2 carries the latest return across interaction days
    select
        *,
        max(return_date) over (
            partition by customer_key order by activity_date
            rows between unbounded preceding and 1 preceding
        ) as latest_return_date_before
    from timeline
    where counts_interactions

),

breakpoints as (

    {{ breakpoints_from('known', [
        "case when is_first_day and registered_date < activity_date then registered_date end",
        "activity_date",
        "case when purchase_days > 0 then " ~ add_days('activity_date', 'silent_after_days') ~ " end",
        "case when purchase_days > 0 then " ~ add_days('activity_date', 'churned_after_days') ~ " end",
        "case when purchase_days = 1 and first_purchase_date < activity_date and "
            ~ add_days('first_purchase_date', 'silent_after_days') ~ " > activity_date then "
            ~ add_days('first_purchase_date', 'silent_after_days') ~ " end",
        "case when loyal_until_date > activity_date and loyal_until_date < "
            ~ add_days('activity_date', 'silent_after_days')
            ~ " and not (purchase_days = 1 and loyal_until_date = "
            ~ add_days('first_purchase_date', 'silent_after_days') ~ ") then loyal_until_date end",
    ]) }}

),

evaluated as (

    select
        customer_key,
        breakpoint_kind,
        breakpoint_date,
        case
            when breakpoint_kind = 0 then {{ lifecycle_stage_code('prospect') }}
            -- silence reaches silent_after_days / churned_after_days after a
            -- purchase (only generated then): at_risk / churned by rules 2-3
            when breakpoint_kind = 2 then {{ lifecycle_stage_code('at_risk') }}
            when breakpoint_kind = 3 then {{ lifecycle_stage_code('churned') }}
            else {{ lifecycle_stage_code_on(
                'breakpoint_date', 'purchase_days', 'activity_date', 'first_purchase_date',
                'last_purchase_date', 'coalesce(return_date, latest_return_date_before)', 'loyal_until_date',
                'silent_after_days', 'churned_after_days') }}
        end as stage_code,
        case
            when breakpoint_kind = 0 then null
            -- the first activity day follows registration (prospect) or starts the timeline
            when breakpoint_kind = 1 and is_first_day then
                case when registered_date < activity_date then {{ lifecycle_stage_code('prospect') }} end
            -- on an activity day, the day before is judged on what was known before it
            when breakpoint_kind = 1 then {{ lifecycle_stage_code_on(
                add_days('breakpoint_date', -1), 'purchase_days_before', 'previous_activity_date',
                'first_purchase_date', 'last_purchase_date_before', 'latest_return_date_before',
                'loyal_until_date_before', 'silent_after_days', 'churned_after_days') }}
            -- the day before, the silence was one day shorter: new/active/loyal/
            -- reactivated before at_risk, at_risk before churned (silent < churned)
            when breakpoint_kind in (2, 3) then null
            -- other breakpoints between activity days: the day before is judged
            -- on the same knowledge
            else {{ lifecycle_stage_code_on(
                add_days('breakpoint_date', -1), 'purchase_days', 'activity_date', 'first_purchase_date',
                'last_purchase_date', 'coalesce(return_date, latest_return_date_before)', 'loyal_until_date',
                'silent_after_days', 'churned_after_days') }}
        end as previous_day_stage_code
    from breakpoints
    where breakpoint_date is not null
        and breakpoint_date < coalesce(next_activity_date, {{ add_days(as_of_date(), 1) }})

),

changes as (

    select customer_key, breakpoint_date as valid_from, stage_code
    from evaluated
    where previous_day_stage_code is null
        or previous_day_stage_code <> stage_code

),

-- customers without activity on their timeline are prospects since registration
prospects_only as (

    select customer_key, registered_date as valid_from, {{ lifecycle_stage_code('prospect') }} as stage_code
    from customers
    where customer_key not in (select customer_key from timeline where is_first_day)

),

intervals as (

    select
        customer_key,
        stage_code,
        lag(stage_code) over by_start as previous_stage_code,
        valid_from,
        lead(valid_from) over by_start as valid_to
    from (
        select customer_key, valid_from, stage_code from changes
        union all
        select customer_key, valid_from, stage_code from prospects_only
    ) as all_changes
    window by_start as (partition by customer_key order by valid_from)

)

select
    customer_key,
    stage_code,
    previous_stage_code,
    valid_from,
    valid_to
from intervals
