-- The as-recorded chain (int_rating_as_recorded__* → int_member_tier_history_as_recorded), step 1: the
-- coverages whose holders are recomputed as recorded. Only a holder with a status event recorded after its
-- effective date can differ from the effective history, so only those holders' coverages are kept (the var
-- rating_as_recorded_recompute_all keeps everyone, e.g. to test the chain end to end).
-- The chain is split into table models so that no engine has to plan it as one query (Spark inlines every
-- CTE reference; as a single query it spent over a minute in analysis on a 300-holder book).
{%- set recompute_all = var('rating_as_recorded_recompute_all', false) %}
with

coverages as (
    select * from {{ ref('int_rating__coverages') }}
),

status_events as (
    select * from {{ ref('int_rating__status_events') }}
),

recorded_late_holders as (
    select distinct holder_id
    from status_events
    where known_date > effective_date
),

final as (
    select coverages.*
    from coverages
    {%- if not recompute_all %}
        where exists (
            select 1
            from recorded_late_holders
            where recorded_late_holders.holder_id = coverages.holder_id
        )
    {%- endif %}
)

select * from final
