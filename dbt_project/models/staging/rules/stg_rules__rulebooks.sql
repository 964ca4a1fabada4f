-- Rulebooks, one row each: the handbook's (seeds/rating/rulebooks.csv) and those adopted with `vipwh rulebook
-- adopt`. The single access point to rulebook dates: a rulebook ends (exclusive) where the next one starts,
-- unless its own end is earlier; a scenario substitutes a proposed rulebook here (and in the other stg_rules__
-- models) without touching the rating models.
with

rulebooks as (
    {{ rule_rows('rulebooks', [
        'rulebook_id', 'effective_from', 'effective_until', 'description',
    ]) }}
),

successors as (
    select
        rulebook_id,
        effective_from,
        effective_until,
        description,
        lead(effective_from) over (order by effective_from) as next_effective_from
    from rulebooks
),

final as (
    select
        rulebook_id,
        effective_from,
        case
            when
                next_effective_from is not null
                and (effective_until is null or effective_until > next_effective_from)
                then next_effective_from
            else effective_until
        end as effective_until,
        description
    from successors
)

select * from final
