{#-
  Tier history from swept states (rows of member_rating_states), days in the programme only: maximal
  intervals of constant tier, each with the tier change that opened it.
-#}
{% macro member_tier_history(states) -%}
with

member_states as (
    select * from {{ states }}
    where is_member
),

intervals as (
    {{ collapse_intervals(
        'member_states', ['holder_id'], ['tier_code', 'tier_rank'],
        ['rated_premium', 'event_reasons', 'rulebook_id'], 'state_from', 'state_until'
    ) }}
),

linked as (
    select
        intervals.*,
        case
            when lag(valid_to) over (partition by holder_id order by valid_from) = valid_from
                then lag(tier_code) over (partition by holder_id order by valid_from)
        end as previous_tier_code,
        case
            when lag(valid_to) over (partition by holder_id order by valid_from) = valid_from
                then lag(tier_rank) over (partition by holder_id order by valid_from)
        end as previous_tier_rank
    from intervals
)

select
    holder_id || '/' || cast(valid_from as {{ dbt.type_string() }}) as tier_history_id,
    holder_id,
    valid_from,
    valid_to,
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
{%- endmacro %}
