-- Tier history: holder × maximal interval of constant tier, with the change that opened it and its reasons.
with

states as (
    select * from {{ ref('int_member__rating_states') }}
),

final as (
    {{ member_tier_history('states') }}
)

select * from final
