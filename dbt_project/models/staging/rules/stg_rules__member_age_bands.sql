-- Age bands of dim_member: age at the as-of date in [age_lower_bound, age_upper_bound).
with

member_age_bands as (
    select * from {{ ref('member_age_bands') }}
),

final as (
    select
        age_band,
        age_lower_bound,
        age_upper_bound
    from member_age_bands
)

select * from final
