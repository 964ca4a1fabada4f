-- Tier history "as known when it happened": the same computation as fct_member_tier_history, except that
-- each status event takes effect at max(effective_date, date(recorded_at)), so a back-dated surrender
-- recorded late changes the tier from the day it was recorded. One query over the same macros, from the
-- coverages, their premium versions, top-ups and status events, so its unit tests run end to end.
with

coverages as (
    select * from {{ ref('int_rating__coverages') }}
),

status_events as (
    select * from {{ ref('int_rating__status_events') }}
),

coverage_premiums as (
    select * from {{ ref('int_rating__coverage_premiums') }}
),

top_ups as (
    select * from {{ ref('int_rating__top_ups') }}
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

states as (
    {{ member_rating_states('slices', 'memberships', 'rulebooks', 'tier_thresholds', 'change_reasons', cutoff_date=as_of_date()) }}
),

final as (
    {{ member_tier_history('states') }}
)

select * from final
