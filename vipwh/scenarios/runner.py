"""`vipwh scenario run | compare`: run a proposal against a built warehouse, compare scenarios side by side.

A run never rebuilds the baseline. It writes the proposal's rule rows into ``scenario_work.proposal_*``, builds
the dbt models of ``models/scenarios`` only (enabled by the var ``scenario_run``), then replaces the scenario's
rows in schema ``scenarios`` in one transaction and re-publishes the snapshot so readers see them.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb

from dagster_project.project import dbt_executable
from vipwh.scenarios.proposal import (
    RULE_COLUMNS,
    Catalogue,
    Proposal,
    ProposalRules,
    load_proposal,
    proposal_rules,
)

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
WORK_SCHEMA = "scenario_work"
SCHEMA = "scenarios"
DBT_VARS = json.dumps({"scenario_run": True})  # constant, so dbt can reuse its partial parse between runs

# scenario_work table → the scenarios table that keeps it, per scenario_id (inputs first, then outputs)
PROPOSAL_TABLES = {f"proposal_{table}": f"scenario_{table}" for table in RULE_COLUMNS}
OUTPUT_TABLES = (
    "scenario_runs",
    "scenario_tier_distribution",
    "scenario_tier_migration",
    "scenario_member_changes",
    "scenario_benefit_cost",
)
PROPOSAL_SERVICE_COLUMNS = {
    "scenario_id": "varchar",
    "service_code": "varchar",
    "service_group": "varchar",
    "name_zh": "varchar",
    "name_en": "varchar",
    "unit": "varchar",
    "like_service_code": "varchar",
    "take_up": "decimal(9, 6)",
    "units_per_member_year": "decimal(18, 6)",
}
PROPOSAL_RUN_COLUMNS = {
    "scenario_id": "varchar",
    "description": "varchar",
    "base_rulebook_id": "varchar",
    "effective_from": "date",
    "as_of_date": "date",
    "proposal_file": "varchar",
    "proposal_yaml": "varchar",
    "run_at": "timestamp",
}


class ScenarioError(RuntimeError):
    """The scenario cannot run (no warehouse, busy warehouse, bad as-of date, dbt failed …)."""


@dataclass
class RunResult:
    scenario_id: str
    as_of: date
    baseline_rulebook_id: str
    reference_year: int | None
    snapshot: Path | None
    seconds: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def run_scenario(
    proposal_file: Path,
    warehouse: Path,
    as_of: date | None = None,
    publish: bool = True,
    say: Callable[[str], None] = print,
) -> RunResult:
    """Validate the proposal, rate the book under it, store the results under its id and re-publish.

    A scenario run writes to the warehouse (its proposal, the scenario models, the snapshot), so it holds
    the warehouse's writer lock throughout, as a build does: it never runs beside a build or another run.
    """
    from dagster_project.lib import lock

    warehouse = Path(warehouse).resolve()
    if not warehouse.exists():
        raise ScenarioError(f"no warehouse at {warehouse}: run `vipwh build` first")
    try:
        with lock.held(warehouse, kind="scenario run"):
            return _run_scenario(proposal_file, warehouse, as_of, publish, say)
    except lock.BuildRunning as exc:
        raise ScenarioError(str(exc)) from exc


def _run_scenario(
    proposal_file: Path, warehouse: Path, as_of: date | None, publish: bool, say: Callable[[str], None]
) -> RunResult:
    seconds: dict[str, float] = {}
    started = time.monotonic()
    with _connect(warehouse) as con:
        try:
            catalogue = Catalogue.load(con)
        except FileNotFoundError as exc:
            raise ScenarioError(str(exc)) from exc
        proposal = load_proposal(Path(proposal_file), catalogue)
        as_of = as_of or warehouse_as_of(con)
        in_force = [
            rulebook
            for rulebook in catalogue.rulebooks.values()
            if rulebook["effective_from"] <= as_of
            and (rulebook["effective_until"] is None or rulebook["effective_until"] > as_of)
        ]
        if not in_force:
            raise ScenarioError(f"--as-of {as_of}: no rulebook of the warehouse is in force that day")
        _write_proposal(con, proposal, proposal_rules(proposal, catalogue), as_of, Path(proposal_file))
    seconds["proposal"] = time.monotonic() - started

    started = time.monotonic()
    _run_dbt(warehouse)
    seconds["dbt"] = time.monotonic() - started

    started = time.monotonic()
    notes: list[str] = []
    with _connect(warehouse) as con:
        run = con.execute(
            f"select as_of_date, baseline_rulebook_id, reference_year from {WORK_SCHEMA}.scenario_runs "
            "where scenario_id = ?",
            [proposal.id],
        ).fetchone()
        if run is None:
            raise ScenarioError(f"the scenario models did not produce {proposal.id}; see the dbt log")
        notes += _replace_rows(con, proposal.id)
        seconds["store"] = time.monotonic() - started
        snapshot = None
        if publish:
            started = time.monotonic()
            snapshot, note = _publish(con, warehouse)
            notes += [note] if note else []
            seconds["publish"] = time.monotonic() - started
    result = RunResult(
        scenario_id=proposal.id,
        as_of=run[0],
        baseline_rulebook_id=run[1],
        reference_year=run[2],
        snapshot=snapshot,
        seconds=seconds,
        notes=notes,
    )
    return result


def warehouse_as_of(con: duckdb.DuckDBPyConnection) -> date:
    """The valuation date of the warehouse's marts (the same sources the dashboard reads it from)."""
    from vipwh.dashboard.queries import as_of_date

    value = as_of_date(con)
    if value is None:
        raise ScenarioError("the warehouse has no rating marts yet: run `vipwh build` first")
    return value


def _connect(warehouse: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(str(warehouse), read_only=read_only)
    except duckdb.IOException as exc:
        raise ScenarioError(
            f"the warehouse {warehouse} is in use by another writer (a build?); try again when it is done ({exc})"
        ) from exc


def _write_proposal(
    con: duckdb.DuckDBPyConnection, proposal: Proposal, rules: ProposalRules, as_of: date, proposal_file: Path
) -> None:
    """The proposal's rule rows as the scenario models' inputs, typed like the warehouse's rule tables."""
    con.execute("begin")
    con.execute(f"create schema if not exists {WORK_SCHEMA}")
    for table, rows in rules.tables().items():
        target = f"{WORK_SCHEMA}.proposal_{table}"
        if table == "services":
            columns = PROPOSAL_SERVICE_COLUMNS
            con.execute(
                f"create or replace table {target} ("
                + ", ".join(f"{name} {kind}" for name, kind in columns.items())
                + ")"
            )
            names = list(columns)
        else:
            names = ["scenario_id", *RULE_COLUMNS[table]]
            select = ", ".join(f'"{column}"' for column in RULE_COLUMNS[table])
            con.execute(
                f"create or replace table {target} as select cast(null as varchar) as scenario_id, {select} "
                f"from rules.{table} where false"
            )
        values = [[proposal.id if name == "scenario_id" else row.get(name) for name in names] for row in rows]
        if values:
            con.executemany(
                f"insert into {target} ({', '.join(names)}) values ({', '.join('?' for _ in names)})", values
            )
    con.execute(
        f"create or replace table {WORK_SCHEMA}.proposal_run ("
        + ", ".join(f"{name} {kind}" for name, kind in PROPOSAL_RUN_COLUMNS.items())
        + ")"
    )
    con.execute(
        f"insert into {WORK_SCHEMA}.proposal_run values (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            proposal.id,
            proposal.description,
            proposal.base_rulebook,
            proposal.effective_from,
            as_of,
            str(proposal_file),
            proposal.source_text,
            datetime.now(),
        ],
    )
    con.execute("commit")


def _run_dbt(warehouse: Path) -> None:
    """Build the scenario models only (the baseline marts are read, never rebuilt)."""
    work = warehouse.parent / f".{warehouse.stem}.scenario_dbt"  # kept: dbt re-parses only what changed
    command = [
        dbt_executable(),
        "build",
        "--select",
        "path:models/scenarios",
        "--vars",
        DBT_VARS,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(work / "target"),
        "--log-path",
        str(work / "logs"),
    ]
    from dagster_project.settings import Settings

    env = Settings(warehouse=str(warehouse)).subprocess_environment()
    done = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        tail = "\n    ".join((done.stdout + done.stderr).strip().splitlines()[-25:])
        raise ScenarioError(f"dbt failed on the scenario models (log: {work / 'logs' / 'dbt.log'}):\n    {tail}")


def _columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[tuple[str, str]]:
    return con.execute(
        """select column_name, data_type from information_schema.columns
                          where table_catalog = current_database() and table_schema = ? and table_name = ?
                          order by ordinal_position""",
        [schema, table],
    ).fetchall()


def _replace_rows(con: duckdb.DuckDBPyConnection, scenario_id: str) -> list[str]:
    """The scenario's rows in every scenarios table replaced by this run's, in one transaction."""
    notes = []
    con.execute("begin")
    con.execute(f"create schema if not exists {SCHEMA}")
    for source, target in [*PROPOSAL_TABLES.items(), *((table, table) for table in OUTPUT_TABLES)]:
        columns = _columns(con, WORK_SCHEMA, source)
        existing = _columns(con, SCHEMA, target)
        if existing and existing != columns:
            con.execute(f"drop table {SCHEMA}.{target}")
            notes.append(f"{SCHEMA}.{target} has a new layout: rebuilt, so other scenarios in it must be re-run")
            existing = []
        if not existing:
            con.execute(f"create table {SCHEMA}.{target} as select * from {WORK_SCHEMA}.{source} where false")
        names = ", ".join(f'"{name}"' for name, _ in columns)
        con.execute(f"delete from {SCHEMA}.{target} where scenario_id = ?", [scenario_id])
        con.execute(f"insert into {SCHEMA}.{target} ({names}) select {names} from {WORK_SCHEMA}.{source}")
    con.execute("commit")
    return notes


def _publish(con: duckdb.DuckDBPyConnection, warehouse: Path) -> tuple[Path | None, str | None]:
    """Re-publish the snapshot with the scenarios - unless the last build failed a blocking check (then the
    marts in the warehouse were never published, and readers must keep the last good snapshot)."""
    from dagster_project.lib.publish import publish

    try:
        failed = con.execute("""select count(*) from quality.dq_check_results
                                where build_id = (select build_id from quality.dq_check_results
                                                  order by checked_at desc limit 1)
                                  and severity = 'blocking' and not passed""").fetchone()[0]
    except duckdb.CatalogException:
        failed = 0
    if failed:
        return None, (
            "NOT published: the warehouse's last build failed blocking checks, so its marts are not "
            "the published ones; the scenario is stored in the warehouse and is published by the next "
            "good build"
        )
    return publish(con, warehouse).snapshot, None


# --- compare --------------------------------------------------------------------------------------------


def compare(ids: Sequence[str], warehouse: Path) -> str:
    """The headline table of several scenarios side by side, from the published snapshot."""
    from dagster_project.lib.publish import connect_snapshot

    try:
        con = connect_snapshot(Path(warehouse))
    except FileNotFoundError as exc:
        raise ScenarioError(str(exc)) from exc
    with con:
        try:
            runs = {
                row[0]: row
                for row in con.execute(
                    "select scenario_id, as_of_date, baseline_rulebook_id, reference_year, description "
                    f"from {SCHEMA}.scenario_runs"
                ).fetchall()
            }
        except duckdb.CatalogException as exc:
            raise ScenarioError("no scenario is published yet: run `vipwh scenario run FILE` first") from exc
        missing = [scenario_id for scenario_id in ids if scenario_id not in runs]
        if missing:
            known = ", ".join(sorted(runs)) or "none"
            raise ScenarioError(f"unknown scenario(s) {', '.join(missing)} (published: {known})")
        tiers = con.execute(f"""select scenario_id, tier_code, tier_rank, baseline_members, proposal_members,
                                       baseline_rated_premium, proposal_rated_premium
                                from {SCHEMA}.scenario_tier_distribution order by tier_rank""").fetchall()
        costs = dict(
            ((row[0], "baseline"), row[1])
            for row in con.execute(
                f"select scenario_id, sum(baseline_projected_cost) from {SCHEMA}.scenario_benefit_cost group by 1"
            ).fetchall()
        )
        costs |= dict(
            ((row[0], "proposal"), row[1])
            for row in con.execute(
                f"select scenario_id, sum(proposal_projected_cost) from {SCHEMA}.scenario_benefit_cost group by 1"
            ).fetchall()
        )
        changed = dict(
            con.execute(f"select scenario_id, count(*) from {SCHEMA}.scenario_member_changes group by 1").fetchall()
        )
    return headline_table(ids, runs, tiers, costs, changed)


def headline_table(ids: Sequence[str], runs: dict, tiers: list[tuple], costs: dict, changed: dict) -> str:
    tier_codes = [code for code, _ in sorted({(row[1], row[2]) for row in tiers}, key=lambda item: item[1])]
    metrics: list[tuple[str, Callable[[str, str], Decimal | int | None], bool]] = []
    for code in tier_codes:

        def members(scenario_id: str, side: str, code: str = code) -> int | None:
            return next(
                (row[3] if side == "baseline" else row[4] for row in tiers if row[0] == scenario_id and row[1] == code),
                0,
            )

        metrics.append((f"members {code}", members, False))
    metrics.append(
        (
            "members in the programme",
            lambda sid, side: sum(row[3] if side == "baseline" else row[4] for row in tiers if row[0] == sid),
            False,
        )
    )
    metrics.append(("members changing tier", lambda sid, side: 0 if side == "baseline" else changed.get(sid, 0), False))
    metrics.append(
        (
            "rated premium, CNY",
            lambda sid, side: sum((row[5] if side == "baseline" else row[6]) or 0 for row in tiers if row[0] == sid),
            True,
        )
    )
    metrics.append(("projected benefit cost, CNY/yr", lambda sid, side: costs.get((sid, side)), True))

    baselines = {(runs[sid][1], runs[sid][2]) for sid in ids}
    shared = len(baselines) == 1
    columns: list[tuple[str, str, str]] = []  # header, scenario, kind (baseline|proposal|delta)
    if shared:
        columns.append(("baseline", ids[0], "baseline"))
    for sid in ids:
        if not shared:
            columns.append((f"baseline {sid}", sid, "baseline"))
        columns += [(sid, sid, "proposal"), (f"Δ {sid}", sid, "delta")]

    def cell(metric: Callable, money: bool, sid: str, kind: str) -> str:
        if kind == "delta":
            before, after = metric(sid, "baseline"), metric(sid, "proposal")
            value = None if before is None or after is None else after - before
        else:
            value = metric(sid, kind)
        if value is None:
            return "–"
        text = f"{value:,.2f}" if money else f"{value:,}"
        return "+" + text if kind == "delta" and value > 0 else text

    rows = [[name, *(cell(metric, money, sid, kind) for _, sid, kind in columns)] for name, metric, money in metrics]
    header = ["", *(title for title, _, _ in columns)]
    widths = [max(len(str(line[index])) for line in [header, *rows]) for index in range(len(header))]
    lines = [
        "  ".join(
            str(value).ljust(widths[0]) if index == 0 else str(value).rjust(widths[index])
            for index, value in enumerate(line)
        )
        for line in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    notes = [
        f"{sid}: as of {runs[sid][1]}, baseline {runs[sid][2]}, benefit rates from {runs[sid][3]}"
        + (f" — {runs[sid][4]}" if runs[sid][4] else "")
        for sid in ids
    ]
    return "\n".join(lines + [""] + notes)


def run_summary(result: RunResult, warehouse: Path) -> str:
    """What `vipwh scenario run` prints: the headline of the scenario just run."""
    with _connect(Path(warehouse), read_only=True) as con:
        runs = {
            row[0]: row
            for row in con.execute(
                "select scenario_id, as_of_date, baseline_rulebook_id, reference_year, description "
                f"from {SCHEMA}.scenario_runs where scenario_id = ?",
                [result.scenario_id],
            ).fetchall()
        }
        tiers = con.execute(
            f"""select scenario_id, tier_code, tier_rank, baseline_members, proposal_members,
                                       baseline_rated_premium, proposal_rated_premium
                                from {SCHEMA}.scenario_tier_distribution where scenario_id = ?
                                order by tier_rank""",
            [result.scenario_id],
        ).fetchall()
        totals = con.execute(
            f"""select sum(baseline_projected_cost), sum(proposal_projected_cost)
                                 from {SCHEMA}.scenario_benefit_cost where scenario_id = ?""",
            [result.scenario_id],
        ).fetchone()
        changed = con.execute(
            f"select count(*) from {SCHEMA}.scenario_member_changes where scenario_id = ?", [result.scenario_id]
        ).fetchone()[0]
    costs = {(result.scenario_id, "baseline"): totals[0], (result.scenario_id, "proposal"): totals[1]}
    return headline_table([result.scenario_id], runs, tiers, costs, {result.scenario_id: changed})
