{#-
  on-run-start: make the raw source tables visible to the engine.
  DuckDB: they are already tables in the warehouse file (no-op).
  Spark: ingestion left one Parquet directory per raw table under <spark.sql.warehouse.dir>/raw.db/<table>/;
  (re)declare them as external Parquet tables in the `raw` database.
-#}
{% macro register_raw_tables() -%}
    {{ return(adapter.dispatch('register_raw_tables', 'vipwh')()) }}
{%- endmacro %}

{% macro default__register_raw_tables() -%}
{%- endmacro %}

{% macro spark__register_raw_tables() -%}
    {%- if execute -%}
        {%- set root = env_var('VIPWH_SPARK_WAREHOUSE', '../data/spark') -%}
        {%- do run_query('create database if not exists raw') -%}
        {%- for node in graph.sources.values() if node.source_name == 'raw' -%}
            {%- do run_query('drop table if exists raw.' ~ node.identifier) -%}
            {%- do run_query("create table raw." ~ node.identifier ~ " using parquet location '" ~ root ~ "/raw.db/" ~ node.identifier ~ "'") -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
