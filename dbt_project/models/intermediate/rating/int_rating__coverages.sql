-- One row per coverage (policy line) effective on or before the as-of date, with the dates the rating
-- needs: start (the day after free look), end of coverage term (clamped to month end; null = whole life)
-- and the reason code of its first slice (new_business, or new_rider for a rider added by add_rider).
with

policies as (
    select * from {{ ref('int_core__policies_resolved') }}
),

transactions as (
    select * from {{ ref('int_core__policy_transactions_resolved') }}
),

txn_types as (
    select * from {{ ref('stg_rules__txn_types') }}
),

payment_modes as (
    select * from {{ ref('stg_rules__payment_modes') }}
),

added_riders as (
    select distinct
        transactions.policy_no,
        transactions.coverage_no
    from transactions
    inner join txn_types
        on transactions.txn_type = txn_types.txn_type
    where
        txn_types.txn_class = 'rider'
        and transactions.coverage_no is not null
),

final as (
    select
        policies.policy_no || '/' || cast(policies.coverage_no as {{ dbt.type_string() }}) as coverage_id,
        policies.holder_id,
        policies.policy_no,
        policies.coverage_no,
        policies.product_category,
        policies.is_group,
        policies.coverage_term_months,
        policies.payment_mode,
        policies.payment_years,
        policies.modal_premium,
        payment_modes.installments_per_year,
        policies.effective_date,
        policies.free_look_end_date,
        greatest(
            coalesce({{ rating_add_days('policies.free_look_end_date', 1) }}, policies.effective_date),
            policies.effective_date
        ) as start_date,
        {{ rating_add_months('policies.effective_date', 'policies.coverage_term_months') }} as term_end_date,
        case when added_riders.coverage_no is not null then 'new_rider' else 'new_business' end as origin_reason,
        policies.status as snapshot_status,
        policies.status_date as snapshot_status_date,
        policies.extract_date
    from policies
    left join payment_modes
        on policies.payment_mode = payment_modes.payment_mode
    left join added_riders
        on
            policies.policy_no = added_riders.policy_no
            and policies.coverage_no = added_riders.coverage_no
    where policies.effective_date <= {{ as_of_date() }}
)

select * from final
