"""Issue 13: ingestion tried as a hostile upstream system would try it, and the build around it.

Every expected value is written by hand from the rows the test writes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from tests.conftest import KEY, REPO_ROOT, ingest, query
from vipwh.contract import EXTRACT_FILES
from vipwh.landing import csv_bytes, write_batch

VALID_ID = "110101199003070011"  # MOD 11-2 check character right
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
RELATIVE = dict(relative_id="R1", holder_id="H1", relation="spouse")
ACTIVATION = dict(holder_id="H1", service_code="limousine", activated_at="2024-04-01")
USAGE = dict(
    usage_id="U1",
    holder_id="H1",
    beneficiary_id="",
    beneficiary_relation="self",
    service_code="limousine",
    variant="",
    service_date="2025-01-02",
    quantity="1",
    status="completed",
    vendor="V",
    cost_amount="100.00",
    updated_at="2025-01-02 10:00:00",
)
GOOD = {
    "customers.csv": CUSTOMER,
    "policies.csv": POLICY,
    "policy_transactions.csv": NEW_BUSINESS,
    "relatives.csv": RELATIVE,
    "service_activations.csv": ACTIVATION,
    "service_usage.csv": USAGE,
}
KEY_COLUMN = {
    "customers.csv": "holder_id",
    "policies.csv": "policy_no",
    "policy_transactions.csv": "txn_id",
    "relatives.csv": "relative_id",
    "service_activations.csv": "holder_id",
    "service_usage.csv": "usage_id",
}

# one out-of-range (or out-of-type) value for each typed column of every file, and the reason, by hand
OUT_OF_RANGE = {
    "customers.csv": [
        ("gender", "Z", "unknown gender 'Z'"),
        ("birth_date", "1984-02-30", "unparsable date birth_date '1984-02-30'"),
    ],
    "policies.csv": [
        ("coverage_no", "2147483648", "out of range coverage_no '2147483648' (INTEGER)"),
        ("product_category", "pets", "unknown product_category 'pets'"),
        ("is_group", "2", "unknown is_group '2'"),
        (
            "coverage_term_months",
            "99999999999999999999",
            "out of range coverage_term_months '99999999999999999999' (INTEGER)",
        ),
        ("payment_mode", "weekly", "unknown payment_mode 'weekly'"),
        ("payment_years", "-1", "negative payment_years '-1'"),
        (
            "modal_premium",
            "1000000000000000000000000000000.00",
            "out of range modal_premium '1000000000000000000000000000000.00' (DECIMAL(18,2): |x| < 10^16)",
        ),
        ("effective_date", "2024-02-30", "unparsable date effective_date '2024-02-30'"),
        ("free_look_end_date", "10000-01-01", "unparsable date free_look_end_date '10000-01-01'"),
        ("status", "gone", "unknown status 'gone'"),
        ("status_date", "2024-13-01", "unparsable date status_date '2024-13-01'"),
    ],
    "policy_transactions.csv": [
        ("coverage_no", "-2147483649", "out of range coverage_no '-2147483649' (INTEGER)"),
        ("txn_type", "gift", "unknown txn_type 'gift'"),
        ("effective_date", "2025-00-10", "unparsable date effective_date '2025-00-10'"),
        ("modal_premium_after", "12.345", "more than 2 decimals in modal_premium_after '12.345'"),
        ("amount", "10000000000000000", "out of range amount '10000000000000000' (DECIMAL(18,2): |x| < 10^16)"),
        ("recorded_at", "2025-13-01 00:00:00", "unparsable timestamp recorded_at '2025-13-01 00:00:00'"),
    ],
    "relatives.csv": [
        ("relation", "cousin", "unknown relation 'cousin'"),
    ],
    "service_activations.csv": [
        ("service_code", "spa", "unknown service_code 'spa'"),
        ("activated_at", "2025-02-29", "unparsable date activated_at '2025-02-29'"),
    ],
    "service_usage.csv": [
        ("beneficiary_relation", "cousin", "unknown beneficiary_relation 'cousin'"),
        ("service_code", "spa", "unknown service_code 'spa'"),
        ("service_date", "2025-04-31", "unparsable date service_date '2025-04-31'"),
        ("quantity", "1e309", "unparsable number quantity '1e309'"),
        ("status", "lost", "unknown status 'lost'"),
        (
            "cost_amount",
            "99999999999999999.99",
            "out of range cost_amount '99999999999999999.99' (DECIMAL(18,2): |x| < 10^16)",
        ),
        ("updated_at", "2025-01-02 25:00:00", "unparsable timestamp updated_at '2025-01-02 25:00:00'"),
    ],
}


def _line(file_name: str, row: dict) -> bytes:
    """One data line of ``row`` as the contract CSV writes it (no header)."""
    return csv_bytes(file_name, [row]).split(b"\n", 1)[1]


def _write_undecodable(landing: Path, name: str, data: bytes, rows: int, encoding: str = "utf-8") -> None:
    """A batch of one file whose bytes do not decode (write_batch would decode them to count rows)."""
    folder = landing / "2026-01-05"
    folder.mkdir(parents=True)
    (folder / name).write_bytes(data)
    manifest = {
        "extract_date": "2026-01-05",
        "encoding": encoding,
        "files": {name: {"rows": rows, "sha256": hashlib.sha256(data).hexdigest()}},
    }
    (folder / "_manifest.json").write_text(json.dumps(manifest))


def _reasons(warehouse: Path, file_name: str) -> dict[int, str]:
    return dict(query(warehouse, "select source_line, reason from raw.quarantine where file_name = ?", [file_name]))


# --- 1. parsing that cannot shift ----------------------------------------------------------------------


def test_a_short_customer_line_is_quarantined_not_shifted(workdir: Path):
    data = csv_bytes("customers.csv", [CUSTOMER]) + "H00000023,M,1984-01-25,广州市,449985198401251716\n".encode()
    write_batch(workdir / "landing", "2026-01-05", {"customers.csv": data})
    warehouse = workdir / "wh.duckdb"
    _, finalized = ingest(workdir / "landing", warehouse)
    assert [o.status for o in finalized] == ["loaded"]
    assert query(warehouse, "select holder_id, city from raw.customers") == [("H1", "杭州市")]
    assert _reasons(warehouse, "customers.csv") == {3: "line 3 has 5 fields, header has 6"}
    raw_record = query(warehouse, "select raw_record from raw.quarantine")[0][0]
    assert "449985198401251716" not in raw_record
    assert json.loads(raw_record) == {"fields": ["H00000023", "M", "1984-01-25", "广州市", "[id masked]"]}
    assert query(warehouse, "select rows_in_file, rows_loaded, rows_quarantined from raw.batch_files") == [(2, 1, 1)]


@pytest.mark.parametrize("extract", EXTRACT_FILES, ids=lambda e: e.name)
def test_every_file_short_long_and_out_of_range_lines(workdir: Path, extract):
    name = extract.name
    good = GOOD[name]
    key = KEY_COLUMN[name]
    data = csv_bytes(name, [good])  # line 2
    short = _line(name, {**good, key: "SHORT"}).rstrip(b"\n")
    data += short[: short.rindex(b",")] + b"\n"  # line 3: one field fewer
    data += _line(name, {**good, key: "LONG"}).rstrip(b"\n") + b",surplus\n"  # line 4: one field more
    expected = {
        3: f"line 3 has {len(extract.columns) - 1} fields, header has {len(extract.columns)}",
        4: f"line 4 has {len(extract.columns) + 1} fields, header has {len(extract.columns)}",
    }
    for offset, (column, value, reason) in enumerate(OUT_OF_RANGE[name]):
        row = {**good, column: value}
        if column != key:
            row[key] = f"BAD{offset}"
        data += _line(name, row)
        expected[5 + offset] = reason
    rows = 3 + len(OUT_OF_RANGE[name])
    write_batch(workdir / "landing", "2026-01-05", {name: data})
    warehouse = workdir / "wh.duckdb"
    _, finalized = ingest(workdir / "landing", warehouse)
    assert [o.status for o in finalized] == ["loaded"]
    assert _reasons(warehouse, name) == expected
    # rows in file = loaded + quarantined = manifest
    assert query(
        warehouse, "select rows_in_manifest, rows_in_file, rows_loaded, rows_quarantined from raw.batch_files"
    ) == [(rows, rows, 1, rows - 1)]
    assert query(warehouse, f"select count(*) from raw.{extract.table}") == [(1,)]


def test_huge_premium_is_quarantined_and_the_rest_loads(workdir: Path):
    huge = {**POLICY, "policy_no": "P2", "modal_premium": "1000000000000000000000000000000.00"}
    largest = {**POLICY, "policy_no": "P3", "modal_premium": "9999999999999999.99"}
    write_batch(
        workdir / "landing", "2026-01-05", {"customers.csv": [CUSTOMER], "policies.csv": [POLICY, huge, largest]}
    )
    write_batch(workdir / "landing", "2026-01-06", {"customers.csv": [{**CUSTOMER, "city": "宁波市"}]})
    warehouse = workdir / "wh.duckdb"
    _, finalized = ingest(workdir / "landing", warehouse)
    assert [(o.extract_date, o.status) for o in finalized] == [("2026-01-05", "loaded"), ("2026-01-06", "loaded")]
    assert query(warehouse, "select policy_no, cast(modal_premium as varchar) from raw.policies order by 1") == [
        ("P1", "20000.00"),
        ("P3", "9999999999999999.99"),
    ]
    assert list(_reasons(warehouse, "policies.csv").values()) == [
        "out of range modal_premium '1000000000000000000000000000000.00' (DECIMAL(18,2): |x| < 10^16)"
    ]


def test_data_duckdb_refuses_rejects_the_batch_but_a_fault_is_no_rejection(workdir: Path, monkeypatch):
    from dagster_project.lib import load

    def refuse(*args, **kwargs):
        raise duckdb.ConversionException("Conversion Error: cannot cast")

    monkeypatch.setattr(load, "_insert_loaded", refuse)
    write_batch(workdir / "landing", "2026-01-05", {"customers.csv": [CUSTOMER]})
    warehouse = workdir / "wh.duckdb"
    _, finalized = ingest(workdir / "landing", warehouse)
    assert [o.message for o in finalized] == [
        "batch 2026-01-05 rejected: customers.csv could not be stored "
        "(ConversionException: Conversion Error: cannot cast)"
    ]
    assert query(warehouse, "select status from raw.batches") == [("rejected",)]

    def disk_full(*args, **kwargs):
        raise duckdb.IOException("IO Error: No space left on device")

    monkeypatch.setattr(load, "_insert_loaded", disk_full)
    write_batch(workdir / "landing", "2026-01-06", {"customers.csv": [CUSTOMER]})
    with pytest.raises(duckdb.IOException):
        ingest(workdir / "landing", warehouse)
    assert query(warehouse, "select extract_date, status from raw.batches order by 1")[1][1] == "pending"


def test_undecodable_bytes_are_located_by_line(workdir: Path):
    data = csv_bytes("customers.csv", [CUSTOMER, {**CUSTOMER, "holder_id": "H2"}])
    data = data.replace(b"H2,", b"H\xff2,")
    _write_undecodable(workdir / "landing", "customers.csv", data, 2)
    warehouse = workdir / "wh.duckdb"
    _, finalized = ingest(workdir / "landing", warehouse)
    assert [o.message for o in finalized] == [
        "batch 2026-01-05 rejected: customers.csv line 3: bytes ff cannot be decoded as utf-8"
    ]
    assert query(warehouse, "select count(*) from raw.customers") == [(0,)]


def test_undecodable_gb18030_bytes_are_located_by_line(workdir: Path):
    data = csv_bytes(
        "customers.csv",
        [CUSTOMER, {**CUSTOMER, "holder_id": "H2"}, {**CUSTOMER, "holder_id": "H3"}],
        encoding="gb18030",
    )
    data = data.replace(b"H3,", b"H3\x81,")  # a lead byte followed by ',' is no GB18030 character
    _write_undecodable(workdir / "landing", "customers.csv", data, 3, encoding="gb18030")
    _, finalized = ingest(workdir / "landing", workdir / "wh.duckdb")
    assert finalized[0].status == "rejected"
    assert "customers.csv line 4: bytes" in finalized[0].message and "gb18030" in finalized[0].message


def test_extra_columns_are_noted_in_the_ledger(workdir: Path):
    data = b"relative_id,holder_id,relation,nickname\nR1,H1,spouse,Bao\n"
    write_batch(workdir / "landing", "2026-01-05", {"customers.csv": [CUSTOMER], "relatives.csv": data})
    warehouse = workdir / "wh.duckdb"
    _, finalized = ingest(workdir / "landing", warehouse)
    assert [o.status for o in finalized] == ["loaded"]
    note = "relatives.csv: column(s) beyond the contract ignored: nickname"
    assert query(warehouse, "select note from raw.batch_files where file_name = 'relatives.csv'") == [(note,)]
    assert query(warehouse, "select note from raw.batches") == [(note,)]


# --- 2. batch folders judged by name first -------------------------------------------------------------


def test_a_bak_folder_never_overwrites_the_real_batch(workdir: Path):
    landing = workdir / "landing"
    real = write_batch(landing, "2026-11-24", {"customers.csv": [CUSTOMER]})
    shutil.copytree(real, landing / "2026-11-24.bak")
    (landing / "2026-11-24.bak" / "customers.csv").write_bytes(b"garbage\n")
    (landing / "notes.txt").write_text("stray file")
    (landing / "2026-11-xx").mkdir()
    warehouse = workdir / "wh.duckdb"
    registered, finalized = ingest(landing, warehouse)
    assert sorted((o.extract_date, o.status) for o in registered) == [
        ("2026-11-24", "pending"),
        ("2026-11-24.bak/", "ignored"),
        ("2026-11-xx/", "ignored"),
        ("notes.txt", "ignored"),
    ]
    assert [(o.extract_date, o.status) for o in finalized] == [("2026-11-24", "loaded")]
    assert query(warehouse, "select status, folder from raw.batches") == [("loaded", str(real.resolve()))]


@pytest.mark.parametrize(
    ("manifest", "reason"),
    [
        (
            b"{not json",
            "_manifest.json is not valid JSON (Expecting property name enclosed in double quotes at line 1 column 2)",
        ),
        (b'{"encoding": "utf-8"}', "_manifest.json lacks field(s) extract_date, files"),
        (
            b'{"extract_date": "2026-11-25", "files": {}}',
            "_manifest.json: extract_date 2026-11-25 differs from the folder name 2026-11-24",
        ),
    ],
)
def test_a_bad_manifest_is_a_rejection_with_its_reason(workdir: Path, manifest: bytes, reason: str):
    folder = write_batch(workdir / "landing", "2026-11-24", {"customers.csv": [CUSTOMER]})
    (folder / "_manifest.json").write_bytes(manifest)
    warehouse = workdir / "wh.duckdb"
    registered, _ = ingest(workdir / "landing", warehouse)
    assert [o.status for o in registered] == ["rejected"]
    assert registered[0].message.startswith(f"batch 2026-11-24 rejected: {reason}")
    assert ("customers.csv" in registered[0].message) == ("files" in manifest.decode())  # never blamed wrongly
    rejections = query(warehouse, "select extract_date, file_name, message from raw.batch_rejections")
    assert [(str(d), f) for d, f, _m in rejections][0] == ("2026-11-24", "_manifest.json")
    assert reason in [m for _d, _f, m in rejections]
    assert query(warehouse, "select status from raw.batches") == [("rejected",)]


def test_a_rejected_batch_is_recorded_once_until_its_manifest_changes(workdir: Path):
    folder = write_batch(workdir / "landing", "2026-11-24", {"customers.csv": [CUSTOMER]})
    (folder / "_manifest.json").write_bytes(b"{not json")
    warehouse = workdir / "wh.duckdb"
    ingest(workdir / "landing", warehouse)
    registered, _ = ingest(workdir / "landing", warehouse)
    assert [o.status for o in registered] == ["rejected_before"]
    assert query(warehouse, "select count(*) from raw.batch_rejections") == [(1,)]
    (folder / "_manifest.json").write_bytes(b"[1, 2]")
    registered, _ = ingest(workdir / "landing", warehouse)
    assert [(o.status, o.message) for o in registered] == [
        ("rejected", "batch 2026-11-24 rejected: _manifest.json is not a JSON object")
    ]
    assert query(warehouse, "select count(*) from raw.batch_rejections") == [(2,)]


def test_an_unknown_file_in_the_manifest_gets_one_reason(workdir: Path):
    folder = write_batch(workdir / "landing", "2026-11-24", {"customers.csv": [CUSTOMER]})
    (folder / "pets.csv").write_text("pet_id\n1\n")
    manifest = json.loads((folder / "_manifest.json").read_text())
    manifest["files"]["pets.csv"] = {"rows": 1, "sha256": hashlib.sha256(b"pet_id\n1\n").hexdigest()}
    (folder / "_manifest.json").write_text(json.dumps(manifest))
    registered, _ = ingest(workdir / "landing", workdir / "wh.duckdb")
    assert [o.message for o in registered] == [
        "batch 2026-11-24 rejected: pets.csv: listed in _manifest.json but not an extract file of the contract"
    ]


def test_a_resent_batch_is_refused_when_its_manifest_differs(workdir: Path):
    landing = workdir / "landing"
    write_batch(landing, "2026-11-24", {"customers.csv": [CUSTOMER]})
    warehouse = workdir / "wh.duckdb"
    ingest(landing, warehouse)
    registered, _ = ingest(landing, warehouse)  # identical re-send
    assert [o.status for o in registered] == ["already_loaded"]
    write_batch(landing, "2026-11-24", {"customers.csv": [{**CUSTOMER, "city": "宁波市"}]})
    registered, finalized = ingest(landing, warehouse)
    assert [(o.extract_date, o.status) for o in registered] == [("2026-11-24", "refused")]
    assert "batch 2026-11-24 was re-sent with a different manifest" in registered[0].message
    assert finalized == []
    assert query(warehouse, "select city from raw.customers") == [("杭州市",)]
    ingest(landing, warehouse)  # recorded once
    assert query(warehouse, "select count(*) from raw.batch_rejections") == [(1,)]


# --- 4. national IDs: a keyed hash, never in clear ------------------------------------------------------


def test_ids_are_hmac_sha256_with_the_key_and_masked_in_quarantine(workdir: Path):
    bad = {**CUSTOMER, "holder_id": "H2", "gender": "?", "id_number": VALID_ID, "city": VALID_ID}
    write_batch(workdir / "landing", "2026-01-05", {"customers.csv": [CUSTOMER, bad]})
    warehouse = workdir / "wh.duckdb"
    ingest(workdir / "landing", warehouse)
    expected = hmac.new(KEY.encode(), b"330106198002290026", hashlib.sha256).hexdigest()
    assert query(warehouse, "select id_number_hash from raw.customers") == [(expected,)]
    record = json.loads(query(warehouse, "select raw_record from raw.quarantine")[0][0])
    assert record["id_number_hash"] == hmac.new(KEY.encode(), VALID_ID.encode(), hashlib.sha256).hexdigest()
    assert record["city"] == "[id masked]" and "id_number" not in record


def test_the_key_is_required_unless_every_batch_is_a_generated_book(tmp_path: Path, monkeypatch):
    from dagster_project.lib import id_hash
    from vipwh.generate import generate_book

    monkeypatch.delenv("VIPWH_ID_KEY")
    generate_book(tmp_path / "demo", holders=5, seed=1, batches=2, workers=1)
    manifests = sorted((tmp_path / "demo").glob("*/_manifest.json"))
    assert all(json.loads(p.read_text())["generator"] == "vipwh generate" for p in manifests)
    assert id_hash.resolve_key(None, manifests, tmp_path / "demo") == id_hash.DEMO_KEY
    assert id_hash.resolve_key(b"operator", manifests, tmp_path / "demo") == b"operator"
    hand_made = write_batch(tmp_path / "demo", "2026-11-30", {"customers.csv": [CUSTOMER]}) / "_manifest.json"
    with pytest.raises(id_hash.MissingIdKey, match="no national-ID key is configured"):
        id_hash.resolve_key(None, [*manifests, hand_made], tmp_path / "demo")


def test_a_build_without_a_key_refuses_to_start(workdir: Path, monkeypatch, capsys):
    from vipwh.cli import main

    monkeypatch.delenv("VIPWH_ID_KEY")
    write_batch(workdir / "landing", "2026-01-05", {"customers.csv": [CUSTOMER]})
    warehouse = workdir / "wh.duckdb"
    assert main(["build", "--landing", str(workdir / "landing"), "--warehouse", str(warehouse), "--quiet"]) == 1
    assert "no national-ID key is configured: set VIPWH_ID_KEY" in capsys.readouterr().err
    assert not warehouse.exists() and not (workdir / "wh.published").exists()


def test_hashes_of_two_keys_never_mix_in_one_warehouse(workdir: Path):
    from dagster_project.lib import id_hash, load

    write_batch(workdir / "landing", "2026-01-05", {"customers.csv": [CUSTOMER]})
    warehouse = workdir / "wh.duckdb"
    ingest(workdir / "landing", warehouse)  # with KEY
    assert query(warehouse, "select id_key_fingerprint from raw.batches") == [(id_hash.fingerprint(KEY.encode()),)]
    with duckdb.connect(str(warehouse)) as con:
        load.check_key(con, KEY.encode())  # the same key: fine
        with pytest.raises(load.KeyMismatch, match="hashed with another national-ID key"):
            load.check_key(con, b"another key")


def _scan_fixture(path: Path) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema staging; create schema marts; create schema raw")
        con.execute("create table marts.dim_member (holder_id varchar, city varchar, id_number_hash varchar)")
        con.execute(
            "insert into marts.dim_member values ('H1', ?, ?), ('H2', '330106198002290026', null), ('H3', '杭州市', ?)",
            [VALID_ID, "a" * 64, hashlib.sha256(b"x").hexdigest()],
        )
        con.execute("create table staging.stg (note varchar, n bigint)")
        con.execute("insert into staging.stg values (' 11010119900307001x ', 1), ('11010119900307001X', 2)")
        con.execute("create table raw.customers (id varchar)")  # raw is not scanned (the warehouse's own input)
        con.execute("insert into raw.customers values (?)", [VALID_ID])


def test_id_scan_finds_valid_ids_only_and_reports_them_masked(tmp_path: Path):
    from dagster_project.lib import quality
    from dagster_project.lib.quality import id_scan

    path = tmp_path / "wh.duckdb"
    _scan_fixture(path)
    with duckdb.connect(str(path), read_only=True) as con:
        found = con.execute(id_scan.scan_sql(quality.Settings(), con)).df()
    # 330106198002290026 and 11010119900307001X fail the MOD 11-2 check; the hashes are not ID-shaped
    assert found[id_scan.COLUMNS].values.tolist() == [["marts", "dim_member", "city", "110101************"]]
    result = quality.run_check(quality.CHECKS_BY_NAME["no_national_id_in_clear"], path)
    assert not result.passed and result.failing_rows == 1
    assert result.severity == "blocking" and result.asset_key == "marts/dim_member"
    assert VALID_ID not in json.dumps(result.sample)


def test_id_scan_counts_every_violation_beyond_the_cap_it_samples(tmp_path: Path):
    from dagster_project.lib import quality

    path = tmp_path / "wh.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts; create table marts.dim_member (city varchar)")
        # three rows holding the valid ID (two padded), one not: three violations
        con.execute(
            "insert into marts.dim_member values (?), (?), (?), ('杭州市')", [VALID_ID, f" {VALID_ID}", f"{VALID_ID} "]
        )
    settings = quality.Settings(violation_cap=2)
    result = quality.run_check(quality.CHECKS_BY_NAME["no_national_id_in_clear"], path, settings)
    assert not result.passed and result.failing_rows == 3
    assert len(result.sample) == 2 and {row["masked_value"] for row in result.sample} == {"110101************"}


# weighted sum 1*7+1*9+0+1*5+0+5*4+1*2+9*1+4*6+9*3+1*7+2*9+3*10+1*5+0+0+2*2 = 167; 167 % 11 = 2: check character X
OTHER_VALID_ID = "11010519491231002X"


def _merged_fixture(path: Path, base: str, last: tuple[bool, str] | None) -> None:
    """A warehouse after a merge by holder: H2's row replaced, the first pass's table kept; the last ID scan."""
    with duckdb.connect(str(path)) as con:
        for schema in ("marts", "by_holder_marts", "by_holder", "quality"):
            con.execute(f"create schema {schema}")
        con.execute("create table marts.dim_member (holder_id varchar, city varchar)")
        # H1's row is from before the merge (an ID planted to show which rows are read); H2's is the merge's
        con.execute("insert into marts.dim_member values ('H1', ?), ('H2', ?)", [VALID_ID, OTHER_VALID_ID])
        con.execute("create table by_holder_marts.dim_member as select * from marts.dim_member where holder_id = 'H2'")
        con.execute("create table marts.mart_agg (city varchar)")  # not merged: scanned whole
        con.execute("insert into marts.mart_agg values (?)", [VALID_ID])
        con.execute(
            "create table by_holder.merged (relation varchar, computed varchar, base_built_at timestamp);"
            f"insert into by_holder.merged values ('marts.dim_member', 'by_holder_marts.dim_member', '{base}')"
        )
        con.execute(
            "create table quality.dq_check_results (build_id varchar, checked_at timestamp, check_name varchar, "
            "asset_key varchar, severity varchar, passed boolean, failing_rows bigint, sample json, message varchar)"
        )
        if last is not None:
            passed, at = last
            con.execute(
                "insert into quality.dq_check_results values ('r0', ?, 'no_national_id_in_clear', 'marts/dim_member', "
                "'blocking', ?, 0, '[]', '')",
                [at, passed],
            )


@pytest.mark.parametrize(
    ("last", "narrowed"),
    [
        ((True, "2026-01-02 10:00:00"), True),  # passed after the tables last changed: the merged rows only
        ((False, "2026-01-02 10:00:00"), False),  # failed: whole
        ((True, "2026-01-01 09:00:00"), False),  # passed, but before the last build's dbt step ended: whole
        (None, False),  # never run: whole
    ],
)
def test_id_scan_after_a_merge_reads_the_merged_rows_only_when_the_last_scan_passed_since(
    tmp_path: Path, last, narrowed: bool
):
    from dagster_project.lib import quality
    from dagster_project.lib.quality import id_scan

    path = tmp_path / "wh.duckdb"
    _merged_fixture(path, base="2026-01-01 10:00:00", last=last)
    with duckdb.connect(str(path), read_only=True) as con:
        found = sorted(con.execute(id_scan.scan_sql(quality.Settings(), con)).df()[id_scan.COLUMNS].values.tolist())
    merged_row = ["marts", "dim_member", "city", "110105************"]  # H2's, read from the first pass's table
    old_row = ["marts", "dim_member", "city", "110101************"]  # H1's, before the merge
    aggregate = ["marts", "mart_agg", "city", "110101************"]  # a table the merge did not change
    assert found == (sorted([merged_row, aggregate]) if narrowed else sorted([merged_row, old_row, aggregate]))


def test_id_scan_reads_whole_when_the_first_pass_table_is_gone(tmp_path: Path):
    from dagster_project.lib import quality
    from dagster_project.lib.quality import id_scan

    path = tmp_path / "wh.duckdb"
    _merged_fixture(path, base="2026-01-01 10:00:00", last=(True, "2026-01-02 10:00:00"))
    with duckdb.connect(str(path)) as con:
        con.execute("drop table by_holder_marts.dim_member")
    with duckdb.connect(str(path), read_only=True) as con:
        found = con.execute(id_scan.scan_sql(quality.Settings(), con)).df()
    assert sorted(found["masked_value"]) == ["110101************", "110101************", "110105************"]


# --- 5. readers cannot write ------------------------------------------------------------------------------


def _fake_snapshot(root: Path) -> Path:
    warehouse = root / "wh.duckdb"
    duckdb.connect(str(warehouse)).close()
    published = root / "wh.published"
    published.mkdir()
    with duckdb.connect(str(published / "s1.duckdb")) as con:
        con.execute("create schema marts; create table marts.dim_member as select 'H1' as holder_id")
    (published / "CURRENT").write_text("s1.duckdb\n")
    return warehouse


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("copy marts.dim_member to '{root}/out.csv'", "file system operations are disabled"),
        ("select * from read_csv('/etc/passwd')", "file system operations are disabled"),
        ("attach '{root}/other.duckdb' as other", "file system operations are disabled"),
        ("install httpfs", "Permission Error"),
        ("load httpfs", "Permission Error"),
        ("set enable_external_access = true", "the configuration has been locked"),
        ("create table marts.t as select 1", "read-only"),
    ],
)
def test_sql_readers_cannot_write_or_reach_files(tmp_path: Path, capsys, statement: str, message: str):
    from vipwh.cli import main

    warehouse = _fake_snapshot(tmp_path)
    assert main(["sql", "--warehouse", str(warehouse), statement.format(root=tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("vipwh sql: ") and message in err
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "other.duckdb").exists()


def test_sql_select_still_works_and_a_missing_warehouse_is_named(tmp_path: Path, capsys):
    from vipwh.cli import main

    warehouse = _fake_snapshot(tmp_path)
    assert main(["sql", "--warehouse", str(warehouse), "--csv", "select holder_id from marts.dim_member"]) == 0
    assert capsys.readouterr().out == "holder_id\nH1\n"
    nowhere = tmp_path / "nowhere.duckdb"
    assert main(["sql", "--warehouse", str(nowhere), "select 1"]) == 2
    assert capsys.readouterr().err.strip() == f"vipwh sql: no warehouse at {nowhere}"
    assert main(["dashboard", "--warehouse", str(nowhere)]) == 2
    assert capsys.readouterr().err.strip() == f"vipwh dashboard: no warehouse at {nowhere.resolve()}"


# --- 3, 6. the build: empty landing, one writer at a time ---------------------------------------------------


def test_an_empty_landing_on_an_empty_warehouse_is_an_error(workdir: Path, capsys):
    from vipwh.cli import main

    (workdir / "landing" / "2026-11-24").mkdir()  # a batch still being written: waiting
    warehouse = workdir / "wh.duckdb"
    assert main(["build", "--landing", str(workdir / "landing"), "--warehouse", str(warehouse), "--quiet"]) == 1
    captured = capsys.readouterr()
    assert "2026-11-24       waiting (no _manifest.json yet)" in captured.out
    assert "no batch in" in captured.err and "nothing published" in captured.err
    assert not (workdir / "wh.published").exists()


def test_a_second_build_exits_at_once_while_one_is_running(workdir: Path):
    from dagster_project.lib import lock

    write_batch(workdir / "landing", "2026-01-05", {"customers.csv": [CUSTOMER]})
    warehouse = workdir / "wh.duckdb"
    assert lock.acquire(warehouse)  # this process is "the build that is running"
    try:
        since = time.strftime("%H:%M:%S")
        started = time.monotonic()
        second = subprocess.run(
            [
                sys.executable,
                "-m",
                "vipwh.cli",
                "build",
                "--landing",
                str(workdir / "landing"),
                "--warehouse",
                str(warehouse),
                "--quiet",
            ],
            capture_output=True,
            text=True,
            cwd=REPO_ROOT,
            env={**os.environ, "VIPWH_ID_KEY": KEY},
            timeout=120,
        )
        seconds = time.monotonic() - started
    finally:
        lock.release(warehouse)
    assert second.returncode == 1, second.stderr
    assert f"a build is running (pid {os.getpid()}, since " in second.stderr
    held_since = second.stderr.split("since ", 1)[1][:8]
    assert abs(time.mktime(time.strptime(held_since, "%H:%M:%S")) - time.mktime(time.strptime(since, "%H:%M:%S"))) <= 2
    assert not warehouse.exists()  # nothing touched
    assert seconds < 60
    # once the first build is over, the lock is free again
    assert lock.acquire(warehouse)
    lock.release(warehouse)


# --- 8. housekeeping ------------------------------------------------------------------------------------------


def test_leftovers_of_an_interrupted_publish_are_removed(tmp_path: Path):
    from dagster_project.lib import housekeeping

    warehouse = tmp_path / "wh.duckdb"
    published = tmp_path / "wh.published"
    published.mkdir()
    for stem in ("20261123T0600-aaaa", "20261124T0600-bbbb"):
        (published / f"{stem}.duckdb").write_bytes(b"x")
        (published / stem / "marts").mkdir(parents=True)
    (published / "CURRENT").write_text("20261124T0600-bbbb.duckdb\n")
    (published / ".20261125T0600-cccc.duckdb.tmp").write_bytes(b"x")
    (published / ".20261125T0600-cccc.duckdb.tmp.wal").write_bytes(b"x")
    (published / "20261125T0600-cccc" / "marts").mkdir(parents=True)  # partial Parquet of that publish
    (published / "CURRENT.tmp").write_text("x")
    removed = housekeeping.clean_published(warehouse)
    assert sorted(removed) == [
        ".20261125T0600-cccc.duckdb.tmp",
        ".20261125T0600-cccc.duckdb.tmp.wal",
        "20261125T0600-cccc/",
        "CURRENT.tmp",
    ]
    assert sorted(p.name for p in published.iterdir()) == [
        "20261123T0600-aaaa",
        "20261123T0600-aaaa.duckdb",
        "20261124T0600-bbbb",
        "20261124T0600-bbbb.duckdb",
        "CURRENT",
    ]


def test_dbt_target_folders_keep_the_last_three_and_the_busy_ones(tmp_path: Path):
    from dagster_project.lib import housekeeping

    day = 24 * 3600
    for age, name in enumerate(
        ["vipwh_dbt-e", "vipwh_dbt-d", "vipwh_dbt-c", "vipwh_dbt-b", "vipwh_dbt-a", "vipwh_dbt-z"]
    ):
        folder = tmp_path / name
        (folder / "compiled").mkdir(parents=True)
        stamp = time.time() - (2 + age) * day
        for path in (folder / "compiled", folder):
            os.utime(path, (stamp, stamp))
    # the oldest folder by its own time is another build's, still running: a model compiled a minute ago
    busy = tmp_path / "vipwh_dbt-z" / "compiled" / "model.sql"
    busy.write_text("select 1")
    os.utime(tmp_path / "vipwh_dbt-z", (time.time() - 9 * day,) * 2)
    (tmp_path / "manifest.json").write_text("{}")
    assert sorted(housekeeping.prune_dbt_targets(tmp_path)) == ["vipwh_dbt-a", "vipwh_dbt-b"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "manifest.json",
        "vipwh_dbt-c",
        "vipwh_dbt-d",
        "vipwh_dbt-e",
        "vipwh_dbt-z",
    ]


def test_dbt_target_folders_removed_by_another_build_meanwhile_are_passed_over(tmp_path: Path, monkeypatch):
    """Two builds of one checkout prune the shared target directory at once: what the other removes is skipped.

    Seen for real: two test builds pruned together and one failed its ingest step with FileNotFoundError.
    """
    from dagster_project.lib import housekeeping

    old = time.time() - 5 * 24 * 3600
    names = [f"vipwh_dbt-{i}" for i in range(8)]
    for age, name in enumerate(names):
        folder = tmp_path / name
        (folder / "compiled").mkdir(parents=True)
        for path in (folder / "compiled", folder):
            os.utime(path, (old - age, old - age))
    # the other build removes vipwh_dbt-4 as this one lists it, vipwh_dbt-5 after this one listed it, and a
    # folder inside vipwh_dbt-6 while this one walks it
    looks: dict[str, int] = {}
    real_stat, real_walk = Path.stat, os.walk

    def stat_while_another_build_prunes(path, *args, **kwargs):
        looks[path.name] = looks.get(path.name, 0) + 1
        if (path.name, looks[path.name]) in {("vipwh_dbt-4", 1), ("vipwh_dbt-5", 2)}:
            shutil.rmtree(path)
        return real_stat(path, *args, **kwargs)

    def walk_while_another_build_prunes(top, *args, **kwargs):
        for step in real_walk(top, *args, **kwargs):
            if Path(step[0]).name == "vipwh_dbt-6":
                shutil.rmtree(Path(top) / "compiled")
            yield step

    monkeypatch.setattr(Path, "stat", stat_while_another_build_prunes)
    monkeypatch.setattr(housekeeping.os, "walk", walk_while_another_build_prunes)
    removed = housekeeping.prune_dbt_targets(tmp_path)
    monkeypatch.undo()
    assert sorted(removed) == ["vipwh_dbt-3", "vipwh_dbt-6", "vipwh_dbt-7"]  # 4 and 5 were the other build's
    assert sorted(p.name for p in tmp_path.iterdir()) == ["vipwh_dbt-0", "vipwh_dbt-1", "vipwh_dbt-2"]


def test_relations_of_retired_models_are_dropped_and_nothing_else():
    from dagster_project.lib import housekeeping

    con = duckdb.connect()
    for schema in ("marts", "staging", "raw", "scenarios", "quality"):
        con.execute(f"create schema {schema}")
    for table in (
        "marts.fct_kept",  # a model
        "marts.mart_gone",  # retired: dropped
        "marts.build_info",  # written by Python: kept
        "quality.dq_check_results",  # written by Python: kept
        "staging.stg_renamed_away",  # retired: dropped
        "staging.Stg_Disabled",  # a disabled model (the scenario models without their var): kept
        "raw.customers",  # raw is no schema of the project: not looked at
        "scenarios.scenario_runs",  # neither is scenarios
    ):
        con.execute(f"create table {table} as select 1 as x")
    con.execute("create view marts.mart_gone_view as select 1 as x")
    manifest = {
        "nodes": {
            "model.vipwh.fct_kept": {"resource_type": "model", "schema": "marts", "name": "fct_kept"},
            "model.vipwh.aliased": {"resource_type": "model", "schema": "staging", "name": "x", "alias": "stg_x"},
            "model.vipwh.dq": {"resource_type": "model", "schema": "quality", "name": "dq_quarantine_summary"},
            "test.vipwh.t": {"resource_type": "test", "schema": "raw", "name": "customers_test"},
        },
        "disabled": {
            "model.vipwh.stg_disabled": [
                {"resource_type": "model", "schema": "staging", "name": "stg_disabled", "config": {"enabled": False}}
            ]
        },
    }
    assert housekeeping.drop_retired_relations(con, manifest) == [
        "marts.mart_gone",
        "marts.mart_gone_view",
        "staging.stg_renamed_away",
    ]
    left = con.execute("select table_schema || '.' || table_name from information_schema.tables order by 1").fetchall()
    assert [row[0] for row in left] == [
        "marts.build_info",
        "marts.fct_kept",
        "quality.dq_check_results",
        "raw.customers",
        "scenarios.scenario_runs",
        "staging.Stg_Disabled",
    ]


# --- 7. faults end in a summary; the next build recovers -------------------------------------------------------


def _build(landing: Path, warehouse: Path, *options: str) -> int:
    from vipwh.cli import main

    return main(["build", "--landing", str(landing), "--warehouse", str(warehouse), "--quiet", *options])


def test_a_fault_in_a_step_ends_in_the_summary_and_one_line(workdir: Path, monkeypatch, capsys):
    from dagster_project.lib import load

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(load, "register", disk_full)
    write_batch(workdir / "landing", "2026-01-05", {"customers.csv": [CUSTOMER]})
    assert _build(workdir / "landing", workdir / "wh.duckdb") == 1
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    assert "vipwh build: warehouse" in captured.out and "NOT published" in captured.err
    assert (
        "vipwh build: step ingest__landing_batches failed: OSError: [Errno 28] No space left on device"
        in captured.err.splitlines()
    )
    assert not (workdir / "wh.published").exists()


def test_a_fault_outside_the_steps_ends_in_the_summary_and_one_line(workdir: Path, monkeypatch, capsys):
    import vipwh.build

    def killed(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(vipwh.build, "execute_build_job", killed)
    write_batch(workdir / "landing", "2026-01-05", {"customers.csv": [CUSTOMER]})
    assert _build(workdir / "landing", workdir / "wh.duckdb") == 1
    err = capsys.readouterr().err
    assert "vipwh build: failed: OSError: [Errno 28] No space left on device; nothing published" in err.splitlines()
    assert "Traceback" not in err


def _marts(path: Path) -> dict[str, list]:
    with duckdb.connect(str(path), read_only=True) as con:
        tables = [
            t
            for (t,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts' "
                "and table_name <> 'build_info' order by 1"
            ).fetchall()
        ]
        return {t: sorted(con.execute(f'select * from marts."{t}"').fetchall(), key=repr) for t in tables}


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 96 MiB file system of its own (tmpfs; root, as CI is), so that a test can fill it for real."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=96m", "tmpfs", str(disk)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small file system here: {mounted.stderr.decode().strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def _fill(disk: Path, leave_bytes: int) -> Path:
    ballast = disk / "ballast"
    free = shutil.disk_usage(disk).free
    subprocess.run(["fallocate", "-l", str(free - leave_bytes), str(ballast)], check=True)
    return ballast


def test_a_demo_book_builds_without_a_key_survives_a_full_disk_and_refuses_a_changed_resend(
    small_disk: Path, tmp_path: Path, monkeypatch, capsys
):
    """A real full disk (not a mock): the warehouse lives on a small file system that a ballast file fills.

    The build that runs out of space exits 1 with its summary and the cause in one line, publishes nothing
    and leaves readers on the last snapshot; once space is freed the next build publishes marts equal to
    the first build's (same landing: the failed build left no published inputs, so it computes in full).
    """
    from dagster_project.lib import publish
    from vipwh.generate import generate_book

    monkeypatch.delenv("VIPWH_ID_KEY")  # a generated book needs no key
    landing, warehouse = tmp_path / "landing", small_disk / "wh.duckdb"
    generate_book(landing, holders=30, seed=5, batches=2, workers=1)

    assert _build(landing, warehouse) == 0
    captured = capsys.readouterr()
    assert "2026-11-22       loaded now" in captured.out and "2026-11-23       loaded now" in captured.out
    first_snapshot = publish.current_snapshot(warehouse)
    assert first_snapshot is not None
    first_marts = _marts(first_snapshot)

    ballast = _fill(small_disk, leave_bytes=2 * 1024 * 1024)
    assert _build(landing, warehouse, "--full-refresh") == 1  # nothing new: only a full refresh writes
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    assert "vipwh build: warehouse" in captured.out and "NOT published" in captured.err
    causes = [line for line in captured.err.splitlines() if line.startswith("vipwh build: step ")]
    assert len(causes) == 1 and "No space left on device" in causes[0], captured.err
    assert publish.current_snapshot(warehouse) == first_snapshot  # readers keep the last good snapshot
    assert _marts(first_snapshot) == first_marts

    ballast.unlink()
    leftovers = small_disk / "wh.published"
    (leftovers / ".20261201T000000-dead.duckdb.tmp").write_bytes(b"half a snapshot")
    (leftovers / "20261201T000000-dead" / "marts").mkdir(parents=True)
    assert _build(landing, warehouse) == 0
    captured = capsys.readouterr()
    assert "2026-11-22       already loaded" in captured.out and "batches loaded now: 0" in captured.out
    snapshot = publish.current_snapshot(warehouse)
    assert snapshot is not None and snapshot != first_snapshot and snapshot.exists()
    assert _marts(snapshot) == first_marts  # the fault changed nothing
    assert not (leftovers / ".20261201T000000-dead.duckdb.tmp").exists()
    assert not (leftovers / "20261201T000000-dead").exists()

    manifest_path = landing / "2026-11-23" / "_manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["resent"] = True  # the same extract date again, with other content
    manifest_path.write_text(json.dumps(manifest))
    assert _build(landing, warehouse) == 3
    captured = capsys.readouterr()
    assert "2026-11-23       REFUSED: batch 2026-11-23 was re-sent with a different manifest" in captured.err
    assert publish.current_snapshot(warehouse) is not None  # the other batches still build and publish


def test_a_national_id_in_a_text_column_fails_the_build(workdir: Path, capsys):
    landing = workdir / "landing"
    relatives = b"relative_id,holder_id,relation,nickname\nR1,H1,spouse,Bao\n"
    write_batch(
        landing,
        "2026-01-05",
        {
            "customers.csv": [{**CUSTOMER, "city": VALID_ID}],
            "policies.csv": [POLICY],
            "policy_transactions.csv": [NEW_BUSINESS],
            "relatives.csv": relatives,
        },
    )
    assert _build(landing, workdir / "wh.duckdb") == 1
    captured = capsys.readouterr()
    assert "FAILED (blocking) marts/dim_member · no_national_id_in_clear" in captured.err
    assert VALID_ID not in captured.out + captured.err
    assert (
        "  WARNING 2026-01-05: relatives.csv: column(s) beyond the contract ignored: nickname"
        in captured.err.splitlines()
    )
    assert "NOT published" in captured.err
