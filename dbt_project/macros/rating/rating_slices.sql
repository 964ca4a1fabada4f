{#-
  Rating slices (RULES §2–3) as one query over relations (model or CTE names):
  `coverage_rulings` (int_rating__coverage_rulings), `coverage_premiums` (int_rating__coverage_premiums),
  `top_ups` (int_rating__top_ups), `status_timeline` (rows of int_rating__coverage_status_timeline, one basis) and
  `rating_exclusions` (stg_rules__rating_exclusions).

  A slice is the base slice of a coverage (regular, single, one_year; unrated when no rule matches) or one
  of its top-ups, under one rulebook, clipped to the rulebook's range. It is split where the premium
  changes (new base) and, when it counts, cut to the coverage's counting status intervals and its term.
  Excluded slices (voided, group, under 12 months, no rule) keep their rows with the excluded_reason; a
  slice left with no row at all keeps one row over its window with the reason it never counted.
-#}
{% macro rating_slices(coverage_rulings, coverage_premiums, top_ups, status_timeline, rating_exclusions) -%}
{%- set ruling_columns -%}
        rulings.coverage_rulebook_id,
        rulings.coverage_id,
        rulings.holder_id,
        rulings.policy_no,
        rulings.coverage_no,
        rulings.rulebook_id,
        rulings.rulebook_from,
        rulings.rulebook_until,
        rulings.term_end_date,
        rulings.coverage_excluded_reason,
{%- endset %}
with

statuses as (
    select
        coverage_id,
        txn_type,
        status,
        valid_from,
        valid_to
    from {{ status_timeline }}
    where is_nonempty_interval
),

voided as (
    {{ rating_voided_coverages(status_timeline) }}
),

rulings as (
    select
        rulings.*,
        case
            when voided.voided_status is not null
                and (
                    rulings.policy_excluded_priority is null
                    or coalesce(voided_exclusions.priority, 0) < rulings.policy_excluded_priority
                )
                then coalesce(voided_exclusions.excluded_reason, voided.voided_status)
            else rulings.policy_excluded_reason
        end as coverage_excluded_reason
    from {{ coverage_rulings }} as rulings
    left join voided
        on rulings.coverage_id = voided.coverage_id
    left join {{ rating_exclusions }} as voided_exclusions
        on rulings.rulebook_id = voided_exclusions.rulebook_id
        and voided_exclusions.applies_to = 'status'
        and voided.voided_status = voided_exclusions.match_value
),

status_counting as (
    select
        rulings.coverage_rulebook_id,
        statuses.txn_type,
        statuses.valid_from,
        statuses.valid_to,
        status_exclusions.excluded_reason is null as is_counting,
        status_exclusions.excluded_reason as status_excluded_reason
    from rulings
    inner join statuses
        on rulings.coverage_id = statuses.coverage_id
    left join {{ rating_exclusions }} as status_exclusions
        on rulings.rulebook_id = status_exclusions.rulebook_id
        and status_exclusions.applies_to = 'status'
        and statuses.status = status_exclusions.match_value
    where rulings.coverage_excluded_reason is null
),

counting_islands as (
    {{ rating_status_islands('status_counting', ['coverage_rulebook_id'], 'is_counting') }}
),

slices as (
    select
        {{ ruling_columns }}
        cast(null as {{ dbt.type_string() }}) as top_up_txn_id,
        rulings.slice_kind,
        rulings.rule_no,
        rulings.coefficient,
        cast(null as decimal(18, 2)) as top_up_amount,
        rulings.window_from,
        rulings.window_until,
        rulings.origin_reason as window_start_reason,
        rulings.window_end_reason
    from rulings

    union all

    select
        {{ ruling_columns }}
        top_ups.txn_id as top_up_txn_id,
        'top_up' as slice_kind,
        rulings.top_up_rule_no as rule_no,
        rulings.top_up_coefficient as coefficient,
        top_ups.amount as top_up_amount,
        greatest(top_ups.effective_date, rulings.start_date) as window_from,
        {{ rating_add_years('greatest(top_ups.effective_date, rulings.start_date)', 'rulings.top_up_window_years') }}
            as window_until,
        'top_up' as window_start_reason,
        'top_up_window_ended' as window_end_reason
    from rulings
    inner join {{ top_ups }} as top_ups
        on rulings.coverage_id = top_ups.coverage_id
),

rulebook_windows as (
    select
        slices.coverage_rulebook_id || '/' || coalesce(slices.top_up_txn_id, 'base') as slice_key,
        slices.*,
        coalesce(
            slices.coverage_excluded_reason,
            case when slices.rule_no is null then 'no_rating_rule' end
        ) as excluded_reason,
        greatest(slices.window_from, slices.rulebook_from) as rulebook_window_from,
        least(slices.window_until, slices.rulebook_until) as rulebook_window_until
    from slices
),

premium_pieces as (
    select
        rulebook_windows.*,
        premiums.annualised_premium as base_amount,
        premiums.valid_from as premium_from,
        premiums.valid_to as premium_until,
        premiums.change_txn_type as premium_start_reason,
        premiums.ended_by_txn_type as premium_end_reason,
        greatest(rulebook_windows.rulebook_window_from, premiums.valid_from) as piece_from,
        least(rulebook_windows.rulebook_window_until, premiums.valid_to) as piece_until
    from rulebook_windows
    inner join {{ coverage_premiums }} as premiums
        on rulebook_windows.coverage_id = premiums.coverage_id
        and (premiums.valid_to is null or premiums.valid_to > rulebook_windows.rulebook_window_from)
        and (
            premiums.valid_from is null
            or rulebook_windows.rulebook_window_until is null
            or premiums.valid_from < rulebook_windows.rulebook_window_until
        )
    where rulebook_windows.top_up_txn_id is null
        and (
            rulebook_windows.rulebook_window_until is null
            or rulebook_windows.rulebook_window_until > rulebook_windows.rulebook_window_from
        )

    union all

    select
        rulebook_windows.*,
        rulebook_windows.top_up_amount as base_amount,
        cast(null as date) as premium_from,
        cast(null as date) as premium_until,
        cast(null as {{ dbt.type_string() }}) as premium_start_reason,
        cast(null as {{ dbt.type_string() }}) as premium_end_reason,
        rulebook_windows.rulebook_window_from as piece_from,
        rulebook_windows.rulebook_window_until as piece_until
    from rulebook_windows
    where rulebook_windows.top_up_txn_id is not null
        and (
            rulebook_windows.rulebook_window_until is null
            or rulebook_windows.rulebook_window_until > rulebook_windows.rulebook_window_from
        )
),

cut_pieces as (
    select
        premium_pieces.*,
        islands.valid_from as island_from,
        islands.valid_to as island_until,
        islands.start_txn_type as island_start_reason,
        islands.end_txn_type as island_end_reason,
        greatest(premium_pieces.piece_from, islands.valid_from) as counts_from,
        least(premium_pieces.piece_until, premium_pieces.term_end_date, islands.valid_to) as counts_until
    from premium_pieces
    left join counting_islands as islands
        on premium_pieces.coverage_rulebook_id = islands.coverage_rulebook_id
        and premium_pieces.excluded_reason is null
        and islands.is_counting
        and (islands.valid_to is null or islands.valid_to > premium_pieces.piece_from)
        and (premium_pieces.piece_until is null or islands.valid_from < premium_pieces.piece_until)
    where premium_pieces.excluded_reason is not null
        or islands.coverage_rulebook_id is not null
),

kept_pieces as (
    select
        cut_pieces.*,
        case
            when counts_from = window_from then window_start_reason
            when counts_from = island_from and island_start_reason <> 'initial' then island_start_reason
            when counts_from = premium_from then premium_start_reason
            when counts_from = rulebook_from then 'rule_change'
            else window_start_reason
        end as start_reason,
        case
            when counts_until = window_until and window_end_reason is not null then window_end_reason
            when counts_until = term_end_date then 'coverage_term_ended'
            when counts_until = island_until then island_end_reason
            when counts_until = premium_until then premium_end_reason
            when counts_until = rulebook_until then 'rule_change'
        end as end_reason
    from cut_pieces
    where counts_until is null
        or counts_until > counts_from
),

-- premium versions cover the window without a gap: its first piece starts where the window starts
uncounted_first_pieces as (
    select premium_pieces.*
    from premium_pieces
    where premium_pieces.piece_from = premium_pieces.rulebook_window_from
        and not exists (
            select 1
            from kept_pieces
            where kept_pieces.slice_key = premium_pieces.slice_key
        )
),

never_counted as (
    select
        uncounted_first_pieces.*,
        uncounted_first_pieces.rulebook_window_from as counts_from,
        uncounted_first_pieces.rulebook_window_until as counts_until,
        coalesce(
            uncounted_first_pieces.excluded_reason,
            status_at_start.status_excluded_reason,
            'outside_coverage_term'
        ) as never_counted_reason
    from uncounted_first_pieces
    left join status_counting as status_at_start
        on uncounted_first_pieces.coverage_rulebook_id = status_at_start.coverage_rulebook_id
        and status_at_start.valid_from <= uncounted_first_pieces.rulebook_window_from
        and (
            status_at_start.valid_to is null
            or status_at_start.valid_to > uncounted_first_pieces.rulebook_window_from
        )
),

rows_out as (
    select
        slice_key,
        holder_id,
        policy_no,
        coverage_no,
        rulebook_id,
        slice_kind,
        top_up_txn_id,
        rule_no,
        base_amount,
        coefficient,
        counts_from,
        counts_until,
        excluded_reason,
        start_reason,
        end_reason
    from kept_pieces

    union all

    select
        slice_key,
        holder_id,
        policy_no,
        coverage_no,
        rulebook_id,
        slice_kind,
        top_up_txn_id,
        rule_no,
        base_amount,
        coefficient,
        counts_from,
        counts_until,
        never_counted_reason as excluded_reason,
        window_start_reason as start_reason,
        window_end_reason as end_reason
    from never_counted
)

select
    slice_key || '/' || cast(counts_from as {{ dbt.type_string() }}) as slice_id,
    holder_id,
    policy_no,
    coverage_no,
    slice_kind,
    base_amount,
    coefficient,
    cast(cast(base_amount as decimal(38, 2)) * coefficient as decimal(38, 6)) as rated_amount,
    counts_from,
    counts_until,
    excluded_reason,
    rulebook_id,
    rule_no,
    top_up_txn_id,
    start_reason,
    end_reason
from rows_out
{%- endmacro %}
