{#- Schemas are used exactly as named (raw, staging, intermediate, marts, rules), not prefixed by the target schema.
    With the var `by_holder` (a build's pass over the touched holders, dagster_project/lib/by_holder.py) every
    model's schema is prefixed `by_holder_`: the pass writes beside the warehouse's tables, never into them. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- set schema = target.schema if custom_schema_name is none else custom_schema_name | trim -%}
    {%- if var('by_holder', false) and node.resource_type == 'model' -%}by_holder_{{ schema }}{%- else -%}{{ schema }}{%- endif -%}
{%- endmacro %}
