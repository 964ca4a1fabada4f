"""Landing batches: discovery and manifest verification (CONTRACT.md §1).

A batch is a folder ``<landing>/<YYYY-MM-DD>/`` (a real date), complete only when its ``_manifest.json``
exists. Entries of the landing are judged by name first: anything else is ignored (and listed as such).
Verification is all-or-nothing: any file that disagrees with the manifest rejects the whole batch.
"""

from __future__ import annotations

import hashlib
import json
import re
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
    unknown_files: list[str] = field(default_factory=list)  # listed in the manifest, not contract files
    generated: bool = False  # the manifest carries the mark of `vipwh generate`
    files_known: bool = False  # the manifest could be read and lists its files

    @property
    def label(self) -> str:
        return self.folder.name


def _sha256(path: Path, chunk: int = 1 << 22) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


BATCH_NAME = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def batch_date(name: str) -> date | None:
    """The extract date a folder name stands for: ``YYYY-MM-DD`` and a real date, else None."""
    if not BATCH_NAME.match(name):
        return None
    try:
        return date.fromisoformat(name)
    except ValueError:
        return None


@dataclass
class Landing:
    """What a landing folder holds: complete batches, batch folders still waiting, and everything else."""

    batches: list[Batch] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)  # batch folders without a manifest yet
    ignored: list[str] = field(default_factory=list)  # entries whose name is not a batch name

    @property
    def manifests(self) -> list[Path]:
        return [b.folder / MANIFEST for b in self.batches]


def scan(landing: Path) -> Landing:
    """Judge every entry of ``landing`` by its name first: only ``YYYY-MM-DD`` folders are batches."""
    found = Landing()
    if not landing.exists():
        return found
    for entry in sorted(landing.iterdir(), key=lambda p: p.name):
        if entry.name.startswith(".") and entry.is_dir():
            continue  # hidden folders (editors, sync tools) are not part of the landing
        if not entry.is_dir() or batch_date(entry.name) is None:
            found.ignored.append(entry.name + ("/" if entry.is_dir() else ""))
        elif not (entry / MANIFEST).exists():
            found.waiting.append(entry.name)
        else:
            found.batches.append(read_manifest(entry))
    found.batches.sort(key=lambda b: (b.extract_date or date.min, b.label))
    return found


def discover(landing: Path) -> list[Batch]:
    """Complete batches under ``landing`` (batch-named folders with a manifest), oldest extract date first."""
    return scan(landing).batches


def folder_signature(batch: Batch) -> str:
    """The manifest's checksum and every file's name, size and modification time: what makes a verdict stale."""
    digest = hashlib.sha256(batch.manifest_sha256.encode())
    for path in sorted(batch.folder.iterdir(), key=lambda p: p.name):
        try:
            stat = path.stat()
        except OSError:
            continue
        digest.update(f"{path.name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def read_manifest(folder: Path) -> Batch:
    """Parse a batch's manifest; problems with the manifest itself are recorded, not raised.

    The extract date is the folder's name; the manifest's ``extract_date`` must agree with it.
    """
    batch = Batch(folder=folder, extract_date=batch_date(folder.name))
    path = folder / MANIFEST
    raw = path.read_bytes()
    batch.manifest_sha256 = hashlib.sha256(raw).hexdigest()
    try:
        manifest = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        batch.problems.append(f"{MANIFEST} is not valid JSON (not UTF-8 text: {exc.reason} at byte {exc.start})")
        return batch
    except json.JSONDecodeError as exc:
        batch.problems.append(f"{MANIFEST} is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})")
        return batch
    if not isinstance(manifest, dict):
        batch.problems.append(f"{MANIFEST} is not a JSON object")
        return batch
    batch.generated = manifest.get("generator") == "vipwh generate"
    missing = [name for name in ("extract_date", "files") if name not in manifest]
    if missing:
        batch.problems.append(f"{MANIFEST} lacks field(s) {', '.join(missing)}")
    if "extract_date" in manifest:
        text = str(manifest.get("extract_date"))
        try:
            declared = date.fromisoformat(text)
        except ValueError:
            declared = None
            batch.problems.append(f"{MANIFEST}: extract_date {manifest.get('extract_date')!r} is not a date")
        if declared is not None and declared.isoformat() != folder.name:
            batch.problems.append(f"{MANIFEST}: extract_date {declared} differs from the folder name {folder.name}")
    encoding = str(manifest.get("encoding", "utf-8")).strip().lower()
    encoding = _ENCODING_ALIASES.get(encoding, encoding)
    if encoding not in SUPPORTED_ENCODINGS:
        batch.problems.append(f"{MANIFEST}: encoding {encoding!r} is not one of {SUPPORTED_ENCODINGS}")
    batch.encoding = encoding
    files = manifest.get("files")
    if "files" in manifest and not isinstance(files, dict):
        batch.problems.append(f"{MANIFEST}: 'files' is not an object")
    if not isinstance(files, dict):
        return batch
    batch.files_known = True
    for name, spec in files.items():
        if name not in FILES_BY_NAME:
            batch.unknown_files.append(name)
            batch.problems.append(f"{name}: listed in {MANIFEST} but not an extract file of the contract")
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
    for path in sorted(batch.folder.glob("*.csv")) if batch.files_known else ():
        if path.name not in batch.files and path.name not in batch.unknown_files:
            problems.append(f"{path.name} is in the batch folder but not in its manifest")
    return problems
