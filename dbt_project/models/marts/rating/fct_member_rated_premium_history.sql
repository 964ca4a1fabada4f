-- Rated premium history: holder × maximal interval of constant rated premium, days in the programme only.
with

states as (
    select * from {{ ref('int_member__rating_states') }}
),

final as (
    {{ member_rated_premium_history('states') }}
)

select * from final
