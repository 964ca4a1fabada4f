-- Installments a year of each payment mode (annualised premium = modal premium × installments).
with

payment_modes as (
    select * from {{ ref('rating_payment_modes') }}
),

final as (
    select
        payment_mode,
        installments_per_year
    from payment_modes
)

select * from final
