-- What never counts or stops counting, per rulebook, with the reason kept on excluded slices.
with

exclusions as (
    select
        rulebook_id,
        excluded_reason,
        applies_to,
        match_value,
        priority,
        description_zh
    from {{ ref('rating_exclusions') }}
    union all
    -- the rulebooks adopted with `vipwh rulebook adopt`
    select
        rulebook_id,
        excluded_reason,
        applies_to,
        match_value,
        priority,
        description_zh
    from {{ source('raw', 'adopted_rating_exclusions') }}
),

final as (
    select
        rulebook_id || '/' || excluded_reason as rating_exclusion_id,
        rulebook_id,
        excluded_reason,
        applies_to,
        match_value,
        priority
    from exclusions
)

select * from final
