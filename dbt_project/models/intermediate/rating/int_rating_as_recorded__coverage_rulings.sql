-- As-recorded chain, step 3: the rulings (coverage kind, exclusion, conversion-table row per rulebook) of the
-- recomputed coverages; the same macro as int_rating__coverage_rulings.
with

coverages as (
    select * from {{ ref('int_rating_as_recorded__coverages') }}
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

final as (
    {{ rating_coverage_rulings('coverages', 'rulebooks', 'coverage_kinds', 'rating_coefficients', 'rating_exclusions') }}
)

select * from final
