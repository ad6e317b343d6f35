"""The xAPI 1.0.3 Statement Resource: validation, storage and queries of a learning record store."""
