"""The asset graph: demo data -> raw landing -> dbt seeds/models (tests as checks) -> published marts.

The dbt assets and the published copy depend on the dbt manifest, so they are
built by functions (`build_dbt_assets`, `build_published_marts`) that
orchestration.definitions calls when Dagster loads the code location.
"""
