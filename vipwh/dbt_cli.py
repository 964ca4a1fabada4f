"""dbt's command line, with the last build's parse reused by a build of another warehouse (``vipwh-dbt``).

dbt parses the whole project again when the profile's connection differs from the one its saved parse
(``partial_parse.msgpack``) was made with: it hashes every connection key, and for DuckDB those include the
warehouse file's path and the connection's options (dbt's own comment there: "This should be made more
granular"). Parsing reads neither: the path is opened and the options (memory limit, threads, spill directory,
vacuum) are set only when dbt connects. What the parse does take from the connection, the database name written
into every relation (the file's stem) and the schema, stays in the hash with every other key. So a build of a
warehouse named like the last one (``warehouse.duckdb`` in another folder, or with other limits) starts from the
last build's parse instead of parsing about 3 s (docs/benchmarks.md); another name, target or engine parses whole.
"""

from __future__ import annotations

import pprint
import sys

# the DuckDB connection keys that parsing never reads
PARSE_FREE_KEYS = frozenset({"path", "config_options"})


def _profile_hash(credentials):
    """dbt's hash of the connection (``ManifestLoader.build_manifest_state_check``), without ``PARSE_FREE_KEYS``."""
    from dbt.contracts.files import FileHash

    keys = sorted(
        ((key, value) for key, value in credentials.connection_info() if key not in PARSE_FREE_KEYS),
        key=lambda item: item[0],
    )
    return FileHash.from_contents(pprint.pformat(keys))


def _reuse_parse_across_warehouses() -> None:
    """Patch dbt's state check; where this dbt has none such, or it fails, dbt's own stands (a whole parse)."""
    from dbt.parser.manifest import ManifestLoader

    state_check = getattr(ManifestLoader, "build_manifest_state_check", None)
    if state_check is None:
        return

    def without_parse_free_keys(loader):
        check = state_check(loader)
        try:
            credentials = loader.root_project.credentials
            if credentials.type == "duckdb":
                check.profile_hash = _profile_hash(credentials)
        except Exception:  # noqa: BLE001 - another dbt's internals: its own hash is kept
            pass
        return check

    ManifestLoader.build_manifest_state_check = without_parse_free_keys


def main() -> None:
    _reuse_parse_across_warehouses()
    from dbt.cli.main import cli

    sys.exit(cli())


if __name__ == "__main__":
    main()
