-- A view: the filter keeps nearly every staged row, so a table would be a second copy of staging
-- (docs/decisions.md, "The resolved rows are views").
{{ config(materialized='view') }}
-- The staged policy coverages whose holder is a known customer: the ones the warehouse rates. The others
-- are listed, with the reason, in int_core__reference_quarantine.
with

policies as (
    select * from {{ ref('stg_core__policies') }}
),

customers as (
    select holder_id from {{ ref('stg_core__customers') }}
),

final as (
    select policies.*
    from policies
    inner join customers
        on policies.holder_id = customers.holder_id
)

select * from final
