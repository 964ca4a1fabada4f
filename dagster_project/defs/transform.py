"""The dbt project as Dagster assets; dbt tests become asset checks."""


import json
import shutil
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from dagster_project import project
from dagster_project.defs.resources import Warehouse
from dagster_project.lib import engine
from vipwh import progress


class DbtBuildFailed(Exception):
    """dbt build reported errors or failing tests of severity error."""


def _keep_run_results(invocation) -> None:
    """Copy dbt's run_results.json beside the warehouse (logs/dbt_run_results.json) for the benchmark."""
    source = invocation.target_path / "run_results.json"
    if source.exists():
        logs = project.warehouse_path().parent / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, logs / "dbt_run_results.json")


def _failures(invocation) -> str:
    try:
        results = invocation.get_artifact("run_results.json")["results"]
    except Exception:  # noqa: BLE001 - a summary is best effort; the dbt log has the details
        return "dbt build failed (see the dbt log above)"
    bad = [f"{r['unique_id']}: {r['status']} {r.get('message') or ''}".strip()
           for r in results if r["status"] in ("error", "fail", "runtime error")]
    return "dbt build failed:\n  " + "\n  ".join(bad[:20])


class VipwhTranslator(DagsterDbtTranslator):
    """Asset keys are ``[schema, name]`` (raw/…, staging/…, marts/…); groups follow the schema."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey([dbt_resource_props["source_name"], dbt_resource_props["name"]])
        schema = dbt_resource_props.get("config", {}).get("schema") or "main"
        return dg.AssetKey([schema, dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return dbt_resource_props.get("config", {}).get("schema") or "transform"


dbt_project = DbtProject(project_dir=project.DBT_PROJECT_DIR, profiles_dir=project.REPO_ROOT)


def build_dbt_assets() -> dg.AssetsDefinition:
    @dbt_assets(manifest=dbt_project.manifest_path, dagster_dbt_translator=VipwhTranslator(),
                name="vipwh_dbt")
    def vipwh_dbt(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: Warehouse):
        on_spark = engine.current() == engine.SPARK
        if on_spark:
            with warehouse.connect() as con:
                counts = engine.export_raw(con, engine.spark_warehouse())
            progress.say(f"spark: raw tables exported as Parquet ({sum(counts.values()):,} rows)")
        # Unit tests check the models' logic, not the data: they run in CI (tests/test_dbt_unit.py), not here.
        args = ["build", "--exclude-resource-type", "unit_test"]
        if project.as_of_date():
            # only when given: identical command-line vars let dbt reuse the parse of `ensure_dbt_manifest`
            args += ["--vars", json.dumps({"as_of_date": project.as_of_date()})]
        invocation = dbt.cli(args, context=context, raise_on_error=False)
        done = 0
        for event in invocation.stream():
            if isinstance(event, dg.Output | dg.AssetMaterialization):
                done += 1
                progress.say(f"dbt: built {getattr(event, 'output_name', None) or event.asset_key} ({done})")
            elif isinstance(event, dg.AssetCheckResult) and not event.passed:
                progress.say(f"dbt: check {event.check_name} FAILED on {'/'.join(event.asset_key.path)}")
            yield event
        _keep_run_results(invocation)
        if not invocation.is_successful():
            raise DbtBuildFailed(_failures(invocation))
        if on_spark:
            with warehouse.connect() as con:
                missing = engine.attach_spark_relations(con, engine.spark_warehouse(),
                                                        engine.dbt_relations(invocation.target_path / "manifest.json"))
            if missing:
                raise DbtBuildFailed("Spark wrote no Parquet for " + ", ".join(".".join(m) for m in missing))

    return vipwh_dbt
