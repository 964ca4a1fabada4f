-- Who may use a service of each beneficiary scope, relation by relation.
with

beneficiary_scopes as (
    select * from {{ ref('beneficiary_scopes') }}
),

final as (
    select
        beneficiary_scope,
        beneficiary_relation,
        eligibility
    from beneficiary_scopes
)

select * from final
