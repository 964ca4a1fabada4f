-- Current state of every policy coverage line. A later row that changes a policy's holder moves the
-- whole policy (every coverage) to that holder. Whether the holder is a known customer is judged later
-- (int_core__policies_resolved).
with

ranked as (
    {{ latest_rows('policies', ['policy_no', 'coverage_no']) }}
),

latest_holder as (
    {{ latest_rows('policies', ['policy_no']) }}
),

current_rows as (
    select
        ranked.policy_no,
        ranked.coverage_no,
        latest_holder.holder_id,
        ranked.insured_id,
        ranked.product_code,
        ranked.product_category,
        ranked.is_group,
        ranked.coverage_term_months,
        ranked.payment_mode,
        ranked.payment_years,
        ranked.modal_premium,
        ranked.effective_date,
        ranked.free_look_end_date,
        ranked.status,
        ranked.status_date,
        ranked._extract_date as extract_date,
        ranked._source_line as source_line
    from ranked
    inner join latest_holder
        on
            ranked.policy_no = latest_holder.policy_no
            and latest_holder._row_rank = 1
    where ranked._row_rank = 1
)

select * from current_rows
