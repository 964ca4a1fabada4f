{#-
  Overrides dbt-spark's spark__dateadd, which renders `cast({{interval}} * 12 as int)` without parentheses:
  dbt.dateadd('year', 'n - 1', d) becomes `n - 1 * 12` on Spark (silently wrong dates). It also wraps the
  argument in assert_not_null (a null date raises instead of giving null, unlike DuckDB).
  timestampadd (Spark >= 3.3) clamps month ends like DuckDB's `+ interval`, and returns a timestamp like it.
-#}
{% macro spark__dateadd(datepart, interval, from_date_or_timestamp) -%}
    timestampadd({{ datepart | upper }}, cast(({{ interval }}) as bigint), cast({{ from_date_or_timestamp }} as timestamp))
{%- endmacro %}
