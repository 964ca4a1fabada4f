-- Both histories cover exactly the days in the programme: per holder, the same first day, the same number of
-- days up to the as-of date, and the same open end. Rows returned fail.
with

tier_history as (
    select * from {{ ref('fct_member_tier_history') }}
),

rated_premium_history as (
    select * from {{ ref('fct_member_rated_premium_history') }}
),

tier_days as (
    select
        holder_id,
        min(valid_from) as first_day,
        sum({{ dbt.datediff('valid_from', 'coalesce(valid_to, ' ~ as_of_date() ~ ')', 'day') }}) as days,
        count(*) - count(valid_to) as open_rows
    from tier_history
    group by holder_id
),

premium_days as (
    select
        holder_id,
        min(valid_from) as first_day,
        sum({{ dbt.datediff('valid_from', 'coalesce(valid_to, ' ~ as_of_date() ~ ')', 'day') }}) as days,
        count(*) - count(valid_to) as open_rows
    from rated_premium_history
    group by holder_id
)

select
    coalesce(tier_days.holder_id, premium_days.holder_id) as holder_id,
    tier_days.first_day as tier_first_day,
    premium_days.first_day as premium_first_day,
    tier_days.days as tier_days,
    premium_days.days as premium_days,
    tier_days.open_rows as tier_open_rows,
    premium_days.open_rows as premium_open_rows
from tier_days
full outer join premium_days
    on tier_days.holder_id = premium_days.holder_id
where
    tier_days.holder_id is null
    or premium_days.holder_id is null
    or tier_days.first_day <> premium_days.first_day
    or tier_days.days <> premium_days.days
    or tier_days.open_rows <> premium_days.open_rows
