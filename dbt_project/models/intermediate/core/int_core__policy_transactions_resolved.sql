-- The staged policy transactions whose policy (and coverage, when named) is a resolved policy coverage.
with

transactions as (
    select * from {{ ref('stg_core__policy_transactions') }}
),

coverages as (
    select distinct
        policy_no,
        coverage_no
    from {{ ref('int_core__policies_resolved') }}
),

final as (
    select transactions.*
    from transactions
    where
        exists (
            select 1
            from coverages
            where
                coverages.policy_no = transactions.policy_no
                and (transactions.coverage_no is null or coverages.coverage_no = transactions.coverage_no)
        )
)

select * from final
