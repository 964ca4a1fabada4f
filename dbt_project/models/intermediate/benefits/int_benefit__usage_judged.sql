{{ config(materialized='view') }}
-- Every service use judged against the entitlement rules (RULES.md §6; decisions in
-- docs/decisions_benefits.md) of the tier the holder held on the service date, for each basis:
--   effective   = against the corrected tier history (int_member__tier_history's effective basis, which
--                 fct_member_tier_history publishes): every use;
--   as_recorded = against the history as recorded at the time (int_member_tier_history_as_recorded): only
--                 the uses of holders whose two histories differ (int_benefit__restated_holders), since a
--                 holder's verdicts depend on that holder's history alone.
-- fct_benefit_usage is the effective basis; mart_benefit_leakage reads the as-recorded one. A view: each
-- reader's filter on the basis leaves the other basis out of its plan.
--
-- Performance (tens of millions of uses): every step is a hash join on an equality key, a join to the tiny
-- rulebooks table, or a window on a narrow subset; no large CTE is referenced twice, so no engine has to
-- materialise one. The uses are read twice per basis for the positions and designations and once per basis
-- to be judged: the quota positions (uses of services with a limited quota somewhere, spread over every
-- quota layout of their service, with running sums per holder × service × layout × pool (× year)) and the
-- designated relatives (the first relative to consume each designated-relative service in each year).
-- Positions and designations are tier-independent, so they hold the same values on both bases (every
-- consumed use counts, whatever its verdicts); they are keyed by basis all the same, so that a reader of the
-- as-recorded basis (the leakage mart, the tests of that basis) computes them for the restated holders'
-- uses only instead of for every use of the book (at 10 M holders that was 75 M uses, twice at once: out of
-- memory; docs/benchmarks.md).
with

usage_effective as (
    select * from {{ ref('int_core__service_usage_resolved') }}
),

usage_as_recorded as (
    select * from {{ ref('int_core__service_usage_resolved') }}
),

usage_for_positions as (
    select * from {{ ref('int_core__service_usage_resolved') }}
),

usage_for_positions_as_recorded as (
    select * from {{ ref('int_core__service_usage_resolved') }}
),

usage_for_designation as (
    select * from {{ ref('int_core__service_usage_resolved') }}
),

usage_for_designation_as_recorded as (
    select * from {{ ref('int_core__service_usage_resolved') }}
),

restated_holders as (
    select * from {{ ref('int_benefit__restated_holders') }}
),

corrected_history as (
    select * from {{ ref('int_member__tier_history') }}
    where basis = 'effective'
),

recorded_history as (
    select * from {{ ref('int_member_tier_history_as_recorded') }}
),

relatives as (
    select * from {{ ref('int_core__relatives_resolved') }}
),

service_activations as (
    select * from {{ ref('int_core__service_activations_resolved') }}
),

services as (
    select * from {{ ref('stg_rules__services') }}
),

beneficiary_scopes as (
    select * from {{ ref('stg_rules__beneficiary_scopes') }}
),

entitlement_tiers as (
    select * from {{ ref('int_benefit__entitlement_tiers') }}
    where scenario_id is null
),

entitlement_lookup as (
    select * from {{ ref('int_benefit__entitlement_lookup') }}
),

entitlement_variant_keys as (
    select * from {{ ref('int_benefit__entitlement_variant_keys') }}
),

entitlement_quota_layouts as (
    select * from {{ ref('int_benefit__entitlement_quota_layouts') }}
),

unit_costs as (
    select * from {{ ref('stg_rules__unit_costs') }}
    where scenario_id is null
),

rulebooks as (
    select * from {{ ref('stg_rules__rulebooks') }}
    where scenario_id is null
),

-- the uses to judge, on each basis
keyed_usage as (
    select
        'effective' as basis,
        usage_effective.usage_id,
        usage_effective.holder_id,
        usage_effective.beneficiary_id,
        usage_effective.service_code,
        usage_effective.variant,
        usage_effective.service_date,
        usage_effective.quantity,
        usage_effective.status,
        usage_effective.vendor,
        usage_effective.cost_amount
    from usage_effective
    union all
    select
        'as_recorded' as basis,
        usage_as_recorded.usage_id,
        usage_as_recorded.holder_id,
        usage_as_recorded.beneficiary_id,
        usage_as_recorded.service_code,
        usage_as_recorded.variant,
        usage_as_recorded.service_date,
        usage_as_recorded.quantity,
        usage_as_recorded.status,
        usage_as_recorded.vendor,
        usage_as_recorded.cost_amount
    from usage_as_recorded
    inner join restated_holders
        on usage_as_recorded.holder_id = restated_holders.holder_id
),

-- the tier history of each basis
tier_history as (
    select
        'effective' as basis,
        corrected_history.holder_id,
        corrected_history.valid_from,
        corrected_history.valid_until,
        corrected_history.tier_code,
        corrected_history.tier_rank
    from corrected_history
    union all
    select
        'as_recorded' as basis,
        recorded_history.holder_id,
        recorded_history.valid_from,
        recorded_history.valid_until,
        recorded_history.tier_code,
        recorded_history.tier_rank
    from recorded_history
    inner join restated_holders
        on recorded_history.holder_id = restated_holders.holder_id
),

-- the services with a limited quota somewhere: those with quota layouts
entitlement_quota_services as (
    select distinct service_code
    from entitlement_quota_layouts
),

-- the variant keys allowed at some tier of the rulebook (a use at a tier not entitled is judged on these)
entitlement_variant_allowed as (
    select distinct
        rulebook_id,
        service_code,
        variant_key
    from entitlement_lookup
),

usage_known_variants as (
    select distinct
        service_code,
        variant_key
    from entitlement_variant_keys
    where variant_key not in ('~none', '~other')
),

-- the uses that designate relatives and hold quota positions, on each basis (the same uses as
-- keyed_usage's), so that a reader of one basis computes the positions of that basis's uses only
designation_keyed_usage as (
    select
        'effective' as basis,
        usage_for_designation.usage_id,
        usage_for_designation.holder_id,
        usage_for_designation.beneficiary_id,
        usage_for_designation.service_code,
        usage_for_designation.service_date,
        usage_for_designation.quantity,
        usage_for_designation.status
    from usage_for_designation
    union all
    select
        'as_recorded' as basis,
        usage_for_designation_as_recorded.usage_id,
        usage_for_designation_as_recorded.holder_id,
        usage_for_designation_as_recorded.beneficiary_id,
        usage_for_designation_as_recorded.service_code,
        usage_for_designation_as_recorded.service_date,
        usage_for_designation_as_recorded.quantity,
        usage_for_designation_as_recorded.status
    from usage_for_designation_as_recorded
    inner join restated_holders
        on usage_for_designation_as_recorded.holder_id = restated_holders.holder_id
),

positions_keyed_usage as (
    select
        'effective' as basis,
        usage_for_positions.usage_id,
        usage_for_positions.holder_id,
        usage_for_positions.service_code,
        usage_for_positions.variant,
        usage_for_positions.service_date,
        usage_for_positions.quantity,
        usage_for_positions.status
    from usage_for_positions
    union all
    select
        'as_recorded' as basis,
        usage_for_positions_as_recorded.usage_id,
        usage_for_positions_as_recorded.holder_id,
        usage_for_positions_as_recorded.service_code,
        usage_for_positions_as_recorded.variant,
        usage_for_positions_as_recorded.service_date,
        usage_for_positions_as_recorded.quantity,
        usage_for_positions_as_recorded.status
    from usage_for_positions_as_recorded
    inner join restated_holders
        on usage_for_positions_as_recorded.holder_id = restated_holders.holder_id
),

designated_relative_uses as (
    select
        designation_usage.basis,
        designation_usage.holder_id,
        designation_usage.service_code,
        cast(extract(year from designation_usage.service_date) as integer) as entitlement_year,
        designation_usage.beneficiary_id,
        row_number() over (
            partition by
                designation_usage.basis,
                designation_usage.holder_id,
                designation_usage.service_code,
                cast(extract(year from designation_usage.service_date) as integer)
            order by designation_usage.service_date, designation_usage.usage_id
        ) as relative_use_rank
    from designation_keyed_usage as designation_usage
    inner join services as catalogue
        on designation_usage.service_code = catalogue.service_code
    left join relatives as holder_relatives
        on designation_usage.beneficiary_id = holder_relatives.relative_id
    inner join beneficiary_scopes as scopes
        on
            catalogue.beneficiary_scope = scopes.beneficiary_scope
            and {{ benefit_beneficiary_relation('designation_usage', 'holder_relatives') }}
            = scopes.beneficiary_relation
    where
        scopes.eligibility = 'designated'
        and {{ benefit_consumed_units('designation_usage', 'catalogue') }} > 0
),

designated_relatives as (
    select
        basis,
        holder_id,
        service_code,
        entitlement_year,
        beneficiary_id as designated_relative_id
    from designated_relative_uses
    where relative_use_rank = 1
),

quota_usage as (
    select
        quota_rows.basis,
        quota_rows.usage_id,
        quota_rows.holder_id,
        quota_rows.service_code,
        {{ benefit_variant_key('quota_rows', 'known_variants') }} as variant_key,
        quota_rows.service_date,
        cast(extract(year from quota_rows.service_date) as integer) as entitlement_year,
        {{ benefit_consumed_units('quota_rows', 'catalogue') }} as consumed_quantity
    from positions_keyed_usage as quota_rows
    inner join entitlement_quota_services as quota_services
        on quota_rows.service_code = quota_services.service_code
    inner join services as catalogue
        on quota_rows.service_code = catalogue.service_code
    left join usage_known_variants as known_variants
        on
            quota_rows.service_code = known_variants.service_code
            and quota_rows.variant = known_variants.variant_key
),

quota_layout_rows as (
    select
        quota_usage.basis,
        quota_usage.usage_id,
        quota_usage.holder_id,
        quota_usage.service_code,
        quota_usage.service_date,
        quota_usage.entitlement_year,
        quota_usage.consumed_quantity,
        layouts.layout_key,
        layouts.pool_key
    from quota_usage
    inner join entitlement_quota_layouts as layouts
        on
            quota_usage.service_code = layouts.service_code
            and quota_usage.variant_key = layouts.variant_key
),

-- Units consumed before each use (same day: by usage_id), per layout: in its pool, by uses whose variant
-- has no pool in the layout ('*', counted against every pool), and in all; this year, and ever.
quota_positions as (
    select
        basis,
        usage_id,
        layout_key,
        coalesce(sum(consumed_quantity) over (
            partition by basis, holder_id, service_code, layout_key, pool_key, entitlement_year
            order by service_date, usage_id
            rows between unbounded preceding and 1 preceding
        ), 0) as pool_before_year,
        coalesce(sum(case when pool_key = '*' then consumed_quantity else 0 end) over (
            partition by basis, holder_id, service_code, layout_key, entitlement_year
            order by service_date, usage_id
            rows between unbounded preceding and 1 preceding
        ), 0) as shared_before_year,
        coalesce(sum(consumed_quantity) over (
            partition by basis, holder_id, service_code, layout_key, entitlement_year
            order by service_date, usage_id
            rows between unbounded preceding and 1 preceding
        ), 0) as total_before_year,
        coalesce(sum(consumed_quantity) over (
            partition by basis, holder_id, service_code, layout_key, pool_key
            order by service_date, usage_id
            rows between unbounded preceding and 1 preceding
        ), 0) as pool_before_ever,
        coalesce(sum(case when pool_key = '*' then consumed_quantity else 0 end) over (
            partition by basis, holder_id, service_code, layout_key
            order by service_date, usage_id
            rows between unbounded preceding and 1 preceding
        ), 0) as shared_before_ever,
        coalesce(sum(consumed_quantity) over (
            partition by basis, holder_id, service_code, layout_key
            order by service_date, usage_id
            rows between unbounded preceding and 1 preceding
        ), 0) as total_before_ever
    from quota_layout_rows
),

described as (
    select
        usage_rows.basis,
        usage_rows.usage_id,
        usage_rows.holder_id,
        usage_rows.beneficiary_id,
        {{ benefit_beneficiary_relation('usage_rows', 'holder_relatives') }} as beneficiary_relation,
        usage_rows.service_code,
        nullif(usage_rows.variant, '') as variant,
        {{ benefit_variant_key('usage_rows', 'known_variants') }} as variant_key,
        usage_rows.service_date,
        cast(extract(year from usage_rows.service_date) as integer) as entitlement_year,
        usage_rows.status,
        usage_rows.quantity,
        usage_rows.vendor,
        usage_rows.cost_amount as reported_cost_amount,
        catalogue.beneficiary_scope,
        coalesce(catalogue.waiting_days, 0) as waiting_days,
        {{ benefit_consumed_units('usage_rows', 'catalogue') }} as consumed_quantity,
        {{ benefit_units_per_use('usage_rows', 'catalogue') }} as units_per_use,
        activations.activated_at,
        rulebooks_in_force.rulebook_id
    from keyed_usage as usage_rows
    left join services as catalogue
        on usage_rows.service_code = catalogue.service_code
    left join relatives as holder_relatives
        on usage_rows.beneficiary_id = holder_relatives.relative_id
    left join usage_known_variants as known_variants
        on
            usage_rows.service_code = known_variants.service_code
            and usage_rows.variant = known_variants.variant_key
    left join service_activations as activations
        on
            usage_rows.holder_id = activations.holder_id
            and usage_rows.service_code = activations.service_code
    left join rulebooks as rulebooks_in_force
        on
            usage_rows.service_date >= rulebooks_in_force.effective_from
            and (
                rulebooks_in_force.effective_until is null
                or usage_rows.service_date < rulebooks_in_force.effective_until
            )
),

tiered as (
    select
        described.*,
        scopes.eligibility as beneficiary_eligibility,
        holder_tiers.tier_code as tier_code_at_service,
        holder_tiers.tier_rank as tier_rank_at_service,
        designated.designated_relative_id,
        entitled_tiers.service_code is not null as is_entitled_tier,
        coalesce(entitled_tiers.layout_key, 'single') as own_layout_key,
        entitled_tiers.tier_quota_kind,
        entitled_tiers.tier_quota,
        lookup.entitlement_variant,
        lookup.pool_key as matched_pool_key,
        lookup.quota_kind as matched_quota_kind,
        lookup.quota as matched_quota,
        variant_allowed.variant_key is not null as is_variant_in_rulebook
    from described
    left join beneficiary_scopes as scopes
        on
            described.beneficiary_scope = scopes.beneficiary_scope
            and described.beneficiary_relation = scopes.beneficiary_relation
    left join tier_history as holder_tiers
        on
            described.basis = holder_tiers.basis
            and described.holder_id = holder_tiers.holder_id
            and described.service_date >= holder_tiers.valid_from
            and described.service_date < coalesce(holder_tiers.valid_until, cast('9999-12-31' as date))
    left join designated_relatives as designated
        on
            described.basis = designated.basis
            and described.holder_id = designated.holder_id
            and described.service_code = designated.service_code
            and described.entitlement_year = designated.entitlement_year
    left join entitlement_tiers as entitled_tiers
        on
            described.rulebook_id = entitled_tiers.rulebook_id
            and described.service_code = entitled_tiers.service_code
            and holder_tiers.tier_code = entitled_tiers.tier_code
    left join entitlement_lookup as lookup
        on
            described.rulebook_id = lookup.rulebook_id
            and described.service_code = lookup.service_code
            and holder_tiers.tier_code = lookup.tier_code
            and described.variant_key = lookup.variant_key
    left join entitlement_variant_allowed as variant_allowed
        on
            described.rulebook_id = variant_allowed.rulebook_id
            and described.service_code = variant_allowed.service_code
            and described.variant_key = variant_allowed.variant_key
),

-- Units consumed before the use against the quota that applies to it; null for services whose quota is
-- unlimited at every tier (they have no quota positions).
positioned as (
    select
        tiered.*,
        cast(
            case
                when not tiered.is_entitled_tier then positions.total_before_year
                when tiered.matched_pool_key is not null
                    then
                        case
                            when tiered.matched_quota_kind = 'once'
                                then positions.pool_before_ever + positions.shared_before_ever
                            else positions.pool_before_year + positions.shared_before_year
                        end
                when tiered.tier_quota_kind = 'once' then positions.total_before_ever
                else positions.total_before_year
            end as decimal(18, 2)
        ) as consumed_before
    from tiered
    left join quota_positions as positions
        on
            tiered.basis = positions.basis
            and tiered.usage_id = positions.usage_id
            and tiered.own_layout_key = positions.layout_key
),

verdicts as (
    select
        basis,
        usage_id,
        holder_id,
        beneficiary_id,
        beneficiary_relation,
        service_code,
        variant,
        variant_key,
        service_date,
        entitlement_year,
        status,
        quantity,
        vendor,
        reported_cost_amount,
        consumed_quantity,
        case
            when consumed_quantity > 0 or status = 'booked' then units_per_use
            else cast(0 as decimal(18, 2))
        end as units_claimed,
        activated_at,
        rulebook_id,
        tier_code_at_service,
        tier_rank_at_service,
        designated_relative_id,
        entitlement_variant,
        matched_pool_key,
        case
            when not is_entitled_tier then null
            when matched_pool_key is not null then matched_quota_kind
            else tier_quota_kind
        end as quota_kind,
        case
            when not is_entitled_tier then cast(0 as decimal(18, 2))
            when matched_pool_key is not null then matched_quota
            else tier_quota
        end as quota,
        consumed_before,
        is_entitled_tier,
        case
            when is_entitled_tier then matched_pool_key is not null
            else is_variant_in_rulebook
        end as is_eligible_variant,
        case beneficiary_eligibility
            when 'always' then true
            when 'designated'
                then (
                    designated_relative_id is null or designated_relative_id = beneficiary_id
                )
            else false
        end as is_eligible_beneficiary,
        (
            waiting_days > 0
            and (
                activated_at is null
                or service_date < cast({{ dbt.dateadd('day', 'waiting_days', 'activated_at') }} as date)
            )
        ) as is_in_waiting_period
    from positioned
),

quota_verdicts as (
    select
        verdicts.*,
        case
            when verdicts.units_claimed = 0 then true
            when not verdicts.is_entitled_tier then false
            when verdicts.quota_kind = 'unlimited' then true
            else verdicts.consumed_before + verdicts.units_claimed <= verdicts.quota
        end as is_within_quota
    from verdicts
),

usage_reasons as (
    select
        judged.*,
        coalesce(variant_costs.unit_cost, default_costs.unit_cost) as unit_cost,
        (
            judged.is_entitled_tier
            and judged.is_eligible_variant
            and judged.is_eligible_beneficiary
            and not judged.is_in_waiting_period
            and judged.is_within_quota
        ) as is_compliant,
        case
            when not judged.is_entitled_tier then 'tier_not_entitled'
            when not judged.is_eligible_variant then 'variant_not_eligible'
            when not judged.is_eligible_beneficiary then 'beneficiary_not_eligible'
            when judged.is_in_waiting_period then 'in_waiting_period'
            when not judged.is_within_quota then 'over_quota'
        end as non_compliance_reason,
        (
            case when not judged.is_entitled_tier then '; tier_not_entitled' else '' end
            || case when not judged.is_eligible_variant then '; variant_not_eligible' else '' end
            || case when not judged.is_eligible_beneficiary then '; beneficiary_not_eligible' else '' end
            || case when judged.is_in_waiting_period then '; in_waiting_period' else '' end
            || case when not judged.is_within_quota then '; over_quota' else '' end
        ) as reason_list
    from quota_verdicts as judged
    left join unit_costs as variant_costs
        on
            judged.rulebook_id = variant_costs.rulebook_id
            and judged.service_code = variant_costs.service_code
            and judged.variant = variant_costs.variant
    left join unit_costs as default_costs
        on
            judged.rulebook_id = default_costs.rulebook_id
            and judged.service_code = default_costs.service_code
            and default_costs.variant is null
),

final as (
    select
        basis,
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
        matched_pool_key as quota_pool,
        quota_kind,
        quota,
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
        case
            when reason_list = '' then null
            else {{ dbt.right('reason_list', dbt.length('reason_list') ~ ' - 2') }}
        end as non_compliance_reasons,
        vendor,
        reported_cost_amount,
        unit_cost,
        cast(
            coalesce(
                reported_cost_amount,
                case
                    when consumed_quantity > 0 then consumed_quantity * unit_cost
                    else 0
                end
            ) as decimal(18, 2)
        ) as cost_amount,
        case
            when reported_cost_amount is not null then 'reported'
            when consumed_quantity > 0 and unit_cost is not null then 'unit_cost'
            when consumed_quantity > 0 then 'unknown'
            else 'not_consumed'
        end as cost_basis
    from usage_reasons
)

select * from final
