"""Helpers shared by the serving tests."""

from serving.core.source_keys import ALL_SCOPES, create_key


def source_key(app, name: str = "test-source", scopes=ALL_SCOPES) -> str:
    """A new source key in ``app``'s core database (the app must be started: its database migrated)."""
    return create_key(app.state.database, name, scopes)[1]
