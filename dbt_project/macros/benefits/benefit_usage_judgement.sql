{#-
  Judges every service use against the entitlement rules (RULES.md §6; decisions in docs/decisions_benefits.md).
  Arguments name CTEs (or relations) the calling model imports: the current service usage (three times, see
  below), relatives, activations, the rule seeds and a tier history (holder_id, valid_from, valid_to,
  tier_code, tier_rank). Renders comma-separated CTEs, with no leading or trailing comma, ending with
  `judged_usage`: one row per use.

  Performance (tens of millions of uses): every step is a hash join on an equality key, a join to the tiny
  rulebooks table, or a window on a narrow subset; no large CTE is referenced twice, so no engine has to
  materialise one. The uses are read four times:
  - `service_usage`: uses of services unlimited wherever entitled, judged without any window;
  - `usage_for_quota`: uses of services with a limited quota somewhere, judged the same way and joined to
    their quota position in the layout of their tier;
  - `usage_for_positions`: the same uses, narrow, spread over every quota layout of their service, with
    running sums per holder × service × layout × pool (× year) - the quota positions;
  - `usage_for_designation`: uses of designated-relative services: the first relative to consume each
    service in each year.
  Positions and designations are tier-independent: every consumed use counts, whatever its verdicts.
-#}

{#- Units a use consumes: completed, or a no-show where the service says so; by quantity or 1 a use. -#}
{%- macro benefit_consumed_units(usage, catalogue) -%}
    case
        when {{ usage }}.status = 'completed'
            or ({{ usage }}.status = 'no_show' and coalesce({{ catalogue }}.no_show_consumes, false))
            then
                case
                    when {{ catalogue }}.consumes_by_quantity then cast({{ usage }}.quantity as decimal(18, 2))
                    else cast(1 as decimal(18, 2))
                end
        else cast(0 as decimal(18, 2))
    end
{%- endmacro -%}

{#- The user's relation to the holder: self, the relation in relatives.csv, or not_a_relative. -#}
{%- macro benefit_beneficiary_relation(usage, holder_relatives) -%}
    case
        when {{ usage }}.beneficiary_id is null or {{ usage }}.beneficiary_id = {{ usage }}.holder_id then 'self'
        when {{ holder_relatives }}.holder_id = {{ usage }}.holder_id then {{ holder_relatives }}.relation
        else 'not_a_relative'
    end
{%- endmacro -%}

{#- A use's variant as a key of the matrix: the variant, '~none' when empty, '~other' when unknown. -#}
{%- macro benefit_variant_key(usage, known_variants) -%}
    coalesce(
        {{ known_variants }}.variant_key,
        case when nullif({{ usage }}.variant, '') is null then '~none' else '~other' end
    )
{%- endmacro -%}

{#-
  One judging chain over the uses in `source`: those of services with (limited=true) or without a limited
  quota. CTEs named <prefix>_…, the last <prefix>_verdicts. Expects the CTEs of benefit_usage_judgement.
-#}
{%- macro benefit_usage_chain(prefix, source, limited, relatives, service_activations, services,
                              beneficiary_scopes, rulebooks, tier_history) -%}
{{ prefix }}_described as (
    select
        usage_rows.usage_id,
        usage_rows.holder_id,
        usage_rows.beneficiary_id,
        {{ benefit_beneficiary_relation('usage_rows', 'holder_relatives') }} as beneficiary_relation,
        usage_rows.service_code,
        nullif(usage_rows.variant, '') as variant,
        {{ benefit_variant_key('usage_rows', 'known_variants') }} as variant_key,
        usage_rows.service_date,
        cast(extract(year from usage_rows.service_date) as integer) as entitlement_year,
        usage_rows.status,
        usage_rows.quantity,
        usage_rows.vendor,
        usage_rows.cost_amount as reported_cost_amount,
        catalogue.beneficiary_scope,
        coalesce(catalogue.waiting_days, 0) as waiting_days,
        {{ benefit_consumed_units('usage_rows', 'catalogue') }} as consumed_quantity,
        case
            when catalogue.consumes_by_quantity then cast(usage_rows.quantity as decimal(18, 2))
            else cast(1 as decimal(18, 2))
        end as units_per_use,
        activations.activated_at,
        rulebooks_in_force.rulebook_id
    from {{ source }} as usage_rows
    {%- if limited %}
    inner join entitlement_quota_services as quota_services
        on usage_rows.service_code = quota_services.service_code
    {%- else %}
    left join entitlement_quota_services as quota_services
        on usage_rows.service_code = quota_services.service_code
    {%- endif %}
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
    left join {{ rulebooks }} as rulebooks_in_force
        on usage_rows.service_date >= rulebooks_in_force.effective_from
        and (
            rulebooks_in_force.effective_until is null
            or usage_rows.service_date < rulebooks_in_force.effective_until
        )
    {%- if not limited %}
    where quota_services.service_code is null
    {%- endif %}
),

{{ prefix }}_tiered as (
    select
        described.*,
        scopes.eligibility as beneficiary_eligibility,
        holder_tiers.tier_code as tier_code_at_service,
        holder_tiers.tier_rank as tier_rank_at_service,
        designated.designated_relative_id,
        entitled_tiers.service_code is not null as is_entitled_tier,
        coalesce(entitled_tiers.layout_key, 'single') as own_layout_key,
        entitled_tiers.tier_quota_kind,
        entitled_tiers.tier_quota,
        lookup.entitlement_variant,
        lookup.pool_key as matched_pool_key,
        lookup.quota_kind as matched_quota_kind,
        lookup.quota as matched_quota,
        variant_allowed.variant_key is not null as is_variant_in_rulebook
    from {{ prefix }}_described as described
    left join {{ beneficiary_scopes }} as scopes
        on described.beneficiary_scope = scopes.beneficiary_scope
        and described.beneficiary_relation = scopes.beneficiary_relation
    left join {{ tier_history }} as holder_tiers
        on described.holder_id = holder_tiers.holder_id
        and described.service_date >= holder_tiers.valid_from
        and described.service_date < coalesce(holder_tiers.valid_to, cast('9999-12-31' as date))
    left join designated_relatives as designated
        on described.holder_id = designated.holder_id
        and described.service_code = designated.service_code
        and described.entitlement_year = designated.entitlement_year
    left join entitlement_tiers as entitled_tiers
        on described.rulebook_id = entitled_tiers.rulebook_id
        and described.service_code = entitled_tiers.service_code
        and holder_tiers.tier_code = entitled_tiers.tier_code
    left join entitlement_lookup as lookup
        on described.rulebook_id = lookup.rulebook_id
        and described.service_code = lookup.service_code
        and holder_tiers.tier_code = lookup.tier_code
        and described.variant_key = lookup.variant_key
    left join entitlement_variant_allowed as variant_allowed
        on described.rulebook_id = variant_allowed.rulebook_id
        and described.service_code = variant_allowed.service_code
        and described.variant_key = variant_allowed.variant_key
),

{%- if limited %}

{{ prefix }}_positioned as (
    select
        tiered.*,
        cast(
            case
                when not tiered.is_entitled_tier then positions.total_before_year
                when tiered.matched_pool_key is not null then
                    case
                        when tiered.matched_quota_kind = 'once'
                            then positions.pool_before_ever + positions.shared_before_ever
                        else positions.pool_before_year + positions.shared_before_year
                    end
                when tiered.tier_quota_kind = 'once' then positions.total_before_ever
                else positions.total_before_year
            end as decimal(18, 2)
        ) as consumed_before
    from {{ prefix }}_tiered as tiered
    left join quota_positions as positions
        on tiered.usage_id = positions.usage_id
        and tiered.own_layout_key = positions.layout_key
),

{%- else %}

{{ prefix }}_positioned as (
    select
        tiered.*,
        cast(null as decimal(18, 2)) as consumed_before
    from {{ prefix }}_tiered as tiered
),

{%- endif %}

{{ prefix }}_verdicts as (
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
        vendor,
        reported_cost_amount,
        consumed_quantity,
        case
            when consumed_quantity > 0 or status = 'booked' then units_per_use
            else cast(0 as decimal(18, 2))
        end as units_claimed,
        activated_at,
        rulebook_id,
        tier_code_at_service,
        tier_rank_at_service,
        designated_relative_id,
        entitlement_variant,
        matched_pool_key,
        case
            when not is_entitled_tier then null
            when matched_pool_key is not null then matched_quota_kind
            else tier_quota_kind
        end as quota_kind,
        case
            when not is_entitled_tier then cast(0 as decimal(18, 2))
            when matched_pool_key is not null then matched_quota
            else tier_quota
        end as quota,
        consumed_before,
        is_entitled_tier,
        case
            when is_entitled_tier then matched_pool_key is not null
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
        ) as is_in_waiting_period
    from {{ prefix }}_positioned
)
{%- endmacro -%}

{% macro benefit_usage_judgement(
    service_usage='service_usage',
    usage_for_quota='usage_for_quota',
    usage_for_positions='usage_for_positions',
    usage_for_designation='usage_for_designation',
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

designated_relative_uses as (
    select
        designation_usage.holder_id,
        designation_usage.service_code,
        cast(extract(year from designation_usage.service_date) as integer) as entitlement_year,
        designation_usage.beneficiary_id,
        row_number() over (
            partition by
                designation_usage.holder_id,
                designation_usage.service_code,
                cast(extract(year from designation_usage.service_date) as integer)
            order by designation_usage.service_date, designation_usage.usage_id
        ) as relative_use_rank
    from {{ usage_for_designation }} as designation_usage
    inner join {{ services }} as catalogue
        on designation_usage.service_code = catalogue.service_code
    left join {{ relatives }} as holder_relatives
        on designation_usage.beneficiary_id = holder_relatives.relative_id
    inner join {{ beneficiary_scopes }} as scopes
        on catalogue.beneficiary_scope = scopes.beneficiary_scope
        and {{ benefit_beneficiary_relation('designation_usage', 'holder_relatives') }} = scopes.beneficiary_relation
    where scopes.eligibility = 'designated'
        and {{ benefit_consumed_units('designation_usage', 'catalogue') }} > 0
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

quota_usage as (
    select
        quota_rows.usage_id,
        quota_rows.holder_id,
        quota_rows.service_code,
        {{ benefit_variant_key('quota_rows', 'known_variants') }} as variant_key,
        quota_rows.service_date,
        cast(extract(year from quota_rows.service_date) as integer) as entitlement_year,
        {{ benefit_consumed_units('quota_rows', 'catalogue') }} as consumed_quantity
    from {{ usage_for_positions }} as quota_rows
    inner join entitlement_quota_services as quota_services
        on quota_rows.service_code = quota_services.service_code
    inner join {{ services }} as catalogue
        on quota_rows.service_code = catalogue.service_code
    left join usage_known_variants as known_variants
        on quota_rows.service_code = known_variants.service_code
        and quota_rows.variant = known_variants.variant_key
),

quota_layout_rows as (
    select
        quota_usage.usage_id,
        quota_usage.holder_id,
        quota_usage.service_code,
        quota_usage.service_date,
        quota_usage.entitlement_year,
        quota_usage.consumed_quantity,
        layouts.layout_key,
        layouts.pool_key
    from quota_usage
    inner join entitlement_quota_layouts as layouts
        on quota_usage.service_code = layouts.service_code
        and quota_usage.variant_key = layouts.variant_key
),

-- Units consumed before each use (same day: by usage_id), per layout: in its pool, by uses whose variant
-- has no pool in the layout ('*', counted against every pool), and in all; this year, and ever.
quota_positions as (
    select
        usage_id,
        layout_key,
        coalesce(sum(consumed_quantity) over (
            partition by holder_id, service_code, layout_key, pool_key, entitlement_year
            order by service_date, usage_id
            rows between unbounded preceding and 1 preceding
        ), 0) as pool_before_year,
        coalesce(sum(case when pool_key = '*' then consumed_quantity else 0 end) over (
            partition by holder_id, service_code, layout_key, entitlement_year
            order by service_date, usage_id
            rows between unbounded preceding and 1 preceding
        ), 0) as shared_before_year,
        coalesce(sum(consumed_quantity) over (
            partition by holder_id, service_code, layout_key, entitlement_year
            order by service_date, usage_id
            rows between unbounded preceding and 1 preceding
        ), 0) as total_before_year,
        coalesce(sum(consumed_quantity) over (
            partition by holder_id, service_code, layout_key, pool_key
            order by service_date, usage_id
            rows between unbounded preceding and 1 preceding
        ), 0) as pool_before_ever,
        coalesce(sum(case when pool_key = '*' then consumed_quantity else 0 end) over (
            partition by holder_id, service_code, layout_key
            order by service_date, usage_id
            rows between unbounded preceding and 1 preceding
        ), 0) as shared_before_ever,
        coalesce(sum(consumed_quantity) over (
            partition by holder_id, service_code, layout_key
            order by service_date, usage_id
            rows between unbounded preceding and 1 preceding
        ), 0) as total_before_ever
    from quota_layout_rows
),

{{ benefit_usage_chain('unlimited_usage', service_usage, false, relatives, service_activations, services,
                       beneficiary_scopes, rulebooks, tier_history) }},

{{ benefit_usage_chain('limited_usage', usage_for_quota, true, relatives, service_activations, services,
                       beneficiary_scopes, rulebooks, tier_history) }},

usage_judged_union as (
    select
        verdicts.*,
        case
            when verdicts.units_claimed = 0 then true
            when not verdicts.is_entitled_tier then false
            when verdicts.quota_kind = 'unlimited' then true
            else verdicts.consumed_before + verdicts.units_claimed <= verdicts.quota
        end as is_within_quota
    from (
        select * from unlimited_usage_verdicts
        union all
        select * from limited_usage_verdicts
    ) as verdicts
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
    from usage_judged_union as judged
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
