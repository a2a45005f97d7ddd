{#
  The one "as of when" knob. Precedence: --vars '{"as_of_date": ...}', then the
  AS_OF_DATE environment variable, then today's date in UTC (the run's start).
  Returns a SQL date literal; a malformed value fails compilation with a message.
  Dagster and `make run` pass the environment variable (orchestration/dbt_args.py):
  a change of --vars makes dbt re-parse the whole project, and a change of an
  environment variable read while parsing re-parses every file that read it.
  So the variable is read only when dbt executes (`execute`): what dbt renders
  while parsing (refs, configs) never depends on the date, and tests' and
  sources' SQL that calls this macro is kept as Jinja and rendered at run time.
#}
{% macro as_of_date_string() -%}
    {%- set value = var('as_of_date', '') or (env_var('AS_OF_DATE', '') if execute else '') -%}
    {%- if not value -%}
        {%- set value = run_started_at.strftime('%Y-%m-%d') -%}
    {%- endif -%}
    {%- set value = value | string | trim -%}
    {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', value) -%}
        {{ exceptions.raise_compiler_error("AS_OF_DATE must be YYYY-MM-DD, got '" ~ value ~ "'") }}
    {%- endif -%}
    {%- do modules.datetime.datetime.strptime(value, '%Y-%m-%d') -%}
    {{- value -}}
{%- endmacro %}

{% macro as_of_date() -%}
    cast('{{ as_of_date_string() }}' as date)
{%- endmacro %}
