{#
  The fitted CLV models, one row per segment x model x parameter, with how
  many customers each fit scores. Parameters carry the papers' names: BG/NBD
  r, alpha, a, b (Fader, Hardie and Lee 2005); Gamma-Gamma p, q, gamma
  (Fader and Hardie 2013; pymc-marketing's v).
#}

with

fits as (

    select * from {{ ref('int_clv_fits') }}

),

standard_errors as (

    select segment, model, parameter, standard_error
    from {{ ref('int_clv_fit_covariances') }}
    where parameter = other_parameter

),

predictions as (

    select bg_nbd_segment, gamma_gamma_segment from {{ ref('int_clv_predictions') }}

),

scored as (

    select 'bg_nbd' as model, bg_nbd_segment as segment, count(*) as customers_scored
    from predictions
    where bg_nbd_segment is not null
    group by bg_nbd_segment

    union all

    select 'gamma_gamma' as model, gamma_gamma_segment as segment, count(*) as customers_scored
    from predictions
    where gamma_gamma_segment is not null
    group by gamma_gamma_segment

)

select
    ---------- ids
    cast(fits.segment as {{ dbt.type_string() }}) as segment,
    cast(fits.segment_level as {{ dbt.type_string() }}) as segment_level,
    cast(fits.model as {{ dbt.type_string() }}) as model,
    cast(fits.parameter as {{ dbt.type_string() }}) as parameter,

    ---------- numerics
    cast(fits.value as double) as value,
    cast(standard_errors.standard_error as double) as standard_error,
    cast(fits.time_unit as {{ dbt.type_string() }}) as time_unit,
    cast(fits.n_customers as {{ dbt.type_bigint() }}) as n_customers,
    cast(coalesce(scored.customers_scored, 0) as {{ dbt.type_bigint() }}) as customers_scored,
    cast(fits.log_likelihood as double) as log_likelihood,

    ---------- status and dates
    cast(fits.status as {{ dbt.type_string() }}) as status,
    cast(fits.fitted_as_of as date) as fitted_as_of

from fits
left join scored
    on fits.model = scored.model
    and fits.segment = scored.segment
left join standard_errors
    on fits.segment = standard_errors.segment
    and fits.model = standard_errors.model
    and fits.parameter = standard_errors.parameter
