-- Reason codes of tier changes, each with its bit in the sweep's reason mask.
with

change_reasons as (
    select * from {{ ref('rating_change_reasons') }}
),

final as (
    select
        reason_code,
        reason_bit
    from change_reasons
)

select * from final
