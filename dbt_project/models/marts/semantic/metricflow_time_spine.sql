-- Daily time spine for MetricFlow (2000-01-01 .. 2040-12-31), portable through dbt.date_spine.
with

days as (
    {{ dbt.date_spine("day", "cast('2000-01-01' as date)", "cast('2041-01-01' as date)") }}
),

final as (
    select cast(date_day as date) as date_day
    from days
)

select * from final
