-- Published: what was left out of the warehouse and why, counted per batch × file × reason: rows quarantined
-- at load (raw.quarantine; the raw record itself is not published, it may hold personal data) and current
-- rows the int_core__*_resolved models leave out because an id they carry points nowhere
-- (int_core__reference_quarantine).
with

quarantined as (
    select
        extract_date,
        file_name,
        reason
    from {{ source('raw', 'quarantine') }}
),

orphans as (
    select
        extract_date,
        file_name,
        reason
    from {{ ref('int_core__reference_quarantine') }}
),

counted as (
    select
        'quarantined' as kind,
        extract_date,
        file_name,
        reason,
        count(*) as rows_left_out
    from quarantined
    group by extract_date, file_name, reason

    union all

    select
        'orphan' as kind,
        extract_date,
        file_name,
        reason,
        count(*) as rows_left_out
    from orphans
    group by extract_date, file_name, reason
),

final as (
    select
        kind || '/' || cast(extract_date as {{ dbt.type_string() }}) || '/' || file_name || '/' || reason
            as summary_id,
        kind,
        extract_date,
        file_name,
        reason,
        rows_left_out
    from counted
)

select * from final
