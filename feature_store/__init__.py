"""Feature store: entities, feature views, feature services, point-in-time frames, online store.

Empty for now: the models of the walking skeleton read the lake directly.
"""
