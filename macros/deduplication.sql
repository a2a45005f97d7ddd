{#
  Duplicate handling shared by every staging *_checked model.

  Given a CTE with raw_row_id, row_error (null when the row is usable),
  content_fingerprint and the key columns, returns CTE text defining
  `deduplicated`: the same rows plus quarantine_reason. Among usable rows that
  share a key, the first in file order (lowest raw_row_id) wins; later ones are
  'exact_duplicate' when their content matches the winner's, else
  duplicate_reason. A row that fails validation never claims a key.

  Only keys that occur more than once are materialised, found among 64-bit
  hashes of the keys (repeated_key_hashes), so the common case costs one pass
  over integers and a join against a small table, not a window sort over every
  row's key strings.

  Named after what it does: it drops nothing (dbt-utils' `deduplicate`, with
  other arguments, returns one row per key); it flags the later rows of a
  repeated key with a quarantine reason.
#}
{% macro quarantine_duplicate_keys(validated_cte, key_columns, duplicate_reason) %}
{%- set keys = key_columns | join(', ') -%}
usable_key_hashes as (

    -- pre-filter on a 64-bit hash of the key: finding repeats among millions of
    -- integers is far cheaper than grouping millions of strings
    {{ customer_lifecycle.repeated_key_hashes(validated_cte, key_columns, 'row_error is null') }}

),

repeated_keys as (

    -- the exact check on the few candidate keys (hash collisions drop out here)
    select
        {{ keys }},
        min(raw_row_id) as first_raw_row_id,
        {{ customer_lifecycle.value_at_min('content_fingerprint', 'raw_row_id') }} as first_content_fingerprint
    from {{ validated_cte }}
    where row_error is null
      and {{ customer_lifecycle.row_fingerprint(key_columns) }} in (select key_hash from usable_key_hashes)
    group by {{ keys }}
    having count(*) > 1

),

deduplicated as (

    select
        {{ validated_cte }}.*,
        case
            when {{ validated_cte }}.row_error is not null then {{ validated_cte }}.row_error
            when repeated_keys.first_raw_row_id is null then null
            when {{ validated_cte }}.raw_row_id = repeated_keys.first_raw_row_id then null
            when {{ validated_cte }}.content_fingerprint = repeated_keys.first_content_fingerprint
                then 'exact_duplicate'
            else '{{ duplicate_reason }}'
        end as quarantine_reason
    from {{ validated_cte }}
    left join repeated_keys
        on {% for key in key_columns -%}
            {{ validated_cte }}.{{ key }} = repeated_keys.{{ key }}
            {% if not loop.last %}and {% endif %}
        {%- endfor %}
        and {{ validated_cte }}.row_error is null

)
{% endmacro %}

{#
  Query text: the 64-bit hashes of `key_columns` (column key_hash) that more
  than one row of `relation` matching `where` has, at least once each.
  Candidates only: the callers (quarantine_duplicate_keys, repeated_keys)
  check the keys themselves, so a hash collision is dropped there.
#}
{% macro repeated_key_hashes(relation, key_columns, where) -%}
    {{ return(adapter.dispatch('repeated_key_hashes', 'customer_lifecycle')(relation, key_columns, where)) }}
{%- endmacro %}

{% macro default__repeated_key_hashes(relation, key_columns, where) -%}
    select {{ customer_lifecycle.row_fingerprint(key_columns) }} as key_hash
    from {{ relation }}
    where {{ where }}
    group by 1
    having count(*) > 1
{%- endmacro %}

{#
  DuckDB: sort the hashes and keep each that equals the next one. At 10M rows
  with almost every key distinct, DuckDB's parallel sort beats its hash
  aggregate, whose table holds 10M groups (DECISIONLOG.md, build time).
  A key seen n times yields n - 1 rows; the caller only tests membership.
#}
{% macro duckdb__repeated_key_hashes(relation, key_columns, where) -%}
    select key_hash
    from (
        select
            key_hash,
            lead(key_hash) over (order by key_hash) as next_key_hash
        from (
            select {{ customer_lifecycle.row_fingerprint(key_columns) }} as key_hash
            from {{ relation }}
            where {{ where }}
        ) as matching_rows
    ) as sorted_hashes
    where key_hash = next_key_hash
{%- endmacro %}

{#
  The values of `key_columns` that more than one row of `relation` matching
  `where` shares, with that number of rows as `count_column`: the failing
  rows of the uniqueness tests (dbt's `unique`, `unique_combination_of_columns`).
  On DuckDB only the keys whose hash repeats are grouped
  (repeated_key_hashes): the same rows for less work on tables of millions of
  mostly distinct keys. Elsewhere, one group by over every key.
#}
{% macro repeated_keys(relation, key_columns, where, count_column) -%}
    {{ return(adapter.dispatch('repeated_keys', 'customer_lifecycle')(relation, key_columns, where, count_column)) }}
{%- endmacro %}

{% macro default__repeated_keys(relation, key_columns, where, count_column) -%}
    {%- set keys = key_columns | join(', ') -%}
    select {{ keys }}, count(*) as {{ count_column }}
    from {{ relation }}
    where {{ where }}
    group by {{ keys }}
    having count(*) > 1
{%- endmacro %}

{% macro duckdb__repeated_keys(relation, key_columns, where, count_column) -%}
    {%- set keys = key_columns | join(', ') -%}
    select {{ keys }}, count(*) as {{ count_column }}
    from {{ relation }}
    where ({{ where }})
      and {{ customer_lifecycle.row_fingerprint(key_columns) }} in (
        {{ customer_lifecycle.repeated_key_hashes(relation, key_columns, where) }}
      )
    group by {{ keys }}
    having count(*) > 1
{%- endmacro %}

{# The value of `value_column` on the row with the smallest `order_column`. #}
{% macro value_at_min(value_column, order_column) -%}
    {{ return(adapter.dispatch('value_at_min', 'customer_lifecycle')(value_column, order_column)) }}
{%- endmacro %}

{% macro default__value_at_min(value_column, order_column) -%}
    min_by({{ value_column }}, {{ order_column }})
{%- endmacro %}

{% macro duckdb__value_at_min(value_column, order_column) -%}
    arg_min({{ value_column }}, {{ order_column }})
{%- endmacro %}

{#
  `name as {{ materialized_cte() }} (...)`: compute a CTE once even when the
  optimiser would rather inline it. The staging *_checked models read their
  `validated` rows three times (quarantine_duplicate_keys); left to itself DuckDB sometimes
  materialises the raw source instead and parses (and hashes personal data)
  twice. Adapters without the keyword get plain CTE syntax.
#}
{% macro materialized_cte() -%}
    {{ return(adapter.dispatch('materialized_cte', 'customer_lifecycle')()) }}
{%- endmacro %}

{% macro default__materialized_cte() -%}{%- endmacro %}

{% macro duckdb__materialized_cte() -%}materialized{%- endmacro %}

{% macro postgres__materialized_cte() -%}materialized{%- endmacro %}
