-- Rating slices (RULES §2–3), on each basis of the status timeline (effective; as_recorded for the recomputed
-- coverages): one row per slice piece (coverage × base or top-up × rulebook, split where the premium changes
-- and cut to the counting status intervals and the coverage term). A slice is the base slice of a coverage
-- (regular, single, one_year; unrated when no rule matches) or one of its top-ups, under one rulebook,
-- clipped to the rulebook's range. Excluded slices (voided, group, under 12 months, no rule) keep their rows
-- with the excluded_reason; a slice left with no row at all keeps one row over its window with the reason
-- it never counted. The effective rows are published as marts.fct_policy_rating.
with

coverage_rulings as (
    select * from {{ ref('int_rating__coverage_rulings') }}
    where scenario_id is null  -- the rulebooks in force (a scenario's proposal is rated by the scenario models)
),

coverage_premiums as (
    select * from {{ ref('int_rating__coverage_premiums') }}
),

top_ups as (
    select * from {{ ref('int_rating__top_ups') }}
),

status_timeline as (
    select * from {{ ref('int_rating__coverage_status_timeline') }}
),

rating_exclusions as (
    select * from {{ ref('stg_rules__rating_exclusions') }}
    where scenario_id is null
),

-- The coverages of each basis, with the status a voiding event left them in: the initial row of each.
coverage_bases as (
    select
        status_timeline.basis,
        status_timeline.coverage_id,
        status_timeline.voided_status
    from status_timeline
    where status_timeline.txn_type = 'initial'
),

statuses as (
    select
        status_timeline.basis,
        status_timeline.coverage_id,
        status_timeline.txn_type,
        status_timeline.status,
        status_timeline.valid_from,
        status_timeline.valid_until
    from status_timeline
    where status_timeline.is_nonempty_interval
),

rulings as (
    select
        coverage_bases.basis,
        coverage_rulings.*,
        case
            when
                coverage_bases.voided_status is not null
                and (
                    coverage_rulings.policy_excluded_priority is null
                    or coalesce(voided_exclusions.priority, 0) < coverage_rulings.policy_excluded_priority
                )
                then coalesce(voided_exclusions.excluded_reason, coverage_bases.voided_status)
            else coverage_rulings.policy_excluded_reason
        end as coverage_excluded_reason
    from coverage_rulings
    inner join coverage_bases
        on coverage_rulings.coverage_id = coverage_bases.coverage_id
    left join rating_exclusions as voided_exclusions
        on
            coverage_rulings.rulebook_id = voided_exclusions.rulebook_id
            and voided_exclusions.applies_to = 'status'
            and coverage_bases.voided_status = voided_exclusions.match_value
),

status_counting as (
    select
        rulings.basis,
        rulings.coverage_rulebook_id,
        statuses.txn_type,
        statuses.valid_from,
        statuses.valid_until,
        status_exclusions.excluded_reason is null as is_counting,
        status_exclusions.excluded_reason as status_excluded_reason
    from rulings
    inner join statuses
        on
            rulings.basis = statuses.basis
            and rulings.coverage_id = statuses.coverage_id
    left join rating_exclusions as status_exclusions
        on
            rulings.rulebook_id = status_exclusions.rulebook_id
            and status_exclusions.applies_to = 'status'
            and statuses.status = status_exclusions.match_value
    where rulings.coverage_excluded_reason is null
),

counting_islands as (
    {{ rating_status_islands('status_counting', ['basis', 'coverage_rulebook_id'], 'is_counting') }}
),

slices as (
    select
        rulings.basis,
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
        rulings.basis,
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
    inner join top_ups
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
        premiums.valid_until as premium_until,
        premiums.change_txn_type as premium_start_reason,
        premiums.ended_by_txn_type as premium_end_reason,
        greatest(rulebook_windows.rulebook_window_from, premiums.valid_from) as piece_from,
        least(rulebook_windows.rulebook_window_until, premiums.valid_until) as piece_until
    from rulebook_windows
    inner join coverage_premiums as premiums
        on
            rulebook_windows.coverage_id = premiums.coverage_id
            and (premiums.valid_until is null or rulebook_windows.rulebook_window_from < premiums.valid_until)
            and (
                premiums.valid_from is null
                or rulebook_windows.rulebook_window_until is null
                or rulebook_windows.rulebook_window_until > premiums.valid_from
            )
    where
        rulebook_windows.top_up_txn_id is null
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
    where
        rulebook_windows.top_up_txn_id is not null
        and (
            rulebook_windows.rulebook_window_until is null
            or rulebook_windows.rulebook_window_until > rulebook_windows.rulebook_window_from
        )
),

cut_pieces as (
    select
        premium_pieces.*,
        islands.valid_from as island_from,
        islands.valid_until as island_until,
        islands.start_txn_type as island_start_reason,
        islands.end_txn_type as island_end_reason,
        greatest(premium_pieces.piece_from, islands.valid_from) as counts_from,
        least(premium_pieces.piece_until, premium_pieces.term_end_date, islands.valid_until) as counts_until
    from premium_pieces
    left join counting_islands as islands
        on
            premium_pieces.basis = islands.basis
            and premium_pieces.coverage_rulebook_id = islands.coverage_rulebook_id
            and premium_pieces.excluded_reason is null
            and islands.is_counting
            and (islands.valid_until is null or premium_pieces.piece_from < islands.valid_until)
            and (premium_pieces.piece_until is null or premium_pieces.piece_until > islands.valid_from)
    where
        premium_pieces.excluded_reason is not null
        or islands.coverage_rulebook_id is not null
),

kept_pieces as (
    select
        cut_pieces.*,
        case
            when cut_pieces.counts_from = cut_pieces.window_from then cut_pieces.window_start_reason
            when
                cut_pieces.counts_from = cut_pieces.island_from and cut_pieces.island_start_reason <> 'initial'
                then cut_pieces.island_start_reason
            when cut_pieces.counts_from = cut_pieces.premium_from then cut_pieces.premium_start_reason
            when cut_pieces.counts_from = cut_pieces.rulebook_from then 'rule_change'
            else cut_pieces.window_start_reason
        end as start_reason,
        case
            when
                cut_pieces.counts_until = cut_pieces.window_until and cut_pieces.window_end_reason is not null
                then cut_pieces.window_end_reason
            when cut_pieces.counts_until = cut_pieces.term_end_date then 'coverage_term_ended'
            when cut_pieces.counts_until = cut_pieces.island_until then cut_pieces.island_end_reason
            when cut_pieces.counts_until = cut_pieces.premium_until then cut_pieces.premium_end_reason
            when cut_pieces.counts_until = cut_pieces.rulebook_until then 'rule_change'
        end as end_reason
    from cut_pieces
    where
        cut_pieces.counts_until is null
        or cut_pieces.counts_until > cut_pieces.counts_from
),

-- premium versions cover the window without a gap: its first piece starts where the window starts
uncounted_first_pieces as (
    select premium_pieces.*
    from premium_pieces
    where
        premium_pieces.piece_from = premium_pieces.rulebook_window_from
        and not exists (
            select 1
            from kept_pieces
            where
                kept_pieces.basis = premium_pieces.basis
                and kept_pieces.slice_key = premium_pieces.slice_key
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
        on
            uncounted_first_pieces.basis = status_at_start.basis
            and uncounted_first_pieces.coverage_rulebook_id = status_at_start.coverage_rulebook_id
            and uncounted_first_pieces.rulebook_window_from >= status_at_start.valid_from
            and (
                status_at_start.valid_until is null
                or uncounted_first_pieces.rulebook_window_from < status_at_start.valid_until
            )
),

rows_out as (
    select
        kept_pieces.basis,
        kept_pieces.slice_key,
        kept_pieces.holder_id,
        kept_pieces.policy_no,
        kept_pieces.coverage_no,
        kept_pieces.rulebook_id,
        kept_pieces.slice_kind,
        kept_pieces.top_up_txn_id,
        kept_pieces.rule_no,
        kept_pieces.base_amount,
        kept_pieces.coefficient,
        kept_pieces.counts_from,
        kept_pieces.counts_until,
        kept_pieces.excluded_reason,
        kept_pieces.start_reason,
        kept_pieces.end_reason
    from kept_pieces

    union all

    select
        never_counted.basis,
        never_counted.slice_key,
        never_counted.holder_id,
        never_counted.policy_no,
        never_counted.coverage_no,
        never_counted.rulebook_id,
        never_counted.slice_kind,
        never_counted.top_up_txn_id,
        never_counted.rule_no,
        never_counted.base_amount,
        never_counted.coefficient,
        never_counted.counts_from,
        never_counted.counts_until,
        never_counted.never_counted_reason as excluded_reason,
        never_counted.window_start_reason as start_reason,
        never_counted.window_end_reason as end_reason
    from never_counted
),

final as (
    select
        rows_out.slice_key || '/' || cast(rows_out.counts_from as {{ dbt.type_string() }}) as slice_id,
        rows_out.basis,
        rows_out.holder_id,
        rows_out.policy_no,
        rows_out.coverage_no,
        rows_out.slice_kind,
        rows_out.base_amount,
        rows_out.coefficient,
        cast(cast(rows_out.base_amount as decimal(38, 2)) * rows_out.coefficient as decimal(38, 6)) as rated_amount,
        rows_out.counts_from,
        rows_out.counts_until,
        rows_out.excluded_reason,
        rows_out.rulebook_id,
        rows_out.rule_no,
        rows_out.top_up_txn_id,
        rows_out.start_reason,
        rows_out.end_reason
    from rows_out
)

select * from final
