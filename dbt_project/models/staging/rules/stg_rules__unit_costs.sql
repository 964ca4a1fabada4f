-- Default cost in CNY per consumed unit, per rulebook, service and variant (empty = any variant).
with

unit_costs as (
    {{ rule_rows('unit_costs', [
        'rulebook_id', 'service_code', 'variant', 'unit_cost', 'assumption',
    ]) }}
),

final as (
    select
        rulebook_id,
        service_code,
        variant,
        unit_cost,
        assumption,
        scenario_id
    from unit_costs
)

select * from final
