"""Issue 8: the same pipeline on Spark gives the same marts as on DuckDB.

A generated book (dirty rows, late back-dated events, several batches) is built twice with `vipwh build`,
once per engine. Every mart Spark wrote as Parquet under `<dir>/marts.db/<table>/` must equal DuckDB's
table: the same columns in the same order with the same types, and the same multiset of rows (EXCEPT ALL
both ways, so duplicates count). The hand-worked rules themselves are checked on both engines in
test_e2e_rules.py.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests.conftest import build_on
from vipwh.cli import main
from vipwh.generate import generate_book

HOLDERS = 1000


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> Path:
    landing = tmp_path_factory.mktemp("spark") / "landing"
    generate_book(landing, holders=HOLDERS, seed=8, batches=3, workers=1)
    return landing


@pytest.fixture(scope="module")
def duckdb_file(book: Path) -> Path:
    return build_on("duckdb", book, book.parent / "duckdb")


@pytest.fixture(scope="module")
def spark_dir(book: Path) -> Path:
    return build_on("spark", book, book.parent).parent


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


def test_spark_writes_every_mart_as_parquet(duckdb_file: Path, spark_dir: Path):
    with duckdb.connect(str(duckdb_file), read_only=True) as con:
        marts = _marts(con)
    assert len(marts) >= 15
    written = sorted(path.name for path in (spark_dir / "marts.db").iterdir() if path.is_dir())
    assert written == marts
    for mart in marts:
        assert list((spark_dir / "marts.db" / mart).glob("part-*.parquet")), mart


def test_every_mart_from_spark_equals_duckdb(duckdb_file: Path, spark_dir: Path):
    with duckdb.connect(str(duckdb_file), read_only=True) as con:
        differences = {}
        for mart in _marts(con):
            spark = f"read_parquet('{spark_dir / 'marts.db' / mart}/*.parquet')"
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
    assert counts["dim_member"] > HOLDERS * 0.9
    assert min(counts.values()) > 100, counts


def test_spark_build_is_checked_and_published(spark_dir: Path, capsys):
    control = spark_dir / "warehouse.duckdb"
    with duckdb.connect(str(control), read_only=True) as con:
        # the great-expectations suites read Spark's marts through the control file's views
        checked = con.execute("""select count(*), count(*) filter (where passed)
                                 from quality.dq_check_results where asset_key like 'marts/%'""").fetchone()
        assert checked[0] > 20 and checked[0] == checked[1]
        # ingestion's ledger and quarantine stayed on DuckDB; the raw tables went to Spark as Parquet
        loaded = con.execute("select count(*) from raw.batches where status = 'loaded'").fetchone()[0]
        policies = con.execute("select count(*) from raw.policies").fetchone()[0]
        exported = con.execute(f"select count(*) from read_parquet('{spark_dir}/raw.db/policies/*.parquet')")
        assert loaded == 3 and exported.fetchone()[0] == policies
    capsys.readouterr()
    assert (
        main(
            [
                "sql",
                "--warehouse",
                str(spark_dir),
                "--csv",
                "select count(*) as members from marts.dim_member where tier_code is not null",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "members" and int(out[1]) > 0


def test_spark_needs_a_directory_as_warehouse(tmp_path: Path, capsys):
    (tmp_path / "landing").mkdir()
    warehouse_file = tmp_path / "wh.duckdb"
    warehouse_file.write_bytes(b"")
    code = main(
        [
            "build",
            "--engine",
            "spark",
            "--landing",
            str(tmp_path / "landing"),
            "--warehouse",
            str(warehouse_file),
            "--quiet",
        ]
    )
    assert code == 1
    assert "takes a directory as --warehouse" in capsys.readouterr().err
