-- Service uses judged as they could have been when they happened: the same rules as fct_benefit_usage, but
-- against int_member_tier_history_as_recorded (each status event taking effect when it was recorded)
-- instead of the corrected tier history. Only the uses of holders whose two histories differ are judged
-- (a holder's verdicts depend on that holder's history alone); for every other holder the judgement is
-- fct_benefit_usage's. Feeds the 'tier_restated' part of mart_benefit_leakage.
with

recorded_history as (
    select * from {{ ref('int_member_tier_history_as_recorded') }}
),

corrected_history as (
    select * from {{ ref('fct_member_tier_history') }}
),

stg_service_usage as (
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

restated_intervals as (
    select coalesce(recorded_history.holder_id, corrected_history.holder_id) as holder_id
    from recorded_history
    full outer join corrected_history
        on
            recorded_history.holder_id = corrected_history.holder_id
            and recorded_history.valid_from = corrected_history.valid_from
            and coalesce(recorded_history.valid_to, cast('9999-12-31' as date))
            = coalesce(corrected_history.valid_to, cast('9999-12-31' as date))
            and recorded_history.tier_code = corrected_history.tier_code
    where
        recorded_history.holder_id is null
        or corrected_history.holder_id is null
),

restated_holders as (
    select distinct holder_id
    from restated_intervals
),

restated_usage as (
    select stg_service_usage.*
    from stg_service_usage
    inner join restated_holders
        on stg_service_usage.holder_id = restated_holders.holder_id
),

tier_history as (
    select recorded_history.*
    from recorded_history
    inner join restated_holders
        on recorded_history.holder_id = restated_holders.holder_id
),

{{ benefit_usage_judgement(
    service_usage='restated_usage',
    usage_for_quota='restated_usage',
    usage_for_positions='restated_usage',
    usage_for_designation='restated_usage'
) }},

final as (
    select
        usage_id,
        tier_code_at_service,
        quota,
        consumed_before,
        is_entitled_tier,
        is_eligible_variant,
        is_within_quota,
        is_compliant,
        non_compliance_reasons
    from judged_usage
)

select * from final
