{#- Aggregate: the distinct non-null values of `column_expr`, sorted, joined with '; ' (RULES §4 change reasons). -#}
{% macro distinct_codes(column_expr) -%}
    {{ return(adapter.dispatch('distinct_codes')(column_expr)) }}
{%- endmacro %}

{% macro default__distinct_codes(column_expr) -%}
    string_agg(distinct {{ column_expr }}, '; ' order by {{ column_expr }})
{%- endmacro %}

{% macro spark__distinct_codes(column_expr) -%}
    array_join(array_sort(collect_set({{ column_expr }})), '; ')
{%- endmacro %}
