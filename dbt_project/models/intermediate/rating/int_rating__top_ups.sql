-- One row per top-up (追加投资) effective on or before the as-of date, on its coverage (coverage 0 when
-- the transaction names none).
with

coverages as (
    select * from {{ ref('int_rating__coverages') }}
),

transactions as (
    select * from {{ ref('int_core__policy_transactions_resolved') }}
),

txn_types as (
    select * from {{ ref('stg_rules__txn_types') }}
),

final as (
    select
        transactions.txn_id,
        coverages.coverage_id,
        coverages.policy_no,
        coverages.coverage_no,
        transactions.coverage_no is null as is_coverage_defaulted,
        transactions.effective_date,
        transactions.amount,
        transactions.recorded_at
    from transactions
    inner join txn_types
        on transactions.txn_type = txn_types.txn_type
    inner join coverages
        on
            transactions.policy_no = coverages.policy_no
            and coalesce(transactions.coverage_no, 0) = coverages.coverage_no
    where
        txn_types.txn_class = 'top_up'
        and transactions.amount is not null
        and transactions.effective_date <= {{ as_of_date() }}
)

select * from final
