-- The databases beside the core one (POSTGRES_DB): the LRS's statements, MLflow's store and Dagster's storage.
CREATE DATABASE lrs OWNER learnlake;
CREATE DATABASE mlflow OWNER learnlake;
CREATE DATABASE dagster OWNER learnlake;
