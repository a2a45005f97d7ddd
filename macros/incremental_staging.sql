{#
  Incremental staging of the entities that arrive as a growing folder of
  daily files (orders, customers, interactions). orchestration/incremental.py
  records every landed raw file in raw._landed_files, with is_staged true once
  a successful build staged it. An incremental run of a *_checked model parses
  and validates only the rows of the files not staged yet, and judges their
  keys against the rows already staged, so every row gets the quarantine
  reason a full build gives it:

    * the first usable row of a key in file order wins; raw row ids grow
      with the file's position in its folder, and the landing forces a full
      refresh when a new file would sort before a staged one, so a staged
      winner always precedes the new rows;
    * a later row is exact_duplicate when its content matches the winner's,
      else the entity's duplicate reason (quarantine_duplicate_keys).

  The models are incremental with dbt-duckdb's delete+insert on raw_row_id
  (not merge: DuckDB's MERGE has open internal-error bugs), so the rows of a
  file that a failed build had already staged are replaced, not doubled.
  When the landing was a full one (no file of the entity is staged), a
  pre-hook empties the table first: the run then stages every row, exactly as
  a table build would.
#}

{# The raw rows to stage in this run: all of them, or in an incremental run those of the new files. #}
{% macro raw_rows_to_stage(entity) -%}
    -- reads the ledger {{ source('raw', '_landed_files') }} (named here so dbt knows it at parse time)
    select * from {{ source('raw', entity) }}
    {%- if is_incremental() %}
    where _source_file in (
        select path from {{ source('raw', '_landed_files') }}
        where entity = '{{ entity }}' and not is_staged
    )
    {%- endif %}
{%- endmacro %}

{# Pre-hook: after a full landing, the staged rows of the entity are all staged again. #}
{% macro reset_staging_after_full_landing(entity) -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where not exists (
            select 1 from {{ source('raw', '_landed_files') }}
            where entity = '{{ entity }}' and is_staged
        )
    {%- endif -%}
{%- endmacro %}

{#
  CTE text defining `<validated_cte>_with_staged`: the rows being staged
  (is_already_staged false) and, in an incremental run, the usable rows
  already staged that hold one of their keys (is_already_staged true; only
  raw_row_id, the keys and content_fingerprint are filled). Feed it to
  quarantine_duplicate_keys and keep the rows whose is_already_staged is false.
#}
{% macro with_staged_keys(validated_cte, key_columns) -%}
{{ validated_cte }}_with_staged as (

    select *, false as is_already_staged
    from {{ validated_cte }}
    {%- if is_incremental() %}

    union all by name

    select
        staged.raw_row_id,
        {%- for key in key_columns %}
        staged.{{ key }},
        {%- endfor %}
        staged.content_fingerprint,
        true as is_already_staged
    from {{ this }} as staged
    where staged.quarantine_reason is null
        and staged.raw_row_id not in (select raw_row_id from {{ validated_cte }})
        and exists (
            select 1 from {{ validated_cte }} as new_rows
            where new_rows.row_error is null
            {%- for key in key_columns %}
                and new_rows.{{ key }} = staged.{{ key }}
            {%- endfor %}
        )
    {%- endif %}

)
{%- endmacro %}

{# The paths of the entity's raw files not staged yet (to stage in this run), and of those staged. #}
{% macro files_to_stage(entity) -%}
    select path from {{ source('raw', '_landed_files') }}
    where entity = '{{ entity }}' and not is_staged
{%- endmacro %}

{% macro files_staged(entity) -%}
    select path from {{ source('raw', '_landed_files') }}
    where entity = '{{ entity }}' and is_staged
{%- endmacro %}

{#
  Pre-hook of audit.orphan_orders: the orphans whose customer now has a clean
  row are orphans no more; when the orders are staged again in full (no
  orders file staged), every row goes.
#}
{% macro delete_orphan_orders_now_registered() -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where not exists ({{ files_staged('orders') }})
            or exists (
                select 1 from {{ ref('stg_raw__customers') }} as customers
                where customers.merchant_id = {{ this }}.merchant_id
                    and customers.customer_id = {{ this }}.customer_id
            )
    {%- endif -%}
{%- endmacro %}
