-- A view: the filter keeps nearly every staged row, so a table would be a second copy of staging
-- (docs/decisions.md, "The resolved rows are views").
{{ config(materialized='view') }}
-- The staged relatives of a known customer.
with

relatives as (
    select * from {{ ref('stg_core__relatives') }}
),

customers as (
    select holder_id from {{ ref('stg_core__customers') }}
),

final as (
    select relatives.*
    from relatives
    inner join customers
        on relatives.holder_id = customers.holder_id
)

select * from final
