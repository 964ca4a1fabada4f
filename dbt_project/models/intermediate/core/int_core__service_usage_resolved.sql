-- The staged service uses whose holder is a known customer and whose beneficiary, when named, a resolved
-- relative.
with

usage as (
    select * from {{ ref('stg_core__service_usage') }}
),

customers as (
    select holder_id from {{ ref('stg_core__customers') }}
),

relatives as (
    select relative_id from {{ ref('int_core__relatives_resolved') }}
),

final as (
    select usage.*
    from usage
    inner join customers
        on usage.holder_id = customers.holder_id
    where
        usage.beneficiary_id is null
        or exists (
            select 1
            from relatives
            where relatives.relative_id = usage.beneficiary_id
        )
)

select * from final
