{#-
  Tier (or rated premium, or any column of fct_member_tier_history) of holder X on day D, as a scalar
  subquery usable in any select: null when X is not in the programme on D. For D after the as-of date it
  is the tier at the as-of date.

      select usage.usage_id, {{ tier_as_of('usage.holder_id', 'usage.service_date') }} as tier_code_at_service
      from ...

  column='rated_premium' reads fct_member_rated_premium_history (the premium on D, not at the tier's start).
  At most one row matches (intervals do not overlap); max() only makes the subquery a scalar aggregate.
  For many rows at once the same condition as a join is the set-based form:
      left join marts.fct_member_tier_history as tier_history
          on tier_history.holder_id = usage.holder_id
          and usage.service_date >= tier_history.valid_from
          and (tier_history.valid_to is null or usage.service_date < tier_history.valid_to)
-#}
{% macro tier_as_of(holder_id_expr, date_expr, column='tier_code') -%}
    {%- set history = ref('fct_member_rated_premium_history') if column == 'rated_premium' else ref('fct_member_tier_history') -%}
    (
        select max(history_as_of.{{ column }})
        from {{ history }} as history_as_of
        where history_as_of.holder_id = {{ holder_id_expr }}
            and history_as_of.valid_from <= {{ date_expr }}
            and (history_as_of.valid_to is null or history_as_of.valid_to > {{ date_expr }})
    )
{%- endmacro %}
