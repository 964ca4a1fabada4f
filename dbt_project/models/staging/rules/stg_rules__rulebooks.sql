-- Rulebooks, one row each: the handbook's (seeds/rating/rulebooks.csv) and those adopted with `vipwh rulebook
-- adopt`. The single access point to rulebook dates: a rulebook ends (exclusive) where the next one starts,
-- unless its own end is earlier. Each stored proposal of `vipwh scenario run` is a rulebook of its own under its
-- scenario_id (the rating models compute it as a ruleset beside the rulebooks in force).
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
        scenario_id,
        -- the rulebooks in force follow each other; a proposal (one rulebook of its own) follows none
        lead(effective_from) over (partition by scenario_id order by effective_from) as next_effective_from
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
        description,
        scenario_id
    from successors
)

select * from final
