"""Write landing batches (CSV files + ``_manifest.json``) from rows: for hand-made books and tests."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path

from vipwh.contract import FILES_BY_NAME

Row = Mapping[str, object]


def csv_bytes(file_name: str, rows: Sequence[Row], encoding: str = "utf-8") -> bytes:
    """A contract CSV (header in contract order) of ``rows``; missing keys are empty fields."""
    columns = FILES_BY_NAME[file_name].column_names
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(col) is None else row.get(col) for col in columns])
    return buffer.getvalue().encode(encoding)


def write_batch(
    landing: Path,
    extract_date: date | str,
    files: Mapping[str, Sequence[Row] | bytes],
    encoding: str = "utf-8",
) -> Path:
    """Write one batch folder; ``files`` maps file names to rows (or ready-made bytes). Manifest last."""
    extract_date = date.fromisoformat(str(extract_date))
    folder = Path(landing) / extract_date.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    manifest_files = {}
    for name, content in files.items():
        data = content if isinstance(content, bytes) else csv_bytes(name, content, encoding)
        (folder / name).write_bytes(data)
        text = data.decode(encoding)
        rows = sum(1 for _ in csv.reader(io.StringIO(text))) - 1
        manifest_files[name] = {"rows": rows, "sha256": hashlib.sha256(data).hexdigest()}
    manifest = {"extract_date": extract_date.isoformat(), "encoding": encoding, "files": manifest_files}
    (folder / "_manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return folder
