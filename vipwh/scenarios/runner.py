"""`vipwh scenario run | compare`: run a proposal against a built warehouse, compare scenarios side by side.

A run is the Dagster job ``vipwh_scenario`` (dagster_project/defs/scenarios.py) for the proposal's partition: the
asset ``scenarios/proposal`` stores the proposal as rule rows of its own ruleset (``raw.proposal_*``), the dbt
models tagged ``scenario`` rate every stored scenario beside the rulebooks in force (results in schema
``scenarios``), and the snapshot is published. The baseline marts are read, never rebuilt.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb

from vipwh.scenarios.proposal import Catalogue, load_proposal
from vipwh.scenarios.store import ScenarioError, scenario_as_of, warehouse_as_of

SCHEMA = "scenarios"

__all__ = ["RunResult", "ScenarioError", "compare", "run_scenario", "run_summary", "warehouse_as_of"]


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
    """Validate the proposal, run the scenario job for it (store, rate, publish) and read back its run row.

    A scenario run writes to the warehouse (its proposal, the scenario models, the snapshot), so it holds
    the warehouse's writer lock throughout, as a build does: it never runs beside a build or another run.
    """
    from dagster_project.lib import lock

    warehouse = Path(warehouse).resolve()
    if not warehouse.exists():
        raise ScenarioError(f"no warehouse at {warehouse}: run `vipwh build` first")
    try:
        with lock.held(warehouse, kind="scenario run"):
            return _run_scenario(Path(proposal_file).resolve(), warehouse, as_of, publish)
    except lock.BuildRunning as exc:
        raise ScenarioError(str(exc)) from exc


def _run_scenario(proposal_file: Path, warehouse: Path, as_of: date | None, publish: bool) -> RunResult:
    from dagster_project.lib import inputs

    notes: list[str] = []
    with _connect(warehouse) as con:  # checked here first, for the exit status (the asset checks again)
        try:
            catalogue = Catalogue.load(con)
        except FileNotFoundError as exc:
            raise ScenarioError(str(exc)) from exc
        proposal = load_proposal(proposal_file, catalogue)
        as_of = scenario_as_of(con, catalogue, as_of)
        # the warehouse's marts are the published ones only when its last build published (lib/inputs.py)
        publishable = inputs.published(con) is not None
    if publish and not publishable:
        notes.append(
            "NOT published: the warehouse's tables are not those of its published snapshot (its last build failed, "
            "or a run since did not publish); the scenario is stored in the warehouse and is published by the next "
            "good build"
        )
    seconds, snapshot = _execute(proposal.id, proposal_file, warehouse, as_of, publish and publishable)
    with _connect(warehouse, read_only=True) as con:
        run = con.execute(
            f"select as_of_date, baseline_rulebook_id, reference_year from {SCHEMA}.scenario_runs "
            "where scenario_id = ?",
            [proposal.id],
        ).fetchone()
    if run is None:
        raise ScenarioError(f"the scenario models did not produce {proposal.id}; see the dbt log")
    return RunResult(
        scenario_id=proposal.id,
        as_of=run[0],
        baseline_rulebook_id=run[1],
        reference_year=run[2],
        snapshot=snapshot,
        seconds=seconds,
        notes=notes,
    )


STAGES = (("proposal", "proposal"), ("dbt", "vipwh_dbt"), ("publish", "publish__"))


def _stage_of(step_key: str) -> str:
    return next((name for name, prefix in STAGES if step_key.startswith(prefix)), "other")


def _execute(
    scenario_id: str, proposal_file: Path, warehouse: Path, as_of: date, publish: bool
) -> tuple[dict[str, float], Path | None]:
    """Run the job ``vipwh_scenario`` in-process for the scenario's partition; seconds per stage, the snapshot."""
    from dagster_project.definitions import SCENARIO_JOB, defs
    from dagster_project.defs.publish import SNAPSHOT_KEY
    from dagster_project.defs.scenarios import SCENARIOS, scenario_selection
    from dagster_project.settings import Settings
    from vipwh.build import execute_job, innermost_error, seconds_by_stage

    selection = scenario_selection(SNAPSHOT_KEY).resolve(defs.resolve_asset_graph())
    if not publish:
        selection = selection - {SNAPSHOT_KEY}
    log_file = warehouse.parent / "logs" / f"scenario-{scenario_id}.log"
    result, logs = execute_job(
        SCENARIO_JOB,
        Settings(warehouse=str(warehouse)),  # the as-of date is the proposal's (its run row), not dbt's
        log_file,
        ops_config={"proposal": {"config": {"proposal_file": str(proposal_file), "as_of": as_of.isoformat()}}},
        partition=(SCENARIOS.name, scenario_id),
        asset_selection=sorted(selection),
    )
    if not result.success:
        failure = next((event for event in result.all_events if event.is_step_failure), None)
        cause = f"{failure.step_key}: {innermost_error(failure.step_failure_data.error)}" if failure else "see the log"
        raise ScenarioError(f"the scenario job failed: {cause} (log: {log_file})")
    snapshot = None
    for materialization in result.get_asset_materialization_events():
        if materialization.asset_key == SNAPSHOT_KEY:
            snapshot = Path(materialization.materialization.metadata["snapshot"].value)
    return dict(seconds_by_stage(logs, _stage_of)), snapshot


def _connect(warehouse: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(str(warehouse), read_only=read_only)
    except duckdb.IOException as exc:
        raise ScenarioError(
            f"the warehouse {warehouse} is in use by another writer (a build?); try again when it is done ({exc})"
        ) from exc


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
