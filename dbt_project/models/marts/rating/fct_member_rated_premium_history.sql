-- Rated premium history: holder × maximal interval of constant rated premium, days in the programme only.
with

member_states as (
    select * from {{ ref('int_member__rating_states') }}
    where basis = 'effective' and is_member and not is_scheduled
),

intervals as (
    {{ collapse_intervals('member_states', ['holder_id'], ['rated_premium'], [], 'state_from', 'state_until') }}
),

final as (
    select
        holder_id || '/' || cast(valid_from as {{ dbt.type_string() }}) as rated_premium_history_id,
        holder_id,
        valid_from,
        valid_until as valid_to,
        rated_premium
    from intervals
)

select * from final
