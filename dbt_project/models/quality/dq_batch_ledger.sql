-- Published: the batch ledger, one row per batch that arrived (loaded, rejected, …) with its rows loaded and
-- quarantined summed over its files.
with

batches as (
    select
        extract_date,
        status,
        loaded_at
    from {{ source('raw', 'batches') }}
),

batch_files as (
    select
        extract_date,
        count(*) as files,
        sum(rows_in_file) as rows_in_files,
        sum(rows_loaded) as rows_loaded,
        sum(rows_quarantined) as rows_quarantined
    from {{ source('raw', 'batch_files') }}
    group by extract_date
),

final as (
    select
        batches.extract_date,
        batches.status,
        coalesce(batch_files.files, 0) as files,
        coalesce(batch_files.rows_in_files, 0) as rows_in_files,
        coalesce(batch_files.rows_loaded, 0) as rows_loaded,
        coalesce(batch_files.rows_quarantined, 0) as rows_quarantined,
        batches.loaded_at
    from batches
    left join batch_files
        on batches.extract_date = batch_files.extract_date
)

select * from final
