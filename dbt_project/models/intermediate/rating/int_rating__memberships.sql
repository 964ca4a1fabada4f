-- Membership intervals: per coverage and rulebook, the maximal intervals in which the coverage puts its
-- holder in the programme (RULES §4), with the reason codes of the events that open and close them.
with

coverage_rulings as (
    select * from {{ ref('int_rating__coverage_rulings') }}
),

status_timeline as (
    select * from {{ ref('int_rating__coverage_status_timeline') }}
    where basis = 'effective'
),

final as (
    {{ rating_memberships('coverage_rulings', 'status_timeline') }}
)

select * from final
