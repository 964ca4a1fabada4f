"""``vipwh generate``: files and manifests as CONTRACT §1 says, deterministic, dirty only where asked,
and a book that looks like an insurer's (checked from the files alone, with rules restated here)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

from vipwh import contract, generate
from vipwh.generate import generate_book

END = date(2026, 11, 23)
HOLDERS = 4_000
BATCHES = 10
TIMESTAMP = "%Y-%m-%d %H:%M:%S"


# --- reading a landing back -------------------------------------------------------------------------------


def _files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def _read(folder: Path, name: str) -> pl.DataFrame:
    manifest = json.loads((folder / "_manifest.json").read_text(encoding="utf-8"))
    path = folder / name
    if not path.exists():
        return pl.DataFrame(schema={c: pl.String for c in contract.FILES_BY_NAME[name].column_names})
    text = path.read_bytes().decode(manifest["encoding"])
    return pl.read_csv(io.StringIO(text), infer_schema=False)


def _landing(out: Path) -> dict[str, pl.DataFrame]:
    """Every file of every batch, stacked, with ``_batch`` (0 = first) and ``_line`` (row order)."""
    folders = sorted(p for p in out.iterdir() if p.is_dir())
    frames: dict[str, pl.DataFrame] = {}
    for extract in contract.EXTRACT_FILES:
        parts = [
            _read(folder, extract.name).with_row_index("_line").with_columns(pl.lit(b).alias("_batch"))
            for b, folder in enumerate(folders)
        ]
        frames[extract.name] = pl.concat(parts, how="vertical_relaxed")
    return frames


def _problems(frame: pl.DataFrame, extract: contract.ExtractFile) -> pl.Series:
    """Per row, the contract rules it breaks (empty string = clean), restated from CONTRACT §1."""
    services = contract.service_codes()
    checks: list[pl.Expr] = []
    for column in extract.columns:
        value = pl.col(column.name).str.strip_chars()
        present = value.is_not_null() & (value != "")
        if column.required:
            checks.append(pl.when(~present).then(pl.lit("missing")))
        codes = services if (extract.name, column.name) in contract.SERVICE_CODE_COLUMNS else column.codes
        if column.type == "flag":
            codes = ("0", "1")
        if codes is not None:
            checks.append(pl.when(present & ~value.is_in(list(codes))).then(pl.lit("unknown_code")))
        if column.type == "date":
            parsed = value.str.to_date("%Y-%m-%d", strict=False)
            ok = value.str.contains(r"^\d{4}-\d{2}-\d{2}$") & parsed.is_not_null()
            checks.append(pl.when(present & ~ok).then(pl.lit("bad_date")))
        if column.type == "timestamp":
            ok = value.str.to_datetime(TIMESTAMP, strict=False).is_not_null()
            checks.append(pl.when(present & ~ok).then(pl.lit("bad_date")))
        if column.type in ("integer", "decimal"):
            pattern = r"^-?\d+$" if column.type == "integer" else r"^-?\d+(\.\d{1,2})?$"
            ok = value.str.contains(pattern)
            checks.append(pl.when(present & ~ok).then(pl.lit("bad_number")))
            if column.non_negative:
                negative = ok & value.str.starts_with("-")
                checks.append(pl.when(present & negative).then(pl.lit("negative")))
    return frame.select(pl.concat_str(checks, separator=";", ignore_nulls=True).fill_null("")).to_series()


def _clean(frames: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """Rows that keep the contract's row rules (references not checked)."""
    return {name: frame.filter(_problems(frame, contract.FILES_BY_NAME[name]) == "") for name, frame in frames.items()}


def _dangling(frames: dict[str, pl.DataFrame]) -> dict[str, int]:
    """Rows whose reference points nowhere in the whole landing."""
    holders = frames["customers.csv"]["holder_id"]
    policies = frames["policies.csv"]["policy_no"]
    refs = {
        "policies.csv": ("holder_id", holders),
        "relatives.csv": ("holder_id", holders),
        "service_activations.csv": ("holder_id", holders),
        "service_usage.csv": ("holder_id", holders),
        "policy_transactions.csv": ("policy_no", policies),
    }
    return {
        name: frames[name].filter(~pl.col(column).is_in(target.implode())).height
        for name, (column, target) in refs.items()
    }


# --- books (generated once per module) ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def clean_book(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("clean")
    return out, generate_book(out, holders=HOLDERS, seed=11, batches=BATCHES, dirty_rate=0.0)


@pytest.fixture(scope="module")
def dirty_book(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("dirty")
    return out, generate_book(out, holders=HOLDERS, seed=11, batches=BATCHES, dirty_rate=0.01)


@pytest.fixture(scope="module")
def clean_frames(clean_book) -> dict[str, pl.DataFrame]:
    return _landing(clean_book[0])


# --- the files and manifests ------------------------------------------------------------------------------


def test_batches_are_one_a_day_ending_on_end(clean_book):
    out, summary = clean_book
    expected = [(END - timedelta(days=BATCHES - 1 - i)).isoformat() for i in range(BATCHES)]
    assert sorted(p.name for p in out.iterdir()) == expected
    for name in expected:
        manifest = json.loads((out / name / "_manifest.json").read_text(encoding="utf-8"))
        assert manifest["extract_date"] == name
        assert manifest["encoding"] == "utf-8"
    assert [b["extract_date"] for b in summary["batches"]] == expected
    assert set(summary["batches"][0]["files"]) == set(contract.FILES_BY_NAME)  # the full load has all six


def test_single_batch_is_dated_end(tmp_path):
    generate_book(tmp_path, holders=50, seed=1, dirty_rate=0.0)
    assert [p.name for p in tmp_path.iterdir()] == [END.isoformat()]


def test_manifest_rows_and_sha256_match_the_files(dirty_book):
    out, summary = dirty_book
    for folder in sorted(out.iterdir()):
        manifest = json.loads((folder / "_manifest.json").read_text(encoding="utf-8"))
        assert sorted(p.name for p in folder.glob("*.csv")) == sorted(manifest["files"])
        for name, entry in manifest["files"].items():
            data = (folder / name).read_bytes()
            assert hashlib.sha256(data).hexdigest() == entry["sha256"]
            records = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
            assert len(records) - 1 == entry["rows"] > 0
            assert (
                summary["batches"][[b["extract_date"] for b in summary["batches"]].index(folder.name)]["files"][name]
                == entry["rows"]
            )


def test_every_file_has_the_contract_header(dirty_book):
    out, _ = dirty_book
    for path in out.rglob("*.csv"):
        first = path.read_bytes().split(b"\n", 1)[0].decode("ascii")
        assert first.split(",") == contract.FILES_BY_NAME[path.name].column_names
        width = len(contract.FILES_BY_NAME[path.name].columns)
        assert all(len(r) == width for r in csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    first = generate_book(tmp_path / "a", holders=300, seed=5, batches=3, dirty_rate=0.01)
    generate_book(tmp_path / "b", holders=300, seed=5, batches=3, dirty_rate=0.01)
    generate_book(tmp_path / "c", holders=300, seed=6, batches=3, dirty_rate=0.01)
    a, b, c = _files(tmp_path / "a"), _files(tmp_path / "b"), _files(tmp_path / "c")
    assert a == b
    shared = set(a) & set(c)
    assert all(a[name] != c[name] for name in shared if name.endswith(("customers.csv", "policies.csv")))
    assert first["rows"]["customers.csv"] >= 300


def test_rerun_in_the_same_folder_leaves_no_stale_file(tmp_path):
    generate_book(tmp_path, holders=300, seed=5, batches=3, dirty_rate=0.0)
    before = _files(tmp_path)
    (tmp_path / END.isoformat() / "relatives.csv").write_bytes(b"stale")
    generate_book(tmp_path, holders=300, seed=5, batches=3, dirty_rate=0.0)
    assert _files(tmp_path) == before


def test_worker_processes_write_the_same_bytes(tmp_path, monkeypatch):
    monkeypatch.setattr(generate, "CHUNK_HOLDERS", 150)
    generate_book(tmp_path / "serial", holders=400, seed=3, batches=2, workers=1)
    generate_book(tmp_path / "parallel", holders=400, seed=3, batches=2, workers=2)
    assert _files(tmp_path / "serial") == _files(tmp_path / "parallel")


def test_gb18030_round_trips_the_same_text(tmp_path):
    generate_book(tmp_path / "u", holders=200, seed=9, batches=2)
    generate_book(tmp_path / "g", holders=200, seed=9, batches=2, encoding="gb18030")
    utf8, gb = _files(tmp_path / "u"), _files(tmp_path / "g")
    assert utf8.keys() == gb.keys()
    for name, data in gb.items():
        if name.endswith("_manifest.json"):
            manifest = json.loads(data)
            assert manifest["encoding"] == "gb18030"
            continue
        assert data.decode("gb18030") == utf8[name].decode("utf-8")
    customers = gb[f"{END - timedelta(days=1)}/customers.csv"]
    assert customers != utf8[f"{END - timedelta(days=1)}/customers.csv"]
    with pytest.raises(UnicodeDecodeError):
        customers.decode("utf-8")
    text = customers.decode("gb18030")
    assert "省" in text or "市" in text


# --- dirty rows -------------------------------------------------------------------------------------------


def test_a_clean_book_keeps_every_rule(clean_frames):
    for name, frame in clean_frames.items():
        problems = _problems(frame, contract.FILES_BY_NAME[name])
        assert (problems != "").sum() == 0, (name, problems.filter(problems != "").head(3).to_list())
    assert _dangling(clean_frames) == dict.fromkeys(_dangling(clean_frames), 0)


def test_dirty_rows_at_the_configured_rate_of_every_kind(dirty_book):
    frames = _landing(dirty_book[0])
    clean = _clean(frames)
    dangling = _dangling(clean)
    kinds: set[str] = set()
    total = bad = 0
    for name, frame in frames.items():
        problems = _problems(frame, contract.FILES_BY_NAME[name])
        broken = int((problems != "").sum()) + dangling.get(name, 0)
        share = broken / frame.height
        assert 0.004 < share < 0.02, (name, share)
        kinds |= {k for p in problems.to_list() for k in p.split(";") if k}
        total += frame.height
        bad += broken
    assert 0.008 < bad / total < 0.012
    assert kinds == {"missing", "unknown_code", "bad_date", "bad_number", "negative"}
    assert all(n > 0 for n in dangling.values())
    batches_with_dirt = frames["service_usage.csv"].filter(
        _problems(frames["service_usage.csv"], contract.FILES_BY_NAME["service_usage.csv"]) != ""
    )["_batch"]
    assert batches_with_dirt.n_unique() > 1  # spread across batches


# --- the book ---------------------------------------------------------------------------------------------


def test_rows_refer_to_what_earlier_or_the_same_batch_sent(clean_frames):
    f = clean_frames
    first_seen = {
        "holder": f["customers.csv"].group_by("holder_id").agg(pl.col("_batch").min().alias("_seen")),
        "policy": f["policies.csv"].group_by("policy_no").agg(pl.col("_batch").min().alias("_seen")),
        "relative": f["relatives.csv"].group_by("relative_id").agg(pl.col("_batch").min().alias("_seen")),
    }
    checks = [
        ("policies.csv", "holder_id", "holder", "holder_id"),
        ("policy_transactions.csv", "policy_no", "policy", "policy_no"),
        ("service_usage.csv", "holder_id", "holder", "holder_id"),
        ("service_usage.csv", "beneficiary_id", "relative", "relative_id"),
        ("service_activations.csv", "holder_id", "holder", "holder_id"),
        ("relatives.csv", "holder_id", "holder", "holder_id"),
    ]
    for name, column, target, key in checks:
        rows = f[name].filter(pl.col(column).is_not_null())
        joined = rows.join(first_seen[target], left_on=column, right_on=key, how="left")
        assert joined["_seen"].null_count() == 0, (name, column)
        assert joined.filter(pl.col("_seen") > pl.col("_batch")).height == 0, (name, column)


def _latest(frame: pl.DataFrame, key: list[str]) -> pl.DataFrame:
    return frame.sort("_batch", "_line").group_by(key, maintain_order=True).last()


STATUS_AFTER = {
    "free_look_cancel": "free_look_cancelled",
    "surrender": "surrendered",
    "lapse": "lapsed",
    "reinstate": "in_force",
    "reduced_paid_up": "reduced_paid_up",
    "premium_waiver": "premium_waived",
    "terminate": "terminated",
}
FINAL = {"free_look_cancelled", "surrendered", "terminated"}


def test_policy_status_agrees_with_the_transaction_log(clean_frames):
    policies = _latest(clean_frames["policies.csv"], ["policy_no", "coverage_no"])
    txns = _latest(clean_frames["policy_transactions.csv"], ["txn_id"])
    events = txns.filter(pl.col("txn_type").is_in(list(STATUS_AFTER))).sort("effective_date", "recorded_at", "txn_id")
    by_policy: dict[str, list[tuple]] = {}
    for row in events.iter_rows(named=True):
        by_policy.setdefault(row["policy_no"], []).append(row)
    mismatches = 0
    for cov in policies.iter_rows(named=True):
        status, status_date = "in_force", cov["effective_date"]
        for event in by_policy.get(cov["policy_no"], []):
            names_other = event["coverage_no"] not in (None, cov["coverage_no"])
            if names_other or event["effective_date"] < cov["effective_date"]:
                continue
            if status in FINAL or (event["txn_type"] == "reinstate" and status != "lapsed"):
                continue
            status, status_date = STATUS_AFTER[event["txn_type"]], event["effective_date"]
        mismatches += (status, status_date) != (cov["status"], cov["status_date"])
    assert mismatches == 0
    assert policies["status"].n_unique() == len(contract.POLICY_STATUSES)


def test_every_coverage_has_its_new_business_on_its_effective_date(clean_frames):
    policies = _latest(clean_frames["policies.csv"], ["policy_no", "coverage_no"])
    nb = clean_frames["policy_transactions.csv"].filter(pl.col("txn_type") == "new_business")
    joined = policies.join(nb, on=["policy_no", "coverage_no"], how="left", suffix="_nb")
    assert joined["txn_id"].null_count() == 0
    assert (joined["effective_date"] == joined["effective_date_nb"]).all()
    assert joined["modal_premium_after"].null_count() == 0


def test_delta_batches_carry_late_back_dated_events(clean_frames):
    txns = clean_frames["policy_transactions.csv"].with_columns(
        pl.col("recorded_at").str.to_datetime(TIMESTAMP).dt.date().alias("recorded"),
        pl.col("effective_date").str.to_date().alias("effective"),
    )
    deltas = txns.filter(pl.col("_batch") > 0)
    late = deltas.filter(pl.col("recorded") > pl.col("effective"))
    assert late.height > 0
    assert late.filter(pl.col("recorded") - pl.col("effective") >= timedelta(days=7)).height > 0
    assert set(deltas["txn_type"]) >= {"new_business", "lapse", "surrender"}
    policies = clean_frames["policies.csv"]
    changed = policies.filter((pl.col("_batch") > 0) & (pl.col("status") != "in_force"))
    assert changed.height > 0  # changed policies are resent with their new status


def test_the_book_looks_like_a_chinese_life_insurer(clean_frames):
    policies = _latest(clean_frames["policies.csv"], ["policy_no", "coverage_no"])
    share = policies["payment_mode"].value_counts(normalize=True)
    share = dict(zip(share["payment_mode"], share["proportion"], strict=True))
    assert share["annual"] > 0.5 and 0.05 < share["monthly"] < 0.35 and 0.03 < share["single"] < 0.25
    assert set(policies["payment_years"].drop_nulls().cast(int)) <= {1, 3, 5, 10, 15, 20}
    assert (
        policies.filter(pl.col("payment_mode") == "single")["payment_years"].null_count()
        == policies.filter(pl.col("payment_mode") == "single").height
    )
    assert policies.filter(pl.col("coverage_term_months") == "12").height > 0
    assert policies.filter(pl.col("coverage_term_months").cast(int, strict=False) < 12).height > 0
    assert 0.005 < (policies["is_group"] == "1").mean() < 0.1
    assert policies.filter(pl.col("coverage_no") != "0").height > 0.1 * policies.height
    fl = policies.filter(pl.col("free_look_end_date").is_not_null()).with_columns(
        (pl.col("free_look_end_date").str.to_date() - pl.col("effective_date").str.to_date()).alias("d")
    )
    assert (fl["d"] == timedelta(days=15)).mean() > 0.9
    ended = (policies["status"].is_in(["lapsed", "surrendered", "free_look_cancelled"])).mean()
    assert 0.02 < ended < 0.15
    customers = _latest(clean_frames["customers.csv"], ["holder_id"])
    assert customers.height == HOLDERS
    assert customers["holder_id"].str.contains(r"^H\d{8}$").all()
    assert customers["id_number"].str.contains(r"^\d{6}\d{8}\d{3}[\dX]$").all()
    assert (customers["id_number"].str.slice(2, 2) == "99").all()  # no real prefecture: never a real id
    usage = _latest(clean_frames["service_usage.csv"], ["usage_id"])
    assert 5 <= usage.height / HOLDERS <= 15
    assert set(usage["status"]) == set(contract.USAGE_STATUSES)
    assert set(usage["service_code"]) <= set(contract.service_codes())
    assert usage["service_code"].n_unique() >= 20  # proton_green and the like are rare
    assert usage.filter(pl.col("beneficiary_id").is_not_null()).height > 0


def _rated_tiers(frames: dict[str, pl.DataFrame], on: date) -> pl.Series:
    """Tier on ``on`` of every holder in the programme, by RULES §2/§4 in their plainest form (latest
    policy rows only; premium changes, top-ups and event history ignored)."""
    p = _latest(frames["policies.csv"], ["policy_no", "coverage_no"]).with_columns(
        pl.col("modal_premium").cast(pl.Float64),
        pl.col("payment_years").cast(pl.Int64),
        pl.col("coverage_term_months").cast(pl.Int64),
        pl.col("effective_date").str.to_date(),
        pl.col("free_look_end_date").str.to_date(),
    )
    installments = {"annual": 1, "semi_annual": 2, "quarterly": 4, "monthly": 12, "single": 1}
    one_year = pl.col("coverage_term_months") == 12
    single = pl.col("payment_mode") == "single"
    single_coef = (
        pl.when(pl.col("product_category").is_in(["endowment", "participating"]))
        .then(0.03)
        .when(pl.col("product_category") == "universal")
        .then(0.02)
        .otherwise(0.1)
    )
    annualised = pl.col("modal_premium") * pl.col("payment_mode").replace_strict(installments)
    p = p.with_columns(
        pl.coalesce(pl.col("free_look_end_date").dt.offset_by("1d"), pl.col("effective_date")).alias("start"),
        pl.when(pl.col("coverage_term_months").is_null())
        .then(pl.lit(date(9999, 1, 1)))
        .otherwise(pl.col("effective_date").dt.offset_by(pl.format("{}mo", pl.col("coverage_term_months"))))
        .alias("term_end"),
    ).with_columns(
        pl.when(one_year)
        .then(annualised)
        .when(single)
        .then(pl.col("modal_premium") * single_coef)
        .otherwise(annualised * pl.min_horizontal(pl.col("payment_years"), 10) / 10)
        .alias("rated"),
        pl.when(one_year)
        .then(pl.col("effective_date").dt.offset_by("1y"))
        .when(single)
        .then(pl.col("start").dt.offset_by("2y"))
        .otherwise(pl.col("effective_date").dt.offset_by(pl.format("{}y", pl.col("payment_years"))))
        .alias("until"),
    )
    live = (
        (pl.col("is_group") == "0")
        & (pl.col("coverage_term_months").is_null() | (pl.col("coverage_term_months") >= 12))
        & (pl.col("start") <= on)
        & (pl.col("term_end") > on)
    )
    holders = (
        p.group_by("holder_id")
        .agg(
            (live & pl.col("status").is_in(["in_force", "reduced_paid_up", "premium_waived"])).any().alias("member"),
            pl.when(live & (pl.col("status") == "in_force") & (pl.col("until") > on))
            .then(pl.col("rated"))
            .otherwise(0.0)
            .sum()
            .alias("rated"),
        )
        .filter("member")
    )
    thresholds = [30_000, 45_000, 150_000, 300_000, 500_000]
    tiers = ["family", "star1", "star2", "star3", "star4", "star5"]
    return holders["rated"].map_elements(lambda r: tiers[sum(r >= t for t in thresholds)], return_dtype=pl.String)


def test_tier_mix_is_plausible(clean_frames):
    tiers = _rated_tiers(clean_frames, END)
    members = len(tiers)
    share = {t: (tiers == t).sum() / members for t in ("family", "star1", "star2", "star3", "star4", "star5")}
    assert members > 0.6 * HOLDERS
    assert share["family"] + share["star1"] + share["star2"] > 0.95
    assert share["family"] > 0.7 and share["star1"] > 0.02 and share["star2"] > 0.03
    assert 0.004 < share["star3"] < 0.03
    assert 0.0005 < share["star4"] + share["star5"] < 0.015


def test_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError):
        generate_book(tmp_path, holders=0, seed=1)
    with pytest.raises(ValueError):
        generate_book(tmp_path, holders=10, seed=1, encoding="latin-1")
    with pytest.raises(ValueError):
        generate_book(tmp_path, holders=10, seed=1, start=date(2026, 11, 20), batches=10)


def test_gb18030_mapping_refuses_text_not_pre_encoded():
    from vipwh.generator.output import utf8_to_single_bytes

    assert utf8_to_single_bytes("a,é\n".encode()) == b"a,\xe9\n"
    with pytest.raises(ValueError):
        utf8_to_single_bytes("安心".encode())
