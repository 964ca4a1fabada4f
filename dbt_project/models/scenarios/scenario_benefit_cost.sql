-- Per stored scenario: projected benefit use and cost for one year per service × tier, under the baseline rulebook
-- and under the proposal, with the delta. Assumptions (docs/scenarios.md):
--   * exposure: each holder in the programme on the as-of date is one member-year at their tier under each
--     rulebook (the book as it stands, held for a year: no new business, lapses or window ends);
--   * rates come from the reference year (scenario_runs.reference_year) of mart_benefit_utilization, per
--     service × tier: for a limited quota the take-up (consumed units ÷ entitled units), applied to the
--     rulebook's quota (capped at the quota: take-up ≤ 1); for an unlimited quota the units per member-year;
--     a cell with no observation takes the service's rate pooled over its tiers; a new service takes its
--     `like` service's rates, or the take_up / units_per_member_year the proposal states; not entitled = 0
--     (ineligible use is leakage, not projected);
--   * uses = units × the observed uses per unit; cost = units × the rulebook's unit cost, priced on the
--     variant mix observed at the cell (else the service's mix, else its variant-less row).
with

scenario_runs as (
    select * from {{ ref('scenario_runs') }}
),

member_ratings as (
    select * from {{ ref('int_scenario__member_ratings') }}
),

utilization as (
    select * from {{ ref('mart_benefit_utilization') }}
),

benefit_usage as (
    select * from {{ ref('fct_benefit_usage') }}
),

-- every ruleset's entitled tiers (the rulebooks in force and each proposal), from the one entitlement lookup
entitlement_tiers as (
    select * from {{ ref('int_benefit__entitlement_tiers') }}
),

unit_costs as (
    select * from {{ ref('stg_rules__unit_costs') }}
),

new_services as (
    select * from {{ ref('scenario_services') }}
),

-- each scenario's two rulebooks: the baseline (in force on its as-of date) and the proposal (its own ruleset)
rulebook_roles as (
    select
        scenario_id,
        'baseline' as rulebook_role,
        baseline_rulebook_id as rulebook_id,
        cast(null as {{ dbt.type_string() }}) as ruleset_scenario_id
    from scenario_runs
    union all
    select
        scenario_id,
        'proposal' as rulebook_role,
        proposal_rulebook_id as rulebook_id,
        scenario_id as ruleset_scenario_id
    from scenario_runs
),

role_tiers as (
    select
        rulebook_roles.scenario_id,
        rulebook_roles.rulebook_role,
        entitlement_tiers.service_code,
        entitlement_tiers.tier_code,
        entitlement_tiers.tier_quota_kind,
        entitlement_tiers.tier_quota
    from entitlement_tiers
    inner join rulebook_roles
        on
            entitlement_tiers.rulebook_id = rulebook_roles.rulebook_id
            and entitlement_tiers.scenario_id is not distinct from rulebook_roles.ruleset_scenario_id
),

role_unit_costs as (
    select
        rulebook_roles.scenario_id,
        rulebook_roles.rulebook_role,
        unit_costs.service_code,
        unit_costs.variant,
        unit_costs.unit_cost
    from unit_costs
    inner join rulebook_roles
        on
            unit_costs.rulebook_id = rulebook_roles.rulebook_id
            and unit_costs.scenario_id is not distinct from rulebook_roles.ruleset_scenario_id
),

tier_members as (
    select
        scenario_id,
        'baseline' as rulebook_role,
        baseline_tier_code as tier_code,
        count(*) as members
    from member_ratings
    group by
        scenario_id,
        baseline_tier_code
    union all
    select
        scenario_id,
        'proposal' as rulebook_role,
        proposal_tier_code as tier_code,
        count(*) as members
    from member_ratings
    group by
        scenario_id,
        proposal_tier_code
),

-- observed in the reference year: entitled_units is null for an unlimited quota, 0 when not entitled
reference_cells as (
    select
        scenario_runs.scenario_id,
        utilization.service_code,
        utilization.tier_code,
        utilization.member_years,
        utilization.uses,
        utilization.consumed_units,
        utilization.entitled_units
    from utilization
    inner join scenario_runs
        on utilization.entitlement_year = scenario_runs.reference_year
    where
        utilization.tier_code <> 'none'
        and (utilization.entitled_units is null or utilization.entitled_units > 0)
),

cell_rates as (
    select
        scenario_id,
        service_code,
        tier_code,
        case when entitled_units > 0 then consumed_units / entitled_units end as take_up,
        case
            when entitled_units is null and member_years > 0 then consumed_units / member_years
        end as units_per_member_year,
        case when consumed_units > 0 then uses / consumed_units end as uses_per_unit
    from reference_cells
),

service_rates as (
    select
        scenario_id,
        service_code,
        sum(case when entitled_units > 0 then consumed_units end)
        / nullif(sum(case when entitled_units > 0 then entitled_units end), 0) as take_up,
        sum(case when entitled_units is null then consumed_units end)
        / nullif(sum(case when entitled_units is null then member_years end), 0) as units_per_member_year,
        sum(uses) / nullif(sum(consumed_units), 0) as uses_per_unit
    from reference_cells
    group by
        scenario_id,
        service_code
),

variant_units as (
    select
        scenario_runs.scenario_id,
        benefit_usage.service_code,
        coalesce(benefit_usage.tier_code_at_service, 'none') as tier_code,
        benefit_usage.variant,
        sum(benefit_usage.consumed_quantity) as units
    from benefit_usage
    inner join scenario_runs
        on benefit_usage.entitlement_year = scenario_runs.reference_year
    where benefit_usage.consumed_quantity > 0
    group by
        scenario_runs.scenario_id,
        benefit_usage.service_code,
        coalesce(benefit_usage.tier_code_at_service, 'none'),
        benefit_usage.variant
),

priced_variants as (
    select
        variant_units.scenario_id,
        rulebook_roles.rulebook_role,
        variant_units.service_code,
        variant_units.tier_code,
        variant_units.units,
        coalesce(variant_costs.unit_cost, default_costs.unit_cost) as unit_cost
    from variant_units
    inner join rulebook_roles
        on variant_units.scenario_id = rulebook_roles.scenario_id
    left join role_unit_costs as variant_costs
        on
            rulebook_roles.scenario_id = variant_costs.scenario_id
            and rulebook_roles.rulebook_role = variant_costs.rulebook_role
            and variant_units.service_code = variant_costs.service_code
            and variant_units.variant = variant_costs.variant
    left join role_unit_costs as default_costs
        on
            rulebook_roles.scenario_id = default_costs.scenario_id
            and rulebook_roles.rulebook_role = default_costs.rulebook_role
            and variant_units.service_code = default_costs.service_code
            and default_costs.variant is null
),

cell_unit_costs as (
    select
        scenario_id,
        rulebook_role,
        service_code,
        tier_code,
        sum(units * unit_cost) / nullif(sum(case when unit_cost is not null then units end), 0) as unit_cost
    from priced_variants
    group by
        scenario_id,
        rulebook_role,
        service_code,
        tier_code
),

service_unit_costs as (
    select
        scenario_id,
        rulebook_role,
        service_code,
        sum(units * unit_cost) / nullif(sum(case when unit_cost is not null then units end), 0) as unit_cost
    from priced_variants
    group by
        scenario_id,
        rulebook_role,
        service_code
),

default_unit_costs as (
    select
        scenario_id,
        rulebook_role,
        service_code,
        unit_cost
    from role_unit_costs
    where variant is null
),

projection_cells as (
    select distinct
        scenario_id,
        service_code,
        tier_code
    from role_tiers
),

cell_projections as (
    select
        cells.scenario_id,
        rulebook_roles.rulebook_role,
        cells.service_code,
        cells.tier_code,
        coalesce(new_services.like_service_code, cells.service_code) as rate_service_code,
        entitled.tier_quota_kind as quota_kind,
        entitled.tier_quota as quota,
        coalesce(tier_members.members, 0) as members,
        case
            when entitled.service_code is null then 0
            when entitled.tier_quota_kind = 'unlimited'
                then coalesce(
                    new_services.units_per_member_year,
                    cell_rates.units_per_member_year,
                    service_rates.units_per_member_year,
                    0
                )
            else
                least(coalesce(new_services.take_up, cell_rates.take_up, service_rates.take_up, 0), 1)
                * entitled.tier_quota
        end as units_per_member_year,
        case
            when entitled.service_code is null then 'not entitled'
            when entitled.tier_quota_kind = 'unlimited' and new_services.units_per_member_year is not null
                then 'units per member-year stated in the proposal'
            when entitled.tier_quota_kind <> 'unlimited' and new_services.take_up is not null
                then 'take-up stated in the proposal'
            when
                (entitled.tier_quota_kind = 'unlimited' and cell_rates.units_per_member_year is not null)
                or (entitled.tier_quota_kind <> 'unlimited' and cell_rates.take_up is not null)
                then 'observed at this tier'
            when
                (entitled.tier_quota_kind = 'unlimited' and service_rates.units_per_member_year is not null)
                or (entitled.tier_quota_kind <> 'unlimited' and service_rates.take_up is not null)
                then 'observed, pooled over tiers'
            else 'no observation'
        end as rate_basis,
        coalesce(cell_rates.uses_per_unit, service_rates.uses_per_unit, 1) as uses_per_unit,
        coalesce(cell_unit_costs.unit_cost, service_unit_costs.unit_cost, default_unit_costs.unit_cost)
            as unit_cost
    from projection_cells as cells
    inner join rulebook_roles
        on cells.scenario_id = rulebook_roles.scenario_id
    left join role_tiers as entitled
        on
            cells.scenario_id = entitled.scenario_id
            and rulebook_roles.rulebook_role = entitled.rulebook_role
            and cells.service_code = entitled.service_code
            and cells.tier_code = entitled.tier_code
    left join tier_members
        on
            cells.scenario_id = tier_members.scenario_id
            and rulebook_roles.rulebook_role = tier_members.rulebook_role
            and cells.tier_code = tier_members.tier_code
    left join new_services
        on
            cells.scenario_id = new_services.scenario_id
            and cells.service_code = new_services.service_code
    left join cell_rates
        on
            cells.scenario_id = cell_rates.scenario_id
            and coalesce(new_services.like_service_code, cells.service_code) = cell_rates.service_code
            and cells.tier_code = cell_rates.tier_code
    left join service_rates
        on
            cells.scenario_id = service_rates.scenario_id
            and coalesce(new_services.like_service_code, cells.service_code) = service_rates.service_code
    left join cell_unit_costs
        on
            cells.scenario_id = cell_unit_costs.scenario_id
            and rulebook_roles.rulebook_role = cell_unit_costs.rulebook_role
            and cells.service_code = cell_unit_costs.service_code
            and cells.tier_code = cell_unit_costs.tier_code
    left join service_unit_costs
        on
            cells.scenario_id = service_unit_costs.scenario_id
            and rulebook_roles.rulebook_role = service_unit_costs.rulebook_role
            and cells.service_code = service_unit_costs.service_code
    left join default_unit_costs
        on
            cells.scenario_id = default_unit_costs.scenario_id
            and rulebook_roles.rulebook_role = default_unit_costs.rulebook_role
            and cells.service_code = default_unit_costs.service_code
),

projected as (
    select
        cell_projections.*,
        cell_projections.members * cell_projections.units_per_member_year as projected_units,
        cell_projections.members
        * cell_projections.units_per_member_year
        * cell_projections.uses_per_unit as projected_uses,
        cell_projections.members
        * cell_projections.units_per_member_year
        * coalesce(cell_projections.unit_cost, 0) as projected_cost
    from cell_projections
),

final as (
    select
        scenario_runs.scenario_id,
        baseline.service_code,
        baseline.tier_code,
        baseline.rate_service_code,
        scenario_runs.reference_year,
        baseline.members as baseline_members,
        proposal.members as proposal_members,
        baseline.quota_kind as baseline_quota_kind,
        baseline.quota as baseline_quota,
        proposal.quota_kind as proposal_quota_kind,
        proposal.quota as proposal_quota,
        cast(baseline.units_per_member_year as decimal(18, 6)) as baseline_units_per_member_year,
        cast(proposal.units_per_member_year as decimal(18, 6)) as proposal_units_per_member_year,
        cast(baseline.unit_cost as decimal(18, 2)) as baseline_unit_cost,
        cast(proposal.unit_cost as decimal(18, 2)) as proposal_unit_cost,
        cast(baseline.projected_uses as decimal(18, 4)) as baseline_projected_uses,
        cast(baseline.projected_units as decimal(18, 4)) as baseline_projected_units,
        cast(baseline.projected_cost as decimal(18, 2)) as baseline_projected_cost,
        cast(proposal.projected_uses as decimal(18, 4)) as proposal_projected_uses,
        cast(proposal.projected_units as decimal(18, 4)) as proposal_projected_units,
        cast(proposal.projected_cost as decimal(18, 2)) as proposal_projected_cost,
        cast(proposal.projected_uses as decimal(18, 4)) - cast(baseline.projected_uses as decimal(18, 4))
            as delta_projected_uses,
        cast(proposal.projected_units as decimal(18, 4)) - cast(baseline.projected_units as decimal(18, 4))
            as delta_projected_units,
        cast(proposal.projected_cost as decimal(18, 2)) - cast(baseline.projected_cost as decimal(18, 2))
            as delta_projected_cost,
        baseline.rate_basis as baseline_rate_basis,
        proposal.rate_basis as proposal_rate_basis
    from projected as baseline
    inner join projected as proposal
        on
            baseline.scenario_id = proposal.scenario_id
            and baseline.service_code = proposal.service_code
            and baseline.tier_code = proposal.tier_code
            and proposal.rulebook_role = 'proposal'
    inner join scenario_runs
        on baseline.scenario_id = scenario_runs.scenario_id
    where baseline.rulebook_role = 'baseline'
)

select * from final
