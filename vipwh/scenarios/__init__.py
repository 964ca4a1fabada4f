"""Benefit-redesign scenarios (`vipwh scenario run | compare`): a proposal file re-rates the book and projects
the benefit cost beside the baseline, in the warehouse schema ``scenarios``. See docs/scenarios.md."""
