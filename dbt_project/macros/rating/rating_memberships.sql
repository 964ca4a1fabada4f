{#-
  Membership intervals (RULES §4) as one query over `coverage_rulings` (int_rating__coverage_rulings) and
  `status_timeline` (rows of int_rating__coverage_status_timeline, one basis): per coverage and rulebook, the maximal intervals in
  which a coverage not excluded by its kind (group, under 12 months) and not voided has passed its free
  look, has not ended its term and is in force (in force, premium waived, reduced paid-up), clipped to the
  rulebook's range; with the reason code of the event that opened and closed each interval.
-#}
{% macro rating_memberships(coverage_rulings, status_timeline) -%}
with

statuses as (
    select
        coverage_id,
        txn_type,
        is_in_force,
        valid_from,
        valid_to
    from {{ status_timeline }}
    where is_nonempty_interval
),

voided as (
    {{ rating_voided_coverages(status_timeline) }}
),

in_force_islands as (
    {{ rating_status_islands('statuses', ['coverage_id'], 'is_in_force') }}
),

eligible as (
    select
        rulings.*,
        greatest(rulings.start_date, rulings.rulebook_from) as eligible_from,
        least(rulings.term_end_date, rulings.rulebook_until) as eligible_until
    from {{ coverage_rulings }} as rulings
    left join voided
        on rulings.coverage_id = voided.coverage_id
    where rulings.policy_excluded_reason is null
        and voided.coverage_id is null
),

memberships as (
    select
        eligible.coverage_rulebook_id,
        eligible.holder_id,
        eligible.policy_no,
        eligible.coverage_no,
        eligible.rulebook_id,
        greatest(eligible.eligible_from, islands.valid_from) as valid_from,
        least(eligible.eligible_until, islands.valid_to) as valid_to,
        eligible.start_date,
        eligible.term_end_date,
        eligible.rulebook_from,
        eligible.rulebook_until,
        eligible.origin_reason,
        islands.valid_from as island_from,
        islands.valid_to as island_until,
        islands.start_txn_type,
        islands.end_txn_type
    from eligible
    inner join in_force_islands as islands
        on eligible.coverage_id = islands.coverage_id
        and islands.is_in_force
        and (islands.valid_to is null or islands.valid_to > eligible.eligible_from)
        and (eligible.eligible_until is null or islands.valid_from < eligible.eligible_until)
    where eligible.eligible_until is null
        or eligible.eligible_until > eligible.eligible_from
)

select
    coverage_rulebook_id || '/' || cast(valid_from as {{ dbt.type_string() }}) as membership_id,
    holder_id,
    policy_no,
    coverage_no,
    rulebook_id,
    valid_from,
    valid_to,
    case
        when valid_from = start_date then origin_reason
        when valid_from = island_from and start_txn_type <> 'initial' then start_txn_type
        when valid_from = rulebook_from then 'rule_change'
        else origin_reason
    end as start_reason,
    case
        when valid_to = term_end_date then 'coverage_term_ended'
        when valid_to = island_until then end_txn_type
        when valid_to = rulebook_until then 'rule_change'
    end as end_reason
from memberships
{%- endmacro %}
