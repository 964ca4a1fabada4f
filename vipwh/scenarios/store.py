"""A proposal stored as rule rows of its own ruleset: what the asset ``scenarios/proposal`` writes.

The proposal's rows of every rule table (its rulebook_id = its scenario_id), the services it adds and its run (file,
text, as-of date) go to the warehouse's ``raw.proposal_*`` tables under the scenario id, replacing that scenario's
earlier rows, in one transaction. The dbt models then rate it: ``stg_rules__`` union the rule rows with their
scenario_id, ``int_rating__coverage_rulings`` and ``int_benefit__entitlement_tiers`` compute its ruleset beside the
rulebooks in force, and the models of ``models/scenarios`` (schema ``scenarios``) compare it with the baseline.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb

from dagster_project.lib.warehouse import PROPOSAL_TABLES, insert_rows, proposal_table
from vipwh.scenarios.proposal import Catalogue, Proposal, base_rule_rows, proposal_rules


class ScenarioError(RuntimeError):
    """The scenario cannot run (no warehouse, busy warehouse, bad as-of date, the job failed …)."""


def warehouse_as_of(con: duckdb.DuckDBPyConnection) -> date:
    """The valuation date of the warehouse's marts (the same sources the dashboard reads it from)."""
    from vipwh.dashboard.queries import as_of_date

    value = as_of_date(con)
    if value is None:
        raise ScenarioError("the warehouse has no rating marts yet: run `vipwh build` first")
    return value


def scenario_as_of(con: duckdb.DuckDBPyConnection, catalogue: Catalogue, as_of: date | None) -> date:
    """The day a scenario rates the book on: ``as_of``, else the warehouse's valuation date; a rulebook of the
    warehouse must be in force that day (it is the baseline)."""
    as_of = as_of or warehouse_as_of(con)
    in_force = [
        rulebook
        for rulebook in catalogue.rulebooks.values()
        if rulebook["effective_from"] <= as_of
        and (rulebook["effective_until"] is None or rulebook["effective_until"] > as_of)
    ]
    if not in_force:
        raise ScenarioError(f"--as-of {as_of}: no rulebook of the warehouse is in force that day")
    return as_of


def proposal_rows(
    con: duckdb.DuckDBPyConnection,
    proposal: Proposal,
    catalogue: Catalogue,
    as_of: date,
    proposal_file: Path,
    run_at: datetime,
) -> dict[str, list[dict]]:
    """Every raw.proposal_* table's rows of the proposal (without scenario_id)."""
    tables = proposal_rules(proposal, catalogue).tables() | base_rule_rows(con, proposal.base_rulebook, proposal.id)
    tables["runs"] = [
        {
            "description": proposal.description,
            "base_rulebook_id": proposal.base_rulebook,
            "effective_from": proposal.effective_from,
            "as_of_date": as_of,
            "proposal_file": str(proposal_file),
            "proposal_yaml": proposal.source_text,
            "run_at": run_at,
        }
    ]
    return tables


def store(con: duckdb.DuckDBPyConnection, scenario_id: str, tables: dict[str, list[dict]]) -> dict[str, int]:
    """Replace the scenario's rows in every raw.proposal_* table, in one transaction; rows stored per table."""
    con.execute("begin")
    try:
        for table, columns in PROPOSAL_TABLES.items():
            con.execute(f"delete from {proposal_table(table)} where scenario_id = ?", [scenario_id])
            rows = [{**row, "scenario_id": scenario_id} for row in tables[table]]
            insert_rows(con, proposal_table(table), [name for name, _ in columns], rows)
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return {table: len(tables[table]) for table in PROPOSAL_TABLES}


def stored_scenarios(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The ids of the scenarios stored in the warehouse, sorted."""
    return [row[0] for row in con.execute(f"select scenario_id from {proposal_table('runs')} order by 1").fetchall()]
