-- tier_as_of(holder, day) gives the tier of the tier-history row holding that day (checked on the first and
-- the last day of every row) and the rated premium of the premium-history row holding it. Rows returned fail.
with

tier_history as (
    select * from {{ ref('fct_member_tier_history') }}
),

rated_premium_history as (
    select * from {{ ref('fct_member_rated_premium_history') }}
),

checks as (
    select
        tier_history.holder_id,
        tier_history.valid_from as checked_on,
        'tier_code' as checked,
        tier_history.tier_code as expected,
        {{ tier_as_of('tier_history.holder_id', 'tier_history.valid_from') }} as actual
    from tier_history

    union all

    select
        tier_history.holder_id,
        {{ rating_add_days('tier_history.valid_to', -1) }} as checked_on,
        'tier_code' as checked,
        tier_history.tier_code as expected,
        {{ tier_as_of('tier_history.holder_id', rating_add_days('tier_history.valid_to', -1)) }} as actual
    from tier_history
    where tier_history.valid_to is not null

    union all

    select
        rated_premium_history.holder_id,
        rated_premium_history.valid_from as checked_on,
        'rated_premium' as checked,
        cast(rated_premium_history.rated_premium as {{ dbt.type_string() }}) as expected,
        cast(
            {{ tier_as_of('rated_premium_history.holder_id', 'rated_premium_history.valid_from', 'rated_premium') }}
            as {{ dbt.type_string() }}
        ) as actual
    from rated_premium_history
)

select * from checks
where actual is null
    or actual <> expected
