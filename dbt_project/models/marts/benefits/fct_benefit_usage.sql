-- One row per service use, whatever its status, judged against the entitlements of the holder's tier on
-- the service date. Each rule is its own verdict column; nothing is dropped. Rules: RULES.md §6; the
-- points it leaves open are settled in docs/decisions_benefits.md. The judgement is
-- int_benefit__usage_judged's, on the effective basis (the corrected tier history).
with

judged_usage as (
    select * from {{ ref('int_benefit__usage_judged') }}
),

final as (
    select
        usage_id,
        holder_id,
        beneficiary_id,
        beneficiary_relation,
        service_code,
        variant,
        service_date,
        entitlement_year,
        status,
        quantity,
        units_claimed,
        consumed_quantity,
        rulebook_id,
        tier_code_at_service,
        tier_rank_at_service,
        entitlement_variant,
        quota_pool,
        quota_kind,
        cast(quota as decimal(18, 2)) as quota,
        consumed_before,
        designated_relative_id,
        activated_at,
        is_entitled_tier,
        is_eligible_beneficiary,
        is_eligible_variant,
        is_in_waiting_period,
        is_within_quota,
        is_compliant,
        non_compliance_reason,
        non_compliance_reasons,
        vendor,
        reported_cost_amount,
        unit_cost,
        cost_amount,
        cost_basis
    from judged_usage
    where basis = 'effective'
)

select * from final
