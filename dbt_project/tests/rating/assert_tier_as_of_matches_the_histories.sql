-- tier_as_of(holder, day) gives the tier of the tier-history row holding that day (checked on the first and
-- the last day of rows) and the rated premium of the premium-history row holding it. Rows returned fail.
--
-- Which rows: those whose checked day is one of the 12 days on which most rows start or end (per kind of
-- check), up to 4 000 lookups a kind. They are fetched when the test runs and written into it as literal
-- rows. The macro's correctness does not depend on how many lookups are made, but its cost on Spark does.
-- Spark plans the correlated range predicate as a nested loop of the distinct days looked up × the whole
-- history, and it derives those days from the relation the lookups come from, ignoring filters. When every
-- row's own days were looked up, this test took 287 s of a 459 s Spark build at 100 000 holders. With a
-- few literal days it is linear in the history on every engine.
{% set picked_sql -%}
with

tier_history as (
    select * from {{ ref('fct_member_tier_history') }}
),

premium_history as (
    select * from {{ ref('fct_member_rated_premium_history') }}
),

lookups as (
    select holder_id, valid_from as checked_on, 'tier_code' as checked, tier_code as expected
    from tier_history

    union all

    select holder_id, {{ rating_add_days('valid_to', -1) }}, 'tier_code', tier_code
    from tier_history
    where valid_to is not null

    union all

    select holder_id, valid_from, 'rated_premium', cast(rated_premium as {{ dbt.type_string() }})
    from premium_history
),

day_counts as (
    select checked, checked_on, count(*) as lookups_that_day
    from lookups
    group by checked, checked_on
),

busiest_days as (
    select
        checked,
        checked_on,
        row_number() over (partition by checked order by lookups_that_day desc, checked_on) as day_rank
    from day_counts
),

picked as (
    select
        lookups.holder_id,
        lookups.checked_on,
        lookups.checked,
        lookups.expected,
        row_number() over (
            partition by lookups.checked order by lookups.checked_on, lookups.holder_id
        ) as pick_no
    from lookups
    inner join busiest_days
        on lookups.checked = busiest_days.checked
        and lookups.checked_on = busiest_days.checked_on
    where busiest_days.day_rank <= 12
)

select holder_id, cast(checked_on as {{ dbt.type_string() }}) as checked_on, checked, expected
from picked
where pick_no <= 4000
{%- endset %}

{#- An empty warehouse (sqlfluff's, when it lints this file) has no histories to pick from: no lookups. -#}
{% set histories_exist = execute
    and load_relation(ref('fct_member_tier_history')) is not none
    and load_relation(ref('fct_member_rated_premium_history')) is not none %}
{% set picked = run_query(picked_sql).rows if histories_exist else [] %}

with

lookups as (
    {%- if picked | length > 0 %}
        select holder_id, cast(checked_on as date) as checked_on, checked, expected
        from (
            values
            {%- for row in picked %}
                ('{{ row[0] }}', '{{ row[1] }}', '{{ row[2] }}', '{{ row[3] }}'){{ "," if not loop.last }}
            {%- endfor %}
        ) as picked_lookups (holder_id, checked_on, checked, expected)
    {%- else %}
        select
            cast(null as {{ dbt.type_string() }}) as holder_id,
            cast(null as date) as checked_on,
            cast(null as {{ dbt.type_string() }}) as checked,
            cast(null as {{ dbt.type_string() }}) as expected
        from (select 1 as no_lookups) as empty_history
        where 1 = 0
    {%- endif %}
),

checks as (
    select
        lookups.holder_id,
        lookups.checked_on,
        lookups.checked,
        lookups.expected,
        case
            when lookups.checked = 'tier_code'
                then {{ tier_as_of('lookups.holder_id', 'lookups.checked_on') }}
            else cast(
                {{ tier_as_of('lookups.holder_id', 'lookups.checked_on', 'rated_premium') }}
                as {{ dbt.type_string() }}
            )
        end as actual
    from lookups
)

select * from checks
where
    actual is null
    or actual <> expected
