"""All Dagster definitions of vipwh: what `dagster dev` shows and what `vipwh build` runs."""

from __future__ import annotations

import dagster as dg
from dagster_dbt import DbtCliResource

from dagster_project import project
from dagster_project.defs import automation, ingest, publish, quality, transform
from dagster_project.defs.resources import Warehouse

BUILD_JOB = automation.BUILD_JOB


def make_definitions() -> dg.Definitions:
    transform.dbt_project.prepare_if_dev()
    dbt_assets = transform.build_dbt_assets()
    mart_keys = [key for key in dbt_assets.keys if key.path[0] in ("marts", "rules")]
    snapshot = publish.build_publish_asset(mart_keys)
    build_job = dg.define_asset_job(BUILD_JOB, selection=dg.AssetSelection.all(),
                                    executor_def=dg.in_process_executor,
                                    description="Ingest new batches, build every dbt model and test.")
    return dg.Definitions(
        assets=[*ingest.assets, dbt_assets, snapshot],
        asset_checks=quality.asset_checks,
        jobs=[build_job],
        schedules=[automation.daily_build],
        sensors=[automation.new_batch_sensor],
        resources={
            "warehouse": Warehouse(),
            "dbt": DbtCliResource(project_dir=transform.dbt_project,
                                  profiles_dir=str(transform.dbt_project.profiles_dir),
                                  dbt_executable=project.dbt_executable()),
        },
    )


defs = make_definitions()
