{#- A rulebook-keyed rule seed's rows and those of the rulebooks adopted with `vipwh rulebook adopt`
    (raw.adopted_<seed>, typed as the seed): the one union each stg_rules__ model of such a seed reads, the only
    caller (tests/test_layers.py counts a call as reading the seed). -#}
{% macro rule_rows(seed, columns) -%}
    select
        {{ columns | join(',\n        ') }}
    from {{ ref(seed) }}
    union all
    select
        {{ columns | join(',\n        ') }}
    from {{ source('raw', 'adopted_' ~ seed) }}
{%- endmacro %}
