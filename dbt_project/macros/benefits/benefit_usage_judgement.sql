{#-
  Judges every service use against the entitlement rules (RULES.md §6; decisions in docs/decisions_benefits.md).
  Arguments name CTEs (or relations) the calling model imports: the current service usage, relatives,
  activations, the rule seeds and a tier history (holder_id, valid_from, valid_to, tier_code, tier_rank).
  Renders comma-separated CTEs, with no leading or trailing comma, ending with `judged_usage`: one row per use.

  Performance: every step is a hash join on equality keys or a window; the quota windows run only on uses
  of services that have a limited quota somewhere, and the rulebook range join runs on distinct dates.
  var('benefits_quota_counts_noncompliant_uses', true): whether a consumed use that broke a non-quota rule
  (tier, variant, beneficiary, waiting period) still counts against later quota (RULES: "everything consumed").
-#}
{% macro benefit_usage_judgement(
    service_usage='service_usage',
    relatives='relatives',
    service_activations='service_activations',
    services='services',
    beneficiary_scopes='beneficiary_scopes',
    entitlements='entitlements',
    unit_costs='unit_costs',
    rulebooks='rulebooks',
    tier_history='tier_history'
) -%}
{{ benefit_entitlement_ctes(entitlements, services) }},

usage_known_variants as (
    select distinct
        service_code,
        variant_key
    from entitlement_variant_keys
    where variant_key not in ('~none', '~other')
),

usage_dates as (
    select distinct service_date
    from {{ service_usage }}
),

usage_date_rulebooks as (
    select
        usage_dates.service_date,
        rulebooks_in_force.rulebook_id
    from usage_dates
    inner join {{ rulebooks }} as rulebooks_in_force
        on usage_dates.service_date >= rulebooks_in_force.effective_from
        and (
            rulebooks_in_force.effective_until is null
            or usage_dates.service_date < rulebooks_in_force.effective_until
        )
),

usage_described as (
    select
        usage_rows.usage_id,
        usage_rows.holder_id,
        usage_rows.beneficiary_id,
        case
            when usage_rows.beneficiary_id is null or usage_rows.beneficiary_id = usage_rows.holder_id
                then 'self'
            when holder_relatives.holder_id = usage_rows.holder_id then holder_relatives.relation
            else 'not_a_relative'
        end as beneficiary_relation,
        usage_rows.service_code,
        nullif(usage_rows.variant, '') as variant,
        coalesce(
            known_variants.variant_key,
            case when nullif(usage_rows.variant, '') is null then '~none' else '~other' end
        ) as variant_key,
        usage_rows.service_date,
        cast(extract(year from usage_rows.service_date) as integer) as entitlement_year,
        usage_rows.status,
        usage_rows.quantity,
        usage_rows.vendor,
        usage_rows.cost_amount as reported_cost_amount,
        catalogue.beneficiary_scope,
        coalesce(catalogue.waiting_days, 0) as waiting_days,
        coalesce(catalogue.variant_required, false) as variant_required,
        case
            when catalogue.consumes_by_quantity then cast(usage_rows.quantity as decimal(18, 2))
            else cast(1 as decimal(18, 2))
        end as units_per_use,
        (
            usage_rows.status = 'completed'
            or (usage_rows.status = 'no_show' and coalesce(catalogue.no_show_consumes, false))
        ) as is_consumed,
        activations.activated_at,
        date_rulebooks.rulebook_id
    from {{ service_usage }} as usage_rows
    left join {{ services }} as catalogue
        on usage_rows.service_code = catalogue.service_code
    left join {{ relatives }} as holder_relatives
        on usage_rows.beneficiary_id = holder_relatives.relative_id
    left join usage_known_variants as known_variants
        on usage_rows.service_code = known_variants.service_code
        and usage_rows.variant = known_variants.variant_key
    left join {{ service_activations }} as activations
        on usage_rows.holder_id = activations.holder_id
        and usage_rows.service_code = activations.service_code
    left join usage_date_rulebooks as date_rulebooks
        on usage_rows.service_date = date_rulebooks.service_date
),

usage_scoped as (
    select
        usage_described.*,
        scopes.eligibility as beneficiary_eligibility
    from usage_described
    left join {{ beneficiary_scopes }} as scopes
        on usage_described.beneficiary_scope = scopes.beneficiary_scope
        and usage_described.beneficiary_relation = scopes.beneficiary_relation
),

designated_relative_uses as (
    select
        holder_id,
        service_code,
        entitlement_year,
        beneficiary_id,
        row_number() over (
            partition by holder_id, service_code, entitlement_year
            order by service_date, usage_id
        ) as relative_use_rank
    from usage_scoped
    where beneficiary_eligibility = 'designated'
        and is_consumed
),

designated_relatives as (
    select
        holder_id,
        service_code,
        entitlement_year,
        beneficiary_id as designated_relative_id
    from designated_relative_uses
    where relative_use_rank = 1
),

usage_tiered as (
    select
        usage_scoped.*,
        holder_tiers.tier_code as tier_code_at_service,
        holder_tiers.tier_rank as tier_rank_at_service,
        designated.designated_relative_id,
        entitled_tiers.layout_key as tier_layout_key,
        entitled_tiers.tier_quota_kind,
        entitled_tiers.tier_quota,
        lookup.entitlement_variant,
        lookup.pool_key as matched_pool_key,
        lookup.quota_kind as matched_quota_kind,
        lookup.quota as matched_quota,
        variant_allowed.variant_key is not null as is_variant_in_rulebook,
        quota_services.service_code is not null as has_limited_quota
    from usage_scoped
    left join {{ tier_history }} as holder_tiers
        on usage_scoped.holder_id = holder_tiers.holder_id
        and usage_scoped.service_date >= holder_tiers.valid_from
        and usage_scoped.service_date < coalesce(holder_tiers.valid_to, cast('9999-12-31' as date))
    left join designated_relatives as designated
        on usage_scoped.holder_id = designated.holder_id
        and usage_scoped.service_code = designated.service_code
        and usage_scoped.entitlement_year = designated.entitlement_year
    left join entitlement_tiers as entitled_tiers
        on usage_scoped.rulebook_id = entitled_tiers.rulebook_id
        and usage_scoped.service_code = entitled_tiers.service_code
        and holder_tiers.tier_code = entitled_tiers.tier_code
    left join entitlement_lookup as lookup
        on usage_scoped.rulebook_id = lookup.rulebook_id
        and usage_scoped.service_code = lookup.service_code
        and holder_tiers.tier_code = lookup.tier_code
        and usage_scoped.variant_key = lookup.variant_key
    left join entitlement_variant_allowed as variant_allowed
        on usage_scoped.rulebook_id = variant_allowed.rulebook_id
        and usage_scoped.service_code = variant_allowed.service_code
        and usage_scoped.variant_key = variant_allowed.variant_key
    left join entitlement_quota_services as quota_services
        on usage_scoped.service_code = quota_services.service_code
),

usage_verdicts as (
    select
        usage_tiered.*,
        tier_layout_key is not null as is_entitled_tier,
        case
            when tier_layout_key is not null then matched_pool_key is not null
            else is_variant_in_rulebook
        end as is_eligible_variant,
        case beneficiary_eligibility
            when 'always' then true
            when 'designated' then (
                designated_relative_id is null or designated_relative_id = beneficiary_id
            )
            else false
        end as is_eligible_beneficiary,
        (
            waiting_days > 0
            and (
                activated_at is null
                or service_date < cast({{ dbt.dateadd('day', 'waiting_days', 'activated_at') }} as date)
            )
        ) as is_in_waiting_period,
        case when is_consumed then units_per_use else cast(0 as decimal(18, 2)) end as consumed_quantity,
        case
            when is_consumed or status = 'booked' then units_per_use
            else cast(0 as decimal(18, 2))
        end as units_claimed,
        coalesce(tier_layout_key, 'single') as quota_layout_key
    from usage_tiered
),

usage_quota_input as (
    select
        usage_verdicts.*,
        {%- if var('benefits_quota_counts_noncompliant_uses', true) %}
        consumed_quantity as quota_units
        {%- else %}
        case
            when is_entitled_tier and is_eligible_variant and is_eligible_beneficiary
                and not is_in_waiting_period
                then consumed_quantity
            else cast(0 as decimal(18, 2))
        end as quota_units
        {%- endif %}
    from usage_verdicts
),

quota_layout_rows as (
    select
        quota_input.usage_id,
        quota_input.holder_id,
        quota_input.service_code,
        quota_input.service_date,
        quota_input.entitlement_year,
        quota_input.quota_layout_key,
        quota_input.quota_units,
        layouts.layout_key,
        layouts.pool_key
    from usage_quota_input as quota_input
    inner join entitlement_quota_layouts as layouts
        on quota_input.service_code = layouts.service_code
        and quota_input.variant_key = layouts.variant_key
    where quota_input.has_limited_quota
),

quota_windows as (
    select
        usage_id,
        layout_key,
        quota_layout_key,
        sum(quota_units) over (
            partition by holder_id, service_code, layout_key, pool_key, entitlement_year
            order by service_date, usage_id
            rows between unbounded preceding and 1 preceding
        ) as pool_before_year,
        sum(case when pool_key = '*' then quota_units else 0 end) over (
            partition by holder_id, service_code, layout_key, entitlement_year
            order by service_date, usage_id
            rows between unbounded preceding and 1 preceding
        ) as shared_before_year,
        sum(quota_units) over (
            partition by holder_id, service_code, layout_key, entitlement_year
            order by service_date, usage_id
            rows between unbounded preceding and 1 preceding
        ) as total_before_year,
        sum(quota_units) over (
            partition by holder_id, service_code, layout_key, pool_key
            order by service_date, usage_id
            rows between unbounded preceding and 1 preceding
        ) as pool_before_ever,
        sum(case when pool_key = '*' then quota_units else 0 end) over (
            partition by holder_id, service_code, layout_key
            order by service_date, usage_id
            rows between unbounded preceding and 1 preceding
        ) as shared_before_ever,
        sum(quota_units) over (
            partition by holder_id, service_code, layout_key
            order by service_date, usage_id
            rows between unbounded preceding and 1 preceding
        ) as total_before_ever
    from quota_layout_rows
),

quota_positions as (
    select
        usage_id,
        coalesce(pool_before_year, 0) as pool_before_year,
        coalesce(shared_before_year, 0) as shared_before_year,
        coalesce(total_before_year, 0) as total_before_year,
        coalesce(pool_before_ever, 0) as pool_before_ever,
        coalesce(shared_before_ever, 0) as shared_before_ever,
        coalesce(total_before_ever, 0) as total_before_ever
    from quota_windows
    where layout_key = quota_layout_key
),

usage_quota_applied as (
    select
        quota_input.*,
        case
            when not quota_input.is_entitled_tier then null
            when quota_input.matched_pool_key is not null then quota_input.matched_quota_kind
            else quota_input.tier_quota_kind
        end as quota_kind,
        case
            when not quota_input.is_entitled_tier then cast(0 as decimal(18, 2))
            when quota_input.matched_pool_key is not null then quota_input.matched_quota
            else quota_input.tier_quota
        end as quota,
        cast(
            case
                when positions.usage_id is null then null
                when not quota_input.is_entitled_tier then positions.total_before_year
                when quota_input.matched_pool_key is not null then
                    case
                        when quota_input.matched_quota_kind = 'once'
                            then positions.pool_before_ever + positions.shared_before_ever
                        else positions.pool_before_year + positions.shared_before_year
                    end
                when quota_input.tier_quota_kind = 'once' then positions.total_before_ever
                else positions.total_before_year
            end as decimal(18, 2)
        ) as consumed_before
    from usage_quota_input as quota_input
    left join quota_positions as positions
        on quota_input.usage_id = positions.usage_id
),

usage_quota_judged as (
    select
        usage_quota_applied.*,
        case
            when units_claimed = 0 then true
            when not is_entitled_tier then false
            when quota_kind = 'unlimited' then true
            else consumed_before + units_claimed <= quota
        end as is_within_quota
    from usage_quota_applied
),

usage_reasons as (
    select
        judged.*,
        coalesce(variant_costs.unit_cost, default_costs.unit_cost) as unit_cost,
        (
            judged.is_entitled_tier
            and judged.is_eligible_variant
            and judged.is_eligible_beneficiary
            and not judged.is_in_waiting_period
            and judged.is_within_quota
        ) as is_compliant,
        case
            when not judged.is_entitled_tier then 'tier_not_entitled'
            when not judged.is_eligible_variant then 'variant_not_eligible'
            when not judged.is_eligible_beneficiary then 'beneficiary_not_eligible'
            when judged.is_in_waiting_period then 'in_waiting_period'
            when not judged.is_within_quota then 'over_quota'
        end as non_compliance_reason,
        case when not judged.is_entitled_tier then '; tier_not_entitled' else '' end
        || case when not judged.is_eligible_variant then '; variant_not_eligible' else '' end
        || case when not judged.is_eligible_beneficiary then '; beneficiary_not_eligible' else '' end
        || case when judged.is_in_waiting_period then '; in_waiting_period' else '' end
        || case when not judged.is_within_quota then '; over_quota' else '' end
        as reason_list
    from usage_quota_judged as judged
    left join {{ unit_costs }} as variant_costs
        on judged.rulebook_id = variant_costs.rulebook_id
        and judged.service_code = variant_costs.service_code
        and judged.variant = variant_costs.variant
    left join {{ unit_costs }} as default_costs
        on judged.rulebook_id = default_costs.rulebook_id
        and judged.service_code = default_costs.service_code
        and default_costs.variant is null
),

judged_usage as (
    select
        usage_id,
        holder_id,
        beneficiary_id,
        beneficiary_relation,
        service_code,
        variant,
        variant_key,
        service_date,
        entitlement_year,
        status,
        quantity,
        units_claimed,
        consumed_quantity,
        rulebook_id,
        tier_code_at_service,
        tier_rank_at_service,
        entitlement_variant,
        matched_pool_key as quota_pool,
        quota_kind,
        quota,
        consumed_before,
        designated_relative_id,
        activated_at,
        is_entitled_tier,
        is_eligible_beneficiary,
        is_eligible_variant,
        is_in_waiting_period,
        is_within_quota,
        is_compliant,
        non_compliance_reason,
        case
            when reason_list = '' then null
            else {{ dbt.right('reason_list', dbt.length('reason_list') ~ ' - 2') }}
        end as non_compliance_reasons,
        vendor,
        reported_cost_amount,
        unit_cost,
        cast(
            coalesce(
                reported_cost_amount,
                case
                    when consumed_quantity > 0 then consumed_quantity * unit_cost
                    else 0
                end
            ) as decimal(18, 2)
        ) as cost_amount,
        case
            when reported_cost_amount is not null then 'reported'
            when consumed_quantity > 0 and unit_cost is not null then 'unit_cost'
            when consumed_quantity > 0 then 'unknown'
            else 'not_consumed'
        end as cost_basis
    from usage_reasons
)
{%- endmacro %}
