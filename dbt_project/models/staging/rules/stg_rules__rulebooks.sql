-- Rulebooks in force, one row each. The single access point to rulebook dates: a scenario substitutes a
-- proposed rulebook here (and in the other stg_rules__ models) without touching the rating models.
with

rulebooks as (
    select * from {{ ref('rulebooks') }}
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
