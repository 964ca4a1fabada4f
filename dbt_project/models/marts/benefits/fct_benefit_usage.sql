-- One row per service use, whatever its status, judged against the entitlements of the holder's tier on
-- the service date. Each rule is its own verdict column; nothing is dropped. Rules: RULES.md §6; the
-- points it leaves open are settled in docs/decisions_benefits.md.
with

service_usage as (
    select * from {{ ref('stg_core__service_usage') }}
),

-- The same uses, read again (no large CTE is referenced twice): the macro judges the uses of
-- limited-quota services on the first read, computes their quota positions on the second, and finds each
-- year's designated relatives on the third.
usage_for_quota as (
    select * from {{ ref('stg_core__service_usage') }}
),

usage_for_positions as (
    select * from {{ ref('stg_core__service_usage') }}
),

usage_for_designation as (
    select * from {{ ref('stg_core__service_usage') }}
),

relatives as (
    select * from {{ ref('stg_core__relatives') }}
),

service_activations as (
    select * from {{ ref('stg_core__service_activations') }}
),

services as (
    select * from {{ ref('stg_rules__services') }}
),

beneficiary_scopes as (
    select * from {{ ref('stg_rules__beneficiary_scopes') }}
),

entitlements as (
    select * from {{ ref('stg_rules__entitlements') }}
),

unit_costs as (
    select * from {{ ref('stg_rules__unit_costs') }}
),

rulebooks as (
    select * from {{ ref('stg_rules__rulebooks') }}
),

tier_history as (
    select * from {{ ref('fct_member_tier_history') }}
),

{{ benefit_usage_judgement() }},

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
)

select * from final
