-- Tier history "as known when it happened": the same computation as fct_member_tier_history, except that
-- each status event takes effect at max(effective_date, date(recorded_at)), so a back-dated surrender
-- recorded late changes the tier from the day it was recorded. One query over the same macros, from the
-- coverages, their premium versions, top-ups and status events.
-- Only holders with a status event recorded after its effective date can differ from the effective history:
-- they are recomputed, the others' swept states are taken from int_member__rating_states (the var
-- rating_as_recorded_recompute_all recomputes everyone, e.g. to test the chain end to end).
{%- set recompute_all = var('rating_as_recorded_recompute_all', false) %}
with

all_coverages as (
    select * from {{ ref('int_rating__coverages') }}
),

all_status_events as (
    select * from {{ ref('int_rating__status_events') }}
),

all_coverage_premiums as (
    select * from {{ ref('int_rating__coverage_premiums') }}
),

all_top_ups as (
    select * from {{ ref('int_rating__top_ups') }}
),

effective_states as (
    select * from {{ ref('int_member__rating_states') }}
),

rulebooks as (
    select * from {{ ref('int_rules__rulebooks') }}
),

coverage_kinds as (
    select * from {{ ref('int_rules__coverage_kinds') }}
),

rating_coefficients as (
    select * from {{ ref('int_rules__rating_coefficients') }}
),

rating_exclusions as (
    select * from {{ ref('int_rules__rating_exclusions') }}
),

tier_thresholds as (
    select * from {{ ref('int_rules__tier_thresholds') }}
),

change_reasons as (
    select * from {{ ref('int_rules__change_reasons') }}
),

recorded_late_holders as (
    select distinct holder_id
    from all_status_events
    where known_date > effective_date
),

coverages as (
    select all_coverages.*
    from all_coverages
    {%- if not recompute_all %}
    where exists (
        select 1
        from recorded_late_holders
        where recorded_late_holders.holder_id = all_coverages.holder_id
    )
    {%- endif %}
),

status_events as (
    select all_status_events.*
    from all_status_events
    inner join coverages
        on all_status_events.coverage_id = coverages.coverage_id
),

coverage_premiums as (
    select all_coverage_premiums.*
    from all_coverage_premiums
    inner join coverages
        on all_coverage_premiums.coverage_id = coverages.coverage_id
),

top_ups as (
    select all_top_ups.*
    from all_top_ups
    inner join coverages
        on all_top_ups.coverage_id = coverages.coverage_id
),

coverage_rulings as (
    {{ rating_coverage_rulings('coverages', 'rulebooks', 'coverage_kinds', 'rating_coefficients', 'rating_exclusions') }}
),

status_timeline as (
    {{ rating_status_timeline('coverages', 'status_events', event_date_column='known_date') }}
),

slices as (
    {{ rating_slices('coverage_rulings', 'coverage_premiums', 'top_ups', 'status_timeline', 'rating_exclusions') }}
),

memberships as (
    {{ rating_memberships('coverage_rulings', 'status_timeline') }}
),

recomputed_states as (
    {{ member_rating_states(
        'slices', 'memberships', 'rulebooks', 'tier_thresholds', 'change_reasons', cutoff_date=as_of_date()
    ) }}
),

states as (
    select * from recomputed_states
    {%- if not recompute_all %}

    union all

    select effective_states.*
    from effective_states
    where not exists (
        select 1
        from recorded_late_holders
        where recorded_late_holders.holder_id = effective_states.holder_id
    )
    {%- endif %}
),

final as (
    {{ member_tier_history('states') }}
)

select * from final
