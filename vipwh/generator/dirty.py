"""Rows that break the contract (CONTRACT §1), as a core system sometimes sends them.

A dirty row is a corrupted copy of a real row of the same file and batch, written after the clean rows:
the clean book stays whole, and a loader must quarantine the copy without letting it shadow the real row
(an invented row, pointing nowhere, gets a fresh key of its own). Which kind a row is is not recorded.
"""

from __future__ import annotations

import io

import numpy as np
import polars as pl

from vipwh.contract import SERVICE_CODE_COLUMNS, ExtractFile
from vipwh.generator.book import DIRTY_KEY_BASE, Plan, scramble
from vipwh.generator.output import csv_rows

KINDS = ("missing_key", "unknown_code", "bad_date", "bad_number", "negative", "dangling")
BAD_CODES = {
    "gender": ("X", "U"),
    "product_category": ("pet", "travel"),
    "payment_mode": ("weekly", "biweekly"),
    "status": ("active", "done", "pending"),
    "txn_type": ("refund", "transfer"),
    "relation": ("cousin", "friend"),
    "beneficiary_relation": ("cousin", "colleague"),
    "service_code": ("spa", "golf"),
    "is_group": ("2", "Y"),
}
BAD_DATES = ("2024-13-45", "20240101x", "2023-02-30", "31/12/2024")
BAD_NUMBERS = ("12,3a", "1.2.3", "abc", "7e")
# file -> (column pointing elsewhere, key column to replace by a fresh id, how to make that id)
DANGLING = {
    "policies.csv": ("holder_id", "policy_no"),
    "policy_transactions.csv": ("policy_no", "txn_id"),
    "relatives.csv": ("holder_id", "relative_id"),
    "service_activations.csv": ("holder_id", None),
    "service_usage.csv": ("holder_id", "usage_id"),
}


def kinds_for(extract: ExtractFile) -> list[str]:
    kinds = ["missing_key"]
    if any(c.codes or c.type == "flag" or (extract.name, c.name) in SERVICE_CODE_COLUMNS for c in extract.columns):
        kinds.append("unknown_code")
    if any(c.type == "date" for c in extract.columns):
        kinds.append("bad_date")
    if any(c.type in ("integer", "decimal") for c in extract.columns):
        kinds.append("bad_number")
    if any(c.type == "decimal" and c.non_negative for c in extract.columns):
        kinds.append("negative")
    if extract.name in DANGLING:
        kinds.append("dangling")
    return kinds


def _fresh(column: str, number: int, plan: Plan) -> str:
    if column == "holder_id":
        return f"H{plan.holders + 1 + number % 10_000_000:08d}"
    if column == "relative_id":
        return f"R{9_000_000_000 + number % 1_000_000_000:010d}"
    kind = {"policy_no": "policy", "txn_id": "txn", "usage_id": "usage"}[column]
    value = int(scramble(kind, np.array([DIRTY_KEY_BASE + number % 10**11]))[0])
    return f"{column[0].upper()}{value:012d}"


def dirty_rows(
    part: pl.DataFrame, extract: ExtractFile, count: int, rng: np.random.Generator, plan: Plan
) -> pl.DataFrame:
    """``count`` corrupted copies of random rows of ``part`` (a file's rows of one batch), as text."""
    picked = np.sort(rng.choice(part.height, size=count, replace=False))
    names = extract.column_names
    text = pl.read_csv(io.BytesIO(csv_rows(part[picked])), has_header=False, new_columns=names, infer_schema=False)
    rows = [list(r) for r in text.rows()]
    kinds = kinds_for(extract)
    required = [c.name for c in extract.columns if c.required]
    coded = [
        c.name for c in extract.columns if c.codes or c.type == "flag" or (extract.name, c.name) in SERVICE_CODE_COLUMNS
    ]
    dated = [c.name for c in extract.columns if c.type == "date"]
    numeric = [c.name for c in extract.columns if c.type in ("integer", "decimal")]
    money = [c.name for c in extract.columns if c.type == "decimal" and c.non_negative]
    for row in rows:
        kind = kinds[rng.integers(len(kinds))]
        if kind == "missing_key":
            pool = list(extract.key) if rng.random() < 0.6 else required
            row[names.index(pool[rng.integers(len(pool))])] = None
        elif kind == "unknown_code":
            name = coded[rng.integers(len(coded))]
            options = BAD_CODES[name]
            row[names.index(name)] = options[rng.integers(len(options))]
        elif kind == "bad_date":
            row[names.index(dated[rng.integers(len(dated))])] = BAD_DATES[rng.integers(len(BAD_DATES))]
        elif kind == "bad_number":
            row[names.index(numeric[rng.integers(len(numeric))])] = BAD_NUMBERS[rng.integers(len(BAD_NUMBERS))]
        elif kind == "negative":
            present = [name for name in money if row[names.index(name)] not in (None, "")]
            name = present[rng.integers(len(present))] if present else money[0]
            value = row[names.index(name)] or f"{rng.integers(100, 100_000)}.00"
            row[names.index(name)] = "-" + value
        else:  # dangling
            target, key = DANGLING[extract.name]
            number = int(rng.integers(0, 2**62))
            row[names.index(target)] = _fresh(target, number, plan)
            if key is not None:
                row[names.index(key)] = _fresh(key, number >> 7, plan)
    return pl.DataFrame(rows, schema={name: pl.String for name in names}, orient="row")
