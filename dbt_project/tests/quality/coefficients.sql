{{ config(severity='error', meta={'dagster': {'ref': {'name': 'fct_policy_rating'}}}) }}
-- RULES §2: every counting slice of rulebook handbook_2026 has the handbook's 折算系数 for its kind, category
-- and payment years (seed handbook_fixture/handbook_coefficients, typed from the handbook). Returns the
-- offending slices: an unknown kind, no handbook row, or another coefficient.
with

slices as (
    select
        holder_id,
        policy_no,
        coverage_no,
        slice_kind,
        coefficient,
        counts_from
    from {{ ref('fct_policy_rating') }}
    where
        excluded_reason is null
        and rulebook_id = 'handbook_2026'
),

policies as (
    select
        policy_no,
        coverage_no,
        product_category,
        payment_mode,
        payment_years
    from {{ ref('stg_core__policies') }}
),

handbook as (
    select * from {{ ref('handbook_coefficients') }}
),

named_categories as (
    select distinct
        slice_kind,
        product_category
    from handbook
    where product_category is not null
),

judged as (
    select
        slices.holder_id,
        slices.policy_no,
        slices.coverage_no,
        slices.slice_kind,
        slices.counts_from,
        policies.product_category,
        policies.payment_mode,
        policies.payment_years,
        slices.coefficient,
        handbook.coefficient as handbook_coefficient,
        policies.policy_no is not null as has_policy
    from slices
    left join policies
        on
            slices.policy_no = policies.policy_no
            and slices.coverage_no = policies.coverage_no
    left join named_categories
        on
            slices.slice_kind = named_categories.slice_kind
            and policies.product_category = named_categories.product_category
    left join handbook
        on
            slices.slice_kind = handbook.slice_kind
            and (
                policies.product_category = handbook.product_category
                or (handbook.product_category is null and named_categories.product_category is null)
            )
            and (handbook.payment_years_from is null or policies.payment_years >= handbook.payment_years_from)
            and (handbook.payment_years_until is null or policies.payment_years < handbook.payment_years_until)
),

final as (
    select
        case
            when not judged.has_policy then 'no staged policy coverage'
            when judged.handbook_coefficient is null then 'no handbook coefficient for this kind and policy'
            else 'coefficient differs from the handbook'
        end as problem,
        judged.*
    from judged
    where
        not judged.has_policy
        or judged.handbook_coefficient is null
        or judged.coefficient <> judged.handbook_coefficient
)

select * from final
