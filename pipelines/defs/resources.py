"""The LearnLake settings as a Dagster resource: every asset, check, op and sensor reads them from here.

Unconfigured, the resource is the process's own settings (``LEARNLAKE_*``, as the API and the CLI read
them); ``home`` points a run, a test or a second code location at another LearnLake home.
"""

from pathlib import Path

import dagster as dg

from learnlake.settings import Settings, get_settings


class LearnLake(dg.ConfigurableResource):
    home: str | None = None  # None: LEARNLAKE_HOME and the rest of the environment

    def settings(self) -> Settings:
        return get_settings() if self.home is None else Settings(home=Path(self.home))
