-- Current state of every service use (whether its holder and beneficiary are known: int_core__service_usage_resolved).
with

ranked as (
    {{ latest_rows('service_usage', ['usage_id']) }}
),

final as (
    select
        ranked.usage_id,
        ranked.holder_id,
        ranked.beneficiary_id,
        ranked.beneficiary_relation,
        ranked.service_code,
        ranked.variant,
        ranked.service_date,
        ranked.quantity,
        ranked.status,
        ranked.vendor,
        ranked.cost_amount,
        ranked.updated_at,
        ranked._extract_date as extract_date,
        ranked._source_line as source_line
    from ranked
    where ranked._row_rank = 1
)

select * from final
