"""Delta Lake storage: the table catalog, event schema, writers, readers and sources."""
