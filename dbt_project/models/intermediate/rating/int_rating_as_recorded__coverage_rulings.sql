-- As-recorded chain, step 3: the rulings of the recomputed coverages. A ruling depends on the coverage and
-- the rules only, never on its status events, so these are int_rating__coverage_rulings' rows.
with

coverages as (
    select * from {{ ref('int_rating_as_recorded__coverages') }}
),

all_coverage_rulings as (
    select * from {{ ref('int_rating__coverage_rulings') }}
),

final as (
    select all_coverage_rulings.*
    from all_coverage_rulings
    inner join coverages
        on all_coverage_rulings.coverage_id = coverages.coverage_id
)

select * from final
