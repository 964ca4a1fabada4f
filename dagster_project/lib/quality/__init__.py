"""Data-quality checks of the warehouse.

- ``framework``: Check, CheckResult, Settings, run_check, table_exists (a SQL query + a GX suite);
- ``gx``: the great-expectations adapter (validate a pandas frame);
- ``results``: quality.dq_check_results (RESULTS_TABLE DDL, record_results, recorded_result, results_of_build,
  from_evaluation for dbt tests and GX checks alike);
- ``ledger``: the GX check on the batch ledger (quarantine rate);
- ``checks``: CHECKS, the GX checks run as Dagster asset checks.

The rule invariants are dbt tests (``dbt_project/tests/quality/``), with the handbook's expected values in
the seed ``dbt_project/seeds/handbook_fixture/``; see docs/decisions_quality.md.
"""

from dagster_project.lib.quality.checks import CHECKS
from dagster_project.lib.quality.framework import (
    BLOCKING,
    WARNING,
    Check,
    CheckResult,
    Settings,
    run_check,
    run_checks,
    table_exists,
)
from dagster_project.lib.quality.results import (
    RESULTS_TABLE,
    from_evaluation,
    record_results,
    recorded_result,
    results_of_build,
)

__all__ = [
    "BLOCKING",
    "CHECKS",
    "CHECKS_BY_NAME",
    "RESULTS_TABLE",
    "WARNING",
    "Check",
    "CheckResult",
    "Settings",
    "from_evaluation",
    "record_results",
    "recorded_result",
    "results_of_build",
    "run_check",
    "run_checks",
    "table_exists",
]

CHECKS_BY_NAME = {check.name: check for check in CHECKS}
