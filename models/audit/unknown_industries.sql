{#
  Customers whose industry is missing or not listed in seeds/industry_windows.csv.
  They are not dropped: the `default` windows apply to them.
#}

select
    merchant_id,
    customer_id,
    source_industry,
    industry_source,
    case when source_industry is null then 'missing' else 'not_in_industry_windows' end as issue,
    industry as applied_industry
from {{ ref('int_customers_unioned') }}
where source_industry is null or is_unknown_industry
