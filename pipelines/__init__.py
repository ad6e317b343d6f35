"""Dagster definitions: assets, dbt assets, checks, schedules, sensors, resources, jobs."""
