with

ranked as (
    {{ latest_rows('relatives', ['relative_id']) }}
),

final as (
    select
        ranked.relative_id,
        ranked.holder_id,
        ranked.relation,
        ranked._extract_date as extract_date,
        ranked._source_line as source_line
    from ranked
    where ranked._row_rank = 1
)

select * from final
