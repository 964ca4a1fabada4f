"""Readers use a published snapshot: never half-built, never blocking or blocked by a build."""

from __future__ import annotations

from pathlib import Path

import duckdb

from dagster_project.lib.publish import connect_snapshot, current_snapshot, publish
from vipwh.cli import main
from vipwh.landing import write_batch


def _customer(holder_id: str, city: str) -> dict:
    return dict(
        holder_id=holder_id,
        gender="F",
        birth_date="1985-05-05",
        province="广东省",
        city=city,
        id_number="440101198505050021",
    )


def test_sql_reads_the_snapshot_while_a_reader_holds_the_previous_one(tmp_path: Path, capsys):
    landing, warehouse = tmp_path / "landing", tmp_path / "wh.duckdb"
    assert main(["sql", "--warehouse", str(warehouse), "select 1"]) == 2  # no warehouse yet
    assert capsys.readouterr().err.strip() == f"vipwh sql: no warehouse at {warehouse}"

    write_batch(landing, "2026-02-01", {"customers.csv": [_customer("H1", "广州市")]})
    assert main(["build", "--landing", str(landing), "--warehouse", str(warehouse), "--quiet"]) == 0
    first = current_snapshot(warehouse)
    reader = connect_snapshot(warehouse)  # an analyst keeps a session open on the snapshot
    assert reader.execute("select count(*) from rules.services").fetchone() == (22,)

    write_batch(landing, "2026-02-02", {"customers.csv": [_customer("H2", "深圳市")]})
    assert main(["build", "--landing", str(landing), "--warehouse", str(warehouse), "--quiet"]) == 0
    assert current_snapshot(warehouse) != first  # the build was not blocked and published anew
    assert reader.execute("select count(*) from rules.services").fetchone() == (22,)  # old session still fine
    reader.close()

    capsys.readouterr()
    assert (
        main(
            [
                "sql",
                "--warehouse",
                str(warehouse),
                "--csv",
                "select service_code, waiting_days from rules.services where waiting_days > 0 order by 1",
            ]
        )
        == 0
    )
    assert capsys.readouterr().out.splitlines() == [
        "service_code,waiting_days",
        "critical_illness_green,30",
        "mdt_consult,30",
        "proton_green,30",
        "second_opinion,30",
    ]
    parquet = sorted(p.name for p in (warehouse.with_name("wh.published")).rglob("services.parquet"))
    assert parquet == ["services.parquet", "services.parquet"]  # the two snapshots kept


def _snapshot_rows(snapshot: Path, table: str) -> list[tuple]:
    with duckdb.connect(str(snapshot), read_only=True) as con:
        return con.execute(f"select * from {table} order by all").fetchall()


def _parquet_rows(snapshot: Path, table: str) -> list[tuple]:
    schema, name = table.split(".")
    with duckdb.connect() as con:
        return con.execute(
            f"select * from read_parquet('{snapshot.with_suffix('') / schema / (name + '.parquet')}') order by all"
        ).fetchall()


def _tables(snapshot: Path) -> list[str]:
    with duckdb.connect(str(snapshot), read_only=True) as con:
        rows = con.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_catalog = current_database() order by 1"
        ).fetchall()
    return [name for (name,) in rows]


def test_a_new_snapshot_writes_only_the_tables_that_changed(tmp_path: Path):
    """Each publish writes the tables whose rows or columns differ from the current snapshot's and keeps the
    others (their Parquet a hard link); what readers see is exactly the warehouse's tables either way."""
    warehouse = tmp_path / "wh.duckdb"
    con = duckdb.connect(str(warehouse))
    for schema in ("marts", "rules", "raw"):
        con.execute(f"create schema {schema}")
    con.execute("create table marts.members as select * from (values ('H1', 3), ('H2', 1)) as t(holder_id, stars)")
    con.execute("create table marts.retired as select 1 as x")
    con.execute("create table rules.services as select * from (values ('dental', 2), ('mdt', 1)) as t(code, quota)")
    con.execute("create table raw.policies as select 1 as never_published")

    first = publish(con, warehouse, build_id="b1")
    assert (first.written, first.kept) == (["marts.members", "marts.retired", "rules.services"], [])

    con.execute("update marts.members set stars = 2 where holder_id = 'H2'")  # same row count, one value
    con.execute("drop table marts.retired")
    con.execute("create table marts.added as select 'new' as y")
    reader = connect_snapshot(warehouse)  # a reader on the first snapshot throughout
    second = publish(con, warehouse, build_id="b2")
    assert (second.written, second.kept) == (["marts.added", "marts.members"], ["rules.services"])
    assert _tables(second.snapshot) == ["marts.added", "marts.members", "rules.services"]
    for read in (_snapshot_rows, _parquet_rows):
        assert read(second.snapshot, "marts.members") == [("H1", 3), ("H2", 2)]
        assert read(second.snapshot, "rules.services") == [("dental", 2), ("mdt", 1)]
        assert read(second.snapshot, "marts.added") == [("new",)]
    assert not (tmp_path / "wh.published" / "b2" / "marts" / "retired.parquet").exists()
    kept = tmp_path / "wh.published" / "b2" / "rules" / "services.parquet"
    assert kept.stat().st_ino == (tmp_path / "wh.published" / "b1" / "rules" / "services.parquet").stat().st_ino
    assert reader.execute("select stars from marts.members where holder_id = 'H2'").fetchone() == (1,)
    assert reader.execute("select count(*) from marts.retired").fetchone() == (1,)
    reader.close()

    con.execute("alter table rules.services alter quota type bigint")  # same values, another type
    third = publish(con, warehouse, build_id="b3")
    assert (third.written, third.kept) == (["rules.services"], ["marts.added", "marts.members"])
    nothing = publish(con, warehouse, build_id="b4")
    assert (nothing.written, nothing.kept) == ([], ["marts.added", "marts.members", "rules.services"])
    assert _snapshot_rows(nothing.snapshot, "marts.members") == [("H1", 3), ("H2", 2)]
    assert sorted(p.name for p in (tmp_path / "wh.published").iterdir()) == [
        "CURRENT",
        "b3",
        "b3.duckdb",
        "b4",
        "b4.duckdb",
    ]
    con.close()


def test_a_snapshot_mostly_free_space_is_not_copied_again(tmp_path: Path):
    """A dropped table's blocks stay in the copied file; once more of it is free than used, the next
    snapshot is written afresh instead, so snapshot files do not grow build after build."""
    warehouse = tmp_path / "wh.duckdb"
    con = duckdb.connect(str(warehouse))
    con.execute("create schema marts")
    con.execute("create table marts.small as select 1 as x")
    con.execute("create table marts.big as select range as id, md5(cast(range as varchar)) as h from range(300000)")
    assert publish(con, warehouse, build_id="b1").written == ["marts.big", "marts.small"]
    con.execute("drop table marts.big")
    second = publish(con, warehouse, build_id="b2")
    assert (second.written, second.kept) == ([], ["marts.small"])
    third = publish(con, warehouse, build_id="b3")
    assert (third.written, third.kept) == (["marts.small"], [])
    assert third.snapshot.stat().st_size < second.snapshot.stat().st_size / 4
    assert _tables(third.snapshot) == ["marts.small"]
    con.close()


def test_after_a_build_by_holder_only_the_touched_holders_rows_are_replaced(tmp_path: Path):
    """A changed table with holder_id gets the touched holders' rows replaced in the copy of the snapshot; when
    other rows changed too (the snapshot was of an older state), its digest disagrees and it is written anew."""
    warehouse = tmp_path / "wh.duckdb"
    con = duckdb.connect(str(warehouse))
    con.execute("create schema marts; create schema by_holder")
    con.execute("create table marts.members as select * from (values ('H1', 3), ('H2', 1), ('H3', 5)) t(holder_id, s)")
    con.execute("create table marts.totals as select 9 as stars")
    publish(con, warehouse, build_id="b1")

    # a build by holder touched H2 (one row changed) and H4 (a new holder); H1 and H3 kept their rows
    con.execute("create table by_holder.holders as select * from (values ('H2'), ('H4')) t(holder_id)")
    con.execute("update marts.members set s = 2 where holder_id = 'H2'")
    con.execute("insert into marts.members values ('H4', 1)")
    con.execute("update marts.totals set stars = 10")
    second = publish(con, warehouse, build_id="b2")
    assert (second.written, second.replaced) == (["marts.members", "marts.totals"], ["marts.members"])
    expected = [("H1", 3), ("H2", 2), ("H3", 5), ("H4", 1)]
    for read in (_snapshot_rows, _parquet_rows):
        assert read(second.snapshot, "marts.members") == expected
        assert read(second.snapshot, "marts.totals") == [(10,)]

    # a row of an untouched holder changed as well: replacing H2's and H4's rows is not enough, written anew
    con.execute("update marts.members set s = 4 where holder_id in ('H1', 'H2')")
    third = publish(con, warehouse, build_id="b3")
    assert (third.written, third.replaced) == (["marts.members"], [])
    assert _snapshot_rows(third.snapshot, "marts.members") == [("H1", 4), ("H2", 4), ("H3", 5), ("H4", 1)]
    con.close()
