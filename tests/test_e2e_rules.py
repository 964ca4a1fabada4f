"""End to end, as the acceptance checks do: a hand-made book through `vipwh build`, marts read by name.

The rules tests run twice, on DuckDB and on Spark (`--engine spark`; the marts are read through the
control file's views on Spark's Parquet): the same hand-worked rows must come out of both engines.

One Spark build serves every Spark test (a Spark build costs minutes of CPU whatever the data): it builds
the *combined* book, the hand-worked holders below plus a generated book (1 000 holders, 3 batches, dirty
rows, late back-dated events) in the same landing folder. The hand-worked per-holder rows are read from it;
every mart of it must equal, row for row and type for type, DuckDB's build of the same combined book
(issue 8); and the figures that aggregate over the whole book (month-end distribution, MetricFlow) are
worked by hand on the hand-worked book alone, built on DuckDB. So Spark is held to the hand-worked rows
directly where they can be read per holder, and through DuckDB's equality everywhere else.

Every expected row below is worked out by hand from RULES.md (§2, §4, §7), not produced by the code:

* H1 — §7 examples 1 and 2. P1 annual 20 000 × 20 years from 2024-03-01, free look to 2024-03-15:
  20 000 × 1 from 2024-03-16 (family). P2 monthly 3 000 × 5 years from 2024-06-01, free look to
  2024-06-15: 36 000 × 5/10 = 18 000 from 2024-06-16 → 38 000, star1. P2's payment period ends
  2029-06-01, after the as-of date, so star1 is current.
* H2 — §7 example 3. Universal life single 1 000 000 from 2025-01-10, free look to 2025-01-24:
  × 0.02 = 20 000 from 2025-01-25 to 2027-01-25: family, current.
* H3 — §7 example 4. Annuity single 5 000 000 from 2023-01-01, free look to 2023-01-15: × 0.1 = 500 000,
  star5 from 2023-01-16 to 2025-01-16; then the whole-life annuity is still in force, so the holder stays
  in the programme at 0: family (reason single_premium_window_ended).
* H4 — §7 example 5. P4a annual 200 000 × 20 from 2020-01-01 (free look to 2020-01-15): star3 from
  2020-01-16. P4b annual 400 000 × 10 from 2020-02-01 (free look to 2020-02-15): 600 000, star5 from
  2020-02-16. P4b surrendered 2026-07-01: back to 200 000, star3. Limousine rides 2026-03-01 and
  2026-05-01 (star5, quota 2: within quota), 2026-08-01 (star3, quota 1, 2 already consumed: over quota).
* H5 — a back-dated surrender arriving late. P5 annual 50 000 × 10 from 2024-01-01 (free look to
  2024-01-15): star2 from 2024-01-16. The second batch (2026-11-23) brings a surrender effective
  2026-06-01 recorded 2026-11-22: star2 ends 2026-06-01 and H5 leaves the programme (no other coverage).
* H6 — 29 999.99 annual × 10 years: family; H7 — 30 000.00: star1 (the threshold's two sides).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from dagster_project.lib.publish import current_snapshot
from tests.conftest import ENGINES, build_on, query
from vipwh.generate import generate_book
from vipwh.landing import write_batch

AS_OF = date(2026, 11, 23)
HAND_WORKED = tuple(f"H{i}" for i in range(1, 8))
IN_HAND_WORKED = "holder_id in (" + ", ".join(f"'{h}'" for h in HAND_WORKED) + ")"
GENERATED_HOLDERS = 1000


def _customer(holder_id: str) -> dict:
    return dict(
        holder_id=holder_id,
        gender="M",
        birth_date="1975-06-01",
        province="江苏省",
        city="南京市",
        id_number=f"32010119750601{holder_id[-1]}01X",
    )


def _policy(
    policy_no,
    holder_id,
    category,
    mode,
    years,
    premium,
    effective,
    free_look_end,
    status="in_force",
    status_date=None,
    term_months="",
):
    return dict(
        policy_no=policy_no,
        coverage_no=0,
        holder_id=holder_id,
        insured_id=holder_id,
        product_code=category[:4].upper(),
        product_category=category,
        is_group=0,
        coverage_term_months=term_months,
        payment_mode=mode,
        payment_years=years,
        modal_premium=premium,
        effective_date=effective,
        free_look_end_date=free_look_end,
        status=status,
        status_date=status_date or effective,
    )


def _new_business(txn_id, policy_no, premium, effective):
    return dict(
        txn_id=txn_id,
        policy_no=policy_no,
        coverage_no=0,
        txn_type="new_business",
        effective_date=effective,
        modal_premium_after=premium,
        recorded_at=f"{effective} 10:00:00",
    )


def _ride(usage_id, service_date):
    return dict(
        usage_id=usage_id,
        holder_id="H4",
        beneficiary_relation="self",
        service_code="limousine",
        service_date=service_date,
        quantity="1",
        status="completed",
        vendor="礼宾车",
        cost_amount="300.00",
    )


POLICIES = [
    _policy("P1", "H1", "whole_life", "annual", 20, "20000.00", "2024-03-01", "2024-03-15"),
    _policy("P2", "H1", "critical_illness", "monthly", 5, "3000.00", "2024-06-01", "2024-06-15"),
    _policy("P3", "H2", "universal", "single", "", "1000000.00", "2025-01-10", "2025-01-24"),
    _policy("P4", "H3", "annuity", "single", "", "5000000.00", "2023-01-01", "2023-01-15"),
    _policy("P4A", "H4", "whole_life", "annual", 20, "200000.00", "2020-01-01", "2020-01-15"),
    _policy("P4B", "H4", "whole_life", "annual", 10, "400000.00", "2020-02-01", "2020-02-15"),
    _policy("P5", "H5", "whole_life", "annual", 10, "50000.00", "2024-01-01", "2024-01-15"),
    _policy("P6", "H6", "whole_life", "annual", 10, "29999.99", "2024-01-01", "2024-01-15"),
    _policy("P7", "H7", "whole_life", "annual", 10, "30000.00", "2024-01-01", "2024-01-15"),
]


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> Path:
    landing = tmp_path_factory.mktemp("e2e") / "landing"
    holders = [f"H{i}" for i in range(1, 8)]
    surrendered_p4b = {**POLICIES[5], "status": "surrendered", "status_date": "2026-07-01"}
    write_batch(
        landing,
        "2026-11-20",
        {
            "customers.csv": [_customer(h) for h in holders],
            "policies.csv": [*POLICIES[:5], surrendered_p4b, *POLICIES[6:]],
            "policy_transactions.csv": [
                *[
                    _new_business(f"T{p['policy_no']}", p["policy_no"], p["modal_premium"], p["effective_date"])
                    for p in POLICIES
                ],
                dict(
                    txn_id="TS4B",
                    policy_no="P4B",
                    coverage_no="",
                    txn_type="surrender",
                    effective_date="2026-07-01",
                    recorded_at="2026-07-01 11:00:00",
                ),
            ],
            "service_usage.csv": [_ride("U1", "2026-03-01"), _ride("U2", "2026-05-01"), _ride("U3", "2026-08-01")],
        },
    )
    write_batch(
        landing,
        "2026-11-23",
        {
            "policies.csv": [{**POLICIES[6], "status": "surrendered", "status_date": "2026-06-01"}],
            "policy_transactions.csv": [
                dict(
                    txn_id="TS5",
                    policy_no="P5",
                    coverage_no=0,
                    txn_type="surrender",
                    effective_date="2026-06-01",
                    recorded_at="2026-11-22 16:30:00",
                )
            ],
        },
    )
    return landing


def _combine(hand_worked: Path, generated: Path, landing: Path) -> Path:
    """Both books' batches in one landing folder; a batch date both have gets both files' rows.

    The generated rows are kept byte for byte (their dirty rows included) and the hand-worked rows are
    appended after them; the manifest counts both. The generated books' IDs (H00000001, P…) never meet
    the hand-worked ones (H1…H7, P1…P7).
    """
    import hashlib
    import json
    import shutil

    for batch in sorted({p.name for p in hand_worked.iterdir()} | {p.name for p in generated.iterdir()}):
        sources = [root / batch for root in (generated, hand_worked) if (root / batch).is_dir()]
        if len(sources) == 1:
            shutil.copytree(sources[0], landing / batch)
            continue
        (landing / batch).mkdir(parents=True)
        manifests = [json.loads((src / "_manifest.json").read_text(encoding="utf-8")) for src in sources]
        assert {m["encoding"] for m in manifests} == {"utf-8"}
        files = {}
        for name in sorted({name for m in manifests for name in m["files"]}):
            data = b""
            rows = 0
            for src, manifest in zip(sources, manifests, strict=True):
                if name not in manifest["files"]:
                    continue
                content = (src / name).read_bytes()
                data += content if not data else content.split(b"\n", 1)[1]  # one header
                rows += manifest["files"][name]["rows"]
            (landing / batch / name).write_bytes(data)
            files[name] = {"rows": rows, "sha256": hashlib.sha256(data).hexdigest()}
        manifest = {"extract_date": batch, "encoding": "utf-8", "files": files}  # not only generated: no mark
        (landing / batch / "_manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return landing


@pytest.fixture(scope="module")
def combined_book(book: Path) -> Path:
    root = book.parent / "combined"
    generate_book(root / "generated", holders=GENERATED_HOLDERS, seed=8, batches=3, workers=1)
    return _combine(book, root / "generated", root / "landing")


_BUILT: dict[tuple[str, str], Path] = {}


def _built_on(engine: str, landing: Path) -> Path:
    key = (engine, str(landing))
    if key not in _BUILT:
        _BUILT[key] = build_on(engine, landing, landing.parent / engine)
    return _BUILT[key]


@pytest.fixture(scope="module", params=ENGINES)
def built(request, book: Path) -> Path:
    """The hand-worked holders' rows: the hand-worked book on DuckDB, the combined book on Spark.

    A test on this fixture reads the hand-worked holders only (``IN_HAND_WORKED``).
    """
    if request.param == "spark":
        return _built_on("spark", request.getfixturevalue("combined_book"))
    return _built_on("duckdb", book)


@pytest.fixture(scope="module")
def built_duckdb(book: Path) -> Path:
    """The hand-worked book alone on DuckDB: for whole-book figures and the analysts' tools (snapshot,
    MetricFlow, dbt docs) that read only DuckDB."""
    return _built_on("duckdb", book)


@pytest.fixture(scope="module")
def combined_duckdb(combined_book: Path) -> Path:
    return _built_on("duckdb", combined_book)


@pytest.fixture(scope="module")
def combined_spark(combined_book: Path) -> Path:
    """The Spark warehouse directory of the combined book (its control file is ``warehouse.duckdb``)."""
    return _built_on("spark", combined_book).parent


def _tiers(warehouse: Path, holder_id: str) -> list[tuple]:
    return query(
        warehouse,
        """
        select valid_from, valid_to, tier_code, tier_rank, rated_premium, previous_tier_code, change_type
        from marts.fct_member_tier_history where holder_id = ? order by valid_from""",
        [holder_id],
    )


def test_examples_1_and_2_join_family_then_star1(built: Path):
    assert _tiers(built, "H1") == [
        (date(2024, 3, 16), date(2024, 6, 16), "family", 0, Decimal("20000"), None, "join"),
        (date(2024, 6, 16), None, "star1", 1, Decimal("38000"), "family", "upgrade"),
    ]
    slices = query(
        built,
        """select policy_no, slice_kind, base_amount, coefficient, rated_amount, counts_from,
                                    counts_until, excluded_reason
                             from marts.fct_policy_rating where holder_id = 'H1' order by policy_no""",
    )
    assert slices == [
        ("P1", "regular", Decimal("20000"), Decimal("1"), Decimal("20000"), date(2024, 3, 16), date(2044, 3, 1), None),
        (
            "P2",
            "regular",
            Decimal("36000"),
            Decimal("0.5"),
            Decimal("18000"),
            date(2024, 6, 16),
            date(2029, 6, 1),
            None,
        ),
    ]


def test_example_3_universal_single_premium(built: Path):
    assert _tiers(built, "H2") == [(date(2025, 1, 25), None, "family", 0, Decimal("20000"), None, "join")]
    assert query(
        built,
        """select slice_kind, coefficient, rated_amount, counts_from, counts_until
                           from marts.fct_policy_rating where policy_no = 'P3'""",
    ) == [("single", Decimal("0.02"), Decimal("20000"), date(2025, 1, 25), date(2027, 1, 25))]


def test_example_4_single_premium_window_ends(built: Path):
    assert _tiers(built, "H3") == [
        (date(2023, 1, 16), date(2025, 1, 16), "star5", 5, Decimal("500000"), None, "join"),
        (date(2025, 1, 16), None, "family", 0, Decimal("0"), "star5", "downgrade"),
    ]
    reason = query(
        built,
        "select change_reason from marts.fct_member_tier_history "
        "where holder_id = 'H3' and valid_from = date '2025-01-16'",
    )[0][0]
    assert reason == "single_premium_window_ended"


def test_example_5_surrender_downgrade_and_quota(built: Path):
    assert _tiers(built, "H4") == [
        (date(2020, 1, 16), date(2020, 2, 16), "star3", 3, Decimal("200000"), None, "join"),
        (date(2020, 2, 16), date(2026, 7, 1), "star5", 5, Decimal("600000"), "star3", "upgrade"),
        (date(2026, 7, 1), None, "star3", 3, Decimal("200000"), "star5", "downgrade"),
    ]
    assert query(
        built,
        "select change_reason from marts.fct_member_tier_history "
        "where holder_id = 'H4' and valid_from = date '2026-07-01'",
    ) == [("surrender",)]
    uses = query(
        built,
        """select usage_id, tier_code_at_service, is_entitled_tier, is_within_quota, is_compliant,
                                  consumed_quantity
                           from marts.fct_benefit_usage where holder_id = 'H4' order by usage_id""",
    )
    assert uses == [
        ("U1", "star5", True, True, True, Decimal("1")),
        ("U2", "star5", True, True, True, Decimal("1")),
        ("U3", "star3", True, False, False, Decimal("1")),
    ]


def test_back_dated_surrender_in_a_later_batch_ends_membership(built: Path):
    assert _tiers(built, "H5") == [(date(2024, 1, 16), date(2026, 6, 1), "star2", 2, Decimal("50000"), None, "join")]
    assert query(built, "select tier_code, rated_premium from marts.dim_member where holder_id = 'H5'") in (
        [(None, None)],
        [(None, Decimal("0"))],
    )


def test_back_dated_surrender_is_a_migration_of_its_effective_month(built_duckdb: Path):
    # a whole-book figure: H5 is the book's only star2 member to leave in June 2026
    assert query(
        built_duckdb,
        """select from_tier_code, to_tier_code, members from marts.mart_tier_migration
                           where month = date '2026-06-01' and from_tier_code = 'star2'""",
    ) == [("star2", "none", 1)]


def test_back_dated_surrender_counts_from_its_recording_in_the_history_as_recorded(built: Path):
    # TS5 is effective 2026-06-01 but recorded 2026-11-22: as recorded at the time, H5 was star2 until
    # 2026-11-22. No other hand-worked holder has a late record, so their history as recorded is the effective
    # one (the generated holders on Spark have late records of their own).
    assert query(
        built,
        """select valid_from, valid_until, tier_code from intermediate.int_member_tier_history_as_recorded
                           where holder_id = 'H5'""",
    ) == [(date(2024, 1, 16), date(2026, 11, 22), "star2")]
    assert query(
        built,
        f"""select count(*) from (
                               select holder_id, valid_from, valid_until, tier_code, rated_premium
                               from intermediate.int_member_tier_history_as_recorded
                               where holder_id <> 'H5' and {IN_HAND_WORKED}
                               except
                               select holder_id, valid_from, valid_to, tier_code, rated_premium
                               from marts.fct_member_tier_history)""",
    ) == [(0,)]


def test_threshold_sides(built: Path):
    assert _tiers(built, "H6")[0][2:5] == ("family", 0, Decimal("29999.99"))
    assert _tiers(built, "H7")[0][2:5] == ("star1", 1, Decimal("30000"))


def test_dim_member_as_of_the_latest_extract(built: Path):
    members = dict(query(built, f"select holder_id, tier_code from marts.dim_member where {IN_HAND_WORKED}"))
    assert members == {
        "H1": "star1",
        "H2": "family",
        "H3": "family",
        "H4": "star3",
        "H5": None,
        "H6": "family",
        "H7": "star1",
    }
    assert query(built, "select max(snapshot_date) from marts.mart_tier_distribution_monthly") == [(AS_OF,)]


def test_month_end_distribution(built_duckdb: Path):
    # a whole-book figure: the hand-worked book alone, on DuckDB (Spark's equals DuckDB's on the combined book)
    # June 2024 month end: H1 star1 (38 000), H5 star2 (50 000), H6 family (29 999.99), H7 star1 (30 000),
    # H3 star5 (500 000), H4 star5 (600 000).
    rows = query(
        built_duckdb,
        """select tier_code, members, rated_premium from marts.mart_tier_distribution_monthly
                           where month = date '2024-06-01' order by tier_rank""",
    )
    assert rows == [
        ("family", 1, Decimal("29999.99")),
        ("star1", 2, Decimal("68000")),
        ("star2", 1, Decimal("50000")),
        ("star5", 2, Decimal("1100000")),
    ]


def test_every_query_of_the_analyst_guide_runs_on_the_snapshot(built_duckdb: Path):
    import re

    from dagster_project.lib.publish import connect_snapshot

    guide = (Path(__file__).resolve().parent.parent / "docs" / "analyst_guide.md").read_text(encoding="utf-8")
    statements = [
        stmt.strip()
        for block in re.findall(r"```sql\n(.*?)```", guide, re.S)
        for stmt in block.split(";")
        if stmt.strip()
    ]
    assert len(statements) >= 10
    with connect_snapshot(built_duckdb) as con:
        for statement in statements:
            con.sql(statement).fetchall()  # raises on any error


def _tool(name: str) -> str:
    import sys

    return str(Path(sys.executable).with_name(name))


def test_metricflow_query_answers_members_by_tier(built_duckdb: Path, tmp_path: Path):
    import csv
    import os
    import shutil
    import subprocess

    from tests.conftest import REPO_ROOT

    env = {
        **os.environ,
        "VIPWH_WAREHOUSE": str(built_duckdb),
        "VIPWH_DBT_TARGET": "duckdb",
        "DBT_PROFILES_DIR": str(REPO_ROOT / "dbt_project"),
    }
    # MetricFlow reads target/semantic_manifest.json of the project, whose relation names carry the
    # warehouse's catalog: parse a copy of the project against this warehouse
    project = tmp_path / "dbt_project"
    shutil.copytree(REPO_ROOT / "dbt_project", project, ignore=shutil.ignore_patterns("target", "logs"))
    parsed = subprocess.run([_tool("dbt"), "parse", "--quiet"], cwd=project, env=env, capture_output=True, text=True)
    assert parsed.returncode == 0, parsed.stdout + parsed.stderr
    out = tmp_path / "members.csv"
    result = subprocess.run(
        [
            _tool("mf"),
            "query",
            "--metrics",
            "members,rated_premium",
            "--group-by",
            "metric_time__month,tier_month__tier_code",
            "--start-time",
            "2024-06-01",
            "--end-time",
            "2024-06-30",
            "--csv",
            str(out),
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    with out.open() as fh:
        rows = {
            (row["tier_month__tier_code"]): (int(float(row["members"])), Decimal(row["rated_premium"]))
            for row in csv.DictReader(fh)
        }
    # month end of June 2024, worked out by hand in the module docstring's book
    assert rows == {
        "family": (1, Decimal("29999.99")),
        "star1": (2, Decimal("68000")),
        "star2": (1, Decimal("50000")),
        "star5": (2, Decimal("1100000")),
    }


def test_dbt_docs_generate(built_duckdb: Path, tmp_path: Path):
    from tests.conftest import dbt

    result = dbt(built_duckdb, "docs", "generate", command="dbt")  # the documented command, as a person runs it
    assert result.returncode == 0, result.stdout[-3000:]
    assert (built_duckdb.parent / "dbt_target" / "catalog.json").exists()


# --- Spark equals DuckDB on the combined book (issue 8) --------------------------------------------------


def _marts(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The marts dbt builds (build_info is the build's own row, written in the control file on both engines)."""
    return [
        name
        for (name,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' "
            "and table_name <> 'build_info' order by 1"
        ).fetchall()
    ]


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> list[tuple[str, str]]:
    return [(row[0], row[1]) for row in con.execute(f"describe select * from {relation}").fetchall()]


def test_spark_writes_every_mart_as_parquet(combined_duckdb: Path, combined_spark: Path):
    with duckdb.connect(str(combined_duckdb), read_only=True) as con:
        marts = _marts(con)
    assert len(marts) >= 15
    written = sorted(path.name for path in (combined_spark / "marts.db").iterdir() if path.is_dir())
    assert written == marts
    for mart in marts:
        assert list((combined_spark / "marts.db" / mart).glob("part-*.parquet")), mart


def test_every_mart_from_spark_equals_duckdb(combined_duckdb: Path, combined_spark: Path):
    with duckdb.connect(str(combined_duckdb), read_only=True) as con:
        differences = {}
        for mart in _marts(con):
            spark = f"read_parquet('{combined_spark / 'marts.db' / mart}/*.parquet')"
            duck = f"marts.{mart}"
            if _columns(con, spark) != _columns(con, duck):
                differences[mart] = ("columns", _columns(con, duck), _columns(con, spark))
                continue
            only_duckdb = con.execute(f"select count(*) from (from {duck} except all from {spark})").fetchone()[0]
            only_spark = con.execute(f"select count(*) from (from {spark} except all from {duck})").fetchone()[0]
            if only_duckdb or only_spark:
                differences[mart] = ("rows", only_duckdb, only_spark)
        assert differences == {}
        # not a comparison of empty tables: the book's members, uses and quota lines are there
        counts = dict(
            con.execute("""
            select 'dim_member', count(*) from marts.dim_member
            union all select 'fct_benefit_usage', count(*) from marts.fct_benefit_usage
            union all select 'mart_member_entitlements', count(*) from marts.mart_member_entitlements
            union all select 'mart_benefit_utilization', count(*) from marts.mart_benefit_utilization
            union all select 'fct_member_tier_history', count(*) from marts.fct_member_tier_history""").fetchall()
        )
    assert counts["dim_member"] > GENERATED_HOLDERS * 0.9
    assert min(counts.values()) > 100, counts


def test_spark_build_is_checked_and_published(combined_spark: Path, capsys):
    from vipwh.cli import main

    control = combined_spark / "warehouse.duckdb"
    with duckdb.connect(str(control), read_only=True) as con:
        # the great-expectations suites read Spark's marts through the control file's views
        checked = con.execute("""select count(*), count(*) filter (where passed)
                                 from quality.dq_check_results where asset_key like 'marts/%'""").fetchone()
        assert checked[0] > 20 and checked[0] == checked[1]
        # ingestion's ledger and quarantine stayed on DuckDB; the raw tables went to Spark as Parquet
        loaded = con.execute("select count(*) from raw.batches where status = 'loaded'").fetchone()[0]
        policies = con.execute("select count(*) from raw.policies").fetchone()[0]
        exported = con.execute(f"select count(*) from read_parquet('{combined_spark}/raw.db/policies/*.parquet')")
        assert loaded == 4 and exported.fetchone()[0] == policies  # 2026-11-20 to 2026-11-23
    capsys.readouterr()
    assert (
        main(
            [
                "sql",
                "--warehouse",
                str(combined_spark),
                "--csv",
                "select count(*) as members from marts.dim_member where tier_code is not null",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "members" and int(out[1]) > GENERATED_HOLDERS * 0.5


def test_spark_build_with_nothing_new_exports_nothing(combined_book: Path, combined_spark: Path, capsys):
    from vipwh.cli import main

    exported = combined_spark / "raw.db" / "policies" / "part-00000.parquet"
    before = exported.stat()
    snapshot = current_snapshot(combined_spark / "warehouse.duckdb")
    capsys.readouterr()
    args = ["build", "--landing", str(combined_book), "--warehouse", str(combined_spark), "--engine", "spark"]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert "  nothing new since the build that published the current snapshot" in captured.out, captured.out
    assert "the raw Parquet stands" in captured.err
    # the raw tables were not exported again, and the snapshot stays
    after = exported.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert current_snapshot(combined_spark / "warehouse.duckdb") == snapshot
