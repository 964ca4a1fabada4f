-- Current state of every policy transaction whose policy (and coverage, when named) is known.
with

ranked as (
    {{ latest_rows('policy_transactions', ['txn_id']) }}
),

policies as (
    select distinct
        policy_no,
        coverage_no
    from {{ ref('stg_core__policies') }}
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
        ranked._extract_date as extract_date
    from ranked
    where
        ranked._row_rank = 1
        and exists (
            select 1
            from policies
            where
                policies.policy_no = ranked.policy_no
                and (ranked.coverage_no is null or policies.coverage_no = ranked.coverage_no)
        )
)

select * from final
