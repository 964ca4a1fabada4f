-- Current state of every service use whose holder (and beneficiary, when named) is known.
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
        ranked._extract_date as extract_date
    from ranked
    inner join {{ ref('stg_core__customers') }} as customers
        on ranked.holder_id = customers.holder_id
    where
        ranked._row_rank = 1
        and (
            ranked.beneficiary_id is null
            or exists (
                select 1
                from {{ ref('stg_core__relatives') }} as relatives
                where relatives.relative_id = ranked.beneficiary_id
            )
        )
)

select * from final
