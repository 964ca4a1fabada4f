"""The `vipwh` command: generate a book, build the warehouse, benchmark."""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date
from pathlib import Path

from vipwh.build import EXIT_BUILD_FAILED, EXIT_OK


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from exc


def cmd_generate(args: argparse.Namespace) -> int:
    from vipwh.generate import generate_book

    kwargs = dict(
        out=Path(args.out),
        holders=args.holders,
        seed=args.seed,
        batches=args.batches,
        dirty_rate=args.dirty_rate,
        encoding=args.encoding,
    )
    if args.start:
        kwargs["start"] = args.start
    if args.end:
        kwargs["end"] = args.end
    started = time.monotonic()
    summary = generate_book(**kwargs)
    print(
        f"generated {args.holders} holders as {args.batches} batch(es) under {args.out} "
        f"in {time.monotonic() - started:.1f}s"
    )
    if isinstance(summary, dict) and summary.get("rows"):
        for name, rows in summary["rows"].items():
            print(f"  {name:<26} {rows:>12,} rows")
    return EXIT_OK


def cmd_build(args: argparse.Namespace) -> int:
    from vipwh.build import run_build

    return run_build(
        landing=Path(args.landing),
        warehouse=Path(args.warehouse),
        as_of=args.as_of,
        quiet=args.quiet,
        summary_json=Path(args.summary_json) if args.summary_json else None,
        engine=args.engine,
        full_refresh=args.full_refresh,
    )


def cmd_sql(args: argparse.Namespace) -> int:
    from dagster_project.lib.engine import resolve_warehouse
    from dagster_project.lib.publish import connect_snapshot

    try:
        con = connect_snapshot(resolve_warehouse(Path(args.warehouse)))
    except FileNotFoundError as exc:
        print(f"vipwh sql: {exc}", file=sys.stderr)
        return 2
    with con:
        try:
            relation = con.sql(args.query)
        except Exception as exc:  # noqa: BLE001 - any SQL error is reported to the analyst as is
            print(f"vipwh sql: {exc}", file=sys.stderr)
            return 2
        if relation is None:
            return EXIT_OK
        frame = relation.pl()
    if args.xlsx:
        from vipwh.export import write_xlsx

        written = write_xlsx(frame, Path(args.xlsx))
        print(f"vipwh sql: {frame.height:,} rows written to {written}", file=sys.stderr)
    elif args.csv:
        sys.stdout.write(frame.write_csv())
    else:
        import polars as pl

        with pl.Config(tbl_rows=args.max_rows, tbl_cols=-1, fmt_str_lengths=60, tbl_width_chars=200):
            print(frame)
    return EXIT_OK


def cmd_bench(args: argparse.Namespace) -> int:
    from vipwh.bench import run_bench

    return run_bench(
        holders=args.holders,
        seed=args.seed,
        batches=args.batches,
        workdir=Path(args.workdir),
        engine=args.engine,
        report=Path(args.report) if args.report else None,
    )


def cmd_dashboard(args: argparse.Namespace) -> int:
    """Serve the management dashboard (Streamlit, headless) on localhost; it reads the published snapshot."""
    from dagster_project.lib.engine import resolve_warehouse
    from dagster_project.lib.publish import current_snapshot, published_dir

    warehouse = resolve_warehouse(Path(args.warehouse)).resolve()
    if not warehouse.exists() and not published_dir(warehouse).exists():
        print(f"vipwh dashboard: no warehouse at {warehouse}", file=sys.stderr)
        return 2
    if current_snapshot(warehouse) is None:
        print(
            f"vipwh dashboard: nothing published yet for {warehouse}; pages show a notice until "
            "`vipwh build` publishes a snapshot",
            file=sys.stderr,
        )
    app = Path(__file__).resolve().parent / "dashboard" / "app.py"
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app),
        "--server.headless",
        "true",
        "--server.address",
        args.address,
        "--server.port",
        str(args.port),
        "--server.fileWatcherType",
        "none",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "viewer",
    ]  # no Deploy button, whatever the working directory
    env = {**os.environ, "VIPWH_WAREHOUSE": str(warehouse)}
    print(f"vipwh dashboard: http://{args.address}:{args.port}/ (warehouse {warehouse}); Ctrl-C stops it", flush=True)
    os.execve(sys.executable, command, env)  # Streamlit takes over this process (signals reach it directly)
    return EXIT_OK  # not reached


def cmd_scenario_run(args: argparse.Namespace) -> int:
    """Re-rate the book under a proposal and project its benefit cost (results in schema `scenarios`)."""
    from vipwh.scenarios.proposal import ProposalError
    from vipwh.scenarios.runner import ScenarioError, run_scenario, run_summary

    started = time.monotonic()
    try:
        result = run_scenario(Path(args.proposal), Path(args.warehouse), as_of=args.as_of, publish=not args.no_publish)
    except ProposalError as exc:
        print(f"vipwh scenario: {exc}", file=sys.stderr)
        return 2
    except ScenarioError as exc:
        print(f"vipwh scenario: {exc}", file=sys.stderr)
        return EXIT_BUILD_FAILED
    print(
        f"vipwh scenario: {result.scenario_id} as of {result.as_of} (baseline {result.baseline_rulebook_id}, "
        f"benefit rates from {result.reference_year})"
    )
    print(run_summary(result, Path(args.warehouse)))
    for note in result.notes:
        print(f"  {note}", file=sys.stderr)
    if result.snapshot:
        print(f"  published: {result.snapshot}")
    print(
        "  time: "
        + ", ".join(f"{stage} {seconds:.1f}s" for stage, seconds in result.seconds.items())
        + f"; total {time.monotonic() - started:.1f}s"
    )
    return EXIT_OK


def cmd_scenario_compare(args: argparse.Namespace) -> int:
    """Headline table of several scenarios side by side (published snapshot)."""
    from vipwh.scenarios.runner import ScenarioError, compare

    try:
        print(compare(args.ids, Path(args.warehouse)))
    except ScenarioError as exc:
        print(f"vipwh scenario: {exc}", file=sys.stderr)
        return 2
    return EXIT_OK


def cmd_scenario_validate(args: argparse.Namespace) -> int:
    """Check a proposal file against the rule seeds (or a warehouse's rules) without running it."""
    from vipwh.scenarios.proposal import Catalogue, ProposalError, load_proposal

    try:
        if args.warehouse:
            import duckdb

            with duckdb.connect(args.warehouse, read_only=True) as con:
                catalogue = Catalogue.load(con)
        else:
            catalogue = Catalogue.from_seeds()
        proposal = load_proposal(Path(args.proposal), catalogue)
    except ProposalError as exc:
        print(f"vipwh scenario: {exc}", file=sys.stderr)
        return 2
    print(f"vipwh scenario: {args.proposal} is a valid proposal {proposal.id!r} on {proposal.base_rulebook}")
    return EXIT_OK


def cmd_rulebook_adopt(args: argparse.Namespace) -> int:
    """Adopt a proposal as a rulebook in force from a date; the next build re-rates the book from it."""
    from dagster_project.lib.lock import BuildRunning
    from vipwh.rulebook import AdoptionRefused, ProposalError, adopt, summary

    try:
        adopted = adopt(Path(args.proposal), Path(args.warehouse), args.effective_from)
    except (ProposalError, AdoptionRefused) as exc:
        print(f"vipwh rulebook: {exc}", file=sys.stderr)
        return 2
    except (FileNotFoundError, BuildRunning) as exc:
        print(f"vipwh rulebook: {exc}", file=sys.stderr)
        return EXIT_BUILD_FAILED
    print(summary(adopted, Path(args.proposal)))
    return EXIT_OK


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="vipwh", description="The 臻选荟员 membership warehouse.")
    sub = top.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate", help="write a synthetic book of business as dated batches")
    gen.add_argument("--out", required=True, help="landing folder to write batches into")
    gen.add_argument("--holders", type=int, required=True)
    gen.add_argument("--seed", type=int, required=True)
    gen.add_argument("--start", type=_date, help="first day of history (default 2022-01-01)")
    gen.add_argument("--end", type=_date, help="extract date of the last batch (default 2026-11-23)")
    gen.add_argument("--batches", type=int, default=1, help="a full load, then daily deltas (default 1)")
    gen.add_argument("--dirty-rate", type=float, default=0.001, help="share of rows broken on purpose")
    gen.add_argument("--encoding", choices=["utf-8", "gb18030"], default="utf-8")
    gen.set_defaults(func=cmd_generate)

    build = sub.add_parser("build", help="ingest new batches, build and check the warehouse (Dagster job)")
    build.add_argument("--landing", default=os.environ.get("VIPWH_LANDING", "data/landing"))
    build.add_argument(
        "--warehouse",
        default=os.environ.get("VIPWH_WAREHOUSE", "data/warehouse.duckdb"),
        help="DuckDB file (engine duckdb) or Spark warehouse directory (engine spark)",
    )
    build.add_argument(
        "--engine",
        choices=["duckdb", "spark"],
        default="duckdb",
        help="where dbt runs: DuckDB in this process (default) or Spark (docs/spark.md)",
    )
    build.add_argument("--as-of", type=_date, help="valuation date (default: latest extract date loaded)")
    build.add_argument(
        "--full-refresh",
        action="store_true",
        help="compute everything, even when nothing is new since the published snapshot",
    )
    build.add_argument("--quiet", action="store_true", help="no progress lines")
    build.add_argument("--summary-json", help="also write the build summary as JSON to this file")
    build.set_defaults(func=cmd_build)

    sql = sub.add_parser("sql", help="query the latest published snapshot of a warehouse (read-only)")
    sql.add_argument("query", help='SQL, e.g. "select tier_code, count(*) from marts.dim_member group by 1"')
    sql.add_argument("--warehouse", default=os.environ.get("VIPWH_WAREHOUSE", "data/warehouse.duckdb"))
    sql_output = sql.add_mutually_exclusive_group()
    sql_output.add_argument("--csv", action="store_true", help="print CSV (UTF-8) instead of a table")
    sql_output.add_argument("--xlsx", metavar="FILE", help="write an Excel workbook (dates as dates, money as numbers)")
    sql.add_argument("--max-rows", type=int, default=50, help="rows shown in table mode (CSV prints all)")
    sql.set_defaults(func=cmd_sql)

    bench = sub.add_parser("bench", help="time each stage on a generated book (wall time, peak memory)")
    bench.add_argument("--holders", type=int, default=100_000)
    bench.add_argument("--seed", type=int, default=7)
    bench.add_argument(
        "--batches",
        type=int,
        default=5,
        help="batches of the book; the last two are built alone, one after the other, as daily deltas",
    )
    bench.add_argument("--workdir", default="data/bench")
    bench.add_argument("--engine", choices=["duckdb", "spark"], default="duckdb")
    bench.add_argument("--report", help="append the result table (markdown) to this file")
    bench.set_defaults(func=cmd_bench)

    dash = sub.add_parser("dashboard", help="serve the management dashboard (Streamlit) on the published snapshot")
    dash.add_argument("--warehouse", default=os.environ.get("VIPWH_WAREHOUSE", "data/warehouse.duckdb"))
    dash.add_argument("--port", type=int, default=8501)
    dash.add_argument("--address", default="127.0.0.1", help="address to listen on (default localhost only)")
    dash.set_defaults(func=cmd_dashboard)
    scenario = sub.add_parser("scenario", help="benefit-redesign scenarios: re-rate the book under a proposal")
    scenario_sub = scenario.add_subparsers(dest="scenario_command", required=True)
    scenario_run = scenario_sub.add_parser("run", help="run a proposal file against the warehouse (docs/scenarios.md)")
    scenario_run.add_argument("proposal", help="proposal YAML file, e.g. data/scenarios/raise_star1_35000.yaml")
    scenario_run.add_argument("--warehouse", default=os.environ.get("VIPWH_WAREHOUSE", "data/warehouse.duckdb"))
    scenario_run.add_argument("--as-of", type=_date, help="day to rate the book on (default: the warehouse's as-of)")
    scenario_run.add_argument("--no-publish", action="store_true", help="store the results without re-publishing")
    scenario_run.set_defaults(func=cmd_scenario_run)
    scenario_compare = scenario_sub.add_parser("compare", help="headline table of scenarios side by side")
    scenario_compare.add_argument("ids", nargs="+", help="scenario ids (the proposals' `id`)")
    scenario_compare.add_argument("--warehouse", default=os.environ.get("VIPWH_WAREHOUSE", "data/warehouse.duckdb"))
    scenario_compare.set_defaults(func=cmd_scenario_compare)
    scenario_validate = scenario_sub.add_parser("validate", help="check a proposal file without running it")
    scenario_validate.add_argument("proposal")
    scenario_validate.add_argument("--warehouse", help="check against this warehouse's rules (default: the seeds)")
    scenario_validate.set_defaults(func=cmd_scenario_validate)
    rulebook = sub.add_parser("rulebook", help="the rulebooks in force: adopt a proposal as next year's handbook")
    rulebook_sub = rulebook.add_subparsers(dest="rulebook_command", required=True)
    adopt = rulebook_sub.add_parser(
        "adopt", help="a validated proposal becomes a rulebook in force from a date (docs/scenarios.md)"
    )
    adopt.add_argument("proposal", help="proposal YAML file, e.g. data/scenarios/raise_star1_35000.yaml")
    adopt.add_argument("--effective-from", type=_date, required=True, help="first day the rulebook is in force")
    adopt.add_argument("--warehouse", default=os.environ.get("VIPWH_WAREHOUSE", "data/warehouse.duckdb"))
    adopt.set_defaults(func=cmd_rulebook_adopt)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
