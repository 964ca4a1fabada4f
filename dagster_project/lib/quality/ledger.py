"""The batch ledger's quarantine rate, a great-expectations range expectation on raw.batch_files.

Batch reconciliation (rows in file = loaded + quarantined = manifest, and what landed in the raw tables)
is a rule and a dbt test: ``dbt_project/tests/quality/batch_reconciliation.sql``.
"""

from __future__ import annotations

import duckdb

from dagster_project.lib.quality.framework import WARNING, Check, Settings
from dagster_project.lib.quality.gx import gx_module

BATCH_LEDGER = ("raw", "batches")


def quarantine_rate_sql(settings: Settings, con: duckdb.DuckDBPyConnection | None = None) -> str:
    return f"""
with

loaded_files as (
    select
        files.extract_date,
        files.file_name,
        files.rows_in_manifest,
        files.rows_in_file,
        files.rows_loaded,
        files.rows_quarantined,
        1 as n_rows
    from raw.batch_files as files
    inner join raw.batches as batches
        on files.extract_date = batches.extract_date
        and batches.status = 'loaded'
),

final as (
    select
        files.*,
        case
            when files.rows_in_file > 0 and files.rows_quarantined >= {int(settings.quarantine_min_rows)}
                then files.rows_quarantined / files.rows_in_file
            else 0.0
        end as quarantine_rate
    from loaded_files as files
)

select * from final
order by extract_date, file_name"""


def quarantine_rate_expectations(settings: Settings) -> list:
    gx = gx_module()
    return [
        gx.expectations.ExpectColumnValuesToBeBetween(
            column="quarantine_rate", min_value=0, max_value=settings.quarantine_rate_max, strict_max=True
        )
    ]


QUARANTINE_RATE = Check(
    name="quarantine_rate",
    asset_key=BATCH_LEDGER,
    severity=WARNING,
    description="For every file of every loaded batch with at least 5 quarantined rows "
    "(VIPWH_QUARANTINE_MIN_ROWS), rows quarantined / rows in file stays under the threshold "
    "(default 1 %, VIPWH_QUARANTINE_RATE_MAX).",
    reads=("raw.batches", "raw.batch_files"),
    sql=quarantine_rate_sql,
    expectations=quarantine_rate_expectations,
)
