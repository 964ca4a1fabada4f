-- Every stored scenario (`vipwh scenario run`, the asset scenarios/proposal): the proposal's settings, the baseline
-- rulebook (in force on the as-of date) and the reference year of the benefit projection (the last complete
-- entitlement year with exposure, else the latest).
with

proposal_run as (
    select * from {{ source('raw', 'proposal_runs') }}
),

rulebooks as (
    select * from {{ ref('stg_rules__rulebooks') }}
    where scenario_id is null
),

utilization as (
    select * from {{ ref('mart_benefit_utilization') }}
),

exposure_years as (
    select distinct entitlement_year
    from utilization
    where
        member_years > 0
        and tier_code <> 'none'
),

reference_years as (
    select
        proposal_run.scenario_id,
        max(
            case
                when
                    exposure_years.entitlement_year < extract(year from proposal_run.as_of_date)
                    or (
                        extract(month from proposal_run.as_of_date) = 12
                        and extract(day from proposal_run.as_of_date) = 31
                    )
                    then exposure_years.entitlement_year
            end
        ) as complete_year,
        max(exposure_years.entitlement_year) as latest_year
    from proposal_run
    inner join exposure_years
        on exposure_years.entitlement_year <= extract(year from proposal_run.as_of_date)
    group by proposal_run.scenario_id
),

final as (
    select
        proposal_run.scenario_id,
        proposal_run.description,
        proposal_run.base_rulebook_id,
        proposal_run.scenario_id as proposal_rulebook_id,
        proposal_run.effective_from,
        proposal_run.as_of_date,
        baseline.rulebook_id as baseline_rulebook_id,
        cast(coalesce(reference_years.complete_year, reference_years.latest_year) as integer) as reference_year,
        reference_years.complete_year is not null as is_reference_year_complete,
        proposal_run.proposal_file,
        proposal_run.proposal_yaml,
        proposal_run.run_at
    from proposal_run
    left join rulebooks as baseline
        on
            proposal_run.as_of_date >= baseline.effective_from
            and (baseline.effective_until is null or proposal_run.as_of_date < baseline.effective_until)
    left join reference_years
        on proposal_run.scenario_id = reference_years.scenario_id
)

select * from final
