-- Current rows the int_core__*_resolved models leave out because an id they carry points nowhere: the staged
-- rows (each extract's current state) without a resolved row of the same key. Judged on the current state of
-- all loaded batches, so the verdict does not depend on the order batches were loaded in. Each row carries its
-- holder (null for a transaction: its policy may be unknown) and, for a transaction, its policy, the keys a build
-- by holder recomputes it by (dagster_project/lib/by_holder.py).
with

policies as (
    select * from {{ ref('stg_core__policies') }}
),

transactions as (
    select * from {{ ref('stg_core__policy_transactions') }}
),

relatives as (
    select * from {{ ref('stg_core__relatives') }}
),

activations as (
    select * from {{ ref('stg_core__service_activations') }}
),

usage as (
    select * from {{ ref('stg_core__service_usage') }}
),

orphans as (
    select
        'policies.csv' as file_name,
        policies.policy_no || '/' || cast(policies.coverage_no as {{ dbt.type_string() }}) as record_key,
        policies.extract_date,
        policies.source_line,
        'holder_id ' || policies.holder_id || ' is not a known customer' as reason,
        policies.holder_id,
        cast(null as {{ dbt.type_string() }}) as policy_no
    from policies
    where
        not exists (
            select 1 from {{ ref('int_core__policies_resolved') }} as resolved
            where resolved.policy_no = policies.policy_no and resolved.coverage_no = policies.coverage_no
        )

    union all

    select
        'policy_transactions.csv' as file_name,
        transactions.txn_id as record_key,
        transactions.extract_date,
        transactions.source_line,
        'policy ' || transactions.policy_no
        || coalesce(' coverage ' || cast(transactions.coverage_no as {{ dbt.type_string() }}), '')
        || ' is not a known policy coverage' as reason,
        cast(null as {{ dbt.type_string() }}) as holder_id,
        transactions.policy_no
    from transactions
    where
        not exists (
            select 1 from {{ ref('int_core__policy_transactions_resolved') }} as resolved
            where resolved.txn_id = transactions.txn_id
        )

    union all

    select
        'relatives.csv' as file_name,
        relatives.relative_id as record_key,
        relatives.extract_date,
        relatives.source_line,
        'holder_id ' || relatives.holder_id || ' is not a known customer' as reason,
        relatives.holder_id,
        cast(null as {{ dbt.type_string() }}) as policy_no
    from relatives
    where
        not exists (
            select 1 from {{ ref('int_core__relatives_resolved') }} as resolved
            where resolved.relative_id = relatives.relative_id
        )

    union all

    select
        'service_activations.csv' as file_name,
        activations.holder_id || '/' || activations.service_code as record_key,
        activations.extract_date,
        activations.source_line,
        'holder_id ' || activations.holder_id || ' is not a known customer' as reason,
        activations.holder_id,
        cast(null as {{ dbt.type_string() }}) as policy_no
    from activations
    where
        not exists (
            select 1 from {{ ref('int_core__service_activations_resolved') }} as resolved
            where resolved.holder_id = activations.holder_id and resolved.service_code = activations.service_code
        )

    union all

    select
        'service_usage.csv' as file_name,
        usage.usage_id as record_key,
        usage.extract_date,
        usage.source_line,
        'holder_id ' || usage.holder_id || ' or beneficiary_id '
        || coalesce(usage.beneficiary_id, '') || ' is not known' as reason,
        usage.holder_id,
        cast(null as {{ dbt.type_string() }}) as policy_no
    from usage
    where
        not exists (
            select 1 from {{ ref('int_core__service_usage_resolved') }} as resolved
            where resolved.usage_id = usage.usage_id
        )
)

select * from orphans
