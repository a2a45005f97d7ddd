{#
  The weekly customer-health dashboard, one row per complete week and
  industry (and 'all'): lifecycle flows and stocks, the M+1 repurchase
  trend, NPS and the top churn reason. The definition is
  int_customer_health_per_week.
#}

select * from {{ ref('int_customer_health_per_week') }}
