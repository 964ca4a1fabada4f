-- Members and rated premium per tier at each month end (the as-of date for the current month),
-- read off the interval histories with a range join: never one row per holder per day. In a build by holder
-- only the months from the first one that can have changed are computed; the earlier months' rows are this
-- table's own, as the last build left them (macros/changed_from.sql).
{%- set month_from = changed_from('month') %}
with

tier_history as (
    select * from {{ ref('fct_member_tier_history') }}
),

premium_history as (
    select * from {{ ref('fct_member_rated_premium_history') }}
),

as_of as (
    select {{ as_of_date() }} as as_of_date
),

{%- set empty_book_date = "cast('2000-01-01' as date)" -%}
{#- dbt.date_spine queries its bounds while compiling: an empty warehouse (sqlfluff's, when it lints this file)
    has no history nor ledger to take them from -#}
{%- if execute and load_relation(ref('fct_member_tier_history')) is none -%}
    {%- set first_month = empty_book_date -%}
    {%- set end_month = dbt.dateadd("month", 1, empty_book_date) -%}
{%- else -%}
    {%- set first_month = "coalesce((select " ~ dbt.date_trunc("month", "min(valid_from)") ~ " from "
        ~ ref('fct_member_tier_history') ~ "), " ~ empty_book_date ~ ")" -%}
    {%- set end_month = dbt.dateadd("month", 1, "coalesce(" ~ as_of_date() ~ ", " ~ empty_book_date ~ ")") -%}
{%- endif %}

month_starts as (
    {{ dbt.date_spine("month", first_month, end_month) }}
),

month_ends as (
    select
        cast(month_starts.date_month as date) as month,
        case
            when {{ dbt.dateadd("day", -1, dbt.dateadd("month", 1, "month_starts.date_month")) }} > as_of.as_of_date
                then as_of.as_of_date
            else cast({{ dbt.dateadd("day", -1, dbt.dateadd("month", 1, "month_starts.date_month")) }} as date)
        end as snapshot_date
    from month_starts
    cross join as_of
    where month_starts.date_month <= as_of.as_of_date
    {%- if month_from %}
        and month_starts.date_month >= {{ month_from }}
    {%- endif %}
),

members_at_month_end as (
    select
        month_ends.month,
        month_ends.snapshot_date,
        tier_history.holder_id,
        tier_history.tier_code,
        tier_history.tier_rank
    from month_ends
    inner join tier_history
        on
            month_ends.snapshot_date >= tier_history.valid_from
            and (tier_history.valid_to is null or month_ends.snapshot_date < tier_history.valid_to)
),

with_premium as (
    select
        members_at_month_end.month,
        members_at_month_end.snapshot_date,
        members_at_month_end.tier_code,
        members_at_month_end.tier_rank,
        members_at_month_end.holder_id,
        premium_history.rated_premium
    from members_at_month_end
    left join premium_history
        on
            members_at_month_end.holder_id = premium_history.holder_id
            and members_at_month_end.snapshot_date >= premium_history.valid_from
            and (premium_history.valid_to is null or members_at_month_end.snapshot_date < premium_history.valid_to)
),

final as (
    select
        {{ dbt.concat(["cast(month as " ~ dbt.type_string() ~ ")", "'/'", "tier_code"]) }} as tier_month_id,
        month,
        snapshot_date,
        tier_code,
        tier_rank,
        count(*) as members,
        sum(rated_premium) as rated_premium
    from with_premium
    group by month, snapshot_date, tier_code, tier_rank
)

select * from final
{%- if month_from %}
union all
select * from {{ this }}
where month < {{ month_from }}
{%- endif %}
