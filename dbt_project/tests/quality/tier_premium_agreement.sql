{{ config(severity='error', meta={'dagster': {'ref': {'name': 'fct_member_tier_history'}}}) }}
-- RULES §4: the rated premium of every tier-history row equals the rated-premium history's value on its
-- valid_from. Returns the tier rows with no premium row holding that day, or another premium.
with

tiers as (
    select
        holder_id,
        valid_from,
        tier_code,
        rated_premium
    from {{ ref('fct_member_tier_history') }}
),

premiums as (
    select
        holder_id,
        valid_from,
        valid_to,
        rated_premium
    from {{ ref('fct_member_rated_premium_history') }}
),

final as (
    select
        tiers.holder_id,
        tiers.valid_from,
        tiers.tier_code,
        tiers.rated_premium as tier_rated_premium,
        premiums.rated_premium as history_rated_premium,
        premiums.valid_from as history_valid_from,
        premiums.valid_to as history_valid_to
    from tiers
    left join premiums
        on
            tiers.holder_id = premiums.holder_id
            and tiers.valid_from >= premiums.valid_from
            and (premiums.valid_to is null or tiers.valid_from < premiums.valid_to)
    where
        premiums.holder_id is null
        or premiums.rated_premium <> tiers.rated_premium
)

select * from final
