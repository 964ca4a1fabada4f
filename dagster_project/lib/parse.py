"""Parse and validate one extract file with polars: explicit types, a quarantine reason per bad row.

Every value is read as text, trimmed, and typed by an explicit rule of the contract (``vipwh.contract``).
A row is loaded only when every rule holds; otherwise it is quarantined with every reason joined by
``; ``. Nothing is dropped: ``rows in file = rows loaded + rows quarantined`` by construction.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import polars as pl

from vipwh.contract import SERVICE_CODE_COLUMNS, Column, ExtractFile

LINE = "_source_line"
REASON = "_reason"
TYPED = "__typed__"  # prefix of the typed twin of each column
RAGGED_FIELDS = "_ragged_fields"  # a ragged record's fields, as JSON

# DECIMAL(18,2): at most 16 digits before the point (|x| < 10^16), at most 2 after it
_NUMBER_PATTERN = r"^[+-]?(\d+(\.\d*)?|\.\d+)$"
_DECIMAL_PATTERN = r"^[+-]?0*\d{1,16}(\.\d{1,2})?$"
_DECIMAL_SCALE_PATTERN = r"^[+-]?\d*(\.\d{0,2})?$"
_INTEGER_PATTERN = r"^[+-]?\d+$"
_INTEGER_MIN, _INTEGER_MAX = -(2**31), 2**31 - 1  # INTEGER
_DATE_PATTERN = r"^\d{4}-\d{1,2}-\d{1,2}$"
_TIMESTAMP_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
)
_TIMESTAMP_PATTERN = r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?$"
_FLAG_VALUES = {"0": False, "1": True, "false": False, "true": True}
RAGGED = "_ragged"
# records parsed and loaded at a time: a 500 000-row block of the widest extract (service usage) is about
# 0.3 GiB in polars, typed twins included (docs/benchmarks.md, "Ingestion in blocks")
CHUNK_ROWS = 500_000
_BLOCK_BYTES = 1 << 24  # read size while looking for a block's end


class UndecodableError(ValueError):
    """A file holds bytes its encoding cannot decode; the message names the line."""


def _check_decodes(path: Path, encoding: str, target: Path | None) -> None:
    """Decode ``path`` as ``encoding`` (streaming, flat memory), writing UTF-8 to ``target`` when given.

    Raises ``UndecodableError`` naming the line (header = line 1) of the first undecodable bytes.
    """
    codec = "utf-8-sig" if encoding == "utf-8" else encoding
    decoder = codecs.getincrementaldecoder(codec)(errors="strict")
    lines_before = 0
    dst = target.open("w", encoding="utf-8", newline="") if target is not None else None
    try:
        with path.open("rb") as src:
            while True:
                block = src.read(1 << 22)
                final = not block
                held = decoder.getstate()[0]
                try:
                    text = decoder.decode(block, final=final)
                except UnicodeDecodeError as exc:
                    data = exc.object if isinstance(exc.object, bytes) else held + block
                    line = lines_before - held.count(b"\n") + data[: max(exc.start, 0)].count(b"\n") + 1
                    raise UndecodableError(
                        f"{path.name} line {line}: bytes {data[exc.start : exc.end][:8].hex(' ')} cannot be decoded "
                        f"as {encoding}"
                    ) from exc
                lines_before += block.count(b"\n")
                if dst is not None:
                    dst.write(text)
                if final:
                    break
    finally:
        if dst is not None:
            dst.close()


_NEWLINE, _CR, _QUOTE, _COMMA = 10, 13, 34, 44
# a record read by the csv module that the bytes read so far may not end is carried to the next read up to this size;
# past it (a quote that never closes), the csv module reads the whole file
_CARRY_BYTES_MAX = 1 << 26


def _field_counts_agree(path: Path) -> bool:
    """Whether every record of the (UTF-8) file has as many fields as its header, as the csv module reads it.

    The same answer as the csv module (``_field_counts_agree_csv``) at numpy's speed: a line without a quote is one
    record, of as many fields as it has commas plus one (none when blank); a line with a quote starts a record the
    csv module reads, which may span lines. A carriage return not ending a line, or a NUL byte, leaves the whole
    file to the csv module. At 1M holders the csv module took 17 s of the first batch's 1.4 GiB (docs/benchmarks.md).
    """
    with path.open("rb") as src:
        header = src.readline().removeprefix(codecs.BOM_UTF8)
        if not header:
            return True
        content = header.removesuffix(b"\n").removesuffix(b"\r")
        if not content or any(byte in content for byte in (b'"', b"\r", b"\x00")):
            return _field_counts_agree_csv(path)
        width = content.count(b",") + 1
        carry = b""
        while True:
            data = src.read(_BLOCK_BYTES)
            final = not data
            buffer = carry + data
            cut = len(buffer) if final else buffer.rfind(b"\n") + 1
            verdict, carry = _lines_agree(buffer[:cut], width, final)
            carry += buffer[cut:]
            if verdict is None or len(carry) > _CARRY_BYTES_MAX:
                return _field_counts_agree_csv(path)
            if not verdict:
                return False
            if final:
                return True


def _lines_agree(chunk: bytes, width: int, final: bool) -> tuple[bool | None, bytes]:
    """Whether the records of ``chunk`` (whole lines; all of the file's rest when ``final``) have ``width`` fields.

    Returns the verdict (None: for the csv module to decide) and the chunk's tail from a record the csv module read
    to its last line, which more bytes may continue (read again with them).
    """
    if not chunk:
        return True, b""
    if b"\x00" in chunk:
        return None, b""
    arr = np.frombuffer(chunk, dtype=np.uint8)
    newlines = np.flatnonzero(arr == _NEWLINE)
    returns = np.flatnonzero(arr == _CR)
    if len(returns) and (returns[-1] + 1 >= len(arr) or (arr[returns + 1] != _NEWLINE).any()):
        return None, b""  # the csv module ends a record at a lone carriage return
    ends = newlines if chunk.endswith(b"\n") else np.append(newlines, len(arr))
    starts = np.concatenate(([0], newlines + 1))[: len(ends)]
    # per line, from the positions (numpy's reduceat over the bytes took five times as long)
    line_bounds = np.append(starts, len(arr))
    commas = np.diff(np.searchsorted(np.flatnonzero(arr == _COMMA), line_bounds))
    quotes = np.diff(np.searchsorted(np.flatnonzero(arr == _QUOTE), line_bounds))
    lengths = ends - starts
    blank = (lengths == 0) | ((lengths == 1) & (arr[np.minimum(starts, len(arr) - 1)] == _CR))
    plain_wrong = blank | (commas != width - 1)
    quoted_lines = np.flatnonzero(quotes)
    if not len(quoted_lines):
        return not plain_wrong.any(), b""
    bounds = [*starts.tolist(), len(chunk)]
    lines = len(starts)
    position = 0  # the first line not judged yet
    while (next_quoted := int(np.searchsorted(quoted_lines, position))) < len(quoted_lines):
        first = int(quoted_lines[next_quoted])
        if plain_wrong[position:first].any():
            return False, b""
        # the csv module reads records from there for as long as the next one starts on a line with a quote
        reader = csv.reader(chunk[bounds[line] : bounds[line + 1]].decode("utf-8") for line in range(first, lines))
        while True:
            record_start = first + reader.line_num
            record = next(reader)
            position = first + reader.line_num
            if position >= lines and not final:
                return True, chunk[bounds[record_start] :]  # it may go on in the bytes not read yet
            if len(record) != width:
                return False, b""
            if position >= lines or not quotes[position]:
                break
    return not plain_wrong[position:].any(), b""


def _field_counts_agree_csv(path: Path) -> bool:
    """Whether every record of the (UTF-8) file has as many fields as its header (csv module, C speed)."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None:
            return True
        width = len(header)
        return all(len(record) == width for record in reader)


def _record_blocks(path: Path, chunk_rows: int) -> Iterator[bytes]:
    """Blocks of whole records, each after the file's header line: a block is cut once ``chunk_rows`` lines are
    read, after the last record they end.

    A newline ends a record when the quotes before it are even in number: a quote opens or closes a field,
    and a quote inside a quoted field is doubled (RFC 4180), so a newline inside a quoted field always
    follows an odd number. Each block starts where a record starts. One block is held at a time, copied once
    (the lines counted as they are read: counting the whole block again at each read, and copying it three
    times, took 3.5 s of the 1M book's 0.8 GiB usage file).
    """
    with path.open("rb") as src:
        header = src.readline()
        pending = bytearray()
        lines = 0
        while True:
            data = src.read(_BLOCK_BYTES)
            if not data:
                if pending:
                    yield b"".join((header, pending))
                return
            pending += data
            lines += data.count(b"\n")
            if lines < chunk_rows:
                continue
            end = _last_record_end(pending)
            if end == 0:  # one quoted field spans the whole block: read on
                continue
            with memoryview(pending) as view:
                yield b"".join((header, view[:end]))
            del pending[:end]
            lines = pending.count(b"\n")


def _last_record_end(block: bytearray) -> int:
    """The position just after the last newline of ``block`` that ends a record (0 when none does)."""
    end = len(block)
    while (newline := block.rfind(b"\n", 0, end)) >= 0:
        if block.count(b'"', 0, newline) % 2 == 0:
            return newline + 1
        end = newline
    return 0


def _read_strict(path: Path, chunk_rows: int) -> Iterator[pl.DataFrame]:
    offset = 2  # the header is line 1
    for block in _record_blocks(path, chunk_rows):
        frame = pl.read_csv(
            io.BytesIO(block),
            infer_schema=False,
            row_index_name=LINE,
            row_index_offset=offset,
            raise_if_empty=False,
        )
        offset += frame.height
        yield frame


def _read_tolerant(path: Path, chunk_rows: int) -> Iterator[pl.DataFrame]:
    """Slow path for files with ragged lines: every record kept, ragged ones marked and never typed."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, [])
        width = len(header)
        while True:
            records: list[list[str | None]] = []
            lines: list[int] = []
            ragged: list[str | None] = []
            raw: list[str | None] = []
            for record in reader:
                lines.append(reader.line_num)
                if len(record) != width:
                    # fields may have shifted: none of them is typed or loaded, the record is kept whole
                    ragged.append(f"line {reader.line_num} has {len(record)} fields, header has {width}")
                    raw.append(json.dumps(record, ensure_ascii=False))
                    records.append([None] * width)
                else:
                    ragged.append(None)
                    raw.append(None)
                    records.append([value if value != "" else None for value in record])
                if len(records) == chunk_rows:
                    break
            data = {name: [rec[i] for rec in records] for i, name in enumerate(header)}
            frame = pl.DataFrame(data, schema={name: pl.String for name in header})
            yield frame.with_columns(
                pl.Series(LINE, lines, dtype=pl.UInt32),
                pl.Series(RAGGED, ragged, dtype=pl.String),
                pl.Series(RAGGED_FIELDS, raw, dtype=pl.String),
            ).select([LINE, *header, RAGGED, RAGGED_FIELDS])
            if len(records) < chunk_rows:
                return


def read_extract_chunks(
    path: Path, extract: ExtractFile, encoding: str = "utf-8", chunk_rows: int | None = None
) -> Iterator[pl.DataFrame]:
    """Read an extract file as text columns plus its source line (header = line 1), ``chunk_rows`` records
    at a time (so memory does not grow with the file); at least one frame, even for a header alone.

    Bytes that do not decode reject the file (``UndecodableError``, naming the line) before any frame; a
    record with more or fewer fields than the header is kept as a ragged row (``_ragged`` holds the reason),
    never shifted.
    """
    chunk_rows = chunk_rows or CHUNK_ROWS
    with tempfile.TemporaryDirectory(prefix="vipwh-parse-") as tmp:
        if encoding == "utf-8":
            _check_decodes(path, encoding, None)
            source = path
        else:
            source = Path(tmp) / (path.name + ".utf8")
            _check_decodes(path, encoding, source)
        frames = _read_strict(source, chunk_rows) if _field_counts_agree(source) else _read_tolerant(source, chunk_rows)
        produced = False
        for frame in frames:
            produced = True
            yield _with_ragged_columns(frame)
        if not produced:  # a header alone (or an empty file): the columns, no rows
            yield _with_ragged_columns(
                pl.read_csv(source, infer_schema=False, row_index_name=LINE, row_index_offset=2, raise_if_empty=False)
            )


def _with_ragged_columns(frame: pl.DataFrame) -> pl.DataFrame:
    if RAGGED in frame.columns:
        return frame
    return frame.with_columns(
        pl.lit(None, dtype=pl.String).alias(RAGGED), pl.lit(None, dtype=pl.String).alias(RAGGED_FIELDS)
    )


def read_extract(path: Path, extract: ExtractFile, encoding: str = "utf-8") -> pl.DataFrame:
    """The whole file as one frame (``read_extract_chunks``, concatenated): for tests and small files."""
    return pl.concat(list(read_extract_chunks(path, extract, encoding)), how="vertical")


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
            reasons.append(pl.when(present & ~value.is_in(list(codes))).then(pl.lit(f"unknown {column.name} ") + shown))
    elif column.type == "date":
        typed = pl.when(value.str.contains(_DATE_PATTERN)).then(value.str.to_date("%Y-%m-%d", strict=False))
        reasons.append(pl.when(present & typed.is_null()).then(pl.lit(f"unparsable date {column.name} ") + shown))
    elif column.type == "timestamp":
        shaped = value.str.contains(_TIMESTAMP_PATTERN)
        parsed = pl.coalesce(
            [value.str.strptime(pl.Datetime("us"), fmt, strict=False, exact=True) for fmt in _TIMESTAMP_FORMATS]
        )
        typed = pl.when(shaped).then(parsed)
        reasons.append(pl.when(present & typed.is_null()).then(pl.lit(f"unparsable timestamp {column.name} ") + shown))
    elif column.type == "integer":
        shaped = value.str.contains(_INTEGER_PATTERN)
        wide = pl.when(shaped).then(value.str.strip_chars_start("+").cast(pl.Int64, strict=False))
        in_range = shaped & wide.is_not_null() & wide.is_between(_INTEGER_MIN, _INTEGER_MAX)
        typed = pl.when(in_range).then(wide.cast(pl.Int32, strict=False))
        reasons.append(pl.when(present & ~shaped).then(pl.lit(f"unparsable number {column.name} ") + shown))
        reasons.append(
            pl.when(present & shaped & ~in_range).then(
                pl.lit(f"out of range {column.name} ") + shown + pl.lit(" (INTEGER)")
            )
        )
    elif column.type == "decimal":
        shaped = value.str.contains(_NUMBER_PATTERN)
        fits = value.str.contains(_DECIMAL_PATTERN)
        scale_ok = value.str.contains(_DECIMAL_SCALE_PATTERN)
        typed = pl.when(fits).then(value.str.strip_chars_start("+").str.to_decimal(scale=2))
        reasons.append(pl.when(present & ~shaped).then(pl.lit(f"unparsable number {column.name} ") + shown))
        reasons.append(
            pl.when(present & shaped & ~scale_ok).then(pl.lit(f"more than 2 decimals in {column.name} ") + shown)
        )
        reasons.append(
            pl.when(present & shaped & scale_ok & ~fits).then(
                pl.lit(f"out of range {column.name} ") + shown + pl.lit(" (DECIMAL(18,2): |x| < 10^16)")
            )
        )
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
    reason_exprs: list[pl.Expr] = []
    codes = tuple(service_codes)
    for column in extract.columns:
        typed, reasons = _rules(column, codes, extract.name)
        typed_exprs.append(typed.alias(TYPED + column.name))
        reason_exprs.extend(reasons)
    judged = pl.concat_str(reason_exprs, separator="; ", ignore_nulls=True)
    # a ragged record is judged by its shape alone: its fields are not where the header says
    reason = pl.when(pl.col(RAGGED).is_not_null()).then(pl.col(RAGGED)).otherwise(judged)
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
