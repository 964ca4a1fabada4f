"""National ID numbers: keyed hashing (HMAC-SHA-256), masking, and which key a landing is hashed with.

The clear ID never leaves Python: it is hashed here, in the ingest process, and only the hash is handed to
DuckDB (as data, never in SQL text). The key is the operator's (``VIPWH_ID_KEY`` / ``VIPWH_ID_KEY_FILE``);
there is no default key. A book written by ``vipwh generate`` carries ``"generator": "vipwh generate"`` in
every manifest; a landing whose every batch carries that mark may be built without a key, with the public
``DEMO_KEY`` (its IDs are synthetic). See docs/decisions.md, "National ID key".
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterable
from pathlib import Path

import polars as pl

GENERATOR_FIELD = "generator"
GENERATOR_MARK = "vipwh generate"
DEMO_KEY = b"vipwh-demo-book: synthetic IDs only, never a production key"

# 17 digits and a digit or X: the shape of a mainland resident ID (GB 11643-1999)
ID_SHAPE = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"


class MissingIdKey(RuntimeError):
    """The landing is not a generated demo book and no ID key is configured."""


def normalise(id_number: str) -> str:
    return id_number.strip().upper()


def hash_id(id_number: str | None, key: bytes) -> str | None:
    if id_number is None or not id_number.strip():
        return None
    return hmac.new(key, normalise(id_number).encode("utf-8"), hashlib.sha256).hexdigest()


def hash_series(values: pl.Series, key: bytes) -> pl.Series:
    """HMAC-SHA-256 (hex) of every value (trimmed, upper-cased); null stays null."""
    return pl.Series(values.name, [hash_id(v, key) for v in values.to_list()], dtype=pl.String)


def is_valid_id(text: str) -> bool:
    """An 18-character mainland ID whose ISO 7064 MOD 11-2 check character is right."""
    text = text.strip().upper()
    if len(text) != 18 or not text[:17].isdigit() or not (text[17].isdigit() or text[17] == "X"):
        return False
    total = sum(int(digit) * weight for digit, weight in zip(text[:17], _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11] == text[17]


def mask_ids(text: str | None) -> str | None:
    """``text`` with every ID-shaped run of characters replaced by ``[id masked]``."""
    if text is None:
        return None
    return ID_SHAPE.sub("[id masked]", text)


def fingerprint(key: bytes) -> str:
    """A short public name of a key (to tell keys apart in the ledger without revealing them)."""
    return hmac.new(key, b"vipwh id key fingerprint", hashlib.sha256).hexdigest()[:12]


def manifest_is_generated(manifest_path: Path) -> bool:
    try:
        manifest = json.loads(manifest_path.read_bytes().decode("utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    return isinstance(manifest, dict) and manifest.get(GENERATOR_FIELD) == GENERATOR_MARK


def is_demo_landing(manifests: Iterable[Path]) -> bool:
    """True when there is at least one manifest and every one carries the generator's mark."""
    manifests = list(manifests)
    return bool(manifests) and all(manifest_is_generated(path) for path in manifests)


def resolve_key(configured: bytes | None, manifests: Iterable[Path], landing: Path) -> bytes:
    """The key to hash with: the operator's; the demo key only for a generated book; else refuse."""
    if configured:
        return configured
    manifests = list(manifests)
    if is_demo_landing(manifests):
        return DEMO_KEY
    if not manifests:
        # nothing to hash: a build of an empty landing needs no key (it loads nothing)
        return DEMO_KEY
    raise MissingIdKey(
        f"landing {landing} is not a book written by `vipwh generate`, and no national-ID key is configured: "
        "set VIPWH_ID_KEY (the key) or VIPWH_ID_KEY_FILE (a file holding it); there is no default key "
        "(docs/decisions.md, 'National ID key')"
    )
