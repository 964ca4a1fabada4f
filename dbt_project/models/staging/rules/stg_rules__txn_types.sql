-- What each transaction type of the log does: its class, the status it leads to, whether it is final.
-- Not rulebook-scoped: these are facts of the extract contract (RULES §3).
with

txn_types as (
    select * from {{ ref('rating_txn_types') }}
),

final as (
    select
        txn_type,
        txn_class,
        status_after,
        coalesce(is_final, false) as is_final,
        coalesce(voids_coverage, false) as voids_coverage,
        requires_status_before,
        is_in_force_after
    from txn_types
)

select * from final
