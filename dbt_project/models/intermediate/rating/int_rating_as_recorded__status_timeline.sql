-- As-recorded chain, step 2: the status timeline of the recomputed coverages, each status event taking
-- effect at its known date, max(effective_date, date(recorded_at)), instead of its effective date.
with

coverages as (
    select * from {{ ref('int_rating_as_recorded__coverages') }}
),

all_status_events as (
    select * from {{ ref('int_rating__status_events') }}
),

status_events as (
    select all_status_events.*
    from all_status_events
    inner join coverages
        on all_status_events.coverage_id = coverages.coverage_id
),

final as (
    {{ rating_status_timeline('coverages', 'status_events', event_date_column='known_date') }}
)

select * from final
