-- Benefit leakage: one row per consumed use that breaks at least one rule against the corrected tier
-- history, with its reasons and cost. leakage_kind tells the two causes apart:
--   non_compliant = the use broke a rule even on what was known when it happened (operational leakage);
--   tier_restated = it was compliant against the tier recorded at the time, and only the corrected
--                   history (a back-dated status event recorded late) makes it non-compliant.
with

benefit_usage as (
    select * from {{ ref('fct_benefit_usage') }}
),

-- the uses of holders whose tier history was restated, judged against the history as recorded at the time
usage_as_recorded as (
    select judged_usage.*
    from {{ ref('int_benefit__usage_judged') }} as judged_usage
    where judged_usage.basis = 'as_recorded'
),

leaking_uses as (
    select
        benefit_usage.usage_id,
        case
            when usage_as_recorded.is_compliant then 'tier_restated'
            else 'non_compliant'
        end as leakage_kind,
        benefit_usage.holder_id,
        benefit_usage.beneficiary_id,
        benefit_usage.beneficiary_relation,
        benefit_usage.service_code,
        benefit_usage.variant,
        benefit_usage.service_date,
        benefit_usage.entitlement_year,
        benefit_usage.status,
        benefit_usage.tier_code_at_service,
        usage_as_recorded.tier_code_at_service as tier_code_as_recorded,
        benefit_usage.consumed_quantity,
        benefit_usage.non_compliance_reason,
        benefit_usage.non_compliance_reasons,
        usage_as_recorded.non_compliance_reasons as non_compliance_reasons_as_recorded,
        benefit_usage.cost_amount,
        benefit_usage.cost_basis
    from benefit_usage
    left join usage_as_recorded
        on benefit_usage.usage_id = usage_as_recorded.usage_id
    where
        not benefit_usage.is_compliant
        and benefit_usage.consumed_quantity > 0
),

final as (
    select
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
        tier_code_as_recorded,
        consumed_quantity,
        non_compliance_reason,
        non_compliance_reasons,
        non_compliance_reasons_as_recorded,
        cost_amount,
        cost_basis
    from leaking_uses
)

select * from final
