{#
  Why customers churned, per complete week and industry (and 'all'): the
  complaint reasons of the customers who entered `churned` that week,
  counted and ranked. The definition is int_churn_reasons_per_week.
#}

select * from {{ ref('int_churn_reasons_per_week') }}
