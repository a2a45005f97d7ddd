{#
  customer_key: the integer key the per-customer models join and partition on.
  It is a function of (merchant_id, customer_id) alone, so a customer keeps
  the same key in every build, full or incremental, whatever other customers
  arrive (a row_number over all customers shifted every later key when one
  customer was added). Definition: the first 16 hex digits of
  md5(<length of merchant_id> ':' merchant_id ':' customer_id), read as an
  unsigned 64-bit number, minus 2^63 (so it fits a signed bigint). The length
  prefix makes the input unambiguous whatever characters the ids hold.
  Two customers sharing a key would be merged downstream: the data test
  int_customers_windowed_customer_key_has_no_collision refuses the build if
  that ever happens (odds about 3 in 10^6 at 10M customers).
#}
{% macro stable_customer_key(merchant_id, customer_id) -%}
    {{ return(adapter.dispatch('stable_customer_key', 'customer_lifecycle')(merchant_id, customer_id)) }}
{%- endmacro %}

{% macro default__stable_customer_key(merchant_id, customer_id) -%}
    {{ exceptions.raise_compiler_error(
        "stable_customer_key has no implementation for the " ~ adapter.type() ~ " adapter: "
        ~ "add " ~ adapter.type() ~ "__stable_customer_key to macros/customer_key.sql, "
        ~ "computing the same signed 64-bit number from md5 as duckdb__stable_customer_key does."
    ) }}
{%- endmacro %}

{% macro duckdb__stable_customer_key(merchant_id, customer_id) -%}
    cast(
        cast(
            '0x' || left(md5(cast(length({{ merchant_id }}) as varchar) || ':' || {{ merchant_id }} || ':' || {{ customer_id }}), 16)
            as hugeint
        ) - 9223372036854775808
        as bigint
    )
{%- endmacro %}

{# Spark: conv() reads the 16 hex digits as an unsigned 64-bit number (as a decimal string). #}
{% macro spark__stable_customer_key(merchant_id, customer_id) -%}
    cast(
        cast(
            conv(left(md5(cast(length({{ merchant_id }}) as string) || ':' || {{ merchant_id }} || ':' || {{ customer_id }}), 16), 16, 10)
            as decimal(20, 0)
        ) - 9223372036854775808
        as bigint
    )
{%- endmacro %}
