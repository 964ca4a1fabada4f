"""The end of a build: the run's check results, its build_info row, and the published snapshot.

``quality/dq_check_results`` and ``marts/build_info`` sit downstream of every checked asset, so they run
only once every check of the run has reported (and been recorded by its own step); a blocking failure
stops them and publish, so nothing is published, while the failing results are already recorded.
"""

from collections.abc import Sequence
from datetime import datetime

import dagster as dg

from dagster_project.defs.resources import connect
from dagster_project.lib import build_info as build_info_lib
from dagster_project.lib import inputs, quality
from dagster_project.lib import publish as publish_lib
from dagster_project.settings import Settings

SNAPSHOT_KEY = dg.AssetKey(["publish", "snapshot"])
CHECK_RESULTS_KEY = dg.AssetKey(["quality", "dq_check_results"])
BUILD_INFO_KEY = dg.AssetKey(["marts", "build_info"])


class CheckResultsIncomplete(Exception):
    """The run reported check outcomes that quality.dq_check_results does not hold."""


def _evaluations_of_run(context: dg.AssetExecutionContext) -> int:
    records = context.instance.get_records_for_run(
        context.run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
    ).records
    return len(records)


def build_check_results_asset(upstream: Sequence[dg.AssetKey]) -> dg.AssetsDefinition:
    @dg.asset(
        key=CHECK_RESULTS_KEY,
        group_name="quality",
        deps=list(upstream),
        description="Every check outcome of the run (great-expectations checks and dbt tests), one row "
        "each, appended to the history of earlier builds. Each check's step writes its row; "
        "this asset runs after all of them and verifies the run's rows are complete.",
    )
    def dq_check_results(context: dg.AssetExecutionContext, settings: Settings) -> dg.MaterializeResult:
        with connect(settings) as con:
            run, failed = quality.results_of_build(con, context.run.run_id)
        reported = _evaluations_of_run(context)
        if run != reported:
            raise CheckResultsIncomplete(
                f"the run reported {reported} check outcomes and {quality.RESULTS_TABLE} holds {run} of them"
            )
        return dg.MaterializeResult(metadata={"checks_run": run, "checks_failed": failed})

    return dq_check_results


@dg.asset(
    key=BUILD_INFO_KEY,
    group_name="marts",
    deps=[CHECK_RESULTS_KEY],
    description="The build that produced the snapshot, one row: build_id (the Dagster run id, as in "
    "quality.dq_check_results), built_at, as_of_date, engine, batches_loaded, "
    "latest_extract_date, rulebook_ids, checks_run, checks_failed.",
)
def build_info(context: dg.AssetExecutionContext, settings: Settings) -> dg.MaterializeResult:
    with connect(settings) as con:
        row = build_info_lib.write(
            con,
            build_id=context.run.run_id,
            built_at=datetime.now(),
            as_of=settings.as_of_date(),
            engine=settings.engine_name(),
        )
    return dg.MaterializeResult(metadata={key: dg.MetadataValue.text(str(value)) for key, value in row.items()})


def build_publish_asset(mart_keys: Sequence[dg.AssetKey]) -> dg.AssetsDefinition:
    @dg.asset(
        key=SNAPSHOT_KEY,
        group_name="publish",
        deps=[*mart_keys, BUILD_INFO_KEY],
        description="Consistent read-only snapshot of marts, rules and quality results (DuckDB file + "
        "Parquet), swapped in atomically; readers (`vipwh sql`, dashboards) use only this. Only the tables "
        "that differ from the current snapshot are written; the rest are kept from it.",
    )
    def snapshot(context: dg.AssetExecutionContext, settings: Settings) -> dg.MaterializeResult:
        with connect(settings) as con:
            snapshot_id = f"{datetime.now():%Y%m%dT%H%M%S}-{context.run.run_id[:8]}"
            published = publish_lib.publish(con, settings.warehouse_file(), build_id=snapshot_id)
            inputs.record(con, inputs.fingerprint(con, settings), context.run.run_id, published.snapshot)
        return dg.MaterializeResult(
            metadata={
                "snapshot": str(published.snapshot),
                "tables_written": len(published.written),
                "tables_kept": len(published.kept),
                "tables_replaced_by_holder": len(published.replaced),
                "written": dg.MetadataValue.text(", ".join(published.written) or "none"),
            }
        )

    return snapshot
