{#-
  In a build by holder (dagster_project/lib/by_holder.py): the start of the first period of `grain` ('year' or
  'month') whose rows can differ from the last build's, as a SQL date literal; none in any other build (then a
  model computes every period).

  The merge writes the first day on which this build's facts can differ from the last build's to
  `by_holder.changed_from`, before it replaces the touched holders' rows: the earliest of the day after the last
  valuation date and the first day any touched holder's tier or rated-premium history or benefit usage differs
  (`by_holder.first_change`). A period that starts before the period holding that day ends by it, so its inputs
  are the last build's: an aggregate over periods keeps its rows for those periods from its own table (`this`,
  built by the same code, which the plan requires) and computes the rest. The table is dropped when the dbt step
  ends. A model calling this reads, of the by-holder models, only those three facts (`by_holder.passes` refuses
  others) and only their columns that `by_holder.followed_columns` lists (tests/test_by_holder.py reads them from
  the compiled SQL).
-#}
{% macro changed_from(grain) -%}
    {%- if grain not in ('year', 'month') -%}
        {{ exceptions.raise_compiler_error("changed_from: grain is 'year' or 'month', not " ~ grain) }}
    {%- endif -%}
    {{ return(adapter.dispatch('changed_from', 'vipwh')(grain)) }}
{%- endmacro %}

{% macro default__changed_from(grain) -%}
    {{ return(none) }}  {#- only DuckDB builds by holder -#}
{%- endmacro %}

{% macro duckdb__changed_from(grain) -%}
    {%- if not execute or this is none -%}  {#- a unit test has no `this`: it computes every period -#}
        {{ return(none) }}
    {%- endif -%}
    {%- set recorded = adapter.get_relation(database=this.database, schema='by_holder', identifier='changed_from') -%}
    {%- if recorded is none or load_relation(this) is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set day = run_query('select cast(max(changed_from) as varchar) from ' ~ recorded).columns[0].values()[0] -%}
    {%- if day is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set start = day[:4] ~ '-01-01' if grain == 'year' else day[:7] ~ '-01' -%}
    {{ return("cast('" ~ start ~ "' as date)") }}
{%- endmacro %}
