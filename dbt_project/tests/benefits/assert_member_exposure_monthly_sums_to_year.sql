-- The months of mart_member_exposure_monthly add up to the year's member_years in mart_member_exposure.
with

monthly as (
    select * from {{ ref('mart_member_exposure_monthly') }}
),

yearly as (
    select * from {{ ref('mart_member_exposure') }}
),

monthly_totals as (
    select
        entitlement_year,
        tier_code,
        sum(exposure_days) as exposure_days
    from monthly
    group by
        entitlement_year,
        tier_code
),

final as (
    select
        coalesce(yearly.entitlement_year, monthly_totals.entitlement_year) as entitlement_year,
        coalesce(yearly.tier_code, monthly_totals.tier_code) as tier_code,
        yearly.exposure_days as year_days,
        monthly_totals.exposure_days as month_days
    from yearly
    full outer join monthly_totals
        on
            yearly.entitlement_year = monthly_totals.entitlement_year
            and yearly.tier_code = monthly_totals.tier_code
    where
        yearly.exposure_days is null
        or monthly_totals.exposure_days is null
        or yearly.exposure_days <> monthly_totals.exposure_days
)

select * from final
