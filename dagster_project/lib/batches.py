"""Landing batches: discovery and manifest verification (CONTRACT.md §1).

A batch is a folder ``<landing>/<YYYY-MM-DD>/``, complete only when its ``_manifest.json`` exists.
Verification is all-or-nothing: any file that disagrees with the manifest rejects the whole batch.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from vipwh.contract import FILES_BY_NAME

MANIFEST = "_manifest.json"
SUPPORTED_ENCODINGS = ("utf-8", "gb18030")
_ENCODING_ALIASES = {"utf8": "utf-8", "utf-8-sig": "utf-8", "gbk": "gb18030", "gb2312": "gb18030"}


@dataclass(frozen=True)
class ManifestFile:
    name: str
    rows: int
    sha256: str


@dataclass
class Batch:
    """One landing batch folder and what its manifest says."""

    folder: Path
    extract_date: date | None = None
    encoding: str = "utf-8"
    files: dict[str, ManifestFile] = field(default_factory=dict)
    manifest_sha256: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.folder.name


def _sha256(path: Path, chunk: int = 1 << 22) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def discover(landing: Path) -> list[Batch]:
    """Complete batches under ``landing`` (folders with a manifest), oldest extract date first."""
    if not landing.exists():
        return []
    batches = [read_manifest(folder) for folder in sorted(landing.iterdir())
               if folder.is_dir() and (folder / MANIFEST).exists()]
    return sorted(batches, key=lambda b: (b.extract_date or date.min, b.label))


def read_manifest(folder: Path) -> Batch:
    """Parse a batch's manifest; problems with the manifest itself are recorded, not raised."""
    batch = Batch(folder=folder)
    path = folder / MANIFEST
    raw = path.read_bytes()
    batch.manifest_sha256 = hashlib.sha256(raw).hexdigest()
    try:
        manifest = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        batch.problems.append(f"{MANIFEST} is not valid JSON ({exc})")
        return batch
    try:
        batch.extract_date = date.fromisoformat(str(manifest.get("extract_date", "")))
    except ValueError:
        batch.problems.append(f"{MANIFEST}: extract_date {manifest.get('extract_date')!r} is not a date")
    if batch.extract_date and batch.extract_date.isoformat() != folder.name:
        batch.problems.append(
            f"{MANIFEST}: extract_date {batch.extract_date} differs from the folder name {folder.name}"
        )
    encoding = str(manifest.get("encoding", "utf-8")).strip().lower()
    encoding = _ENCODING_ALIASES.get(encoding, encoding)
    if encoding not in SUPPORTED_ENCODINGS:
        batch.problems.append(f"{MANIFEST}: encoding {encoding!r} is not one of {SUPPORTED_ENCODINGS}")
    batch.encoding = encoding
    files = manifest.get("files")
    if not isinstance(files, dict):
        batch.problems.append(f"{MANIFEST}: 'files' is missing or not an object")
        return batch
    for name, spec in files.items():
        if name not in FILES_BY_NAME:
            batch.problems.append(f"{MANIFEST} lists {name}, which is not an extract file of the contract")
            continue
        try:
            batch.files[name] = ManifestFile(name, int(spec["rows"]), str(spec["sha256"]).lower())
        except (KeyError, TypeError, ValueError):
            batch.problems.append(f"{MANIFEST}: entry for {name} needs integer 'rows' and 'sha256'")
    return batch


def verify(batch: Batch) -> list[str]:
    """Every reason to reject the batch whole: manifest problems, missing or unlisted files, checksums.

    Row counts are verified when each file is parsed (they need the CSV parser); see ``ingest``.
    """
    problems = list(batch.problems)
    for name, spec in batch.files.items():
        path = batch.folder / name
        if not path.exists():
            problems.append(f"{name} is listed in the manifest but missing from the batch")
            continue
        actual = _sha256(path)
        if actual != spec.sha256:
            problems.append(f"{name}: sha256 is {actual}, manifest says {spec.sha256}")
    for path in sorted(batch.folder.glob("*.csv")):
        if path.name not in batch.files:
            problems.append(f"{path.name} is in the batch folder but not in its manifest")
    return problems
