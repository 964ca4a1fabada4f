{#- No null in any of the columns: one query per model for all its not-null columns (a not_null test per
    column would scan the model once per column). Returns the rows with a null, with the named columns. -#}
{% test not_null_columns(model, columns) %}
    select {{ columns | join(', ') }}
    from {{ model }}
    where
        {% for column in columns -%}
            {{ column }} is null{% if not loop.last %} or {% endif %}
        {%- endfor %}
{% endtest %}
