{{ config(severity='error', meta={'dagster': {'ref': {'name': 'fct_benefit_usage'}}}) }}
-- RULES §6: every use's is_entitled_tier is true exactly when dim_entitlement has a row for its service and
-- its tier on the service date, under the rulebook in force that day. Returns the uses judged otherwise.
with

usage as (
    select
        usage_id,
        holder_id,
        service_code,
        service_date,
        tier_code_at_service,
        is_entitled_tier
    from {{ ref('fct_benefit_usage') }}
),

rulebooks as (
    select * from {{ ref('dim_rulebook') }}
),

entitled_cells as (
    select distinct
        rulebook_id,
        service_code,
        tier_code
    from {{ ref('dim_entitlement') }}
),

usage_rulebooks as (
    select
        usage.*,
        rulebooks.rulebook_id
    from usage
    left join rulebooks
        on
            usage.service_date >= rulebooks.effective_from
            and (rulebooks.effective_until is null or usage.service_date < rulebooks.effective_until)
),

judged as (
    select
        usage_rulebooks.*,
        entitled_cells.tier_code is not null as expected_is_entitled_tier
    from usage_rulebooks
    left join entitled_cells
        on
            usage_rulebooks.rulebook_id = entitled_cells.rulebook_id
            and usage_rulebooks.service_code = entitled_cells.service_code
            and usage_rulebooks.tier_code_at_service = entitled_cells.tier_code
)

select * from judged
where
    is_entitled_tier is null
    or is_entitled_tier <> expected_is_entitled_tier
