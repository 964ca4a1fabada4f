-- The value-added service catalogue, one row per service.
with

services as (
    select * from {{ ref('stg_rules__services') }}
),

final as (
    select
        service_code,
        service_group,
        service_group_zh,
        name_zh,
        name_en,
        unit,
        beneficiary_scope,
        waiting_days,
        no_show_consumes,
        consumes_by_quantity,
        variant_required
    from services
)

select * from final
