"""Live updates pushed to connected users over WebSockets (``/api/v1/ws``), across API replicas.

``messages`` defines every message once (type, version, payload); ``hub`` keeps each replica's
connections by room, a bounded buffer per room for clients that reconnect, and the bus that carries
a message to every replica: Redis pub/sub when Redis is configured, in process otherwise.
"""
