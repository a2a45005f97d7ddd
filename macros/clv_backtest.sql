{#
  The CLV backtest's holdout length in whole days: var clv_backtest_holdout_days,
  or, left empty, one prediction horizon (var clv_horizon_months x 365.25 / 12
  days, rounded). The calibration period ends holdout_days before the holdout end.
#}
{% macro clv_backtest_holdout_days() -%}
    {%- set value = var('clv_backtest_holdout_days', '') -%}
    {%- if value is none or (value | string | trim) == '' -%}
        {%- set value = ((var('clv_horizon_months') | float) * 365.25 / 12) | round | int -%}
    {%- endif -%}
    {%- set text = value | string | trim -%}
    {%- if not modules.re.match('^[0-9]+$', text) or (text | int) < 1 -%}
        {{ exceptions.raise_compiler_error("var clv_backtest_holdout_days must be a whole number of days >= 1 (or empty for one clv_horizon_months horizon), got '" ~ value ~ "'") }}
    {%- endif -%}
    {{- text | int -}}
{%- endmacro %}

{#
  The backtest's last day: the CLV fit date (macro clv_fit_date), so the
  backtest moves, and is refitted, when the live fits are. The holdout is the
  holdout_days up to and including it.
#}
{% macro clv_backtest_holdout_end() -%}
    {{ clv_fit_date() }}
{%- endmacro %}

{#
  The last day of the calibration period, the holdout end - holdout days: the
  fit sees purchases up to and including it (its "as of").
#}
{% macro clv_backtest_calibration_end() -%}
    {{ add_days(clv_backtest_holdout_end(), -1 * (clv_backtest_holdout_days() | int)) }}
{%- endmacro %}

{#
  A roll-up over the fits' segment levels: `group by {{ clv_rollup_grouping_sets(
  'industry', 'merchant_id', by=[...]) }}` groups every customer ('all'), per
  industry and per industry and merchant, each also by the columns in `by`.
#}
{% macro clv_rollup_grouping_sets(industry, merchant_id, by=[]) -%}
    grouping sets (
        ({{ by | join(', ') }}),
        ({{ ([industry] + by) | join(', ') }}),
        ({{ ([industry, merchant_id] + by) | join(', ') }})
    )
{%- endmacro %}

{#
  Segment columns of such a roll-up, named like the fits' segments: level 'all',
  'industry' or 'merchant_id'; segment 'all', the industry, or 'industry/merchant_id'.
#}
{% macro clv_rollup_segment_level(industry, merchant_id) -%}
    case
        when grouping({{ industry }}) = 1 then 'all'
        when grouping({{ merchant_id }}) = 1 then 'industry'
        else 'merchant_id'
    end
{%- endmacro %}

{% macro clv_rollup_segment(industry, merchant_id) -%}
    case
        when grouping({{ industry }}) = 1 then 'all'
        when grouping({{ merchant_id }}) = 1 then {{ industry }}
        else {{ dbt.concat([industry, "'/'", merchant_id]) }}
    end
{%- endmacro %}
