{#
  Order-independent aggregates of doubles. DuckDB aggregates in parallel and
  adds partial sums in whatever order its threads finish, so avg() or sum()
  of a double column can differ in the last bits between two builds of the
  same rows (seen on marts.clv_backtest_p_alive_deciles). A mart must give the
  same answer for the same input (an incremental build is compared with a full
  rebuild, EXCEPT ALL): these add the values as DECIMAL(38, 18), whose sums are
  exact integer arithmetic in any order, and return a double. 18 decimals keep
  probabilities and expected purchases far below any reported precision; the
  integer part has 20 digits.
#}
{% macro exact_sum(expression) -%}
    cast(sum(cast({{ expression }} as decimal(38, 18))) as double)
{%- endmacro %}

{% macro exact_avg(expression) -%}
    cast(avg(cast({{ expression }} as decimal(38, 18))) as double)
{%- endmacro %}
