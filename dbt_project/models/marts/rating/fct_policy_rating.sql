-- One rating slice per row (RULES §2–3): base × coefficient counting over [counts_from, counts_until),
-- or kept with the reason it does not count.
with

slices as (
    select * from {{ ref('int_rating__slices') }}
    where basis = 'effective'
),

final as (
    select
        slice_id,
        holder_id,
        policy_no,
        coverage_no,
        slice_kind,
        cast(base_amount as decimal(18, 2)) as base_amount,
        coefficient,
        rated_amount,
        counts_from,
        counts_until,
        excluded_reason,
        rulebook_id,
        rule_no,
        top_up_txn_id,
        start_reason,
        end_reason
    from slices
)

select * from final
