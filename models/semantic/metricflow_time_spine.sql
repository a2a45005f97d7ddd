-- The day calendar MetricFlow joins for cumulative metrics, offsets and
-- filled gaps. Grain: one row per day (date_day). Published with the marts so
-- `mf query` against the published file finds it.
{{ config(materialized='table', schema='marts') }}

with days as (
    {{ day_series('2000-01-01', '2041-01-01', 'date_day') }}
)

select date_day from days
