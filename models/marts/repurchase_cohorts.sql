{#
  Repurchase cohorts per industry, merchant, cohort month and month since
  the first order (M+1 .. M+repurchase_horizon_months), with counts and
  rates. The definition is int_repurchase_cohorts.
#}

select * from {{ ref('int_repurchase_cohorts') }}
