"""Bytes of an extract file: CSV rows as the core system writes them, in UTF-8 or GB18030."""

from __future__ import annotations

import io

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
    (``Plan.text``), so after this mapping the file is GB18030; a Latin-1 round trip runs at memory speed,
    where encoding the text to GB18030 would take a codec pass over every character.
    """
    if data.isascii():
        return data
    try:
        return data.decode("utf-8").encode("latin-1")
    except UnicodeEncodeError as exc:
        raise ValueError("text beyond U+00FF reached a GB18030 extract without being pre-encoded") from exc
