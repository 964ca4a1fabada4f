-- As-recorded chain, step 5: the membership intervals of the recomputed coverages under the as-recorded
-- status timeline; the same macro as int_rating__memberships.
with

coverage_rulings as (
    select * from {{ ref('int_rating_as_recorded__coverage_rulings') }}
),

status_timeline as (
    select * from {{ ref('int_rating__coverage_status_timeline') }}
    where basis = 'as_recorded'
),

final as (
    {{ rating_memberships('coverage_rulings', 'status_timeline') }}
)

select * from final
