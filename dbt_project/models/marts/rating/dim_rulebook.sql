-- One row per rulebook with its effective date range.
with

rulebooks as (
    select * from {{ ref('stg_rules__rulebooks') }}
    where scenario_id is null
),

final as (
    select
        rulebook_id,
        effective_from,
        effective_until,
        description
    from rulebooks
)

select * from final
