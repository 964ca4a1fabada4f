-- As-recorded chain, step 4: the rating slices of the recomputed coverages, cut by the as-recorded status
-- timeline; the same macro as int_rating__slices.
with

coverages as (
    select * from {{ ref('int_rating_as_recorded__coverages') }}
),

coverage_rulings as (
    select * from {{ ref('int_rating_as_recorded__coverage_rulings') }}
),

all_coverage_premiums as (
    select * from {{ ref('int_rating__coverage_premiums') }}
),

all_top_ups as (
    select * from {{ ref('int_rating__top_ups') }}
),

status_timeline as (
    select * from {{ ref('int_rating__coverage_status_timeline') }}
    where basis = 'as_recorded'
),

rating_exclusions as (
    select * from {{ ref('stg_rules__rating_exclusions') }}
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

final as (
    {{ rating_slices('coverage_rulings', 'coverage_premiums', 'top_ups', 'status_timeline', 'rating_exclusions') }}
)

select * from final
