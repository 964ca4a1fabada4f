{#-
  Calendar arithmetic of the rating, as DATE (dbt.dateadd returns a timestamp on DuckDB).
  "+ N years" on 29 Feb gives 28 Feb, and "+ N months" is clamped to the last day of the target month
  (DuckDB's interval arithmetic and Spark's add_months both behave so; see the date unit tests).
-#}
{% macro rating_add_years(date_expr, years_expr) -%}
    cast({{ dbt.dateadd('year', years_expr, date_expr) }} as date)
{%- endmacro %}

{% macro rating_add_months(date_expr, months_expr) -%}
    cast({{ dbt.dateadd('month', months_expr, date_expr) }} as date)
{%- endmacro %}

{% macro rating_add_days(date_expr, days_expr) -%}
    cast({{ dbt.dateadd('day', days_expr, date_expr) }} as date)
{%- endmacro %}
