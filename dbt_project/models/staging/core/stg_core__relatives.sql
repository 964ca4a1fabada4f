with

ranked as (
    {{ latest_rows('relatives', ['relative_id']) }}
),

final as (
    select
        ranked.relative_id,
        ranked.holder_id,
        ranked.relation,
        ranked._extract_date as extract_date
    from ranked
    where ranked._row_rank = 1
)

select * from final
