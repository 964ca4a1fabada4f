"""`vipwh-dbt` (vipwh/dbt_cli.py): dbt, reusing the last parse for a warehouse named like the last one."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from dagster_project import project

RESTARTED = "Unable to do partial parsing"


def _parse(target: Path, warehouse: Path, memory_limit: str = "60%") -> tuple[str, set[str]]:
    """`dbt parse` as a build runs it, into ``target``; its output, and the database names of its models."""
    env = {
        **os.environ,
        "VIPWH_DBT_TARGET": "duckdb",
        "VIPWH_WAREHOUSE": str(warehouse),
        "VIPWH_DUCKDB_MEMORY_LIMIT": memory_limit,
        "VIPWH_DUCKDB_TEMP_DIRECTORY": f"{warehouse}.tmp",
    }
    run = subprocess.run(
        [
            project.dbt_executable(),
            "parse",
            "--project-dir",
            str(project.DBT_PROJECT_DIR),
            "--profiles-dir",
            str(project.DBT_PROJECT_DIR),
            "--target-path",
            str(target),
            "--log-path",
            str(target / "logs"),
        ],
        env=env,
        capture_output=True,
        text=True,
        cwd=project.DBT_PROJECT_DIR,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    nodes = json.loads((target / "manifest.json").read_text(encoding="utf-8"))["nodes"].values()
    return run.stdout, {node["database"] for node in nodes if node["resource_type"] == "model"}


def test_a_warehouse_named_like_the_last_reuses_its_parse_and_another_name_is_parsed_whole(tmp_path: Path):
    """The warehouse's folder and limits are read when dbt connects, not when it parses: the last parse is reused.
    Another file name is another database name in every relation: parsed whole."""
    assert Path(project.dbt_executable()).name == "vipwh-dbt"
    target = tmp_path / "target"
    _, databases = _parse(target, tmp_path / "a" / "wh.duckdb")
    assert databases == {"wh"}

    output, databases = _parse(target, tmp_path / "b" / "wh.duckdb", memory_limit="2GB")
    assert RESTARTED not in output
    assert databases == {"wh"}

    output, databases = _parse(target, tmp_path / "c" / "other.duckdb")
    assert f"{RESTARTED} because profile has changed" in output
    assert databases == {"other"}


def test_the_project_reads_neither_key_left_out_of_the_hash():
    """The reuse holds while no model, macro, test or config reads the warehouse's path or the connection's options
    from ``target`` (parsing would write them into the parse): a file that does must change ``PARSE_FREE_KEYS``."""
    import re

    from vipwh.dbt_cli import PARSE_FREE_KEYS

    reads = re.compile(r"target\s*(\.\s*|\[\s*['\"]|\.get\(\s*['\"])(" + "|".join(PARSE_FREE_KEYS) + r")\b")
    assert reads.search("{{ target.path }}") and reads.search("{{ target['config_options'] }}")
    files = project.files_under(project.DBT_PROJECT_DIR, {"target", "dbt_packages", "logs"}, ("*.sql", "*.yml"))
    assert len(files) > 50
    assert [str(path) for path in files if reads.search(path.read_text(encoding="utf-8"))] == []


def test_a_first_build_by_holder_starts_from_the_kept_parse_and_a_later_one_from_its_own(tmp_path: Path, monkeypatch):
    """The first pass of a build by holder has its own target folder per warehouse: the first such build of a
    warehouse starts from the parse the last one of any warehouse kept, a later one from its own."""
    monkeypatch.setattr(project, "DBT_MANIFEST", tmp_path / "target" / "manifest.json")
    (tmp_path / "target").mkdir()
    kept = tmp_path / "target" / project.BY_HOLDER_PARSE
    target = tmp_path / "wh.duckdb.by_holder_target"
    assert not project.start_from_kept_parse(target, project.BY_HOLDER_PARSE)  # none kept yet: dbt parses whole
    kept.write_bytes(b"kept by another warehouse's build")
    assert project.start_from_kept_parse(target, project.BY_HOLDER_PARSE)
    assert (target / project.PARTIAL_PARSE).read_bytes() == b"kept by another warehouse's build"
    (target / project.PARTIAL_PARSE).write_bytes(b"this warehouse's last")
    assert not project.start_from_kept_parse(target, project.BY_HOLDER_PARSE)
    assert (target / project.PARTIAL_PARSE).read_bytes() == b"this warehouse's last"
    project.keep_partial_parse(target, project.BY_HOLDER_PARSE)  # after the pass: the next warehouse's start
    assert kept.read_bytes() == b"this warehouse's last"
    assert not (tmp_path / "target" / project.PARTIAL_PARSE).exists()  # the main parse is another file


def test_invocation_target_folders_older_than_a_week_are_removed_and_nothing_else(tmp_path: Path, monkeypatch):
    """dagster-dbt leaves a target folder per dbt invocation; a build removes those untouched for a week."""
    monkeypatch.setattr(project, "DBT_MANIFEST", tmp_path / "target" / "manifest.json")
    target = tmp_path / "target"
    now = 1_800_000_000.0
    day = 86400
    folders = {
        "vipwh_dbt-863da2c-e7cc63c": 8 * day,  # a build of eight days ago: removed
        "vipwh_dbt-0123abc-4567def": 6 * day,  # six days ago: kept
        "vipwh_scenario_dbt-aaaaaaa-bbbbbbb": 30 * day,  # another op's invocation, a month ago: removed
        "compiled": 30 * day,  # dbt's own folders (dbt run by hand): never
        "run": 30 * day,
        "not-an-invocation": 30 * day,
    }
    for name, age in folders.items():
        (target / name / "run").mkdir(parents=True)
        (target / name / "run" / "model.sql").write_text("select 1", encoding="utf-8")
        os.utime(target / name, (now - age, now - age))
    (target / project.PARTIAL_PARSE).write_bytes(b"the project's parse")
    os.utime(target / project.PARTIAL_PARSE, (now - 30 * day, now - 30 * day))

    assert project.prune_invocation_targets(now) == ["vipwh_dbt-863da2c-e7cc63c", "vipwh_scenario_dbt-aaaaaaa-bbbbbbb"]
    assert sorted(path.name for path in target.iterdir()) == sorted(
        ["vipwh_dbt-0123abc-4567def", "compiled", "run", "not-an-invocation", project.PARTIAL_PARSE]
    )
    assert project.prune_invocation_targets(now) == []
