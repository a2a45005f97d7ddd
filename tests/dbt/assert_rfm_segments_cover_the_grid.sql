-- Every (recency, frequency) score pair 1..5 x 1..5 falls in exactly one
-- segment of seeds/rfm_segments.csv. Returns the pairs that do not.
with scores as (
    select 1 as score union all select 2 union all select 3 union all select 4 union all select 5
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
