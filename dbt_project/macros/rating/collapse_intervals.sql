{#-
  Gaps-and-islands: merges the half-open intervals [from_column, until_column) of `relation` that follow
  each other without a gap inside one partition and carry the same `value_columns` into maximal intervals
  [valid_from, valid_until) (valid_until null = open). `carry_columns` are taken from the first row of each
  merged interval. Rows of one partition must not overlap. Two window passes, no self-join.
-#}
{% macro collapse_intervals(relation, partition_by, value_columns, carry_columns=[], from_column='valid_from', until_column='valid_until') -%}
    {%- set ordered_window = 'over (partition by ' ~ (partition_by | join(', ')) ~ ' order by ' ~ from_column ~ ')' -%}
    select
        {%- for col in partition_by + value_columns + carry_columns %}
        {{ col }},
        {%- endfor %}
        {{ from_column }} as valid_from,
        case when is_island_end = 1 then {{ until_column }} else next_until end as valid_until
    from (
        select
            island_bounds.*,
            lead({{ until_column }}) {{ ordered_window }} as next_until
        from (
            select
                intervals.*,
                case
                    when lag({{ until_column }}) {{ ordered_window }} = {{ from_column }}
                        {%- for col in value_columns %}
                        and (lag({{ col }}) {{ ordered_window }} is not distinct from {{ col }})
                        {%- endfor %}
                        then 0
                    else 1
                end as is_island_start,
                case
                    when lead({{ from_column }}) {{ ordered_window }} = {{ until_column }}
                        {%- for col in value_columns %}
                        and (lead({{ col }}) {{ ordered_window }} is not distinct from {{ col }})
                        {%- endfor %}
                        then 0
                    else 1
                end as is_island_end
            from {{ relation }} as intervals
        ) as island_bounds
        where is_island_start = 1 or is_island_end = 1
    ) as island_edges
    where is_island_start = 1
{%- endmacro %}
