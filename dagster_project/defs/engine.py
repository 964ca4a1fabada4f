"""The hand-offs around the engine dbt runs on, as assets of their own (visible in the graph).

On DuckDB both are no-ops: dbt reads ingestion's raw tables and writes the marts in the same file. On Spark
``engine/raw_parquet`` exports the raw tables as Parquet for Spark to read, before dbt runs, and
``engine/spark_relations`` attaches one view per dbt relation in the control file over the Parquet Spark
wrote, so the checks, build_info and publish read what Spark built.
"""

from collections.abc import Sequence

import dagster as dg

from dagster_project import project
from dagster_project.defs.resources import connect
from dagster_project.lib import engine, inputs
from dagster_project.settings import SPARK, Settings
from vipwh import progress

GROUP = "engine"
RAW_PARQUET_KEY = dg.AssetKey(["engine", "raw_parquet"])
SPARK_RELATIONS_KEY = dg.AssetKey(["engine", "spark_relations"])
LEDGER_KEY = dg.AssetKey(["raw", "batches"])


class SparkRelationsMissing(Exception):
    """Spark wrote no Parquet for some dbt relations."""


@dg.asset(
    key=RAW_PARQUET_KEY,
    group_name=GROUP,
    deps=[LEDGER_KEY],
    description="Spark only: every raw table of the control file as Parquet under <warehouse>/raw.db/, "
    "written to a fresh folder and swapped in; with nothing new since the published build, what it exported "
    "stands. A no-op on DuckDB.",
)
def raw_parquet(context: dg.AssetExecutionContext, settings: Settings) -> dg.MaterializeResult:
    if settings.engine_name() != SPARK:
        return dg.MaterializeResult(metadata={"engine": settings.engine_name(), "rows_exported": 0})
    with connect(settings) as con:
        last = inputs.unchanged(con, settings)
        if last is not None and engine.raw_exported(con, settings.spark_warehouse()):
            # nothing new: the Parquet the published build exported holds these very raw tables
            progress.say(f"spark: nothing new since build {last['build_id']}: the raw Parquet stands")
            return dg.MaterializeResult(
                metadata={"engine": SPARK, "rows_exported": 0, "unchanged_since": last["build_id"]}
            )
        counts = engine.export_raw(con, settings.spark_warehouse())
    progress.say(f"spark: raw tables exported as Parquet ({sum(counts.values()):,} rows)")
    return dg.MaterializeResult(
        metadata={"engine": SPARK, "rows_exported": sum(counts.values()), "tables": dg.MetadataValue.json(counts)}
    )


def build_spark_relations_asset(dbt_keys: Sequence[dg.AssetKey]) -> dg.AssetsDefinition:
    @dg.asset(
        key=SPARK_RELATIONS_KEY,
        group_name=GROUP,
        deps=list(dbt_keys),
        description="Spark only: one view per dbt model and seed in the control file, over the Parquet "
        "Spark wrote, for the checks and publish. A no-op on DuckDB.",
    )
    def spark_relations(context: dg.AssetExecutionContext, settings: Settings) -> dg.MaterializeResult:
        if settings.engine_name() != SPARK:
            return dg.MaterializeResult(metadata={"engine": settings.engine_name(), "views": 0})
        relations = engine.dbt_relations(project.DBT_MANIFEST)
        with connect(settings) as con:
            missing = engine.attach_spark_relations(con, settings.spark_warehouse(), relations)
        if missing:
            raise SparkRelationsMissing("Spark wrote no Parquet for " + ", ".join(".".join(m) for m in missing))
        return dg.MaterializeResult(metadata={"engine": SPARK, "views": len(relations)})

    return spark_relations
