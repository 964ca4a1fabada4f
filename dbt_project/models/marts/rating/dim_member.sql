-- One row per holder (customer): tier and rated premium as of the as-of date (null when out of the
-- programme), since when the tier holds, the distance to the next tier, and descriptive attributes.
with

customers as (
    select * from {{ ref('stg_core__customers') }}
),

tier_history as (
    select * from {{ ref('fct_member_tier_history') }}
),

rated_premium_history as (
    select * from {{ ref('fct_member_rated_premium_history') }}
),

rulebooks as (
    select * from {{ ref('stg_rules__rulebooks') }}
    where scenario_id is null
),

tier_thresholds as (
    select * from {{ ref('stg_rules__tier_thresholds') }}
    where scenario_id is null
),

age_bands as (
    select * from {{ ref('stg_rules__member_age_bands') }}
),

valuation as (
    select
        {{ as_of_date() }} as as_of_date
),

rulebook_as_of as (
    select rulebooks.rulebook_id
    from rulebooks
    cross join valuation
    where
        rulebooks.effective_from <= valuation.as_of_date
        and (rulebooks.effective_until is null or rulebooks.effective_until > valuation.as_of_date)
),

current_tiers as (
    select
        holder_id,
        tier_code,
        tier_rank,
        valid_from as tier_since
    from tier_history
    where valid_to is null
),

current_premiums as (
    select
        holder_id,
        rated_premium
    from rated_premium_history
    where valid_to is null
),

aged as (
    select
        customers.*,
        extract(year from valuation.as_of_date) - extract(year from customers.birth_date)
        - case
            when
                extract(month from valuation.as_of_date) < extract(month from customers.birth_date)
                or (
                    extract(month from valuation.as_of_date) = extract(month from customers.birth_date)
                    and extract(day from valuation.as_of_date) < extract(day from customers.birth_date)
                )
                then 1
            else 0
        end as age
    from customers
    cross join valuation
),

final as (
    select
        aged.holder_id,
        current_tiers.tier_code,
        current_tiers.tier_rank,
        current_premiums.rated_premium,
        current_tiers.tier_since,
        current_tiers.holder_id is not null as is_member,
        thresholds.next_tier_code,
        case
            when current_tiers.holder_id is not null
                then thresholds.next_tier_lower_bound - current_premiums.rated_premium
        end as distance_to_next_tier,
        aged.gender,
        cast(aged.age as integer) as age,
        age_bands.age_band,
        aged.province,
        aged.city
    from aged
    left join current_tiers
        on aged.holder_id = current_tiers.holder_id
    left join current_premiums
        on aged.holder_id = current_premiums.holder_id
    left join rulebook_as_of
        on current_tiers.holder_id is not null
    left join tier_thresholds as thresholds
        on
            current_tiers.tier_code = thresholds.tier_code
            and rulebook_as_of.rulebook_id = thresholds.rulebook_id
    left join age_bands
        on
            aged.age >= age_bands.age_lower_bound
            and (age_bands.age_upper_bound is null or aged.age < age_bands.age_upper_bound)
)

select * from final
