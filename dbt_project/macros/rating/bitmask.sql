{#- Bitmask helpers of the sweep's reason codes: OR-aggregate of bits, and whether a mask holds a bit. -#}
{% macro bit_or_agg(expr) -%}
    {{ return(adapter.dispatch('bit_or_agg')(expr)) }}
{%- endmacro %}

{% macro default__bit_or_agg(expr) -%}
    bit_or({{ expr }})
{%- endmacro %}

{% macro mask_has_bit(mask_expr, bit_expr) -%}
    {{ return(adapter.dispatch('mask_has_bit')(mask_expr, bit_expr)) }}
{%- endmacro %}

{% macro default__mask_has_bit(mask_expr, bit_expr) -%}
    (({{ mask_expr }}) & ({{ bit_expr }})) <> 0
{%- endmacro %}

{#-
  The codes of a reason mask, sorted and joined with '; ', as a scalar subquery over `change_reasons`
  (reason_code, reason_bit).
-#}
{% macro decode_reasons(mask_expr, change_reasons) -%}
    (
        select {{ distinct_codes('decoded_reasons.reason_code') }}
        from {{ change_reasons }} as decoded_reasons
        where {{ mask_has_bit(mask_expr, 'decoded_reasons.reason_bit') }}
    )
{%- endmacro %}
