-- Every (recency, frequency) score pair 1..rfm_score_bins x 1..rfm_score_bins
-- (var, 5) falls in exactly one segment of seeds/rfm_segments.csv. Returns
-- the pairs that do not.
with scores as (
    {% for score in range(1, var('rfm_score_bins') | int + 1) %}
    select {{ score }} as score
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

grid as (
    select recency.score as recency_score, frequency.score as frequency_score
    from scores as recency
    cross join scores as frequency
)

select grid.recency_score, grid.frequency_score, count(segments.rfm_segment) as matching_segments
from grid
left join {{ ref('rfm_segments') }} as segments
    on grid.recency_score between segments.recency_score_min and segments.recency_score_max
    and grid.frequency_score between segments.frequency_score_min and segments.frequency_score_max
group by grid.recency_score, grid.frequency_score
having count(segments.rfm_segment) <> 1
