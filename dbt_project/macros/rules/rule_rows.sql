{#- A rulebook-keyed rule seed's rows, with `scenario_id`: those of the rulebooks in force (the seed's, and those
    adopted with `vipwh rulebook adopt`, raw.adopted_<seed>, typed as the seed) with none, and those of every
    stored proposal of `vipwh scenario run` (raw.proposal_<seed>) under its scenario_id. The one union each
    stg_rules__ model of such a seed reads, the only caller (tests/test_layers.py counts a call as reading the
    seed). A model of the rulebooks in force reads `where scenario_id is null`. -#}
{% macro rule_rows(seed, columns) -%}
    select
        {{ columns | join(',\n        ') }},
        cast(null as {{ dbt.type_string() }}) as scenario_id
    from {{ ref(seed) }}
    union all
    select
        {{ columns | join(',\n        ') }},
        cast(null as {{ dbt.type_string() }}) as scenario_id
    from {{ source('raw', 'adopted_' ~ seed) }}
    union all
    select
        {{ columns | join(',\n        ') }},
        scenario_id
    from {{ source('raw', 'proposal_' ~ seed) }}
{%- endmacro %}
