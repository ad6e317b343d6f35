"""Training, evaluation and inference code, with MLflow tracking and registry helpers."""
