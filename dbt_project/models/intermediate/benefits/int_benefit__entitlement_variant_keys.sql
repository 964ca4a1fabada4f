-- The variant keys of each service of the entitlement matrix in force: the variants the matrix names (in
-- any rulebook or tier), plus '~none' (a use naming no variant) and '~other' (a variant the matrix does not
-- name). A use's variant key is its variant when listed here, else '~none' or '~other'
-- (macro benefit_variant_key); int_benefit__entitlement_lookup and _quota_layouts are keyed by it.
--
-- The rulebooks in force only (scenario_id null). A table: a few dozen rows, read by four models.
with

entitlements as (
    select * from {{ ref('stg_rules__entitlements') }}
    where scenario_id is null
),

final as (
    select distinct
        service_code,
        variant as variant_key
    from entitlements
    where variant is not null
    union all
    select distinct
        service_code,
        '~none' as variant_key
    from entitlements
    union all
    select distinct
        service_code,
        '~other' as variant_key
    from entitlements
)

select * from final
