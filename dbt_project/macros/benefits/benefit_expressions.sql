{#- Expression helpers of the benefit models (the judgement, the entitlement lookups). -#}

{#- Units one use stands for: its quantity where the service is counted by quantity, otherwise 1. -#}
{%- macro benefit_units_per_use(usage, catalogue) -%}
    case
        when {{ catalogue }}.is_counted_by_quantity then cast({{ usage }}.quantity as decimal(18, 2))
        else cast(1 as decimal(18, 2))
    end
{%- endmacro -%}

{#- Units a use consumes: its units (benefit_units_per_use) when completed, or a no-show where the service
    says so; otherwise 0. -#}
{%- macro benefit_consumed_units(usage, catalogue) -%}
    case
        when {{ usage }}.status = 'completed'
            or ({{ usage }}.status = 'no_show' and coalesce({{ catalogue }}.is_no_show_counted, false))
            then {{ benefit_units_per_use(usage, catalogue) }}
        else cast(0 as decimal(18, 2))
    end
{%- endmacro -%}

{#- The user's relation to the holder: self, the relation in relatives.csv, or not_a_relative. -#}
{%- macro benefit_beneficiary_relation(usage, holder_relatives) -%}
    case
        when {{ usage }}.beneficiary_id is null or {{ usage }}.beneficiary_id = {{ usage }}.holder_id then 'self'
        when {{ holder_relatives }}.holder_id = {{ usage }}.holder_id then {{ holder_relatives }}.relation
        else 'not_a_relative'
    end
{%- endmacro -%}

{#- A use's variant as a key of the matrix: the variant, '~none' when empty, '~other' when unknown. -#}
{%- macro benefit_variant_key(usage, known_variants) -%}
    coalesce(
        {{ known_variants }}.variant_key,
        case when nullif({{ usage }}.variant, '') is null then '~none' else '~other' end
    )
{%- endmacro -%}

{#- The pool an entitlement row counts against: its quota_group, else a pool of its own (service:variant,
    '*' for the any-variant row). Rows of one rulebook × service × tier sharing a pool share one quota. -#}
{%- macro entitlement_pool_key() -%}
    coalesce(quota_group, service_code || ':' || coalesce(variant, '*'))
{%- endmacro -%}
