{#
  Models land in plain schemas named after their layer (staging, intermediate,
  marts, audit, config), not "<target schema>_<layer>": BI tools and the
  README refer to marts.customers, whatever the target.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
