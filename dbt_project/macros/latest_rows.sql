{#-
  Current state of an upsert-keyed raw table: among rows of completely loaded batches, the one of the
  greatest extract date wins; inside one file the later line wins. Independent of load order.
  Renders a query with every raw column plus `_row_rank`; callers keep `_row_rank = 1`.
-#}
{% macro latest_rows(table_name, key_columns) -%}
    select
        src.*,
        row_number() over (
            partition by {% for col in key_columns %}src.{{ col }}{{ ', ' if not loop.last }}{% endfor %}
            order by src._extract_date desc, src._source_line desc
        ) as _row_rank
    from {{ source('raw', table_name) }} as src
    inner join {{ source('raw', 'batches') }} as batches
        on src._extract_date = batches.extract_date
        and batches.status = 'loaded'
{%- endmacro %}
