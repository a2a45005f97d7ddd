{#
  Parsing helpers used by staging. Raw tables hold text (see the landing step),
  so every cast here is a "try" cast: a value that does not parse becomes null
  and the staging model quarantines the row with a reason.
#}

{# Text -> timestamp in UTC (naive). Offsets in the text are honoured. #}
{% macro parse_timestamp_utc(column) -%}
    {{ return(adapter.dispatch('parse_timestamp_utc', 'customer_lifecycle')(column)) }}
{%- endmacro %}

{% macro default__parse_timestamp_utc(column) -%}
    {{ customer_lifecycle.try_cast('trim(' ~ column ~ ')', api.Column.translate_type('timestamp')) }}
{%- endmacro %}

{% macro duckdb__parse_timestamp_utc(column) -%}
    {#- fast path for the common 'YYYY-MM-DD HH:MM:SS' (no offset: UTC); anything
        else goes through the full parser, which honours offsets. A plain cast to
        timestamp would silently drop an offset, hence timestamptz. -#}
    coalesce(
        try_strptime(trim({{ column }}), '%Y-%m-%d %H:%M:%S'),
        timezone('UTC', try_cast(nullif(trim({{ column }}), '') as timestamptz))
    )
{%- endmacro %}

{# A cast that yields null instead of failing (dbt.safe_cast is a plain cast on some adapters). #}
{% macro try_cast(expression, data_type) -%}
    {{ return(adapter.dispatch('try_cast', 'customer_lifecycle')(expression, data_type)) }}
{%- endmacro %}

{% macro default__try_cast(expression, data_type) -%}
    {{ dbt.safe_cast(expression, data_type) }}
{%- endmacro %}

{% macro duckdb__try_cast(expression, data_type) -%}
    try_cast({{ expression }} as {{ data_type }})
{%- endmacro %}

{# Text -> decimal money. #}
{% macro parse_money(column) -%}
    {{ customer_lifecycle.try_cast('nullif(trim(' ~ column ~ "), '')", 'decimal(18, 2)') }}
{%- endmacro %}

{# Text -> integer. #}
{% macro parse_integer(column) -%}
    {{ customer_lifecycle.try_cast('nullif(trim(' ~ column ~ "), '')", api.Column.translate_type('bigint')) }}
{%- endmacro %}

{# An identifier: trimmed, case-folded, empty -> null. See DECISIONLOG (ids). #}
{% macro normalise_id(column) -%}
    nullif(lower(trim({{ column }})), '')
{%- endmacro %}

{# A category label: trimmed, lower-case, empty -> null. #}
{% macro normalise_label(column) -%}
    nullif(lower(trim({{ column }})), '')
{%- endmacro %}

{# A cheap fingerprint of several columns, for spotting exact duplicates. #}
{% macro row_fingerprint(columns) -%}
    {{ return(adapter.dispatch('row_fingerprint', 'customer_lifecycle')(columns)) }}
{%- endmacro %}

{% macro default__row_fingerprint(columns) -%}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- do parts.append("coalesce(cast(" ~ column ~ " as " ~ dbt.type_string() ~ "), '<null>')") -%}
        {%- if not loop.last -%}{%- do parts.append("'|'") -%}{%- endif -%}
    {%- endfor -%}
    {{ dbt.hash(dbt.concat(parts)) }}
{%- endmacro %}

{% macro duckdb__row_fingerprint(columns) -%}
    hash({{ columns | join(', ') }})
{%- endmacro %}

{# Personal data leaves staging only as a one-way hash. #}
{% macro hash_personal_data(expression) -%}
    {{ return(adapter.dispatch('hash_personal_data', 'customer_lifecycle')(expression)) }}
{%- endmacro %}

{% macro default__hash_personal_data(expression) -%}
    {{ dbt.hash(expression) }}
{%- endmacro %}

{% macro duckdb__hash_personal_data(expression) -%}
    sha256({{ expression }})
{%- endmacro %}
