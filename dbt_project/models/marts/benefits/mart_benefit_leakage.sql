-- Benefit leakage: one row per consumed use the insurer paid for although the rules did not entitle it
-- (leakage_kind = 'non_compliant'), with every failed rule and the cost.
with

benefit_usage as (
    select * from {{ ref('fct_benefit_usage') }}
),

non_compliant_uses as (
    select
        usage_id,
        'non_compliant' as leakage_kind,
        holder_id,
        beneficiary_id,
        beneficiary_relation,
        service_code,
        variant,
        service_date,
        entitlement_year,
        status,
        tier_code_at_service,
        consumed_quantity,
        non_compliance_reason,
        non_compliance_reasons,
        cost_amount,
        cost_basis
    from benefit_usage
    where not is_compliant
        and consumed_quantity > 0
),

final as (
    select
        usage_id || '|' || leakage_kind as leakage_id,
        usage_id,
        leakage_kind,
        holder_id,
        beneficiary_id,
        beneficiary_relation,
        service_code,
        variant,
        service_date,
        entitlement_year,
        status,
        tier_code_at_service,
        consumed_quantity,
        non_compliance_reason,
        non_compliance_reasons,
        cost_amount,
        cost_basis
    from non_compliant_uses
)

select * from final
