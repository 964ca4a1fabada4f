-- Tier history on each basis of the rating chain: holder × maximal interval of constant tier up to the as-of
-- date, days in the programme only, each with the tier change that opened it and its reasons.
with

member_states as (
    select * from {{ ref('int_member__rating_states') }}
    where is_member and not is_scheduled
),

intervals as (
    {{ collapse_intervals(
        'member_states', ['basis', 'holder_id'], ['tier_code', 'tier_rank'],
        ['rated_premium', 'event_reasons', 'rulebook_id'], 'state_from', 'state_until'
    ) }}
),

linked as (
    select
        intervals.*,
        case
            when
                lag(intervals.valid_until) over (
                    partition by intervals.basis, intervals.holder_id order by intervals.valid_from
                ) = intervals.valid_from
                then lag(intervals.tier_code) over (
                    partition by intervals.basis, intervals.holder_id order by intervals.valid_from
                )
        end as previous_tier_code,
        case
            when
                lag(intervals.valid_until) over (
                    partition by intervals.basis, intervals.holder_id order by intervals.valid_from
                ) = intervals.valid_from
                then lag(intervals.tier_rank) over (
                    partition by intervals.basis, intervals.holder_id order by intervals.valid_from
                )
        end as previous_tier_rank
    from intervals
),

final as (
    select
        basis,
        holder_id || '/' || cast(valid_from as {{ dbt.type_string() }}) as tier_history_id,
        holder_id,
        valid_from,
        valid_until,
        tier_code,
        tier_rank,
        rated_premium,
        previous_tier_code,
        case
            when previous_tier_code is null then 'join'
            when tier_rank > previous_tier_rank then 'upgrade'
            else 'downgrade'
        end as change_type,
        event_reasons as change_reason,
        rulebook_id
    from linked
)

select * from final
