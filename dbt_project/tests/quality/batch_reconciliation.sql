{{ config(severity='error', meta={'dagster': {'ref': {'name': 'dq_batch_ledger'}}}) }}
-- CONTRACT §1: for every file of every loaded batch, rows in file = rows loaded + rows quarantined = rows in
-- the manifest, and the raw table and raw.quarantine hold exactly those rows. Returns the offending files.
{#- the extracts of vipwh/contract.py EXTRACT_FILES: file name -> raw table -#}
{%- set extracts = [
    ('customers.csv', 'customers'),
    ('policies.csv', 'policies'),
    ('policy_transactions.csv', 'policy_transactions'),
    ('relatives.csv', 'relatives'),
    ('service_activations.csv', 'service_activations'),
    ('service_usage.csv', 'service_usage'),
] %}
with

loaded_files as (
    select
        files.extract_date,
        files.file_name,
        files.rows_in_manifest,
        files.rows_in_file,
        files.rows_loaded,
        files.rows_quarantined
    from {{ source('raw', 'batch_files') }} as files
    inner join {{ source('raw', 'batches') }} as batches
        on
            files.extract_date = batches.extract_date
            and batches.status = 'loaded'
),

table_rows as (
    {%- for file_name, table in extracts %}
        select
            '{{ file_name }}' as file_name,
            _extract_date as extract_date,
            count(*) as rows_in_table
        from {{ source('raw', table) }}
        group by _extract_date
        {{ 'union all' if not loop.last }}
    {%- endfor %}
),

quarantine_rows as (
    select
        file_name,
        extract_date,
        count(*) as rows_in_quarantine
    from {{ source('raw', 'quarantine') }}
    group by file_name, extract_date
),

reconciled as (
    select
        files.extract_date,
        files.file_name,
        files.rows_in_manifest,
        files.rows_in_file,
        files.rows_loaded,
        files.rows_quarantined,
        coalesce(table_rows.rows_in_table, 0) as rows_in_table,
        coalesce(quarantine_rows.rows_in_quarantine, 0) as rows_in_quarantine
    from loaded_files as files
    left join table_rows
        on
            files.extract_date = table_rows.extract_date
            and files.file_name = table_rows.file_name
    left join quarantine_rows
        on
            files.extract_date = quarantine_rows.extract_date
            and files.file_name = quarantine_rows.file_name
),

final as (
    select
        case
            when reconciled.rows_in_file is null then 'rows in file unknown'
            when
                reconciled.rows_in_manifest is null or reconciled.rows_in_file <> reconciled.rows_in_manifest
                then 'file disagrees with its manifest'
            when
                reconciled.rows_loaded is null
                or reconciled.rows_quarantined is null
                or reconciled.rows_in_file <> reconciled.rows_loaded + reconciled.rows_quarantined
                then 'rows in file <> loaded + quarantined'
            when reconciled.rows_loaded <> reconciled.rows_in_table then 'raw table does not hold the rows loaded'
            else 'raw.quarantine does not hold the rows quarantined'
        end as problem,
        reconciled.*
    from reconciled
    where
        reconciled.rows_in_file is null
        or reconciled.rows_in_manifest is null
        or reconciled.rows_loaded is null
        or reconciled.rows_quarantined is null
        or reconciled.rows_in_file <> reconciled.rows_in_manifest
        or reconciled.rows_in_file <> reconciled.rows_loaded + reconciled.rows_quarantined
        or reconciled.rows_loaded <> reconciled.rows_in_table
        or reconciled.rows_quarantined <> reconciled.rows_in_quarantine
)

select * from final
