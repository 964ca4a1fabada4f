"""The dbt project's layers say what they are (issue 15, item 4): rules are read only through staging/rules,
and staging/core is the extracts alone.

Every rule seed (seeds/rating, seeds/benefits) has one staging model, ``stg_rules__<name>``, the only model
that reads it, with its YAML beside it; no other model or macro names a rule seed. Read from the project's
files, so a new model that reads a seed directly fails here before anything is built.
"""

from __future__ import annotations

import re
from pathlib import Path

from dagster_project.project import DBT_PROJECT_DIR

MODELS = DBT_PROJECT_DIR / "models"
RULES_STAGING = MODELS / "staging" / "rules"
REF = re.compile(r"""ref\(\s*['"]([A-Za-z0-9_]+)['"]\s*\)""")
# rule_rows('<seed>', …) (macros/rules/rule_rows.sql) reads the seed and its adopted rows: a read of the seed
RULE_ROWS = re.compile(r"""rule_rows\(\s*['"]([A-Za-z0-9_]+)['"]""")
# A seed's staging model drops the rating_ prefix the seed files carry (rating_txn_types -> stg_rules__txn_types).
PREFIX = "rating_"


def _rule_seeds() -> set[str]:
    return {
        path.stem for folder in ("rating", "benefits") for path in (DBT_PROJECT_DIR / "seeds" / folder).glob("*.csv")
    }


def _staging_name(seed: str) -> str:
    bare = seed.removeprefix(PREFIX) if seed not in {"rating_coefficients", "rating_exclusions"} else seed
    return f"stg_rules__{bare}"


def _refs(path: Path) -> set[str]:
    text = path.read_text(encoding="utf-8")
    return set(REF.findall(text)) | set(RULE_ROWS.findall(text))


def test_the_rule_seeds_are_the_ones_the_handbook_states():
    # The list this test works from is not empty or partial: both folders, every file.
    assert {"rulebooks", "tier_thresholds", "rating_coefficients", "services", "entitlements"} <= _rule_seeds()


def test_every_rule_seed_has_one_staging_model_that_reads_it_with_its_yaml_beside_it():
    for seed in sorted(_rule_seeds()):
        model = RULES_STAGING / f"{_staging_name(seed)}.sql"
        assert model.exists(), f"seed {seed} has no staging model {model.name}"
        assert _refs(model) == {seed}, f"{model.name} should read the seed {seed} and nothing else"
        assert model.with_suffix(".yml").exists(), f"{model.name} has no YAML beside it"


def test_no_model_or_macro_outside_staging_rules_reads_a_rule_seed():
    seeds = _rule_seeds()
    readers = {}
    for path in [*MODELS.rglob("*.sql"), *MODELS.rglob("*.yml"), *(DBT_PROJECT_DIR / "macros").rglob("*.sql")]:
        if path.parent == RULES_STAGING:
            continue
        named = _refs(path) & seeds
        if named:
            readers[str(path.relative_to(DBT_PROJECT_DIR))] = sorted(named)
    assert readers == {}, f"read the rule seeds through models/staging/rules: {readers}"


def test_staging_core_reads_only_the_extracts():
    # staging/core: each model is one extract plus the latest-row rule. It reads no other model, so a
    # referential check (does this holder exist?) cannot hide in it; those are intermediate/core's.
    models = sorted((MODELS / "staging" / "core").glob("*.sql"))
    assert len(models) == 6, [path.name for path in models]  # one per extract file (CONTRACT §1)
    for path in models:
        assert _refs(path) == set(), f"{path.name} reads {sorted(_refs(path))}"


def test_every_model_has_one_yaml_beside_it_holding_its_description_and_unit_tests():
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe")
    shared = {"_sources.yml", "_scenarios__sources.yml", "_semantic.yml"}  # sources; semantic models, metrics
    described: dict[str, Path] = {}
    for path in MODELS.rglob("*.yml"):
        if path.name in shared:
            continue
        data = yaml.load(path.read_text(encoding="utf-8")) or {}
        names = {model["name"] for model in data.get("models") or []}
        tested = {test["model"] for test in data.get("unit_tests") or []}
        assert names == {path.stem}, f"{path.relative_to(DBT_PROJECT_DIR)} describes {sorted(names)}"
        assert tested <= names, f"{path.relative_to(DBT_PROJECT_DIR)} holds unit tests of {sorted(tested - names)}"
        described[path.stem] = path
    for sql in MODELS.rglob("*.sql"):
        assert described.get(sql.stem) == sql.with_suffix(".yml"), f"{sql.name} has no YAML of its own beside it"
