"""The project's error tree: every module raises one of these, never a bare Exception."""


class LearnLakeError(Exception):
    """Base of every error LearnLake raises on purpose."""


class ConfigurationError(LearnLakeError):
    """A setting is missing, malformed or unsafe for the current environment."""


class TableNotFoundError(LearnLakeError):
    """A lake table is not in the catalog or has not been written yet."""


class SchemaMismatchError(LearnLakeError):
    """Data does not match the schema of the table it is written to."""


class DataQualityError(LearnLakeError):
    """Data violates an invariant that downstream steps rely on."""


class ModelNotFoundError(LearnLakeError):
    """No registered model (or no model under the requested alias) exists yet."""
