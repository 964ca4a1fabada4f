-- Coverage kinds by coverage term per rulebook (long-term, one-year, under 12 months).
with

coverage_kinds as (
    {{ rule_rows('rating_coverage_kinds', [
        'rulebook_id', 'coverage_kind', 'term_months_lower_bound', 'term_months_upper_bound',
        'includes_whole_life', 'description',
    ]) }}
),

final as (
    select
        coalesce('scenario:' || scenario_id || '/', '') || rulebook_id || '/' || coverage_kind as coverage_kind_id,
        rulebook_id,
        coverage_kind,
        term_months_lower_bound,
        term_months_upper_bound,
        includes_whole_life,
        scenario_id
    from coverage_kinds
)

select * from final
