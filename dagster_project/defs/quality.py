"""The great-expectations checks of lib/quality/ as Dagster asset checks (step keys ``quality__<check>``).

The rule invariants are dbt tests (dbt_project/tests/quality/), asset checks through dagster-dbt.
Blocking checks fail with ERROR severity and stop the assets downstream of the asset they guard; warnings
are reported with WARN severity. Every check is declared ``blocking`` to Dagster so that the assets
downstream (the check results, build_info, publish) wait for it, but only an ERROR result stops them.
Each check step writes its own outcome to ``quality.dq_check_results`` before it reports it, so a run
records its results whether or not it goes on to publish. In a build with nothing new, the published build's
result of a check stands instead of judging the same rows again (``_result_standing``).
"""

from dataclasses import replace

import dagster as dg

from dagster_project import project
from dagster_project.defs.resources import connect
from dagster_project.lib import engine, inputs, quality
from dagster_project.settings import SPARK, Settings

GROUP = "quality"


def check_settings(settings: Settings) -> quality.Settings:
    """The checks' settings from the run's settings: the valuation date and the quarantine threshold."""
    return quality.Settings(
        as_of=settings.as_of_date(),
        quarantine_rate_max=settings.quarantine_rate(),
        quarantine_min_rows=settings.quarantine_rows(),
    )


def _spark_connection(settings: Settings):
    """On Spark, the checks read Spark's Parquet directly (an in-memory DuckDB with views); None on DuckDB."""
    if settings.engine_name() != SPARK:
        return None
    relations = engine.dbt_relations(project.DBT_MANIFEST)
    return lambda: engine.spark_check_connection(settings.warehouse_file(), settings.spark_warehouse(), relations)


def _result_standing(check: quality.Check, settings: Settings) -> quality.CheckResult | None:
    """The published build's result of this check, when this build's inputs are that build's (else None).

    A check's result is a function of the tables it reads and the checks' settings, and those are a function
    of the build's inputs (lib/inputs.py). With nothing new, the check would judge the very rows, under the
    very thresholds, that the build which published the current snapshot judged, so its result stands and is
    recorded again for this run, saying so. Only the checks on the raw layer ever get here in such a build:
    the dbt step then materializes nothing and Dagster skips the checks of its assets. ``--full-refresh``
    judges again.
    """
    with connect(settings) as con:
        last = inputs.unchanged(con, settings)
        if last is None:
            return None
        earlier = quality.recorded_result(con, last["build_id"], check.name)
    if earlier is None:
        return None
    standing = f"nothing new since build {last['build_id']}: its result stands"
    return replace(earlier, message=f"{standing}. {earlier.message}" if earlier.message else standing, checked_at=None)


def _asset_check(check: quality.Check) -> dg.AssetChecksDefinition:
    asset_key = dg.AssetKey(list(check.asset_key))
    blocking = check.severity == quality.BLOCKING
    spec = dg.AssetCheckSpec(
        name=check.name,
        asset=asset_key,
        description=check.description,
        blocking=True,  # ordering: downstream waits; only an ERROR result blocks it
        # no additional_deps: every table a check reads besides its own asset is a dbt relation, built in
        # the same dbt step as the asset it guards
        metadata={"severity": check.severity, "reads": ", ".join(check.reads)},
    )

    @dg.multi_asset_check(name=f"quality__{check.name}", specs=[spec], description=check.description)
    def _check(context: dg.AssetCheckExecutionContext, settings: Settings):
        result = _result_standing(check, settings) or quality.run_check(
            check, settings.warehouse_file(), check_settings(settings), connect=_spark_connection(settings)
        )
        with connect(settings) as con:
            quality.record_results(con, context.run.run_id, [result])
        if not result.passed:
            log = context.log.error if blocking else context.log.warning
            log(f"{check.name} on {result.asset_key}: {result.failing_rows} failing rows. {result.message}")
        yield dg.AssetCheckResult(
            asset_key=asset_key,
            check_name=check.name,
            passed=result.passed,
            severity=dg.AssetCheckSeverity.ERROR if blocking else dg.AssetCheckSeverity.WARN,
            metadata={
                "failing_rows": dg.MetadataValue.int(result.failing_rows),
                "sample": dg.MetadataValue.json(result.sample),
                "message": dg.MetadataValue.text(result.message),
            },
        )

    return _check


asset_checks: list[dg.AssetChecksDefinition] = [_asset_check(check) for check in quality.CHECKS]
checked_asset_keys: list[dg.AssetKey] = sorted(
    {dg.AssetKey(list(c.asset_key)) for c in quality.CHECKS}, key=lambda key: key.to_user_string()
)
