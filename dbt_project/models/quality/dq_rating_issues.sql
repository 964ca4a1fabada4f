-- Published: the data issues the rating met and how it settled them (RULES §2–3 "reported"): implied status
-- events, snapshot/log disagreements, ignored status events and the other issues of int_rating__issues.
with

issues as (
    select * from {{ ref('int_rating__issues') }}
),

final as (
    select
        issue_id,
        issue_code,
        holder_id,
        policy_no,
        coverage_no,
        coverage_id,
        txn_id,
        issue_date,
        detail
    from issues
)

select * from final
