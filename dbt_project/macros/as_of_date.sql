{#-
  The valuation date as a SQL date expression: the `as_of_date` var when given,
  otherwise the latest extract date among completely loaded batches.
-#}
{% macro as_of_date() -%}
    {%- if var('as_of_date', '') -%}
        cast('{{ var("as_of_date") }}' as date)
    {%- else -%}
        (select max(extract_date) from {{ source('raw', 'batches') }} where status = 'loaded')
    {%- endif -%}
{%- endmacro %}
