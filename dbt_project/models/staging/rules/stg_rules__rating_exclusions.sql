-- What never counts or stops counting, per rulebook, with the reason kept on excluded slices.
with

exclusions as (
    {{ rule_rows('rating_exclusions', [
        'rulebook_id', 'excluded_reason', 'applies_to', 'match_value', 'priority', 'description_zh',
    ]) }}
),

final as (
    select
        coalesce('scenario:' || scenario_id || '/', '') || rulebook_id || '/' || excluded_reason as rating_exclusion_id,
        rulebook_id,
        excluded_reason,
        applies_to,
        match_value,
        priority,
        scenario_id
    from exclusions
)

select * from final
