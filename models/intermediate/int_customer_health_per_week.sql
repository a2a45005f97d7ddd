{#
  The weekly customer-health dashboard: one row per complete week
  (Monday-Sunday, UTC) and industry, plus industry = 'all' for the whole
  business, from the first week with activity on.

    new_customers          customers whose first completed purchase was this week
                           (entered stage `new`)
    churned_customers      customers who entered `churned` this week (silence windows)
    reactivated_customers  customers who entered `reactivated` this week
    active_base            customers in an in_window stage (new, active, loyal,
                           reactivated) on week_end
    at_risk_customers      customers in at_risk on week_end
    m1_repurchase_*        the latest mature M+1 repurchase rate on week_end: the
                           cohort of the latest month M whose month M+1 was complete
                           by week_end (from int_repurchase_cohorts), the same for
                           M-1, and the change between them (the trend)
    nps                    100 x (promoters - detractors) / rated interactions this
                           week; the rating -> category mapping is
                           seeds/nps_rating_categories.csv (5 promoter, 4 passive, 1-3 detractor)
    top_churn_reason*      the complaint reason of most customers who churned this
                           week (int_churn_reasons_per_week, rank 1)
  marts.customer_health_weekly publishes it.
#}

with

calendar as (

    select period_start as week_start, period_end as week_end
    from {{ ref('int_period_calendar') }}
    where period_type = 'week'

),

industries as (

    select distinct industry from {{ ref('int_customers_windowed') }}
    union all
    select 'all' as industry

),

spine as (

    select calendar.week_start, calendar.week_end, industries.industry
    from calendar
    cross join industries

),

stage_counts as (

    select * from {{ ref('int_stage_count_changes') }}

),

---------- entries into new, churned and reactivated during the week

entries as (

    select
        stage_counts.industry,
        calendar.week_start,
        sum(case when stage_counts.lifecycle_stage = 'new' then stage_counts.customers_entered end) as new_customers,
        sum(case when stage_counts.lifecycle_stage = 'churned' then stage_counts.customers_entered end) as churned_customers,
        sum(case when stage_counts.lifecycle_stage = 'reactivated' then stage_counts.customers_entered end)
            as reactivated_customers
    from stage_counts
    inner join calendar
        on cast({{ dbt.date_trunc('week', 'stage_counts.change_date') }} as date) = calendar.week_start
    where stage_counts.lifecycle_stage in ('new', 'churned', 'reactivated')
    group by stage_counts.industry, calendar.week_start

),

---------- stage counts on week_end, from the running stage count (no customer x week spine)

-- a change dated d counts from the week containing d (on its week_end it has happened)
weekly_changes as (

    select
        industry,
        cast({{ dbt.date_trunc('week', 'change_date') }} as date) as week_start,
        sum(case when {{ stage_in_group('lifecycle_stage', 'in_window') }} then stage_count_change else 0 end)
            as active_base_change,
        sum(case when lifecycle_stage = 'at_risk' then stage_count_change else 0 end) as at_risk_change
    from stage_counts
    where {{ stage_in_group('lifecycle_stage', 'live') }}
    group by 1, 2

),

---------- NPS from ratings

ratings as (

    select * from {{ ref('int_nps_ratings_per_week') }}

),

---------- per industry, then 'all'

per_industry as (

    select
        spine.week_start,
        spine.week_end,
        spine.industry,
        coalesce(entries.new_customers, 0) as new_customers,
        coalesce(entries.churned_customers, 0) as churned_customers,
        coalesce(entries.reactivated_customers, 0) as reactivated_customers,
        coalesce(weekly_changes.active_base_change, 0) as active_base_change,
        coalesce(weekly_changes.at_risk_change, 0) as at_risk_change,
        coalesce(ratings.rated_interactions, 0) as rated_interactions,
        coalesce(ratings.promoters, 0) as promoters,
        coalesce(ratings.passives, 0) as passives,
        coalesce(ratings.detractors, 0) as detractors
    from spine
    left join entries
        on spine.industry = entries.industry and spine.week_start = entries.week_start
    left join weekly_changes
        on spine.industry = weekly_changes.industry and spine.week_start = weekly_changes.week_start
    left join ratings
        on spine.industry = ratings.industry and spine.week_start = ratings.week_start
    where spine.industry <> 'all'

),

with_all as (

    select * from per_industry
    union all
    select
        week_start,
        week_end,
        'all' as industry,
        sum(new_customers) as new_customers,
        sum(churned_customers) as churned_customers,
        sum(reactivated_customers) as reactivated_customers,
        sum(active_base_change) as active_base_change,
        sum(at_risk_change) as at_risk_change,
        sum(rated_interactions) as rated_interactions,
        sum(promoters) as promoters,
        sum(passives) as passives,
        sum(detractors) as detractors
    from per_industry
    group by week_start, week_end

),

-- changes before the first calendar week (none expected) are carried in
opening as (

    select
        industry,
        sum(active_base_change) as active_base_opening,
        sum(at_risk_change) as at_risk_opening
    from (
        select industry, week_start, active_base_change, at_risk_change from weekly_changes
        union all
        select 'all' as industry, week_start, active_base_change, at_risk_change from weekly_changes
    ) as all_changes
    where week_start < (select min(week_start) from calendar)
    group by industry

),

counted as (

    select
        with_all.*,
        coalesce(opening.active_base_opening, 0) + sum(with_all.active_base_change) over running as active_base,
        coalesce(opening.at_risk_opening, 0) + sum(with_all.at_risk_change) over running as at_risk_customers
    from with_all
    left join opening
        on with_all.industry = opening.industry
    window running as (
        partition by with_all.industry order by with_all.week_start
        rows between unbounded preceding and current row
    )

),

---------- the latest mature M+1 repurchase rate

m1_cohorts as (

    select industry, cohort_month, sum(cohort_customers) as cohort_customers, sum(returning_customers) as returning_customers
    from {{ ref('int_repurchase_cohorts') }}
    where months_since_first_order = 1
    group by industry, cohort_month
    union all
    select
        'all' as industry,
        cohort_month,
        sum(cohort_customers) as cohort_customers,
        sum(returning_customers) as returning_customers
    from {{ ref('int_repurchase_cohorts') }}
    where months_since_first_order = 1
    group by cohort_month

),

m1_rates as (

    select industry, cohort_month, 1.0 * returning_customers / cohort_customers as m1_repurchase_rate
    from m1_cohorts

),

with_cohort_months as (

    select
        counted.*,
        -- the latest month M with M + 1 complete by week_end
        cast({{ dbt.dateadd('month', -2, dbt.date_trunc('month', add_days('counted.week_end', 1))) }} as date)
            as m1_cohort_month
    from counted

),

churn_reasons as (

    select week_start, industry, complaint_reason, churned_customers
    from {{ ref('int_churn_reasons_per_week') }}
    where reason_rank = 1

)

select
    ---------- dates
    with_cohort_months.week_start,
    with_cohort_months.week_end,

    ---------- strings
    with_cohort_months.industry,

    ---------- lifecycle flows and stocks
    cast(with_cohort_months.new_customers as bigint) as new_customers,
    cast(with_cohort_months.churned_customers as bigint) as churned_customers,
    cast(with_cohort_months.reactivated_customers as bigint) as reactivated_customers,
    cast(with_cohort_months.active_base as bigint) as active_base,
    cast(with_cohort_months.at_risk_customers as bigint) as at_risk_customers,

    ---------- repurchase
    with_cohort_months.m1_cohort_month as m1_repurchase_cohort_month,
    cast(current_rate.m1_repurchase_rate as decimal(9, 6)) as m1_repurchase_rate,
    cast(previous_rate.m1_repurchase_rate as decimal(9, 6)) as m1_repurchase_rate_previous,
    cast(current_rate.m1_repurchase_rate - previous_rate.m1_repurchase_rate as decimal(9, 6)) as m1_repurchase_rate_change,

    ---------- NPS
    cast(with_cohort_months.rated_interactions as bigint) as rated_interactions,
    cast(with_cohort_months.promoters as bigint) as promoters,
    cast(with_cohort_months.passives as bigint) as passives,
    cast(with_cohort_months.detractors as bigint) as detractors,
    cast(case when with_cohort_months.rated_interactions > 0
        then 100.0 * (with_cohort_months.promoters - with_cohort_months.detractors) / with_cohort_months.rated_interactions
    end as decimal(6, 2)) as nps,

    ---------- churn reasons
    churn_reasons.complaint_reason as top_churn_reason,
    cast(churn_reasons.churned_customers as bigint) as top_churn_reason_customers

from with_cohort_months
left join m1_rates as current_rate
    on with_cohort_months.industry = current_rate.industry
    and with_cohort_months.m1_cohort_month = current_rate.cohort_month
left join m1_rates as previous_rate
    on with_cohort_months.industry = previous_rate.industry
    and cast({{ dbt.dateadd('month', -1, 'with_cohort_months.m1_cohort_month') }} as date) = previous_rate.cohort_month
left join churn_reasons
    on with_cohort_months.industry = churn_reasons.industry
    and with_cohort_months.week_start = churn_reasons.week_start
