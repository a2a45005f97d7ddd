{#
  The buy-till-you-die summary of a customer as of end_date, from their
  purchase days n (several orders on one day are one purchase), first purchase
  day F, last purchase day L (<= end_date) and the total value of the repeat
  purchase days (after F, up to end_date). One definition for the live
  summary (int_customers_clv_summary, end = AS_OF_DATE) and the backtest's
  (int_clv_backtest_summary, end = the calibration end):
    frequency      = n - 1 (repeat purchase days)
    recency_days   = L - F
    t_days         = end_date - F
    monetary_value = mean value of the repeat purchase days = repeat value / (n - 1);
                     null if n = 1
#}
{% macro btyd_summary_columns(purchase_days, first_purchase_date, last_purchase_date, end_date, repeat_value) -%}
    {{ purchase_days }} - 1 as frequency,
    {{ customer_lifecycle.days_between(first_purchase_date, last_purchase_date) }} as recency_days,
    {{ customer_lifecycle.days_between(first_purchase_date, end_date) }} as t_days,
    {{ customer_lifecycle.repeat_day_mean(repeat_value, purchase_days) }} as monetary_value
{%- endmacro %}

{# The mean of a total over the repeat purchase days: total / (purchase_days - 1); null without repeats. #}
{% macro repeat_day_mean(repeat_total, purchase_days) -%}
    cast(case when {{ purchase_days }} > 1
        then {{ repeat_total }} / ({{ purchase_days }} - 1)
    end as double)
{%- endmacro %}

{#
  The date the CLV fits see the data up to: the start of AS_OF_DATE's period
  under var clv_refit_every (day: AS_OF_DATE; week: the Monday of its ISO
  week; month: the first of its month). Between two period starts the fits'
  input does not move with the calendar, so the fit models can reuse their
  last result (orchestration/clv/memo.py); customers are still scored as of
  AS_OF_DATE.
#}
{% macro clv_fit_date() -%}
    {%- set every = var('clv_refit_every', 'week') | string | trim | lower -%}
    {%- if every == 'day' -%}
        {{ as_of_date() }}
    {%- elif every in ('week', 'month') -%}
        cast(date_trunc('{{ every }}', {{ as_of_date() }}) as date)
    {%- else -%}
        {{ exceptions.raise_compiler_error("var clv_refit_every must be day, week or month, got '" ~ every ~ "'") }}
    {%- endif -%}
{%- endmacro %}

{#
  Per customer_key, the totals of their completed purchases dated on or before
  end_date (a select statement, for a CTE): first and last purchase day,
  purchase days (several orders on one day are one purchase), completed
  orders, total value and margin, and value and margin of the repeat purchase
  days (after the first). One pass for the live summary
  (int_customers_clv_summary, end = AS_OF_DATE) and the fits' summary
  (int_clv_fit_summary, end = the fit date); btyd_summary_columns turns it
  into the model's inputs. int_purchase_totals_per_customer keeps them as of
  AS_OF_DATE for every reader, with `with_rhythm` (first and last order
  timestamps, gaps between purchase days and their median, the first return
  in a later month) and a `where` on
  the customers (those an incremental build recomputes), or a `join` that
  keeps only some (int_clv_fit_summary).
#}
{% macro purchase_totals_per_customer(end_date, where='true', with_rhythm=false, join='') -%}
    with

    orders as (

        select
            customer_key,
            order_number,
            ordered_date,
            is_last_order_of_day,
            amount_reporting,
            margin_reporting
            {%- if with_rhythm %},
            ordered_at,
            days_since_previous_order
            {%- endif %}
        from {{ ref('int_orders_sequenced_per_customer') }}
        {{- join }}
        where ordered_date <= {{ end_date }}
            and {{ where }}

    ),

    first_purchases as (

        select
            customer_key,
            ordered_date as first_purchase_date
        from orders
        where order_number = 1

    )

    select
        orders.customer_key,
        min(first_purchases.first_purchase_date) as first_purchase_date,
        max(orders.ordered_date) as last_purchase_date,
        count(case when orders.is_last_order_of_day then 1 end) as purchase_days,
        count(*) as completed_orders,
        sum(orders.amount_reporting) as total_value_reporting,
        sum(orders.margin_reporting) as total_margin_reporting,
        sum(case when orders.ordered_date > first_purchases.first_purchase_date
            then orders.amount_reporting end) as repeat_value_reporting,
        sum(case when orders.ordered_date > first_purchases.first_purchase_date
            then orders.margin_reporting end) as repeat_margin_reporting
        {%- if with_rhythm %},
        min(orders.ordered_at) as first_order_at,
        max(orders.ordered_at) as last_order_at,
        -- gaps between distinct purchase days (same-day orders are one occasion)
        count(case when orders.days_since_previous_order > 0 then 1 end) as purchase_gaps,
        {{ median('case when orders.days_since_previous_order > 0 then orders.days_since_previous_order end') }}
            as median_gap_days,
        -- the first order in a month after the first purchase's month: the first return (int_repurchase_cohorts)
        min(case when {{ dbt.date_trunc('month', 'orders.ordered_date') }}
            > {{ dbt.date_trunc('month', 'first_purchases.first_purchase_date') }} then orders.ordered_date end)
            as first_return_date
        {%- endif %}
    from orders
    inner join first_purchases
        on orders.customer_key = first_purchases.customer_key
    group by orders.customer_key
{%- endmacro %}
