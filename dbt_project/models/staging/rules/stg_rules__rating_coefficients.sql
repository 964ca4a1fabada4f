-- The rated-premium conversion table (定级保费折算标准) per rulebook, row for row.
with

coefficients as (
    {{ rule_rows('rating_coefficients', [
        'rulebook_id', 'rule_no', 'policy_type_zh', 'coverage_kind', 'payment_modes',
        'min_payment_years', 'max_payment_years', 'product_categories', 'slice_kind', 'base_zh',
        'coefficient', 'coefficient_per_payment_year', 'window_anchor', 'window_basis', 'window_years',
        'window_end_reason',
    ]) }}
),

final as (
    select
        coalesce('scenario:' || scenario_id || '/', '')
        || rulebook_id
        || '/'
        || cast(rule_no as {{ dbt.type_string() }}) as rating_rule_id,
        rulebook_id,
        rule_no,
        coverage_kind,
        payment_modes,
        min_payment_years,
        max_payment_years,
        product_categories,
        slice_kind,
        coefficient,
        coefficient_per_payment_year,
        window_anchor,
        window_basis,
        window_years,
        window_end_reason,
        scenario_id
    from coefficients
)

select * from final
