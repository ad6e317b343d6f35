"""Adapters that turn the simulator and real datasets into platform entities and events."""
