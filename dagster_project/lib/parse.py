"""Parse and validate one extract file with polars: explicit types, a quarantine reason per bad row.

Every value is read as text, trimmed, and typed by an explicit rule of the contract (``vipwh.contract``).
A row is loaded only when every rule holds; otherwise it is quarantined with every reason joined by
``; ``. Nothing is dropped: ``rows in file = rows loaded + rows quarantined`` by construction.
"""

from __future__ import annotations

import codecs
import csv
import tempfile
from collections.abc import Iterable
from pathlib import Path

import polars as pl

from vipwh.contract import SERVICE_CODE_COLUMNS, Column, ExtractFile

LINE = "_source_line"
REASON = "_reason"
TYPED = "__typed__"  # prefix of the typed twin of each column

_DECIMAL_PATTERN = r"^[+-]?\d+(\.\d{1,2})?$"
_INTEGER_PATTERN = r"^[+-]?\d+$"
_DATE_PATTERN = r"^\d{4}-\d{1,2}-\d{1,2}$"
_FLAG_VALUES = {"0": False, "1": True, "false": False, "true": True}


def _utf8_copy(path: Path, encoding: str, workdir: Path) -> Path:
    """Transcode a non-UTF-8 extract to UTF-8, streaming (flat memory)."""
    target = workdir / (path.name + ".utf8")
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    with path.open("rb") as src, target.open("w", encoding="utf-8", newline="") as dst:
        while block := src.read(1 << 22):
            dst.write(decoder.decode(block))
        dst.write(decoder.decode(b"", final=True))
    return target


def _read_strict(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, infer_schema=False, row_index_name=LINE, row_index_offset=2, raise_if_empty=False)


def _read_tolerant(path: Path) -> pl.DataFrame:
    """Slow path for files with ragged lines: every record kept, ragged ones marked."""
    header: list[str] = []
    records: list[list[str | None]] = []
    lines: list[int] = []
    ragged: list[str | None] = []
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, [])
        for record in reader:
            lines.append(reader.line_num)
            width = len(header)
            if len(record) != width:
                ragged.append(f"line has {len(record)} fields, header has {width}")
            else:
                ragged.append(None)
            padded = (record + [""] * width)[:width]
            records.append([value if value != "" else None for value in padded])
    data = {name: [rec[i] for rec in records] for i, name in enumerate(header)}
    frame = pl.DataFrame(data, schema={name: pl.String for name in header})
    return frame.with_columns(
        pl.Series(LINE, lines, dtype=pl.UInt32), pl.Series("_ragged", ragged, dtype=pl.String)
    ).select([LINE, *header, "_ragged"])


def read_extract(path: Path, extract: ExtractFile, encoding: str = "utf-8") -> pl.DataFrame:
    """Read an extract file as text columns plus its source line (header = line 1)."""
    with tempfile.TemporaryDirectory(prefix="vipwh-parse-") as tmp:
        source = path if encoding == "utf-8" else _utf8_copy(path, encoding, Path(tmp))
        try:
            frame = _read_strict(source)
        except pl.exceptions.ComputeError:
            frame = _read_tolerant(source)
    if "_ragged" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias("_ragged"))
    return frame


def _text(name: str) -> pl.Expr:
    stripped = pl.col(name).str.strip_chars()
    return pl.when(stripped == "").then(None).otherwise(stripped)


def _rules(column: Column, service_codes: Iterable[str], file_name: str) -> tuple[pl.Expr, list[pl.Expr]]:
    """The typed value of a column and the reasons (null when fine) it can give (text already trimmed)."""
    value = pl.col(column.name)
    present = value.is_not_null()
    reasons: list[pl.Expr] = []
    if column.required:
        reasons.append(pl.when(~present).then(pl.lit(f"missing {column.name}")))
    codes = column.codes
    if (file_name, column.name) in SERVICE_CODE_COLUMNS:
        codes = tuple(service_codes)
    shown = pl.lit("'") + value + pl.lit("'")
    if column.type == "varchar":
        typed = value
        if codes is not None:
            reasons.append(
                pl.when(present & ~value.is_in(list(codes)))
                .then(pl.lit(f"unknown {column.name} ") + shown)
            )
    elif column.type == "date":
        typed = pl.when(value.str.contains(_DATE_PATTERN)).then(value.str.to_date("%Y-%m-%d", strict=False))
        reasons.append(pl.when(present & typed.is_null()).then(pl.lit(f"unparsable date {column.name} ") + shown))
    elif column.type == "timestamp":
        typed = value.str.to_datetime(time_unit="us", strict=False)
        reasons.append(
            pl.when(present & typed.is_null()).then(pl.lit(f"unparsable timestamp {column.name} ") + shown)
        )
    elif column.type == "integer":
        typed = pl.when(value.str.contains(_INTEGER_PATTERN)).then(value.cast(pl.Int64, strict=False))
        reasons.append(pl.when(present & typed.is_null()).then(pl.lit(f"unparsable number {column.name} ") + shown))
    elif column.type == "decimal":
        typed = pl.when(value.str.contains(_DECIMAL_PATTERN)).then(value.str.to_decimal(scale=2))
        reasons.append(pl.when(present & typed.is_null()).then(pl.lit(f"unparsable number {column.name} ") + shown))
    elif column.type == "flag":
        typed = value.str.to_lowercase().replace_strict(_FLAG_VALUES, default=None, return_dtype=pl.Boolean)
        reasons.append(pl.when(present & typed.is_null()).then(pl.lit(f"unknown {column.name} ") + shown))
    else:  # pragma: no cover - the contract only uses the types above
        raise ValueError(f"unknown column type {column.type}")
    if column.non_negative and column.type in ("integer", "decimal"):
        label = "negative premium" if "premium" in column.name else f"negative {column.name}"
        reasons.append(pl.when(typed < 0).then(pl.lit(f"{label} ") + shown))
    return typed, reasons


def validate(frame: pl.DataFrame, extract: ExtractFile, service_codes: Iterable[str]) -> pl.DataFrame:
    """Add the typed twin of every contract column and ``_reason`` (null = loadable)."""
    missing_columns = [name for name in extract.column_names if name not in frame.columns]
    if missing_columns:
        # A file without a contract column cannot be typed row by row: the batch is rejected upstream.
        raise MissingColumnsError(extract.name, missing_columns)
    typed_exprs: list[pl.Expr] = []
    reason_exprs: list[pl.Expr] = [pl.col("_ragged")]
    codes = tuple(service_codes)
    for column in extract.columns:
        typed, reasons = _rules(column, codes, extract.name)
        typed_exprs.append(typed.alias(TYPED + column.name))
        reason_exprs.extend(reasons)
    reason = pl.concat_str(reason_exprs, separator="; ", ignore_nulls=True)
    # trim once, then type and judge lazily so shared subexpressions are computed once
    return (
        frame.lazy()
        .with_columns([_text(name).alias(name) for name in extract.column_names])
        .with_columns(typed_exprs)
        .with_columns(pl.when(reason == "").then(None).otherwise(reason).alias(REASON))
        .collect()
    )


class MissingColumnsError(ValueError):
    def __init__(self, file_name: str, columns: list[str]):
        self.file_name = file_name
        self.columns = columns
        super().__init__(f"{file_name} lacks contract column(s) {', '.join(columns)}")
