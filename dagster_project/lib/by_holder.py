"""Incremental builds by holder: a build on a built warehouse recomputes only the holders its new batches touch.

A holder's rows in the models tagged ``by_holder`` (dbt_project.yml) are a function of that holder's rows of
the extracts, the rules and the valuation date. So when the warehouse's tables were built from the same code,
rules and scenarios and the new build only adds batches, the dbt step runs in two passes:

1. the ``by_holder`` models (staged extracts to facts) for the *touched holders* only, into schemas
   ``by_holder_<schema>`` whose raw source is views keeping those holders' rows; then, table by table, the
   touched holders' rows of the warehouse are deleted and the pass's rows inserted (one transaction); the pass's
   tables stay until the next build, as the rows that changed (``MERGED_TABLE``: the ID scan and publishing read them);
2. every other node (the rules' models, aggregates, dimensions, quality, scenarios), whole, from the merged tables.

A test runs in the first pass when it reads a by-holder model and nothing computed after the merge: it is judged
on the touched holders' rows (their keys are holder-scoped, so a row of another holder cannot collide); any other
test runs whole in the second (docs/decisions.md, "Which check runs how").

The **touched holders** (``touched``) are, over every raw version of every key a new batch carries: the holders of
its customers, relatives, activations and usage rows; every holder a touched policy ever had (a policy that changes
holder touches both) and of every policy a touched transaction ever named; the holders whose history changes because
the valuation date moved from the last build's to this one's (a dated event, a scheduled rating state, a birthday
between the two); and, closed over the references between holders (the coverages of one policy; a transaction's
policies; a use naming another holder's relative), until nothing is added. Everything is recomputed (a full build)
when this is not an addition of batches: no whole build recorded, other code or rules, a rulebook adopted or
scenario stored, a batch replaced or removed, the valuation date moved back or into another year or across a
rulebook's start, ``--full-refresh``, or the Spark engine (its tables are Parquet files, which this merge does not
rewrite by holder).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import duckdb

from dagster_project.lib.warehouse import (
    ADOPTED_RULE_TABLES,
    BUILT_INPUTS,
    PROPOSAL_TABLES,
    adopted_table,
    proposal_table,
)
from dagster_project.settings import DUCKDB, Settings

TAG = "by_holder"
SCOPE = "by_holder"  # the schema of the touched holders (table ``holders``)
PREFIX = "by_holder_"  # of the schemas the second pass writes (generate_schema_name.sql)
SCOPE_TABLE = f"{SCOPE}.holders"
POLICY_SCOPE_TABLE = f"{SCOPE}.policies"
# the tables the last merge changed, each with the first pass's table of the rows it inserted (``merged``)
MERGED_TABLE = f"{SCOPE}.merged"

# the first day on which this build's facts can differ from the last build's (``first_change``), for the
# aggregates computed by period (dbt_project/macros/changed_from.sql); written by the merge, dropped after the step
CHANGED_FROM_TABLE = f"{SCOPE}.changed_from"
# what those aggregates read of the by-holder facts, besides holder_id: a history's intervals and the columns of its
# state, an event's date and its other columns they read; they may read no other by-holder or later model (``passes``
# refuses it), and no other column of these (``followed_columns``; comparing every column of the uses cost 1.8 s at
# 1M, these 0.6 s)
HISTORIES = {
    "marts.fct_member_tier_history": ("tier_code", "tier_rank"),
    "marts.fct_member_rated_premium_history": ("rated_premium",),
}
EVENTS = {
    "marts.fct_benefit_usage": (
        "service_date",
        (
            "entitlement_year",
            "service_code",
            "tier_code_at_service",
            "consumed_quantity",
            "is_compliant",
            "cost_amount",
        ),
    )
}
CHANGED_FROM_MACRO = "changed_from("


def followed_columns() -> dict[str, tuple[str, ...]]:
    """Of each fact ``first_change`` follows, the columns it compares: a model calling ``changed_from`` reads no
    other column of it (tests/test_by_holder.py reads the columns from the models' compiled SQL)."""
    return {
        **{table: ("holder_id", "valid_from", "valid_to", *state) for table, state in HISTORIES.items()},
        **{table: ("holder_id", day, *read) for table, (day, read) in EVENTS.items()},
    }


# the extracts (raw tables) whose rows belong to a holder (a transaction: to its policy's)
EXTRACTS = ("customers", "policies", "policy_transactions", "relatives", "service_activations", "service_usage")


@dataclass
class Plan:
    """A build that adds batches to a built warehouse: what it adds, and the valuation dates it moves between."""

    new_batches: list[str]
    old_as_of: date
    new_as_of: date
    built_at: datetime | None = None  # when the last build's dbt step, which this one adds to, ended


def _as_of(described: dict) -> date | None:
    return date.fromisoformat(described["as_of"]) if described.get("as_of") else None


def built(con: duckdb.DuckDBPyConnection) -> dict | None:
    row = con.execute(f"select inputs from {BUILT_INPUTS}").fetchone()
    return json.loads(row[0]) if row else None


def _built_at(con: duckdb.DuckDBPyConnection) -> datetime | None:
    row = con.execute(f"select built_at from {BUILT_INPUTS}").fetchone()
    return row[0] if row else None


def forget(con: duckdb.DuckDBPyConnection) -> None:
    """The tables are about to change: until the dbt step succeeds they answer no recorded inputs.

    The touched holders of an earlier build are forgotten too: this build's are written by ``touched`` when it
    builds by holder, and publishing reads them (``publish.publish``) only then.
    """
    con.execute(f"delete from {BUILT_INPUTS}")
    con.execute(f"create schema if not exists {SCOPE}")
    con.execute(f"drop table if exists {SCOPE_TABLE}")
    con.execute(f"drop table if exists {MERGED_TABLE}")
    con.execute(f"drop table if exists {CHANGED_FROM_TABLE}")
    drop(con)  # the last build by holder's first pass (kept after its merge, or left by a failure)


def record(con: duckdb.DuckDBPyConnection, described: dict) -> None:
    con.execute(f"delete from {BUILT_INPUTS}")
    con.execute(f"insert into {BUILT_INPUTS} values (?, ?)", [json.dumps(described, sort_keys=True), datetime.now()])


def plan(con: duckdb.DuckDBPyConnection, settings: Settings, described: dict) -> tuple[Plan | None, str]:
    """An incremental plan for this build, or None and why the build computes everything."""
    if settings.full_refresh_asked():
        return None, "a full refresh was asked"
    if settings.engine_name() != DUCKDB:
        return None, "the Spark engine builds whole"
    last = built(con)
    if last is None:
        return None, "no whole build is recorded for these tables"
    same = ("adopted_rulebooks", "scenarios", "engine", "dbt_target", "code")
    changed = [key for key in same if last.get(key) != described.get(key)]
    if changed:
        return None, f"changed since the last build: {', '.join(changed)}"
    old_batches = {tuple(batch) for batch in last["batches"]}
    now_batches = {tuple(batch) for batch in described["batches"]}
    if not old_batches <= now_batches:
        return None, "a batch built before was replaced or removed"
    new = sorted(batch[0] for batch in now_batches - old_batches)
    old_as_of, new_as_of = _as_of(last), _as_of(described)
    if old_as_of is None or new_as_of is None:
        return None, "no valuation date"
    if new_as_of < old_as_of or new_as_of.year != old_as_of.year:
        return None, f"the valuation date moved from {old_as_of} to {new_as_of} (back, or into another year)"
    starts = con.execute(
        "select count(*) from staging.stg_rules__rulebooks where (effective_from > ? and effective_from <= ?) "
        "or (effective_until > ? and effective_until <= ?)",
        [old_as_of, new_as_of, old_as_of, new_as_of],
    ).fetchone()[0]
    if starts:
        return None, "a rulebook starts or ends between the last valuation date and this one"
    if not new and new_as_of == old_as_of:
        return None, "nothing was added"  # the nothing-new check skips such a build before; a build asked anyway
    why = f"{len(new)} new batch(es), valuation date {old_as_of} → {new_as_of}"
    return Plan(new, old_as_of, new_as_of, _built_at(con)), why


def touched(con: duckdb.DuckDBPyConnection, plan_: Plan) -> int:
    """Write the touched holders to ``by_holder.holders``; their count."""
    con.execute(f"create schema if not exists {SCOPE}")
    con.execute(
        "create or replace temp table new_batches as select cast(unnest(?::VARCHAR[]) as date) as d",
        [plan_.new_batches],
    )
    holder_type = con.execute(
        "select data_type from information_schema.columns where table_schema = 'raw' and table_name = 'customers' "
        "and column_name = 'holder_id'"
    ).fetchone()[0]
    con.execute(f"create or replace table {SCOPE_TABLE} (holder_id {holder_type})")
    new_rows = "_extract_date in (select d from new_batches)"
    direct = [
        # the holders of a new batch's rows (the closure below adds every holder of every other version of their
        # keys: a re-sent or moved row touches old and new), and of the policies its transactions name
        *(
            f"select holder_id from raw.{table} where {new_rows}"
            for table in EXTRACTS
            if table != "policy_transactions"
        ),
        f"""select holder_id from raw.policies
            where policy_no in (select policy_no from raw.policy_transactions where {new_rows})""",
    ]
    a, b = plan_.old_as_of, plan_.new_as_of
    if b > a:
        window = f"> date '{a}' and {{}} <= date '{b}'"

        def between(column: str) -> str:
            return f"{column} " + window.format(column)

        direct += [
            # dated events between the two valuation dates
            f"""select holder_id from raw.policies where {between("effective_date")} or {between("status_date")}
                or {between("free_look_end_date")}""",
            f"""select policies.holder_id from raw.policies as policies where policies.policy_no in (
                    select policy_no from raw.policy_transactions where {between("effective_date")})""",
            f"select holder_id from raw.service_usage where {between('service_date')}",
            f"select holder_id from raw.service_activations where {between('activated_at')}",
            # the rating states the old build scheduled after its valuation date (window, term, payment ends)
            f"""select holder_id from intermediate.int_member__rating_states
                where {between("state_from")} or {between("state_until")}""",
            f"""select holder_id from intermediate.int_rating__coverage_rulings
                where {between("window_from")} or {between("window_until")} or {between("term_end_date")}
                or {between("start_date")}""",
            f"""select holder_id from intermediate.int_rating__coverage_status_timeline
                where {between("valid_from")} or {between("valid_until")}""",
            f"""select holder_id from marts.fct_policy_rating
                where {between("counts_from")} or {between("counts_until")}""",
            f"""select holder_id from marts.fct_member_tier_history
                where {between("valid_from")} or {between("valid_to")}""",
            f"""select holder_id from marts.fct_member_rated_premium_history
                where {between("valid_from")} or {between("valid_to")}""",
            # a birthday between the two: the age (band) at the valuation date changes
            f"""select holder_id from raw.customers where birth_date is not null and (
                    {_age("birth_date", b)}) <> ({_age("birth_date", a)})""",
        ]
    union = " union ".join(direct)
    con.execute(f"insert into {SCOPE_TABLE} select distinct holder_id from ({union}) where holder_id is not null")
    # close over the keys and references between holders until nothing is added
    in_scope = _in_scope()
    while True:
        added = con.execute(
            f"""
            insert into {SCOPE_TABLE}
            select distinct linked.holder_id from (
                -- every holder of every version of a key a touched holder holds in some version: a policy (any
                -- coverage), a relative, a use; so every version of a staged key is in the touched holders' rows
                select other.holder_id from raw.policies as other
                where other.policy_no in (select policy_no from raw.policies where {in_scope})
                union
                select other.holder_id from raw.relatives as other
                where other.relative_id in (select relative_id from raw.relatives where {in_scope})
                union
                select other.holder_id from raw.service_usage as other
                where other.usage_id in (select usage_id from raw.service_usage where {in_scope})
                union
                -- the holders of every policy any version of a transaction names, when one version names a
                -- touched holder's policy (a transaction re-sent under another policy leaves the old one)
                select policies.holder_id from raw.policies as policies
                where policies.policy_no in (
                    select other.policy_no from raw.policy_transactions as other
                    where other.txn_id in (
                        select txn_id from raw.policy_transactions
                        where policy_no in (select policy_no from raw.policies where {in_scope})
                    )
                )
                union
                -- the holders of the relatives a touched holder's uses name
                select relatives.holder_id from raw.relatives as relatives
                where relatives.relative_id in (select beneficiary_id from raw.service_usage where {in_scope})
                union
                -- the holders whose uses name a touched holder's relative
                select usage.holder_id from raw.service_usage as usage
                where usage.beneficiary_id in (select relative_id from raw.relatives where {in_scope})
            ) as linked
            where linked.holder_id is not null
                and linked.holder_id not in (select holder_id from {SCOPE_TABLE})
            """
        ).fetchone()[0]
        if not added:
            break
    # the policies whose rows are recomputed: the touched holders', and those no policy row names (transactions
    # of an unknown policy: staged, then quarantined by reference; recomputed in every build by holder)
    con.execute(
        f"""
        create or replace table {POLICY_SCOPE_TABLE} as
        select distinct policy_no from raw.policies where {in_scope}
        union
        select distinct transactions.policy_no from raw.policy_transactions as transactions
        where not exists (select 1 from raw.policies where policies.policy_no = transactions.policy_no)
        """
    )
    return con.execute(f"select count(*) from {SCOPE_TABLE}").fetchone()[0]


def _age(birth: str, on: date) -> str:
    """The age in whole years on ``on`` (as dim_member computes it)."""
    return (
        f"{on.year} - extract(year from {birth}) - case when extract(month from {birth}) > {on.month} or "
        f"(extract(month from {birth}) = {on.month} and extract(day from {birth}) > {on.day}) then 1 else 0 end"
    )


def passes(manifest: dict) -> dict[int, list[str]]:
    """The nodes of each pass: 1, kept as built; 2, the touched holders' pass; 3, the rest, after the merge.

    Pass 1 runs nothing: it is the rules' nodes (``kept``), whose tables the plan guarantees are those of the last
    build. Pass 2 is the models tagged ``by_holder`` and the tests of severity error whose parents are by-holder
    models, sources (in pass 2 the touched holders' rows) or models without a by-holder ancestor (the rules'
    models, kept). Every other node is pass 3: the models downstream of a by-holder model, the other models without
    a by-holder ancestor, the warnings, and the tests with a parent of pass 3 that has a by-holder ancestor or with
    sources or kept nodes only (they are judged on whole tables: a kept table's tests run on every build). Names,
    for ``exclusions``.
    """
    kept = set(_kept(manifest))
    nodes = manifest["nodes"]
    models = {uid: node for uid, node in nodes.items() if node["resource_type"] == "model"}
    kind: dict[str, str] = {}  # by_holder, downstream, independent

    def kind_of(uid: str) -> str:
        if uid not in models:
            return "independent"  # a source or seed
        if uid not in kind:
            node = models[uid]
            if TAG in node["tags"]:
                kind[uid] = "by_holder"
            else:
                parents = {kind_of(parent) for parent in node["depends_on"]["nodes"]}
                kind[uid] = "downstream" if parents & {"by_holder", "downstream"} else "independent"
        return kind[uid]

    selected: dict[int, list[str]] = {1: [], 2: [], 3: []}
    for uid, node in models.items():
        selected[2 if kind_of(uid) == "by_holder" else 1 if uid in kept else 3].append(node["name"])
    for uid, node in models.items():
        if kind[uid] == "by_holder":
            late = [models[p]["name"] for p in node["depends_on"]["nodes"] if kind.get(p) == "downstream"]
            if late:
                raise ValueError(f"{node['name']} is tagged {TAG} but reads {', '.join(late)}, built after it")
        if CHANGED_FROM_MACRO in node.get("raw_code", ""):
            facts = set(HISTORIES) | set(EVENTS)
            other = [
                models[p]["name"]
                for p in node["depends_on"]["nodes"]
                if kind.get(p) in ("by_holder", "downstream") and _relation(models[p]) not in facts
            ]
            if other:
                raise ValueError(
                    f"{node['name']} keeps the periods before by_holder.changed_from but reads {', '.join(other)}, "
                    f"whose changes that day does not follow (by_holder.HISTORIES, EVENTS)"
                )
    for node in nodes.values():
        if node["resource_type"] == "seed":
            selected[1].append(node["name"])
        elif node["resource_type"] == "test":
            parents = {kind_of(parent) for parent in node["depends_on"]["nodes"]}
            # only an error can be judged on the touched rows: the last build stopped at any error, so every
            # failing row is a touched one. A warning may fail on untouched rows too, and its failing rows are
            # reported (quality.dq_check_results): it is judged on the whole table, after the merge.
            error = str(node["config"].get("severity", "error")).lower() == "error"
            on_holders = error and "by_holder" in parents and "downstream" not in parents
            selected[2 if on_holders else 3].append(node["name"])
    return selected


def _kept(manifest: dict) -> list[str]:
    """The rules' nodes: the seeds, and the models that read only seeds, the adopted rulebooks' and the stored
    proposals' tables (``ADOPTED_RULE_TABLES``, ``PROPOSAL_TABLES``) and each other, not the valuation date nor
    any var (in their code or a macro they call).

    A build by holder keeps their tables as the last build left them: the plan requires the same code (seeds
    included), adopted rulebooks and stored scenarios, so they would be built again the same. Unique ids.
    """
    rules_sources = {adopted_table(table) for table in ADOPTED_RULE_TABLES} | {
        proposal_table(table) for table in PROPOSAL_TABLES
    }
    macros = manifest.get("macros", {})
    nodes, sources = manifest["nodes"], manifest.get("sources", {})
    dated: dict[str, bool] = {}

    def reads_date_or_var(uid: str) -> bool:  # a macro that is as_of_date, reads a var, or calls such a macro
        if uid not in dated:
            dated[uid] = False  # guards a cycle
            macro = macros.get(uid, {})
            called = macro.get("depends_on", {}).get("macros", [])
            dated[uid] = (
                uid.endswith(".as_of_date")
                or "var(" in macro.get("macro_sql", "")
                or any(reads_date_or_var(other) for other in called)
            )
        return dated[uid]

    kept: dict[str, bool] = {}

    def is_kept(uid: str) -> bool:
        if uid not in kept:
            kept[uid] = False  # guards a cycle
            if uid in sources:
                source = sources[uid]
                kept[uid] = f"{source['source_name']}.{source['name']}" in rules_sources
            elif uid in nodes and nodes[uid]["resource_type"] == "seed":
                kept[uid] = True
            elif uid in nodes and nodes[uid]["resource_type"] == "model":
                node = nodes[uid]
                depends = node["depends_on"]
                kept[uid] = (
                    "var(" not in node.get("raw_code", "var(")
                    and not any(reads_date_or_var(macro) for macro in depends.get("macros", []))
                    and all(is_kept(parent) for parent in depends["nodes"])
                )
        return kept[uid]

    return [uid for uid in nodes if nodes[uid]["resource_type"] in ("model", "seed") and is_kept(uid)]


def exclusions(stages: dict[int, list[str]], stage: int) -> list[str]:
    """dbt arguments that run one pass: every node but the other passes' (with no indirect selection).

    By exclusion, not selection: dagster-dbt adds the asset definition's own ``--select fqn:*`` to every
    invocation of a whole run, and dbt takes the union of selections but subtracts every exclusion.
    """
    others = [name for other, names in stages.items() if other != stage for name in names]
    return ["--indirect-selection", "empty", "--exclude", " ".join(others)]


def _relation(node: dict, prefix: str = "") -> str:
    return f"{prefix}{node['config'].get('schema') or node['schema']}.{node['alias']}"


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> set[str]:
    schema, name = relation.split(".")
    rows = con.execute(
        "select column_name from information_schema.columns where table_schema = ? and table_name = ?", [schema, name]
    ).fetchall()
    return {row[0] for row in rows}


def _in_scope() -> str:
    return f"holder_id in (select holder_id from {SCOPE_TABLE})"


def _row_scope(columns: set[str]) -> str | None:
    """The condition keeping a touched holder's rows: by holder_id, else by the policy's holder (staged).

    With both columns, a row without a holder goes by its policy (``int_core__reference_quarantine``: a transaction
    of a policy that may be unknown).
    """
    by_policy = f"policy_no in (select policy_no from {POLICY_SCOPE_TABLE})"
    if "holder_id" in columns and "policy_no" in columns:
        return f"({_in_scope()} or (holder_id is null and {by_policy}))"
    if "holder_id" in columns:
        return _in_scope()
    if "policy_no" in columns:
        return by_policy
    return None


def prepare(con: duckdb.DuckDBPyConnection, manifest: dict) -> None:
    """Before pass 2: what it reads but does not build, as views in ``by_holder_`` schemas.

    ``by_holder_raw``: each raw table the project reads, keeping the touched holders' rows of the extracts (by
    ``holder_id``; transactions by their policy); the ledgers whole. Every model pass 2 does not build (the rules'
    models, the same as at the last build): a view of the warehouse's table.
    """
    drop(con)
    pass_2 = set(passes(manifest)[2])
    con.execute(f"create schema {PREFIX}raw")
    for source in manifest["sources"].values():
        if source["source_name"] != "raw":
            continue
        relation = f"raw.{source['identifier']}"
        columns = _columns(con, relation)
        if not columns:
            continue
        scope = _row_scope(columns) if source["identifier"] in EXTRACTS else None
        where = f" where {scope}" if scope else ""
        con.execute(f"create view {PREFIX}{relation} as select * from {relation}{where}")
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model" or node["name"] in pass_2:
            continue
        source, target = _relation(node), _relation(node, PREFIX)
        if not _columns(con, source):
            continue  # not built (yet): no pass-2 model reads it
        con.execute(f"create schema if not exists {target.split('.')[0]}")
        con.execute(f"create or replace view {target} as select * from {source}")


# A deleted row stays in its row group, as a tombstone, until the table is rewritten. DuckDB's vacuum at checkpoint
# reclaimed almost none of the merge's (the dead share grew 3.6 % a day at 1M all the same) and took 5.7 s of its
# commit's 7.9 s, so the build's connections have none (settings.duckdb_config) and the merge rewrites a table whole
# when its tombstones would pass this share of its stored rows (docs/decisions.md, "Deleted rows are tombstones").
COMPACT_AT = 0.25


def _stored_and_live(con: duckdb.DuckDBPyConnection, table: str, catalog: str | None = None) -> tuple[int, int]:
    """Rows stored in the table's row groups, deleted ones included (DuckDB's ``estimated_size``), and rows live
    (of the attached ``catalog``'s table when given)."""
    schema, name = table.split(".")
    stored = con.execute(
        "select estimated_size from duckdb_tables() where database_name = coalesce(?, current_database()) "
        "and schema_name = ? and table_name = ?",
        [catalog, schema, name],
    ).fetchone()[0]
    relation = f"{catalog}.{table}" if catalog else table
    return stored, con.execute(f"select count(*) from {relation}").fetchone()[0]


def dead_rows(con: duckdb.DuckDBPyConnection, table: str, catalog: str | None = None) -> int:
    """The table's tombstones: rows deleted but still stored."""
    stored, live = _stored_and_live(con, table, catalog)
    return stored - live


def _past_compaction(dead: int, stored: int) -> bool:
    return dead > COMPACT_AT * stored


def compaction_due(con: duckdb.DuckDBPyConnection, table: str, catalog: str | None = None) -> bool:
    """The table's tombstones pass ``COMPACT_AT`` of its stored rows: it is to be rewritten whole."""
    stored, live = _stored_and_live(con, table, catalog)
    return _past_compaction(stored - live, stored)


def merge(con: duckdb.DuckDBPyConnection, manifest: dict, plan_: Plan) -> list[tuple[str, int, int]]:
    """After pass 2: the touched holders' rows of each by-holder table replaced by the pass's, in one transaction.

    Returns (table, rows deleted, rows inserted) per table. A table whose tombstones would pass ``COMPACT_AT`` of its
    stored rows is rewritten whole, without them. ``MERGED_TABLE`` then lists each table with the pass's table of
    the rows it now holds in place of the deleted ones, and when the tables were last changed before (the last
    build's dbt step, ``Plan.built_at``): the rows that changed since, for the ID scan (lib/quality/id_scan.py)
    and publishing. The pass's tables stay until the next build (``forget``).

    First, from the last build's valuation date (``Plan.old_as_of``), it writes ``CHANGED_FROM_TABLE``: the first
    day on which the facts can differ from the last build's (``first_change``).
    """
    pass_2 = set(passes(manifest)[2])
    done = []
    computed_of = {}
    con.execute("begin transaction")
    try:
        # before the touched holders' rows are replaced: the last build's are compared
        con.execute(
            f"create or replace table {CHANGED_FROM_TABLE} as select cast(? as date) as changed_from",
            [first_change(con, plan_.old_as_of)],
        )
        for node in manifest["nodes"].values():
            if node["resource_type"] != "model" or node["name"] not in pass_2:
                continue
            if node["config"].get("materialized") == "view":
                continue  # a view reads the merged tables
            table, computed = _relation(node), _relation(node, PREFIX)
            scope = _row_scope(_columns(con, table))
            if scope is None:
                raise ValueError(f"{table} is tagged {TAG} but has neither holder_id nor policy_no")
            stray = con.execute(f"select count(*) from {computed} where not coalesce({scope}, false)").fetchone()[0]
            if stray:
                raise ValueError(f"{computed}: {stray} row(s) of holders outside the touched set")
            stored, live = _stored_and_live(con, table)
            deleted = con.execute(f"delete from {table} where {scope}").fetchone()[0]
            inserted = con.execute(f"insert into {table} by name select * from {computed}").fetchone()[0]
            if _past_compaction(stored - live + deleted, stored + inserted):  # from the counts before, not again
                con.execute(f"create or replace table {table} as select * from {table}")
            done.append((table, deleted, inserted))
            computed_of[table] = computed
        con.execute(
            f"create or replace table {MERGED_TABLE} "
            "(relation VARCHAR NOT NULL, computed VARCHAR NOT NULL, base_built_at TIMESTAMP)"
        )
        if computed_of:
            con.executemany(
                f"insert into {MERGED_TABLE} values (?, ?, ?)",
                [(table, computed, plan_.built_at) for table, computed in computed_of.items()],
            )
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return done


def first_change(con: duckdb.DuckDBPyConnection, old_as_of: date) -> date:
    """The first day on which the facts the aggregates by period read can differ from the last build's.

    Before the merge: the warehouse's rows of the touched holders are the last build's, the first pass's tables
    this build's. The earliest of the day after ``old_as_of`` (an open interval reaches the valuation date), the
    first day on which a touched holder's state in a history (``HISTORIES``) differs, and the date of an event
    row (``EVENTS``) that differs in a column the aggregates read. A history's states are compared at every start
    and end of an interval of either side, as the multiset of the states of the intervals covering that day:
    between two such days neither side changes.
    """
    days = [old_as_of + timedelta(days=1)]
    days += [_first_difference(con, table, state) for table, state in HISTORIES.items()]
    for table, (day, _) in EVENTS.items():
        listed = ", ".join(f'"{c}"' for c in followed_columns()[table])
        old = f"select {listed} from {table} where {_row_scope(_columns(con, table))}"
        new = f"select {listed} from {PREFIX}{table}"
        days.append(
            con.execute(
                f"select min({day}) from (({old} except all {new}) union all ({new} except all {old}))"
            ).fetchone()[0]
        )
    return min(day for day in days if day is not None)


def _first_difference(con: duckdb.DuckDBPyConnection, table: str, state: tuple[str, ...]) -> date | None:
    """The first day on which a touched holder's state in a history differs between the warehouse's and the first
    pass's table (None: never)."""
    columns = ", ".join(followed_columns()[table])

    def at_bounds(side: str) -> str:  # the states of the side's intervals covering each day of ``bounds``, counted
        states = ", ".join(f"{side}.{c}" for c in state)
        return f"""
            select bounds.holder_id, bounds.day, {states}, count(*) as n
            from bounds
            inner join {side}
                on {side}.holder_id = bounds.holder_id and {side}.valid_from <= bounds.day
                and ({side}.valid_to is null or {side}.valid_to > bounds.day)
            group by bounds.holder_id, bounds.day, {states}"""

    same = " and ".join(f"o.{c} is not distinct from n.{c}" for c in state)
    return con.execute(
        f"""
        with
        old as (select {columns} from {table} where {_row_scope(_columns(con, table))}),
        new as (select {columns} from {PREFIX}{table}),
        bounds as (
            select holder_id, valid_from as day from old
            union select holder_id, valid_to from old where valid_to is not null
            union select holder_id, valid_from from new
            union select holder_id, valid_to from new where valid_to is not null
        ),
        old_at as ({at_bounds("old")}),
        new_at as ({at_bounds("new")})
        select min(coalesce(o.day, n.day)) from old_at as o
        full outer join new_at as n on o.holder_id = n.holder_id and o.day = n.day and {same} and o.n = n.n
        where o.holder_id is null or n.holder_id is null
        """
    ).fetchone()[0]


def forget_changed_from(con: duckdb.DuckDBPyConnection) -> None:
    """After the dbt step of a build by holder: no later dbt run may keep periods by this build's first change."""
    con.execute(f"drop table if exists {CHANGED_FROM_TABLE}")


def merged_tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, datetime | None]]:
    """What the last merge recorded in ``MERGED_TABLE``: (table, the first pass's table of the rows it put in,
    ``base_built_at``) each; none when the open database has no such record (a build whole, or none yet)."""
    if not exists_here(con, MERGED_TABLE):
        return []
    return con.execute(f"select relation, computed, base_built_at from {MERGED_TABLE}").fetchall()


def exists_here(con: duckdb.DuckDBPyConnection, relation: str) -> bool:
    """Whether ``schema.table`` exists in the open database (not in one attached to it, as a snapshot)."""
    schema, table = relation.split(".")
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_catalog = current_database() "
            "and table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchone()[0]
    )


def drop(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the schemas of pass 2 (its tables and views); the touched holders stay, for whoever asks which.

    At the start of the next build (``forget``, ``prepare``): after the merge, the pass's tables hold the rows that
    changed, which the checks and publishing read (``MERGED_TABLE``).
    """
    schemas = con.execute(
        "select schema_name from information_schema.schemata "
        "where schema_name like ? and catalog_name = current_database()",
        [PREFIX + "%"],
    ).fetchall()
    for (schema,) in schemas:
        con.execute(f"drop schema if exists {schema} cascade")
