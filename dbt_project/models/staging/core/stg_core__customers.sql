with

ranked as (
    {{ latest_rows('customers', ['holder_id']) }}
),

final as (
    select
        holder_id,
        gender,
        birth_date,
        province,
        city,
        id_number_hash,
        _extract_date as extract_date,
        _source_line as source_line
    from ranked
    where _row_rank = 1
)

select * from final
