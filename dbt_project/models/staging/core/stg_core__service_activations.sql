with

ranked as (
    {{ latest_rows('service_activations', ['holder_id', 'service_code']) }}
),

final as (
    select
        ranked.holder_id,
        ranked.service_code,
        ranked.activated_at,
        ranked._extract_date as extract_date,
        ranked._source_line as source_line
    from ranked
    where ranked._row_rank = 1
)

select * from final
