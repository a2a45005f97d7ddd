{{ per_customer_incremental(['customer_key']) }}
{#
  One row per customer with an interaction (visit, open, click, review,
  complaint) not after AS_OF_DATE, whatever the industry: the first and
  last interaction day, the complaints and the 5-star ratings. int_customer_tags
  reads it. Nothing in it moves with the date by itself: incremental, a daily
  build recomputes only the customers in int_customers_to_recompute
  (macros/incremental_lifecycle.sql).
#}

with

customers as (

    select customer_key, merchant_id, customer_id
    from {{ ref('int_customers_windowed') }} as windowed
    {{ join_customers_to_recompute('windowed.customer_key') }}

)

select
    customers.customer_key,
    min(interactions.occurred_date) as first_interaction_date,
    max(interactions.occurred_date) as last_interaction_date,
    count(case when interactions.interaction_type = 'complaint' then 1 end) as complaints,
    count(case when interactions.rating = 5 then 1 end) as five_star_ratings
from {{ ref('stg_raw__interactions') }} as interactions
inner join customers
    on interactions.merchant_id = customers.merchant_id
    and interactions.customer_id = customers.customer_id
where not interactions.is_after_as_of_date
group by customers.customer_key
