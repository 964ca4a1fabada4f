-- A view: the filter keeps nearly every staged row, so a table would be a second copy of staging
-- (docs/decisions.md, "The resolved rows are views").
{{ config(materialized='view') }}
-- The staged service activations of a known customer.
with

activations as (
    select * from {{ ref('stg_core__service_activations') }}
),

customers as (
    select holder_id from {{ ref('stg_core__customers') }}
),

final as (
    select activations.*
    from activations
    inner join customers
        on activations.holder_id = customers.holder_id
)

select * from final
