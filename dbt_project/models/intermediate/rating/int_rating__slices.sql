-- Rating slices: one row per slice piece (coverage × base or top-up × rulebook, split where the premium
-- changes and cut to the counting status intervals and the coverage term); excluded slices kept with
-- their excluded_reason. Published as marts.fct_policy_rating.
with

coverage_rulings as (
    select * from {{ ref('int_rating__coverage_rulings') }}
),

coverage_premiums as (
    select * from {{ ref('int_rating__coverage_premiums') }}
),

top_ups as (
    select * from {{ ref('int_rating__top_ups') }}
),

status_timeline as (
    select * from {{ ref('int_rating__coverage_status_timeline') }}
    where basis = 'effective'
),

rating_exclusions as (
    select * from {{ ref('stg_rules__rating_exclusions') }}
),

final as (
    {{ rating_slices('coverage_rulings', 'coverage_premiums', 'top_ups', 'status_timeline', 'rating_exclusions') }}
)

select * from final
