-- Current state of every policy transaction (whether its policy is known: int_core__policy_transactions_resolved).
with

ranked as (
    {{ latest_rows('policy_transactions', ['txn_id']) }}
),

final as (
    select
        ranked.txn_id,
        ranked.policy_no,
        ranked.coverage_no,
        ranked.txn_type,
        ranked.effective_date,
        ranked.modal_premium_after,
        ranked.amount,
        ranked.recorded_at,
        ranked._extract_date as extract_date,
        ranked._source_line as source_line
    from ranked
    where ranked._row_rank = 1
)

select * from final
