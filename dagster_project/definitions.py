"""All Dagster definitions of vipwh: what `dagster dev` shows and what `vipwh build` runs.

ingest (landing batches → raw tables → ledger) → engine/raw_parquet → dbt (seeds, staging, intermediate,
marts, scenarios; dbt tests as asset checks) → engine/spark_relations → great-expectations asset checks →
quality/dq_check_results → marts/build_info → publish/snapshot. Beside it, scenarios/proposal (one dynamic
partition per scenario) stores a proposal's rule rows, which the dbt models read; the job vipwh_scenario
stores one and re-rates the stored scenarios (defs/scenarios.py).
"""

from __future__ import annotations

import dagster as dg

from dagster_project import project
from dagster_project.defs import automation, engine, ingest, publish, quality, scenarios, transform
from dagster_project.settings import Settings

BUILD_JOB = automation.BUILD_JOB
SCENARIO_JOB = scenarios.SCENARIO_JOB


def make_definitions() -> dg.Definitions:
    project.ensure_dbt_manifest()  # the dbt assets are defined by the manifest (parsed only when stale)
    dbt_assets = transform.build_dbt_assets()
    dbt_keys = list(dbt_assets.keys)
    mart_keys = [key for key in dbt_keys if key.path[0] in ("marts", "rules", "quality", "scenarios")]
    spark_relations = engine.build_spark_relations_asset(dbt_keys)
    check_results = publish.build_check_results_asset(
        [*quality.checked_asset_keys, *dbt_keys, engine.SPARK_RELATIONS_KEY]
    )
    snapshot = publish.build_publish_asset(mart_keys)
    build_job = dg.define_asset_job(
        BUILD_JOB,
        # every asset but the proposals, which a scenario run stores (one partition each)
        selection=dg.AssetSelection.all() - dg.AssetSelection.assets(*scenarios.PROPOSAL_KEYS),
        executor_def=dg.in_process_executor,
        description="Ingest new batches, build every dbt model and test, run the "
        "checks, record their results and publish a snapshot.",
    )
    return dg.Definitions(
        assets=[
            *ingest.assets,
            scenarios.proposal,
            engine.raw_parquet,
            dbt_assets,
            spark_relations,
            check_results,
            publish.build_info,
            snapshot,
        ],
        asset_checks=quality.asset_checks,
        jobs=[build_job, scenarios.scenario_job(publish.SNAPSHOT_KEY)],
        schedules=[automation.daily_build],
        sensors=[automation.new_batch_sensor, scenarios.scenario_partitions],
        resources={
            "settings": Settings(),
            "dbt": transform.VipwhDbtCliResource(
                project_dir=transform.dbt_project,
                profiles_dir=str(transform.dbt_project.profiles_dir),
                dbt_executable=project.dbt_executable(),
            ),
        },
    )


defs = make_definitions()
