"""`vipwh rulebook adopt`: a validated proposal becomes a rulebook in force from a date (RULES §5).

The handbook changes every year. A proposal (the YAML file `vipwh scenario run` tries out, docs/scenarios.md)
is adopted as rule rows of its own rulebook, ``rulebook_id`` = the proposal's id: the base rulebook's rows of
every rulebook-keyed rule table with the proposal's overrides applied (:func:`proposal_rules`, the rows a
scenario run rates with), written to the warehouse's ``raw.adopted_<table>`` tables in one transaction. The
``stg_rules__`` models union them with the seeds; ``stg_rules__rulebooks`` ends the previous rulebook where
the new one starts (``effective_until`` is exclusive: its last day is the day before). Nothing is re-rated
until the next `vipwh build`, which sees new inputs and re-rates the whole book from that date, splitting a
tier row only where the tier changes (reason ``rule_change``).

Refused (exit 2, nothing written): an invalid proposal (an id that is already a rulebook among them); a base that is not
the latest rulebook; a date not after the latest rulebook's start; a proposal that adds services (a service
in force needs its full handbook row in ``seeds/benefits/services.csv``, not a usage assumption).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb

from dagster_project.lib import lock
from dagster_project.lib.engine import resolve_warehouse
from dagster_project.lib.warehouse import ADOPTED_RULE_TABLES, adopted_table, create_raw_tables, insert_rows
from vipwh.scenarios.proposal import Catalogue, ProposalError, base_rule_rows, load_proposal, proposal_rules


class AdoptionRefused(ValueError):
    """The proposal cannot be adopted (the message says why); nothing was written."""


@dataclass(frozen=True)
class Adopted:
    rulebook_id: str
    base_rulebook_id: str
    effective_from: date
    rows: dict[str, int]  # rule table -> rows adopted


def adopt(proposal_file: Path, warehouse: Path, effective_from: date) -> Adopted:
    """Adopt ``proposal_file`` as a rulebook of ``warehouse`` in force from ``effective_from``.

    Raises ``ProposalError`` (invalid file), ``AdoptionRefused`` (valid, but not adoptable), ``FileNotFoundError``
    (no built warehouse) or ``lock.BuildRunning``.
    """
    warehouse = resolve_warehouse(Path(warehouse).resolve())  # a Spark warehouse directory: its control file
    if not warehouse.is_file():
        raise FileNotFoundError(f"no warehouse at {warehouse}: run `vipwh build` first")
    with lock.held(warehouse, kind="rulebook adoption"), duckdb.connect(str(warehouse)) as con:
        create_raw_tables(con)
        catalogue = Catalogue.load(con)  # the seeds' rulebooks and those adopted before
        proposal = load_proposal(Path(proposal_file), catalogue)
        _check(proposal, catalogue, effective_from)
        tables = proposal_rules(proposal, catalogue).tables()
        del tables["services"]  # none (refused above)
        base = proposal.base_rulebook
        tables |= base_rule_rows(con, base, proposal.id)
        tables["rulebooks"] = [
            {
                **tables["rulebooks"][0],
                "effective_from": effective_from,
                "base_rulebook_id": base,
                "adopted_at": datetime.now(),
                "source_file": str(Path(proposal_file).resolve()),
                "proposal_text": proposal.source_text,
            }
        ]
        con.execute("begin")
        try:
            for table, rows in tables.items():
                insert_rows(con, adopted_table(table), [name for name, _ in ADOPTED_RULE_TABLES[table]], rows)
            con.execute("commit")
        except Exception:
            con.execute("rollback")
            raise
    return Adopted(proposal.id, base, effective_from, {table: len(rows) for table, rows in tables.items()})


def _check(proposal, catalogue: Catalogue, effective_from: date) -> None:
    if proposal.services:
        raise AdoptionRefused(
            f"the proposal adds services ({', '.join(sorted(proposal.services))}): a service in force needs its "
            "handbook row in dbt_project/seeds/benefits/services.csv (scope, waiting days, how it is consumed); "
            "add it there, then adopt the proposal without its `services` key"
        )
    latest = max(catalogue.rulebooks.values(), key=lambda rulebook: rulebook["effective_from"])
    if proposal.base_rulebook != latest["rulebook_id"]:
        raise AdoptionRefused(
            f"the proposal is based on {proposal.base_rulebook}, and the latest rulebook is "
            f"{latest['rulebook_id']} (from {latest['effective_from']}): base it on the latest"
        )
    if effective_from <= latest["effective_from"]:
        raise AdoptionRefused(
            f"--effective-from {effective_from} is not after {latest['rulebook_id']} took effect "
            f"({latest['effective_from']}): a rulebook replaces the latest from a later day"
        )
    if latest["effective_until"] is not None and latest["effective_until"] < effective_from:
        raise AdoptionRefused(
            f"{latest['rulebook_id']} ends on {latest['effective_until']}: from then until {effective_from} "
            "no rulebook would be in force"
        )


def summary(adopted: Adopted, proposal_file: Path) -> str:
    rows = ", ".join(f"{table} {count}" for table, count in adopted.rows.items() if table != "rulebooks")
    return "\n".join(
        [
            f"vipwh rulebook: adopted {proposal_file} as rulebook {adopted.rulebook_id}, in force from "
            f"{adopted.effective_from}",
            f"  {adopted.base_rulebook_id} is in force until the day before (its effective_until, exclusive, is "
            f"{adopted.effective_from})",
            f"  rule rows: {rows}",
            "  nothing is re-rated yet: the next `vipwh build` re-rates the book from that date",
        ]
    )


__all__ = ["Adopted", "AdoptionRefused", "ProposalError", "adopt", "summary"]
