{{ per_customer_incremental(['customer_key']) }}
{#
  One row per customer with a completed purchase as of AS_OF_DATE: the totals
  of their purchases (macro purchase_totals_per_customer: first and last
  purchase day, purchase days, completed orders, value and margin, in total
  and of the repeat days) and their rhythm (first and last order timestamps,
  gaps between purchase days, the median gap). int_customer_values,
  int_customer_lifecycles and int_customers_clv_summary read it, so the orders
  are summed once a build. Nothing in it moves with the date by itself:
  incremental, a daily build recomputes only the customers in
  int_customers_to_recompute (macros/incremental_lifecycle.sql).
#}

{{ purchase_totals_per_customer(as_of_date(), customers_to_recompute('customer_key'), with_rhythm=true) }}
