"""What operators see of the API: Prometheus metrics, request ids and logs, OpenTelemetry traces."""
