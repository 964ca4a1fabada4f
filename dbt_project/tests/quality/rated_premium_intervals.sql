{{ config(severity='error') }}
-- RULES §4: a holder's rated-premium-history intervals [valid_from, valid_to) are non-empty and never overlap.
-- Returns the empty rows and the rows starting before the previous row of the holder ends.
with

history as (
    select
        holder_id,
        valid_from,
        valid_to
    from {{ ref('fct_member_rated_premium_history') }}
),

ordered as (
    select
        holder_id,
        valid_from,
        valid_to,
        lag(valid_from) over holder_rows as previous_valid_from,
        lag(valid_to) over holder_rows as previous_valid_to,
        row_number() over holder_rows as row_no
    from history
    window holder_rows as (
        partition by holder_id
        order by valid_from, case when valid_to is null then 1 else 0 end, valid_to
    )
),

final as (
    select
        case
            when valid_to is not null and valid_to <= valid_from then 'empty interval'
            else 'overlaps the previous interval'
        end as problem,
        holder_id,
        valid_from,
        valid_to,
        previous_valid_from,
        previous_valid_to
    from ordered
    where
        (valid_to is not null and valid_to <= valid_from)
        or (row_no > 1 and (previous_valid_to is null or previous_valid_to > valid_from))
)

select * from final
