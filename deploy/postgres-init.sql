-- The two databases beside the core one (POSTGRES_DB): MLflow's store and Dagster's storage.
CREATE DATABASE mlflow OWNER learnlake;
CREATE DATABASE dagster OWNER learnlake;
