-- One row per coverage and premium version [valid_from, valid_until): from each new_business / add_coverage /
-- reduce_coverage on, the transaction's modal_premium_after (the latest recorded wins on one day); before the
-- first of them, policies.csv's modal_premium (valid_from null) - a version kept only when the first premium
-- transaction comes after the effective date (the gap) or there is none.
with

coverages as (
    select * from {{ ref('int_rating__coverages') }}
),

transactions as (
    select * from {{ ref('int_core__policy_transactions_resolved') }}
),

txn_types as (
    select * from {{ ref('stg_rules__txn_types') }}
),

premium_transactions as (
    select
        transactions.txn_id,
        transactions.policy_no,
        coalesce(transactions.coverage_no, 0) as coverage_no,
        transactions.txn_type,
        transactions.effective_date,
        transactions.modal_premium_after,
        row_number() over (
            partition by transactions.policy_no, coalesce(transactions.coverage_no, 0), transactions.effective_date
            order by transactions.recorded_at desc, transactions.txn_id desc
        ) as same_day_rank
    from transactions
    inner join txn_types
        on transactions.txn_type = txn_types.txn_type
    where
        txn_types.txn_class = 'premium'
        and transactions.modal_premium_after is not null
        and transactions.effective_date <= {{ as_of_date() }}
),

premium_changes as (
    select
        coverages.coverage_id,
        premium_transactions.txn_id,
        premium_transactions.txn_type,
        premium_transactions.effective_date,
        premium_transactions.modal_premium_after
    from premium_transactions
    inner join coverages
        on
            premium_transactions.policy_no = coverages.policy_no
            and premium_transactions.coverage_no = coverages.coverage_no
    where premium_transactions.same_day_rank = 1
),

versions as (
    select
        coverage_id,
        cast(null as date) as valid_from,
        modal_premium,
        cast(null as {{ dbt.type_string() }}) as change_txn_id,
        cast(null as {{ dbt.type_string() }}) as change_txn_type
    from coverages

    union all

    select
        coverage_id,
        effective_date as valid_from,
        modal_premium_after as modal_premium,
        txn_id as change_txn_id,
        txn_type as change_txn_type
    from premium_changes
),

sequenced as (
    select
        versions.*,
        lead(versions.valid_from)
            over (partition by versions.coverage_id order by versions.valid_from nulls first)
            as valid_until,
        lead(versions.change_txn_type)
            over (partition by versions.coverage_id order by versions.valid_from nulls first)
            as ended_by_txn_type
    from versions
),

final as (
    select
        sequenced.coverage_id || '/' || coalesce(cast(sequenced.valid_from as {{ dbt.type_string() }}), 'policy')
            as premium_version_id,
        sequenced.coverage_id,
        coverages.policy_no,
        coverages.coverage_no,
        sequenced.valid_from,
        sequenced.valid_until,
        sequenced.modal_premium,
        sequenced.modal_premium * coverages.installments_per_year as annualised_premium,
        sequenced.change_txn_id,
        sequenced.change_txn_type,
        sequenced.ended_by_txn_type
    from sequenced
    inner join coverages
        on sequenced.coverage_id = coverages.coverage_id
    -- policies.csv's premium matters only when the first premium transaction leaves a gap after the effective date
    where
        sequenced.valid_from is not null
        or sequenced.valid_until is null
        or sequenced.valid_until > coverages.effective_date
)

select * from final
