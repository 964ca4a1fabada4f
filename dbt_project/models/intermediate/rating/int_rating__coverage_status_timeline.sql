-- Coverage status timeline from the transaction log: one row per status event on a coverage (applied, or
-- ignored with the reason) plus an initial in-force row; applied rows carry the status interval they open.
with

coverages as (
    select * from {{ ref('int_rating__coverages') }}
),

status_events as (
    select * from {{ ref('int_rating__status_events') }}
),

final as (
    {{ rating_status_timeline('coverages', 'status_events', event_date_column='effective_date') }}
)

select * from final
