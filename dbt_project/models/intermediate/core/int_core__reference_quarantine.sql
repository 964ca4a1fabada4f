-- Current rows the int_core__*_resolved models leave out because an id they carry points nowhere. Judged on the current
-- state of all loaded batches, so the verdict does not depend on the order batches were loaded in.
with

policies as (
    {{ latest_rows('policies', ['policy_no', 'coverage_no']) }}
),

transactions as (
    {{ latest_rows('policy_transactions', ['txn_id']) }}
),

relatives as (
    {{ latest_rows('relatives', ['relative_id']) }}
),

activations as (
    {{ latest_rows('service_activations', ['holder_id', 'service_code']) }}
),

usage as (
    {{ latest_rows('service_usage', ['usage_id']) }}
),

orphans as (
    select
        'policies.csv' as file_name,
        policies.policy_no || '/' || cast(policies.coverage_no as {{ dbt.type_string() }}) as record_key,
        policies._extract_date as extract_date,
        policies._source_line as source_line,
        'holder_id ' || policies.holder_id || ' is not a known customer' as reason
    from policies
    where
        policies._row_rank = 1
        and not exists (
            select 1 from {{ ref('int_core__policies_resolved') }} as resolved
            where resolved.policy_no = policies.policy_no and resolved.coverage_no = policies.coverage_no
        )

    union all

    select
        'policy_transactions.csv' as file_name,
        transactions.txn_id as record_key,
        transactions._extract_date as extract_date,
        transactions._source_line as source_line,
        'policy ' || transactions.policy_no
        || coalesce(' coverage ' || cast(transactions.coverage_no as {{ dbt.type_string() }}), '')
        || ' is not a known policy coverage' as reason
    from transactions
    where
        transactions._row_rank = 1
        and not exists (
            select 1 from {{ ref('int_core__policy_transactions_resolved') }} as resolved
            where resolved.txn_id = transactions.txn_id
        )

    union all

    select
        'relatives.csv' as file_name,
        relatives.relative_id as record_key,
        relatives._extract_date as extract_date,
        relatives._source_line as source_line,
        'holder_id ' || relatives.holder_id || ' is not a known customer' as reason
    from relatives
    where
        relatives._row_rank = 1
        and not exists (
            select 1 from {{ ref('int_core__relatives_resolved') }} as resolved
            where resolved.relative_id = relatives.relative_id
        )

    union all

    select
        'service_activations.csv' as file_name,
        activations.holder_id || '/' || activations.service_code as record_key,
        activations._extract_date as extract_date,
        activations._source_line as source_line,
        'holder_id ' || activations.holder_id || ' is not a known customer' as reason
    from activations
    where
        activations._row_rank = 1
        and not exists (
            select 1 from {{ ref('int_core__service_activations_resolved') }} as resolved
            where resolved.holder_id = activations.holder_id and resolved.service_code = activations.service_code
        )

    union all

    select
        'service_usage.csv' as file_name,
        usage.usage_id as record_key,
        usage._extract_date as extract_date,
        usage._source_line as source_line,
        'holder_id ' || usage.holder_id || ' or beneficiary_id '
        || coalesce(usage.beneficiary_id, '') || ' is not known' as reason
    from usage
    where
        usage._row_rank = 1
        and not exists (
            select 1 from {{ ref('int_core__service_usage_resolved') }} as resolved
            where resolved.usage_id = usage.usage_id
        )
)

select * from orphans
