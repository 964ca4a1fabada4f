-- The value-added service catalogue (22 services in 5 groups), one row per service, as the seed states it.
with

services as (
    select * from {{ ref('services') }}
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
        is_no_show_counted,
        is_counted_by_quantity,
        is_variant_required
    from services
)

select * from final
