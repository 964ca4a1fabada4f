-- What each rulebook makes of each coverage: one row per coverage and rulebook that can apply to it (in force on
-- or after the coverage's start): the coverage kind, the policy-kind exclusion (group, under 12 months; the first
-- by priority), the matching row of the conversion table (explicit category before `*`, explicit payment mode
-- before `*`, then rule_no) with its coefficient (fixed, or Y x per-year coefficient) and window, and the
-- single-premium row of the coverage's category, which rates its top-ups.
--
-- Every ruleset at once: the rulebooks in force (scenario_id null), which the rating chain reads, and each stored
-- proposal of `vipwh scenario run` (its scenario_id), which the scenario models read - the same lookup.
-- The rules are matched once per rating profile (ruleset x rulebook x the coverage attributes the rules read), a
-- few hundred rows, and joined back to the coverages by equality.
with

coverages as (
    select * from {{ ref('int_rating__coverages') }}
),

rulebooks as (
    select * from {{ ref('stg_rules__rulebooks') }}
),

coverage_kinds as (
    select * from {{ ref('stg_rules__coverage_kinds') }}
),

rating_coefficients as (
    select * from {{ ref('stg_rules__rating_coefficients') }}
),

rating_exclusions as (
    select * from {{ ref('stg_rules__rating_exclusions') }}
),

coverage_rulebooks as (
    select
        coverages.coverage_id || '/' || coalesce('scenario:' || rulebooks.scenario_id || '/', '')
        || rulebooks.rulebook_id as coverage_rulebook_id,
        coverages.coverage_id,
        coverages.holder_id,
        coverages.policy_no,
        coverages.coverage_no,
        rulebooks.scenario_id,
        rulebooks.rulebook_id,
        rulebooks.effective_from as rulebook_from,
        rulebooks.effective_until as rulebook_until,
        coverages.product_category,
        coverages.is_group,
        coverages.coverage_term_months,
        coverages.payment_mode,
        coverages.payment_years,
        coverages.installments_per_year,
        coverages.effective_date,
        coverages.start_date,
        coverages.term_end_date,
        coverages.origin_reason
    from coverages
    inner join rulebooks
        on
            rulebooks.effective_until is null
            or coverages.start_date < rulebooks.effective_until
),

profiles as (
    select distinct
        scenario_id,
        rulebook_id,
        product_category,
        is_group,
        coverage_term_months,
        payment_mode,
        payment_years
    from coverage_rulebooks
),

classified as (
    select
        profiles.*,
        row_number() over (
            order by
                profiles.scenario_id, profiles.rulebook_id, profiles.product_category, profiles.is_group,
                profiles.coverage_term_months, profiles.payment_mode, profiles.payment_years
        ) as profile_no,
        coverage_kinds.coverage_kind
    from profiles
    left join coverage_kinds
        on
            profiles.rulebook_id = coverage_kinds.rulebook_id
            and profiles.scenario_id is not distinct from coverage_kinds.scenario_id
            and (
                (profiles.coverage_term_months is null and coverage_kinds.includes_whole_life)
                or (
                    profiles.coverage_term_months >= coverage_kinds.term_months_lower_bound
                    and (
                        coverage_kinds.term_months_upper_bound is null
                        or profiles.coverage_term_months < coverage_kinds.term_months_upper_bound
                    )
                )
            )
),

policy_exclusions as (
    select
        classified.profile_no,
        exclusions.excluded_reason,
        exclusions.priority,
        row_number() over (
            partition by classified.profile_no
            order by exclusions.priority
        ) as exclusion_rank
    from classified
    inner join rating_exclusions as exclusions
        on
            classified.rulebook_id = exclusions.rulebook_id
            and classified.scenario_id is not distinct from exclusions.scenario_id
            and (
                (exclusions.applies_to = 'group_policy' and classified.is_group)
                or (exclusions.applies_to = 'coverage_kind' and classified.coverage_kind = exclusions.match_value)
            )
),

category_matches as (
    select
        classified.profile_no,
        coefficients.*,
        case
            when
                (' ' || coefficients.product_categories || ' ') like ('% ' || classified.product_category || ' %')
                then 0
            when (' ' || coefficients.product_categories || ' ') like '% * %' then 1
        end as category_match_rank,
        case when coefficients.payment_modes = '*' then 1 else 0 end as payment_mode_match_rank,
        case
            when
                coefficients.coverage_kind = classified.coverage_kind
                and (
                    coefficients.payment_modes = '*'
                    or (' ' || coefficients.payment_modes || ' ') like ('% ' || classified.payment_mode || ' %')
                )
                and (
                    coefficients.min_payment_years is null or classified.payment_years >= coefficients.min_payment_years
                )
                and (
                    coefficients.max_payment_years is null or classified.payment_years < coefficients.max_payment_years
                )
                then 1
            else 0
        end as is_coverage_match
    from classified
    inner join rating_coefficients as coefficients
        on
            classified.rulebook_id = coefficients.rulebook_id
            and classified.scenario_id is not distinct from coefficients.scenario_id
),

rule_matches as (
    select
        category_matches.*,
        row_number() over (
            partition by category_matches.profile_no
            order by
                category_matches.category_match_rank, category_matches.payment_mode_match_rank, category_matches.rule_no
        ) as match_rank
    from category_matches
    where
        category_matches.is_coverage_match = 1
        and category_matches.category_match_rank is not null
),

top_up_matches as (
    select
        category_matches.*,
        row_number() over (
            partition by category_matches.profile_no
            order by category_matches.category_match_rank, category_matches.rule_no
        ) as match_rank
    from category_matches
    where
        category_matches.slice_kind = 'single'
        and category_matches.category_match_rank is not null
),

profile_rulings as (
    select
        classified.*,
        policy_exclusions.excluded_reason as policy_excluded_reason,
        policy_exclusions.priority as policy_excluded_priority,
        rule_matches.rule_no,
        rule_matches.slice_kind,
        cast(
            coalesce(rule_matches.coefficient, classified.payment_years * rule_matches.coefficient_per_payment_year)
            as decimal(9, 4)
        ) as coefficient,
        rule_matches.window_anchor,
        case
            when rule_matches.window_basis = 'payment_years' then classified.payment_years
            else rule_matches.window_years
        end as window_length_years,
        rule_matches.window_end_reason,
        top_up_matches.rule_no as top_up_rule_no,
        top_up_matches.coefficient as top_up_coefficient,
        top_up_matches.window_years as top_up_window_years
    from classified
    left join policy_exclusions
        on
            classified.profile_no = policy_exclusions.profile_no
            and policy_exclusions.exclusion_rank = 1
    left join rule_matches
        on
            classified.profile_no = rule_matches.profile_no
            and rule_matches.match_rank = 1
    left join top_up_matches
        on
            classified.profile_no = top_up_matches.profile_no
            and top_up_matches.match_rank = 1
),

ruled as (
    select
        coverage_rulebooks.*,
        profile_rulings.coverage_kind,
        profile_rulings.policy_excluded_reason,
        profile_rulings.policy_excluded_priority,
        profile_rulings.rule_no,
        profile_rulings.slice_kind,
        profile_rulings.coefficient,
        profile_rulings.window_anchor,
        profile_rulings.window_length_years,
        profile_rulings.window_end_reason,
        profile_rulings.top_up_rule_no,
        profile_rulings.top_up_coefficient,
        profile_rulings.top_up_window_years
    from coverage_rulebooks
    inner join profile_rulings
        on
            coverage_rulebooks.rulebook_id = profile_rulings.rulebook_id
            and coverage_rulebooks.scenario_id is not distinct from profile_rulings.scenario_id
            and coverage_rulebooks.product_category = profile_rulings.product_category
            and coverage_rulebooks.is_group = profile_rulings.is_group
            and coverage_rulebooks.coverage_term_months is not distinct from profile_rulings.coverage_term_months
            and coverage_rulebooks.payment_mode = profile_rulings.payment_mode
            and coverage_rulebooks.payment_years is not distinct from profile_rulings.payment_years
)

select
    coverage_rulebook_id,
    coverage_id,
    holder_id,
    policy_no,
    coverage_no,
    scenario_id,
    rulebook_id,
    rulebook_from,
    rulebook_until,
    product_category,
    is_group,
    coverage_term_months,
    payment_mode,
    payment_years,
    installments_per_year,
    effective_date,
    start_date,
    term_end_date,
    origin_reason,
    coverage_kind,
    policy_excluded_reason,
    policy_excluded_priority,
    rule_no,
    coalesce(slice_kind, 'unrated') as slice_kind,
    coefficient,
    start_date as window_from,
    case
        when rule_no is null then term_end_date
        when window_anchor = 'start' then {{ rating_add_years('start_date', 'window_length_years') }}
        else {{ rating_add_years('effective_date', 'window_length_years') }}
    end as window_until,
    window_end_reason,
    top_up_rule_no,
    top_up_coefficient,
    top_up_window_years
from ruled
