{#- Whether a rated premium falls in a tier of a thresholds relation: [lower_bound, upper_bound), the top tier
    open. The one definition of a tier by premium (RULES §3), for the rating states and the scenario ratings. -#}
{%- macro in_tier(premium, thresholds) -%}
    {{ premium }} >= {{ thresholds }}.lower_bound
    and ({{ thresholds }}.upper_bound is null or {{ premium }} < {{ thresholds }}.upper_bound)
{%- endmacro -%}
