"""The settings of a build: one resource, and the only code that reads the environment.

Every field may be given as run configuration (``vipwh build`` does, from its options); a field left empty
falls back to its ``VIPWH_*`` environment variable, then to its default, when the run resolves it. So
``VIPWH_LANDING=… VIPWH_WAREHOUSE=… dagster job execute -m dagster_project.definitions -j vipwh_build``, a
run launched from ``dagster dev``, the schedule and the sensor all build what ``vipwh build`` builds.

Relative paths are resolved against the directory the command was started from, once, here; every other
part of the build (dbt included) receives absolute paths.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import dagster as dg

DUCKDB = "duckdb"
SPARK = "spark"
ENGINES = (DUCKDB, SPARK)
# On Spark, --warehouse is Spark's warehouse directory and this DuckDB file inside it holds ingestion's raw
# tables, the quality results and the views over Spark's Parquet.
CONTROL_FILE = "warehouse.duckdb"

DEFAULT_LANDING = "data/landing"
DEFAULT_WAREHOUSE = "data/warehouse.duckdb"
DEFAULT_QUARANTINE_RATE_MAX = 0.01
# A rate is judged only from this many quarantined rows of a file up: one bad row in a small daily delta
# (1 of 87 rows is 1.1 %) is noise, not a broken extract.
DEFAULT_QUARANTINE_MIN_ROWS = 5

# field -> (environment variable, default)
ENVIRONMENT: dict[str, tuple[str, str]] = {
    "landing": ("VIPWH_LANDING", DEFAULT_LANDING),
    "warehouse": ("VIPWH_WAREHOUSE", DEFAULT_WAREHOUSE),
    "as_of": ("VIPWH_AS_OF", ""),
    # compute everything even when the inputs equal those of the published snapshot (lib/inputs.py)
    "full_refresh": ("VIPWH_FULL_REFRESH", ""),
    "engine": ("VIPWH_ENGINE", DUCKDB),
    "id_key": ("VIPWH_ID_KEY", ""),
    "id_key_file": ("VIPWH_ID_KEY_FILE", ""),
    "quarantine_rate_max": ("VIPWH_QUARANTINE_RATE_MAX", str(DEFAULT_QUARANTINE_RATE_MAX)),
    "quarantine_min_rows": ("VIPWH_QUARANTINE_MIN_ROWS", str(DEFAULT_QUARANTINE_MIN_ROWS)),
    # DuckDB's limits, for every connection of the build (dbt's included): the limit bounds DuckDB's buffer
    # pool, and dbt's process ran about 1.5 GiB over it at 10 M holders, so 50 % of the machine's memory kept
    # that build at 13.2 GiB of this 24 GiB machine (docs/decisions.md); spilled data goes beside the
    # warehouse (<warehouse>.tmp/)
    "duckdb_memory_limit": ("VIPWH_DUCKDB_MEMORY_LIMIT", "50%"),
    "duckdb_threads": ("VIPWH_DUCKDB_THREADS", str(os.cpu_count() or 2)),
    "duckdb_temp_directory": ("VIPWH_DUCKDB_TEMP_DIRECTORY", ""),
    "spark_target": ("VIPWH_SPARK_TARGET", SPARK),
    "spark_master": ("VIPWH_SPARK_MASTER", "local[2]"),
    "spark_driver_memory": ("VIPWH_SPARK_DRIVER_MEMORY", "4g"),
    "spark_shuffle_partitions": ("VIPWH_SPARK_SHUFFLE_PARTITIONS", "4"),
    "spark_threads": ("VIPWH_SPARK_THREADS", "1"),
}


def environment_value(field: str, environ: Mapping[str, str] | None = None) -> str:
    """A setting's value from the environment (or its default) — for callers outside a Dagster run."""
    variable, default = ENVIRONMENT[field]
    return (environ if environ is not None else os.environ).get(variable, "").strip() or default


def java_home() -> str:
    """JAVA_HOME, for the Spark engine's preflight check (empty when unset)."""
    return os.environ.get("JAVA_HOME", "")


class SettingsError(ValueError):
    """A setting has a value the build cannot use (message names the setting)."""


class Settings(dg.ConfigurableResource):
    """Where the build reads and writes, the valuation date, the engine, the ID key and Spark's options.

    Empty fields fall back to the environment variable named in ``ENVIRONMENT`` (``VIPWH_…``), then to its
    default. Values are strings so that run configuration and environment look alike.
    """

    landing: str = ""
    warehouse: str = ""
    as_of: str = ""
    full_refresh: str = ""
    engine: str = ""
    id_key: str = ""
    id_key_file: str = ""
    quarantine_rate_max: str = ""
    quarantine_min_rows: str = ""
    duckdb_memory_limit: str = ""
    duckdb_threads: str = ""
    duckdb_temp_directory: str = ""
    spark_target: str = ""
    spark_master: str = ""
    spark_driver_memory: str = ""
    spark_shuffle_partitions: str = ""
    spark_threads: str = ""

    def value(self, field: str) -> str:
        given = str(getattr(self, field) or "").strip()
        return given or environment_value(field)

    # --- paths -------------------------------------------------------------------------------------------

    def landing_dir(self) -> Path:
        return Path(self.value("landing")).resolve()

    def warehouse_target(self) -> Path:
        """What the user named: the DuckDB file (DuckDB) or Spark's warehouse directory (Spark)."""
        return Path(self.value("warehouse")).resolve()

    def warehouse_file(self) -> Path:
        """The DuckDB file the build writes: the warehouse itself, or the Spark directory's control file."""
        target = self.warehouse_target()
        return target / CONTROL_FILE if self.engine_name() == SPARK else target

    def spark_warehouse(self) -> Path:
        if self.engine_name() != SPARK:
            raise SettingsError("spark_warehouse is only defined on the Spark engine")
        return self.warehouse_target()

    def logs_dir(self) -> Path:
        return self.warehouse_file().parent / "logs"

    # --- values ------------------------------------------------------------------------------------------

    def engine_name(self) -> str:
        engine = self.value("engine")
        if engine not in ENGINES:
            raise SettingsError(f"engine {engine!r}: the engine is one of {', '.join(ENGINES)}")
        return engine

    def as_of_date(self) -> date | None:
        text = self.value("as_of")
        if not text:
            return None
        try:
            return date.fromisoformat(text)
        except ValueError as exc:
            raise SettingsError(f"as_of {text!r} is not a date (YYYY-MM-DD)") from exc

    def full_refresh_asked(self) -> bool:
        text = self.value("full_refresh").lower()
        if text in ("", "0", "false", "no"):
            return False
        if text in ("1", "true", "yes"):
            return True
        raise SettingsError(f"full_refresh {text!r}: true or false")

    def id_key_bytes(self) -> bytes | None:
        """The operator's key for national-ID hashing: ``id_key`` itself, else the content of ``id_key_file``."""
        key = self.value("id_key")
        if key:
            return key.encode("utf-8")
        key_file = self.value("id_key_file")
        if not key_file:
            return None
        try:
            content = Path(key_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise SettingsError(f"id_key_file {key_file}: {exc.strerror or exc}") from exc
        if not content:
            raise SettingsError(f"id_key_file {key_file} is empty")
        return content.encode("utf-8")

    def quarantine_rate(self) -> float:
        return self._number("quarantine_rate_max", float)

    def quarantine_rows(self) -> int:
        return self._number("quarantine_min_rows", int)

    def _number(self, field: str, kind: type):
        text = self.value(field)
        try:
            return kind(text)
        except ValueError as exc:
            raise SettingsError(f"{field} {text!r} is not a number") from exc

    def duckdb_config(self) -> dict[str, str]:
        """DuckDB's memory limit, threads and spill directory, for every connection the build opens (and dbt's).

        And no vacuum at checkpoints: a build by holder deletes the touched holders' rows of every by-holder table,
        and DuckDB's vacuum of them took 6 s of the next checkpoint at 1M and reclaimed almost none; the merge
        compacts a table itself when its deleted rows pass a share (lib/by_holder.py, ``COMPACT_AT``).
        """
        temp = self.value("duckdb_temp_directory")
        warehouse = self.warehouse_file()
        temp_dir = Path(temp).resolve() if temp else warehouse.with_name(warehouse.name + ".tmp")
        return {
            "memory_limit": self.value("duckdb_memory_limit"),
            "threads": self.value("duckdb_threads"),
            "temp_directory": str(temp_dir),
            "max_vacuum_tasks": "0",
        }

    # --- dbt ---------------------------------------------------------------------------------------------

    def dbt_target(self) -> str:
        return self.value("spark_target") if self.engine_name() == SPARK else DUCKDB

    def dbt_environment(self) -> dict[str, str]:
        """What the dbt profile (``dbt_project/profiles.yml``) reads, with absolute paths; and no debug log file.

        dbt writes every event of an invocation, each SQL statement included, to ``dbt.log`` in its target folder
        at debug level: about 1.2 s of one invocation's 22 s at 1M holders (docs/benchmarks.md). The build's own
        log (``logs/build-*.log``) keeps dbt's lines at info level, and each node's SQL is in the target folder's
        ``run/``; ``DBT_LOG_LEVEL_FILE`` set in the environment (``debug``) brings the file back.
        """
        env = {"VIPWH_DBT_TARGET": self.dbt_target(), "VIPWH_WAREHOUSE": str(self.warehouse_file())}
        if "DBT_LOG_LEVEL_FILE" not in os.environ:
            env["DBT_LOG_LEVEL_FILE"] = "none"
        env.update({f"VIPWH_DUCKDB_{name.upper()}": value for name, value in self.duckdb_config().items()})
        if self.engine_name() == SPARK:
            env["VIPWH_SPARK_WAREHOUSE"] = str(self.spark_warehouse())
            for field in ("spark_master", "spark_driver_memory", "spark_shuffle_partitions", "spark_threads"):
                env[ENVIRONMENT[field][0]] = self.value(field)
        return env

    def subprocess_environment(self) -> dict[str, str]:
        """The environment of a dbt process started outside Dagster (tests, scenarios)."""
        return {**os.environ, **self.dbt_environment()}

    @contextmanager
    def dbt_environment_applied(self) -> Iterator[None]:
        """The dbt profile's variables, set while a dbt invocation starts (dagster-dbt passes os.environ on)."""
        values = self.dbt_environment()
        before = {name: os.environ.get(name) for name in values}
        os.environ.update(values)
        try:
            yield
        finally:
            for name, value in before.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value

    def run_config(self) -> dict:
        """This object's explicit fields as the run configuration of the build job."""
        # the ID key stays out of run configuration (Dagster stores a run's configuration with the run)
        fields = {
            name: str(getattr(self, name))
            for name in ENVIRONMENT
            if getattr(self, name) and name not in ("id_key", "id_key_file")
        }
        return {"resources": {"settings": {"config": fields}}}
