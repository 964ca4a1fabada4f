-- Default cost in CNY per consumed unit, per rulebook, service and variant (empty = any variant).
with

unit_costs as (
    select
        rulebook_id,
        service_code,
        variant,
        unit_cost,
        assumption
    from {{ ref('unit_costs') }}
    union all
    -- the rulebooks adopted with `vipwh rulebook adopt`
    select
        rulebook_id,
        service_code,
        variant,
        unit_cost,
        assumption
    from {{ source('raw', 'adopted_unit_costs') }}
),

final as (
    select
        rulebook_id,
        service_code,
        variant,
        unit_cost,
        assumption
    from unit_costs
)

select * from final
