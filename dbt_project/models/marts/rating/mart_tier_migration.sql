-- Month × from tier × to tier: how many members moved between tiers ('none' = joining or leaving the
-- programme), from the tier history's changes in that month.
with

tier_history as (
    select * from {{ ref('fct_member_tier_history') }}
),

sequenced as (
    select
        tier_history.*,
        lead(tier_history.valid_from)
            over (partition by tier_history.holder_id order by tier_history.valid_from)
            as next_valid_from
    from tier_history
),

migrations as (
    select
        holder_id,
        valid_from as migration_date,
        coalesce(previous_tier_code, 'none') as from_tier_code,
        tier_code as to_tier_code
    from sequenced

    union all

    select
        holder_id,
        valid_to as migration_date,
        tier_code as from_tier_code,
        'none' as to_tier_code
    from sequenced
    where
        valid_to is not null
        and (next_valid_from is null or next_valid_from > valid_to)
),

monthly as (
    select
        cast({{ dbt.date_trunc('month', 'migration_date') }} as date) as month,
        from_tier_code,
        to_tier_code,
        holder_id
    from migrations
),

final as (
    select
        cast(month as {{ dbt.type_string() }}) || '/' || from_tier_code || '/' || to_tier_code as migration_id,
        month,
        from_tier_code,
        to_tier_code,
        count(distinct holder_id) as members
    from monthly
    group by month, from_tier_code, to_tier_code
)

select * from final
