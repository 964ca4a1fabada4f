"""Bytes of an extract file: CSV rows as the core system writes them, in UTF-8 or GB18030."""

from __future__ import annotations

import io

import numpy as np
import polars as pl

TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"


def header(columns: list[str]) -> bytes:
    return (",".join(columns) + "\n").encode("ascii")


def csv_rows(frame: pl.DataFrame) -> bytes:
    """Data rows without header: dates ISO, timestamps to the second, nulls empty, LF line ends."""
    buffer = io.BytesIO()
    frame.write_csv(buffer, include_header=False, datetime_format=TIMESTAMP_FORMAT, null_value="")
    return buffer.getvalue()


def utf8_to_single_bytes(data: bytes) -> bytes:
    """Map each character U+0000..U+00FF of UTF-8 ``data`` to the byte of the same value.

    Text literals destined for a GB18030 file are held as their GB18030 bytes read as Latin-1
    (``Plan.text``), so after this mapping the file is GB18030, at numpy speed instead of a text codec's.
    """
    if data.isascii():
        return data
    raw = np.frombuffer(data, dtype=np.uint8)
    lead = np.flatnonzero(raw >= 0xC2)
    if len(lead) and raw[lead].max() > 0xC3:
        raise ValueError("text outside U+0000..U+00FF reached a GB18030 extract without being pre-encoded")
    out = raw.copy()
    out[lead + 1] += ((raw[lead] - 0xC2) * 0x40).astype(np.uint8)
    keep = np.ones(len(raw), dtype=bool)
    keep[lead] = False
    return out[keep].tobytes()
