-- member_years and members of mart_member_exposure agree with every service row of mart_benefit_utilization
-- for the same entitlement year × tier, and every year × tier with exposure appears in both.
with

exposure as (
    select * from {{ ref('mart_member_exposure') }}
),

utilization as (
    select * from {{ ref('mart_benefit_utilization') }}
    where tier_code <> 'none'
),

utilization_exposure as (
    select
        entitlement_year,
        tier_code,
        min(member_years) as min_member_years,
        max(member_years) as max_member_years,
        min(members) as min_members,
        max(members) as max_members
    from utilization
    group by
        entitlement_year,
        tier_code
),

final as (
    select
        coalesce(exposure.entitlement_year, utilization_exposure.entitlement_year) as entitlement_year,
        coalesce(exposure.tier_code, utilization_exposure.tier_code) as tier_code,
        exposure.member_years,
        utilization_exposure.min_member_years,
        utilization_exposure.max_member_years,
        exposure.members,
        utilization_exposure.min_members,
        utilization_exposure.max_members
    from exposure
    full outer join utilization_exposure
        on
            exposure.entitlement_year = utilization_exposure.entitlement_year
            and exposure.tier_code = utilization_exposure.tier_code
    where
        exposure.tier_code is null
        or (utilization_exposure.tier_code is null and exposure.member_years > 0)
        or abs(exposure.member_years - utilization_exposure.min_member_years) > 0.000001
        or abs(exposure.member_years - utilization_exposure.max_member_years) > 0.000001
        or exposure.members <> utilization_exposure.min_members
        or exposure.members <> utilization_exposure.max_members
)

select * from final
