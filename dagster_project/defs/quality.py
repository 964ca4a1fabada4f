"""The data-quality checks of lib/quality.py as Dagster asset checks (step keys ``quality__<check>``).

Blocking checks fail with ERROR severity and stop the assets downstream of the asset they guard; warnings
are reported with WARN severity. Each evaluation carries ``failing_rows`` and ``sample`` metadata.
"""

import os
from datetime import date

import dagster as dg

from dagster_project import project
from dagster_project.lib import quality

GROUP = "quality"
QUARANTINE_RATE_ENV = "VIPWH_QUARANTINE_RATE_MAX"
QUARANTINE_MIN_ROWS_ENV = "VIPWH_QUARANTINE_MIN_ROWS"


def settings() -> quality.Settings:
    """Settings read when a check runs (never at import): the valuation date and the quarantine threshold."""
    as_of = project.as_of_date()
    rate = os.environ.get(QUARANTINE_RATE_ENV, "").strip()
    min_rows = os.environ.get(QUARANTINE_MIN_ROWS_ENV, "").strip()
    return quality.Settings(
        as_of=date.fromisoformat(as_of) if as_of else None,
        quarantine_rate_max=float(rate) if rate else quality.DEFAULT_QUARANTINE_RATE_MAX,
        quarantine_min_rows=int(min_rows) if min_rows else quality.DEFAULT_QUARANTINE_MIN_ROWS,
    )


def _asset_check(check: quality.Check) -> dg.AssetChecksDefinition:
    asset_key = dg.AssetKey(list(check.asset_key))
    blocking = check.severity == quality.BLOCKING
    spec = dg.AssetCheckSpec(
        name=check.name,
        asset=asset_key,
        description=check.description,
        blocking=blocking,
        additional_deps=[dg.AssetKey(list(dep)) for dep in check.deps],
        metadata={"severity": check.severity, "reads": ", ".join(check.reads)},
    )

    @dg.multi_asset_check(name=f"quality__{check.name}", specs=[spec], description=check.description)
    def _check(context: dg.AssetCheckExecutionContext):
        result = quality.run_check(check, project.warehouse_path(), settings())
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
