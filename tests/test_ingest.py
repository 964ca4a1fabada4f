"""Ingestion: manifests, quarantine of every kind of bad row, reconciliation, idempotency, load order.

Books are hand-made here, so every expected count is read off the rows written in the test.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import KEY, dbt, ingest, query
from vipwh.landing import csv_bytes, write_batch

CUSTOMER = dict(
    holder_id="H1",
    gender="F",
    birth_date="1980-02-29",
    province="浙江省",
    city="杭州市",
    id_number="330106198002290026",
)
POLICY = dict(
    policy_no="P1",
    coverage_no=0,
    holder_id="H1",
    insured_id="H1",
    product_code="WL01",
    product_category="whole_life",
    is_group=0,
    coverage_term_months="",
    payment_mode="annual",
    payment_years=20,
    modal_premium="20000.00",
    effective_date="2024-03-01",
    free_look_end_date="2024-03-15",
    status="in_force",
    status_date="2024-03-01",
)
NEW_BUSINESS = dict(
    txn_id="T1",
    policy_no="P1",
    coverage_no=0,
    txn_type="new_business",
    effective_date="2024-03-01",
    modal_premium_after="20000.00",
    recorded_at="2024-03-01 09:00:00",
)


def _files(warehouse: Path) -> dict[str, tuple[int, int, int]]:
    rows = query(warehouse, "select file_name, rows_in_file, rows_loaded, rows_quarantined from raw.batch_files")
    return {name: (rows_in, loaded, quarantined) for name, rows_in, loaded, quarantined in rows}


def _reasons(warehouse: Path, file_name: str) -> list[str]:
    return [
        r[0]
        for r in query(
            warehouse, "select reason from raw.quarantine where file_name = ? order by source_line", [file_name]
        )
    ]


BAD_ROWS = [
    # (file, row, expected reason) — one per kind of contract breach in CONTRACT.md §1
    ("customers.csv", {**CUSTOMER, "holder_id": ""}, "missing holder_id"),
    ("customers.csv", {**CUSTOMER, "holder_id": "H9", "gender": "X"}, "unknown gender 'X'"),
    (
        "customers.csv",
        {**CUSTOMER, "holder_id": "H8", "birth_date": "1990-02-30"},
        "unparsable date birth_date '1990-02-30'",
    ),
    ("policies.csv", {**POLICY, "policy_no": "P7", "payment_mode": "weekly"}, "unknown payment_mode 'weekly'"),
    ("policies.csv", {**POLICY, "policy_no": "P8", "modal_premium": "-100.00"}, "negative premium '-100.00'"),
    (
        "policies.csv",
        {**POLICY, "policy_no": "P9", "modal_premium": "12,3a"},
        "unparsable number modal_premium '12,3a'",
    ),
    (
        "policies.csv",
        {**POLICY, "policy_no": "P10", "effective_date": "20240101x"},
        "unparsable date effective_date '20240101x'",
    ),
    ("policies.csv", {**POLICY, "policy_no": "P11", "is_group": "maybe"}, "unknown is_group 'maybe'"),
    ("policy_transactions.csv", {**NEW_BUSINESS, "txn_id": "T7", "txn_type": "gift"}, "unknown txn_type 'gift'"),
    (
        "policy_transactions.csv",
        {**NEW_BUSINESS, "txn_id": "T8", "recorded_at": "yesterday"},
        "unparsable timestamp recorded_at 'yesterday'",
    ),
    (
        "policy_transactions.csv",
        {**NEW_BUSINESS, "txn_id": "T9", "txn_type": "top_up", "amount": "-5"},
        "negative amount '-5'",
    ),
    (
        "service_usage.csv",
        dict(
            usage_id="U1",
            holder_id="H1",
            service_code="spa",
            service_date="2025-01-02",
            quantity="1",
            status="completed",
        ),
        "unknown service_code 'spa'",
    ),
    (
        "service_usage.csv",
        dict(
            usage_id="U2",
            holder_id="H1",
            service_code="limousine",
            service_date="2025-01-02",
            quantity="one",
            status="completed",
        ),
        "unparsable number quantity 'one'",
    ),
    ("relatives.csv", dict(relative_id="R1", holder_id="H1", relation="cousin"), "unknown relation 'cousin'"),
    (
        "service_activations.csv",
        dict(holder_id="H1", service_code="mdt_consult", activated_at=""),
        "missing activated_at",
    ),
]


def test_each_kind_of_bad_row_is_quarantined_with_its_reason(workdir: Path):
    files: dict[str, list[dict]] = {
        "customers.csv": [CUSTOMER],
        "policies.csv": [POLICY],
        "policy_transactions.csv": [NEW_BUSINESS],
    }
    for file_name, row, _reason in BAD_ROWS:
        files.setdefault(file_name, []).append(row)
    write_batch(workdir / "landing", "2026-01-05", files)
    warehouse = workdir / "wh.duckdb"
    _, finalized = ingest(workdir / "landing", warehouse)
    assert [o.status for o in finalized] == ["loaded"]

    for file_name, _row, reason in BAD_ROWS:
        assert reason in _reasons(warehouse, file_name), (file_name, reason)
    counts = _files(warehouse)
    for file_name, rows in files.items():
        bad = sum(1 for f, _r, _x in BAD_ROWS if f == file_name)
        assert counts[file_name] == (len(rows), len(rows) - bad, bad)
    # reconciliation holds file by file: rows in = loaded + quarantined
    for rows_in, loaded, quarantined in counts.values():
        assert rows_in == loaded + quarantined


def test_several_reasons_are_all_named(workdir: Path):
    row = {**POLICY, "policy_no": "P2", "payment_mode": "weekly", "effective_date": "2024-13-01"}
    write_batch(workdir / "landing", "2026-01-05", {"customers.csv": [CUSTOMER], "policies.csv": [row]})
    ingest(workdir / "landing", workdir / "wh.duckdb")
    assert _reasons(workdir / "wh.duckdb", "policies.csv") == [
        "unknown payment_mode 'weekly'; unparsable date effective_date '2024-13-01'"
    ]


def test_ragged_line_is_quarantined_not_lost(workdir: Path):
    data = csv_bytes("relatives.csv", [dict(relative_id="R1", holder_id="H1", relation="spouse")])
    data += b"R2,H1,child,extra\nR3,H1,parent\n"
    write_batch(workdir / "landing", "2026-01-05", {"customers.csv": [CUSTOMER], "relatives.csv": data})
    warehouse = workdir / "wh.duckdb"
    ingest(workdir / "landing", warehouse)
    assert _files(warehouse)["relatives.csv"] == (3, 2, 1)
    assert _reasons(warehouse, "relatives.csv") == ["line 3 has 4 fields, header has 3"]


def test_national_id_never_stored_in_clear(workdir: Path):
    bad = {**CUSTOMER, "holder_id": "H2", "gender": "?", "id_number": "110101199003070011"}
    write_batch(workdir / "landing", "2026-01-05", {"customers.csv": [CUSTOMER, bad]})
    warehouse = workdir / "wh.duckdb"
    ingest(workdir / "landing", warehouse)
    assert dbt(warehouse, "build", "--select", "staging.core", "--indirect-selection", "cautious").returncode == 0
    tables = query(warehouse, "select table_schema, table_name from information_schema.tables")
    for schema, table in tables:
        dump = query(warehouse, f'select cast(t as varchar) from "{schema}"."{table}" as t')
        text = " ".join(r[0] for r in dump)
        assert "330106198002290026" not in text and "110101199003070011" not in text, (schema, table)
    hashed = query(warehouse, "select id_number_hash from raw.customers")[0][0]
    expected = hmac.new(KEY.encode(), b"330106198002290026", hashlib.sha256).hexdigest()
    assert len(hashed) == 64 and hashed == expected


def _rejected(workdir: Path) -> tuple[list, dict]:
    warehouse = workdir / "wh.duckdb"
    registered, finalized = ingest(workdir / "landing", warehouse)
    counts = {
        t: query(warehouse, f"select count(*) from raw.{t}")[0][0]
        for t in ("customers", "policies", "policy_transactions", "quarantine", "batch_files")
    }
    return [o for o in registered + finalized if o.status == "rejected"], counts


NOTHING = {"customers": 0, "policies": 0, "policy_transactions": 0, "quarantine": 0, "batch_files": 0}


def test_truncated_file_rejects_the_whole_batch(workdir: Path):
    folder = write_batch(
        workdir / "landing",
        "2026-01-05",
        {
            "customers.csv": [CUSTOMER],
            "policies.csv": [POLICY, {**POLICY, "coverage_no": 1}],
            "policy_transactions.csv": [NEW_BUSINESS],
        },
    )
    data = (folder / "policies.csv").read_bytes()
    (folder / "policies.csv").write_bytes(data[: data.rindex(b"\n", 0, len(data) - 1) + 1])  # drop last line
    rejected, counts = _rejected(workdir)
    assert len(rejected) == 1
    assert "policies.csv: sha256 is" in rejected[0].message and "manifest says" in rejected[0].message
    assert counts == NOTHING
    assert query(workdir / "wh.duckdb", "select status from raw.batches") == [("rejected",)]


def test_wrong_row_count_in_manifest_rejects_batch_and_loads_nothing(workdir: Path):
    folder = write_batch(
        workdir / "landing",
        "2026-01-05",
        {"customers.csv": [CUSTOMER], "policies.csv": [POLICY], "policy_transactions.csv": [NEW_BUSINESS]},
    )
    manifest = json.loads((folder / "_manifest.json").read_text())
    manifest["files"]["policies.csv"]["rows"] = 5
    (folder / "_manifest.json").write_text(json.dumps(manifest))
    rejected, counts = _rejected(workdir)
    assert [o.message for o in rejected] == ["batch 2026-01-05 rejected: policies.csv has 1 rows, manifest says 5"]
    assert counts == NOTHING  # customers.csv and the log were fine, yet nothing of the batch stays


def test_file_missing_from_batch_and_unlisted_file_reject(workdir: Path):
    folder = write_batch(workdir / "landing", "2026-01-05", {"customers.csv": [CUSTOMER], "policies.csv": [POLICY]})
    (folder / "policies.csv").unlink()
    shutil.copy(folder / "customers.csv", folder / "relatives.csv")
    rejected, counts = _rejected(workdir)
    assert "policies.csv is listed in the manifest but missing from the batch" in rejected[0].message
    assert "relatives.csv is in the batch folder but not in its manifest" in rejected[0].message
    assert counts == NOTHING


def test_batch_without_manifest_waits(workdir: Path):
    folder = write_batch(workdir / "landing", "2026-01-05", {"customers.csv": [CUSTOMER]})
    (folder / "_manifest.json").unlink()
    registered, finalized = ingest(workdir / "landing", workdir / "wh.duckdb")
    assert [(o.extract_date, o.status) for o in registered] == [("2026-01-05", "waiting")] and finalized == []


def test_rejected_batch_loads_once_redelivered_correctly(workdir: Path):
    folder = write_batch(workdir / "landing", "2026-01-05", {"customers.csv": [CUSTOMER]})
    (folder / "customers.csv").write_bytes(b"holder_id,gender\n")
    rejected, _ = _rejected(workdir)
    assert rejected
    write_batch(workdir / "landing", "2026-01-05", {"customers.csv": [CUSTOMER]})
    rejected, counts = _rejected(workdir)
    assert rejected == [] and counts["customers"] == 1


def test_gb18030_batch_keeps_chinese_text(workdir: Path):
    write_batch(workdir / "landing", "2026-01-05", {"customers.csv": [CUSTOMER]}, encoding="gb18030")
    warehouse = workdir / "wh.duckdb"
    ingest(workdir / "landing", warehouse)
    assert query(warehouse, "select province, city from raw.customers") == [("浙江省", "杭州市")]


def test_utf8_bom_is_accepted(workdir: Path):
    data = b"\xef\xbb\xbf" + csv_bytes("customers.csv", [CUSTOMER])
    write_batch(workdir / "landing", "2026-01-05", {"customers.csv": data})
    ingest(workdir / "landing", workdir / "wh.duckdb")
    assert query(workdir / "wh.duckdb", "select holder_id from raw.customers") == [("H1",)]


# --- files read in blocks ------------------------------------------------------------------------

# customers.csv with five records; the second spans two lines (a quoted newline) and the fourth holds a
# doubled quote: a block must end only between records
BLOCKY_CUSTOMERS = (
    b"holder_id,gender,birth_date,province,city,id_number\n"
    b"H1,F,1980-02-29,\xe6\xb5\x99\xe6\xb1\x9f\xe7\x9c\x81,A,330106198002290026\n"
    b'H2,M,1981-01-01,P,"two\nlines",110101199003070011\n'
    b"H3,X,1982-01-01,P,C,\n"
    b'H4,F,1983-01-01,P,"say ""hi""",\n'
    b"H5,F,1984-01-01,P,E,\n"
)


@pytest.mark.parametrize(
    "chunk_rows,read_bytes,fewest,most", [(1, 7, 3, 5), (2, 16, 2, 5), (1, 1 << 20, 1, 1), (100, 7, 1, 1)]
)
def test_a_file_is_read_in_blocks_of_whole_records(
    tmp_path: Path, monkeypatch, chunk_rows: int, read_bytes: int, fewest: int, most: int
):
    from dagster_project.lib import parse
    from vipwh.contract import FILES_BY_NAME

    # small reads: most of them end inside a record, several inside H2's or H4's quoted field
    monkeypatch.setattr(parse, "_BLOCK_BYTES", read_bytes)
    path = tmp_path / "customers.csv"
    path.write_bytes(BLOCKY_CUSTOMERS)
    frames = list(parse.read_extract_chunks(path, FILES_BY_NAME["customers.csv"], chunk_rows=chunk_rows))
    rows = [row for frame in frames for row in frame.select(parse.LINE, "holder_id", "city").iter_rows()]
    # source lines count records from 2 (the header is line 1), as when the file is read whole
    assert rows == [(2, "H1", "A"), (3, "H2", "two\nlines"), (4, "H3", "C"), (5, "H4", 'say "hi"'), (6, "H5", "E")]
    # a block is cut once chunk_rows lines are read, after the last whole record read (so it holds one
    # record or more): small reads give several blocks; one read of the whole file, or 100 lines asked of
    # a 6-line file, one block
    assert fewest <= len(frames) <= most


# (file, every record has the header's three fields), each answer worked from RFC 4180 as the csv module reads it
FIELD_COUNT_CASES = [
    (b"a,b,c\n1,2,3\n4,5,6\n", True),
    (b"a,b,c\n1,2,3\n4,5\n", False),  # two fields
    (b"a,b,c\n1,2,3,4\n4,5,6\n", False),  # four
    (b'a,b,c\n1,"2,two",3\n', True),  # the comma is inside a quoted field
    (b'a,b,c\n1,"x\n1,2,3,4\ny",3\n4,5,6\n', True),  # the middle line is inside a quoted field, not a record
    (b'a,b,c\n1,"x\n\ny",3\n', True),  # so is a blank line
    (b"a,b,c\n1,2,3\n\n4,5,6\n", False),  # a blank line is a record of no field
    (b"a,b,c\r\n1,2,3\r\n4,5,6\r\n", True),
    (b"a,b,c\r\n1,2,3\r\n\r\n", False),  # a blank line, CRLF
    (b"a,b,c\n1,2\r3,4,5\n", False),  # a lone carriage return ends a record: 1,2 then 3,4,5
    (b"a,b,c\n1,2,3\n4,5,6", True),  # the last record without a newline
    (b'a,b,c\n1,2"x,3\n', True),  # a quote inside an unquoted field is a character
    (b'a,b,c\n1,"2,3\n4,5,6\n', False),  # a quote never closed: one record of two fields to the end
    (b"\xef\xbb\xbfa,b,c\n1,2,3\n", True),  # a byte-order mark before the header
    (b"a\nx\n\ny\n", False),  # one column: a blank line has no field, not one empty one
    (b"a,b,c\n", True),  # a header alone
]


@pytest.mark.parametrize(("content", "agree"), FIELD_COUNT_CASES)
@pytest.mark.parametrize("read_bytes", [1, 5, 1 << 20])
def test_field_counts_are_judged_as_the_csv_module_reads_records(
    tmp_path: Path, monkeypatch, content: bytes, agree: bool, read_bytes: int
):
    from dagster_project.lib import parse

    monkeypatch.setattr(parse, "_BLOCK_BYTES", read_bytes)
    path = tmp_path / "x.csv"
    path.write_bytes(content)
    assert parse._field_counts_agree(path) is agree
    assert parse._field_counts_agree_csv(path) is agree  # the csv module itself, the whole file at once


def test_field_counts_agree_with_the_csv_module_on_random_files(tmp_path: Path, monkeypatch):
    """Random files of commas, quotes, newlines and carriage returns: the same verdict as the csv module's."""
    import random

    from dagster_project.lib import parse

    tokens = [b"x", b"yz", b",", b",", b'"', b'""', b"\n", b"\n", b"\r\n", b"\r", "é".encode()]
    rng = random.Random(20261207)
    path = tmp_path / "x.csv"
    verdicts = {True: 0, False: 0}
    for case in range(3000):
        header = b"a,b,c\n" if case % 3 else b"a,b\r\n"
        width = 3 if case % 3 else 2
        lines = []
        for _ in range(rng.randint(0, 12)):
            if rng.random() < 0.7:
                lines.append(b",".join(b"v" for _ in range(width)) + b"\n")  # a well-formed record
            else:
                lines.append(b"".join(rng.choice(tokens) for _ in range(rng.randint(0, 8))))
        path.write_bytes(header + b"".join(lines))
        monkeypatch.setattr(parse, "_BLOCK_BYTES", rng.choice([1, 3, 8, 64, 1 << 16]))
        monkeypatch.setattr(parse, "_CARRY_BYTES_MAX", rng.choice([4, 1 << 26]))
        expected = parse._field_counts_agree_csv(path)
        assert parse._field_counts_agree(path) is expected, path.read_bytes()
        verdicts[expected] += 1
    assert min(verdicts.values()) > 300  # both verdicts well represented


def test_a_header_alone_gives_its_columns(tmp_path: Path):
    from dagster_project.lib.parse import read_extract_chunks
    from vipwh.contract import FILES_BY_NAME

    path = tmp_path / "customers.csv"
    path.write_bytes(BLOCKY_CUSTOMERS.split(b"\n")[0] + b"\n")
    frames = list(read_extract_chunks(path, FILES_BY_NAME["customers.csv"], chunk_rows=2))
    assert [frame.height for frame in frames] == [0]
    assert "holder_id" in frames[0].columns


def test_a_file_loaded_in_blocks_is_one_load(workdir: Path, monkeypatch):
    from dagster_project.lib import load, parse

    monkeypatch.setattr(parse, "CHUNK_ROWS", 1)
    monkeypatch.setattr(parse, "_BLOCK_BYTES", 7)
    blocks: list[int] = []
    validate = load.validate
    monkeypatch.setattr(load, "validate", lambda frame, *args: blocks.append(frame.height) or validate(frame, *args))
    write_batch(workdir / "landing", "2026-01-05", {"customers.csv": BLOCKY_CUSTOMERS})
    warehouse = workdir / "wh.duckdb"
    ingest(workdir / "landing", warehouse)
    assert len(blocks) >= 3 and sum(blocks) == 5
    # H3's gender X is quarantined from the second block; the others load, each with its source line
    assert _files(warehouse)["customers.csv"] == (5, 4, 1)
    assert query(warehouse, "select holder_id, _source_line from raw.customers order by 1") == [
        ("H1", 2),
        ("H2", 3),
        ("H4", 5),
        ("H5", 6),
    ]
    assert query(warehouse, "select source_line, reason from raw.quarantine") == [(4, "unknown gender 'X'")]


def test_a_file_loaded_in_blocks_lets_go_of_each_block_once_inserted(workdir: Path, monkeypatch):
    # Memory must not grow with the file: inside the file's one transaction, each block's Arrow data is freed once
    # inserted. (A view registered per block holds its Arrow table until the commit: 15 GiB at 10 M holders.)
    import gc
    import weakref

    import polars as pl

    from dagster_project.lib import load, parse

    monkeypatch.setattr(parse, "CHUNK_ROWS", 1)
    monkeypatch.setattr(parse, "_BLOCK_BYTES", 7)
    handed_over: list[weakref.ref] = []
    to_arrow = pl.DataFrame.to_arrow

    def to_arrow_watched(frame, *args, **kwargs):
        table = to_arrow(frame, *args, **kwargs)
        handed_over.append(weakref.ref(table))
        return table

    monkeypatch.setattr(pl.DataFrame, "to_arrow", to_arrow_watched)
    alive_at_block: list[int] = []
    validate = load.validate

    def count_then_validate(frame, *args):
        gc.collect()
        alive_at_block.append(sum(ref() is not None for ref in handed_over))
        return validate(frame, *args)

    monkeypatch.setattr(load, "validate", count_then_validate)
    write_batch(workdir / "landing", "2026-01-05", {"customers.csv": BLOCKY_CUSTOMERS})
    ingest(workdir / "landing", workdir / "wh.duckdb")
    assert len(alive_at_block) >= 3 and len(handed_over) >= 3  # several blocks, each handed to DuckDB
    assert alive_at_block == [0] * len(alive_at_block)
    assert _files(workdir / "wh.duckdb")["customers.csv"] == (5, 4, 1)


def test_a_file_failing_in_its_last_block_leaves_nothing_of_the_batch(workdir: Path, monkeypatch):
    import duckdb

    from dagster_project.lib import load, parse

    monkeypatch.setattr(parse, "CHUNK_ROWS", 1)
    monkeypatch.setattr(parse, "_BLOCK_BYTES", 7)
    calls: list[int] = []
    insert = load._insert_loaded

    def refuse_the_third(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise duckdb.ConversionException("Conversion Error: cannot cast")
        insert(*args, **kwargs)

    monkeypatch.setattr(load, "_insert_loaded", refuse_the_third)
    write_batch(workdir / "landing", "2026-01-05", {"customers.csv": BLOCKY_CUSTOMERS})
    rejected, counts = _rejected(workdir)
    assert len(calls) == 2  # the first block was inserted before the second failed
    assert [o.message for o in rejected] == [
        "batch 2026-01-05 rejected: customers.csv could not be stored "
        "(ConversionException: Conversion Error: cannot cast)"
    ]
    assert counts == NOTHING


# --- idempotency and load order -------------------------------------------------------------------


def _three_batches(root: Path) -> list[Path]:
    """A book in three daily batches: new business, a lapse back-dated and resent rows, a holder change."""
    day1 = write_batch(
        root,
        "2026-01-01",
        {
            "customers.csv": [CUSTOMER, {**CUSTOMER, "holder_id": "H2", "id_number": "110101199003070011"}],
            "policies.csv": [POLICY, {**POLICY, "coverage_no": 1, "modal_premium": "1000.00"}],
            "policy_transactions.csv": [
                NEW_BUSINESS,
                {**NEW_BUSINESS, "txn_id": "T2", "coverage_no": 1, "modal_premium_after": "1000.00"},
            ],
            "relatives.csv": [dict(relative_id="R1", holder_id="H1", relation="spouse")],
        },
    )
    day2 = write_batch(
        root,
        "2026-01-02",
        {
            "customers.csv": [{**CUSTOMER, "city": "宁波市"}],
            "policies.csv": [{**POLICY, "status": "lapsed", "status_date": "2025-12-20"}],
            "policy_transactions.csv": [
                dict(
                    txn_id="T3",
                    policy_no="P1",
                    coverage_no="",
                    txn_type="lapse",
                    effective_date="2025-12-20",
                    recorded_at="2026-01-02 08:00:00",
                )
            ],
            "service_usage.csv": [
                dict(
                    usage_id="U1",
                    holder_id="H1",
                    service_code="dental_cleaning",
                    service_date="2025-11-02",
                    quantity="1",
                    status="booked",
                )
            ],
        },
    )
    day3 = write_batch(
        root,
        "2026-01-03",
        {
            "policies.csv": [{**POLICY, "holder_id": "H2", "status": "lapsed", "status_date": "2025-12-20"}],
            "service_usage.csv": [
                dict(
                    usage_id="U1",
                    holder_id="H1",
                    service_code="dental_cleaning",
                    service_date="2025-11-02",
                    quantity="1",
                    status="completed",
                )
            ],
        },
    )
    return [day1, day2, day3]


STAGING = [  # (schema, model): staging/core, then the referential judgement on it (intermediate/core)
    ("staging", "stg_core__customers"),
    ("staging", "stg_core__policies"),
    ("staging", "stg_core__policy_transactions"),
    ("staging", "stg_core__relatives"),
    ("staging", "stg_core__service_activations"),
    ("staging", "stg_core__service_usage"),
    ("intermediate", "int_core__policies_resolved"),
    ("intermediate", "int_core__policy_transactions_resolved"),
    ("intermediate", "int_core__service_usage_resolved"),
    ("intermediate", "int_core__reference_quarantine"),
]


def _staging_state(warehouse: Path) -> dict[str, list[tuple]]:
    run = dbt(warehouse, "run", "--select", "staging.core", "intermediate.core")
    assert run.returncode == 0, run.stdout[-3000:]
    state = {}
    for schema, model in STAGING:
        cols = [
            r[0]
            for r in query(
                warehouse,
                "select column_name from information_schema.columns "
                "where table_schema = ? and table_name = ? "
                "order by ordinal_position",
                [schema, model],
            )
        ]
        state[model] = sorted(query(warehouse, f"select {', '.join(cols)} from {schema}.{model}"), key=repr)
    return state


def test_loading_out_of_order_gives_the_same_staging(tmp_path: Path):
    book = _three_batches(tmp_path / "book")
    states = []
    orders = (("in_order", book), ("reversed", list(reversed(book))), ("middle_last", [book[0], book[2], book[1]]))
    for name, order in orders:
        landing, warehouse = tmp_path / name / "landing", tmp_path / name / "wh.duckdb"
        for batch in order:  # batches arrive one by one, each followed by an ingest
            shutil.copytree(batch, landing / batch.name)
            ingest(landing, warehouse)
        states.append(_staging_state(warehouse))
    assert states[0] == states[1] == states[2]
    in_order = states[0]
    # latest extract wins per key: the city from day 2, the usage status from day 3, the holder from day 3
    customers = {r[0]: r for r in in_order["stg_core__customers"]}
    assert customers["H1"][4] == "宁波市"
    assert {r[0]: r[8] for r in in_order["stg_core__service_usage"]} == {"U1": "completed"}
    # a holder change moves the whole policy: both coverages now belong to H2
    assert sorted((r[1], r[2]) for r in in_order["stg_core__policies"]) == [(0, "H2"), (1, "H2")]


def test_second_ingest_is_a_no_op(workdir: Path):
    for batch in _three_batches(workdir / "landing"):
        assert batch.exists()
    warehouse = workdir / "wh.duckdb"
    ingest(workdir / "landing", warehouse)
    snapshot = {
        t: query(warehouse, f"select count(*), max(_loaded_at) from raw.{t}")
        for t in ("customers", "policies", "policy_transactions", "service_usage")
    }
    registered, finalized = ingest(workdir / "landing", warehouse)
    assert {o.status for o in registered} == {"already_loaded"} and finalized == []
    assert snapshot == {t: query(warehouse, f"select count(*), max(_loaded_at) from raw.{t}") for t in snapshot}


def test_orphans_are_staged_as_delivered_and_left_out_of_the_resolved_rows_with_a_reason(workdir: Path):
    write_batch(
        workdir / "landing",
        "2026-01-05",
        {
            "customers.csv": [CUSTOMER],
            "policies.csv": [POLICY, {**POLICY, "policy_no": "P5", "holder_id": "NOBODY"}],
            "policy_transactions.csv": [NEW_BUSINESS, {**NEW_BUSINESS, "txn_id": "T5", "policy_no": "P404"}],
            "service_usage.csv": [
                dict(
                    usage_id="U9",
                    holder_id="GHOST",
                    service_code="limousine",
                    service_date="2025-01-02",
                    quantity="1",
                    status="completed",
                )
            ],
        },
    )
    warehouse = workdir / "wh.duckdb"
    ingest(workdir / "landing", warehouse)
    state = _staging_state(warehouse)
    # staging is the extract's current rows; the referential judgement is the intermediate/core layer's
    assert [r[0] for r in state["stg_core__policies"]] == ["P1", "P5"]
    assert [r[0] for r in state["stg_core__policy_transactions"]] == ["T1", "T5"]
    assert [r[0] for r in state["stg_core__service_usage"]] == ["U9"]
    assert [r[0] for r in state["int_core__policies_resolved"]] == ["P1"]
    assert [r[0] for r in state["int_core__policy_transactions_resolved"]] == ["T1"]
    assert state["int_core__service_usage_resolved"] == []
    assert sorted((r[0], r[1]) for r in state["int_core__reference_quarantine"]) == [
        ("policies.csv", "P5/0"),
        ("policy_transactions.csv", "T5"),
        ("service_usage.csv", "U9"),
    ]


@pytest.mark.parametrize("bad_name", ["2026-13-01", "2026-11-xx", "2026-11-24.bak", "20261124"])
def test_folder_without_a_batch_name_is_ignored(workdir: Path, bad_name: str):
    folder = workdir / "landing" / bad_name
    folder.mkdir()
    (folder / "_manifest.json").write_text(json.dumps({"extract_date": "2026-11-24", "files": {}}))
    registered, _ = ingest(workdir / "landing", workdir / "wh.duckdb")
    assert [(o.extract_date, o.status) for o in registered] == [(bad_name + "/", "ignored")]
    assert query(workdir / "wh.duckdb", "select count(*) from raw.batches") == [(0,)]
