"""The FastAPI service: core API, event ingestion, ML and analytics endpoints."""
