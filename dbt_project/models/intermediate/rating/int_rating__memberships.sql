-- Membership intervals (RULES §4), on each basis of the status timeline: per coverage and rulebook, the
-- maximal intervals in which a coverage not excluded by its kind (group, under 12 months) and not voided has
-- passed its free look, has not ended its term and is in force (in force, premium waived, reduced paid-up),
-- clipped to the rulebook's range; with the reason code of the event that opened and closed each interval.
with

coverage_rulings as (
    select * from {{ ref('int_rating__coverage_rulings') }}
    where scenario_id is null  -- the rulebooks in force (a scenario's proposal is rated by the scenario models)
),

status_timeline as (
    select * from {{ ref('int_rating__coverage_status_timeline') }}
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
        status_timeline.is_in_force,
        status_timeline.valid_from,
        status_timeline.valid_until
    from status_timeline
    where status_timeline.is_nonempty_interval
),

in_force_islands as (
    {{ rating_status_islands('statuses', ['basis', 'coverage_id'], 'is_in_force') }}
),

eligible as (
    select
        coverage_bases.basis,
        rulings.*,
        greatest(rulings.start_date, rulings.rulebook_from) as eligible_from,
        least(rulings.term_end_date, rulings.rulebook_until) as eligible_until
    from coverage_rulings as rulings
    inner join coverage_bases
        on rulings.coverage_id = coverage_bases.coverage_id
    where
        rulings.policy_excluded_reason is null
        and coverage_bases.voided_status is null
),

memberships as (
    select
        eligible.basis,
        eligible.coverage_rulebook_id,
        eligible.holder_id,
        eligible.policy_no,
        eligible.coverage_no,
        eligible.rulebook_id,
        greatest(eligible.eligible_from, islands.valid_from) as valid_from,
        least(eligible.eligible_until, islands.valid_until) as valid_until,
        eligible.start_date,
        eligible.term_end_date,
        eligible.rulebook_from,
        eligible.rulebook_until,
        eligible.origin_reason,
        islands.valid_from as island_from,
        islands.valid_until as island_until,
        islands.start_txn_type,
        islands.end_txn_type
    from eligible
    inner join in_force_islands as islands
        on
            eligible.basis = islands.basis
            and eligible.coverage_id = islands.coverage_id
            and islands.is_in_force
            and (islands.valid_until is null or eligible.eligible_from < islands.valid_until)
            and (eligible.eligible_until is null or eligible.eligible_until > islands.valid_from)
    where
        eligible.eligible_until is null
        or eligible.eligible_until > eligible.eligible_from
),

final as (
    select
        memberships.basis || '/' || memberships.coverage_rulebook_id || '/'
        || cast(memberships.valid_from as {{ dbt.type_string() }}) as membership_id,
        memberships.basis,
        memberships.holder_id,
        memberships.policy_no,
        memberships.coverage_no,
        memberships.rulebook_id,
        memberships.valid_from,
        memberships.valid_until,
        case
            when memberships.valid_from = memberships.start_date then memberships.origin_reason
            when
                memberships.valid_from = memberships.island_from and memberships.start_txn_type <> 'initial'
                then memberships.start_txn_type
            when memberships.valid_from = memberships.rulebook_from then 'rule_change'
            else memberships.origin_reason
        end as start_reason,
        case
            when memberships.valid_until = memberships.term_end_date then 'coverage_term_ended'
            when memberships.valid_until = memberships.island_until then memberships.end_txn_type
            when memberships.valid_until = memberships.rulebook_until then 'rule_change'
        end as end_reason
    from memberships
)

select * from final
