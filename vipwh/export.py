"""Excel export of a query result (`vipwh sql … --xlsx FILE`): one sheet, a header row, typed cells.

Dates and timestamps are Excel dates (shown yyyy-mm-dd / yyyy-mm-dd hh:mm:ss), money and other numbers stay
numbers (decimals with their scale as the display format), text keeps its Chinese as is.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import polars as pl

DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"


def _number_format(dtype: pl.DataType) -> str | None:
    if dtype == pl.Date:
        return DATE_FORMAT
    if isinstance(dtype, pl.Datetime):
        return DATETIME_FORMAT
    if isinstance(dtype, pl.Decimal):
        scale = dtype.scale or 0
        return "#,##0" + ("." + "0" * scale if scale else "")
    if dtype.is_float():
        return "#,##0.00####"
    if dtype.is_integer():
        return "0"
    return None


def _cell_value(value: object) -> object:
    if isinstance(value, Decimal | int | float | date | datetime | str | bool) or value is None:
        return value
    return str(value)  # lists, structs, times: their text


def write_xlsx(frame: pl.DataFrame, path: Path, sheet: str = "result") -> Path:
    """Write ``frame`` to an .xlsx workbook at ``path`` (replaced if present) and return the path."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    worksheet = workbook.active
    worksheet.title = sheet
    worksheet.append(frame.columns)
    for cell in worksheet[1]:
        cell.font = Font(bold=True)
    formats = [_number_format(dtype) for dtype in frame.dtypes]
    for row in frame.iter_rows():
        worksheet.append([_cell_value(value) for value in row])
    for index, (name, number_format) in enumerate(zip(frame.columns, formats, strict=True), start=1):
        letter = get_column_letter(index)
        if number_format:
            for (cell,) in worksheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = number_format
        width = max([len(str(name)) * 2, *(len(str(value)) for value in frame.get_column(name).head(200))], default=8)
        worksheet.column_dimensions[letter].width = min(max(width + 2, 10), 60)
    worksheet.freeze_panes = "A2"
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path
