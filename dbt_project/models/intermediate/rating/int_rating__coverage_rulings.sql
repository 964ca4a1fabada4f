-- One row per coverage and rulebook that can apply to it (in force on or after the coverage's start):
-- the coverage kind, the policy-kind exclusion (group, under 12 months), the matching row of the
-- conversion table (slice kind, coefficient, window) and the single-premium row its top-ups take.
with

coverages as (
    select * from {{ ref('int_rating__coverages') }}
),

rulebooks as (
    select * from {{ ref('stg_rules__rulebooks') }}
),

coverage_kinds as (
    select * from {{ ref('stg_rules__coverage_kinds') }}
),

rating_coefficients as (
    select * from {{ ref('stg_rules__rating_coefficients') }}
),

rating_exclusions as (
    select * from {{ ref('stg_rules__rating_exclusions') }}
),

final as (
    {{ rating_coverage_rulings(
        'coverages', 'rulebooks', 'coverage_kinds', 'rating_coefficients', 'rating_exclusions'
    ) }}
)

select * from final
