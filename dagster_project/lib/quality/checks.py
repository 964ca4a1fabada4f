"""The great-expectations checks run as Dagster asset checks (defs/quality.py), one module per concern.

The rule invariants (coefficients, exclusions, thresholds, tier codes, intervals, entitlement matrix, usage
verdicts, status timeline, batch reconciliation) are dbt tests in ``dbt_project/tests/quality/``; they
reach Dagster as asset checks through dagster-dbt. Extend with ``CHECKS = (*CHECKS, NEW_CHECK)``.
"""

from __future__ import annotations

from dagster_project.lib.quality import id_scan
from dagster_project.lib.quality.framework import Check
from dagster_project.lib.quality.ledger import QUARANTINE_RATE

CHECKS: tuple[Check, ...] = (QUARANTINE_RATE, id_scan.CHECK)
