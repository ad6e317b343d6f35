"""Champion models for serving, reloaded when the ``champion`` alias moves.

The alias is looked up at most every ``LEARNLAKE_CHAMPION_REFRESH_S`` seconds (10 by default),
so a newly promoted model is served without a restart and the registry is not queried on
every request.
"""

import gc
import threading
import time
from dataclasses import dataclass
from typing import Any

from learnlake.errors import ModelNotFoundError
from learnlake.settings import Settings
from models.tracking import champion_version, load_champion


@dataclass(frozen=True)
class LoadedModel:
    name: str
    version: str
    model: Any  # the python model inside the MLflow pyfunc wrapper


class ChampionCache:
    """Holds the current champion of one registered model."""

    def __init__(self, model_name: str, settings: Settings) -> None:
        self.model_name = model_name
        self.settings = settings
        self.refresh_s = settings.champion_refresh_s
        self._loaded: LoadedModel | None = None
        self._checked_at = float("-inf")
        self._missing: ModelNotFoundError | None = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> LoadedModel | None:
        """The model served now (None before the first load), without looking for a newer one."""
        return self._loaded

    def get(self) -> LoadedModel:
        """The champion; raises ModelNotFoundError when none is registered."""
        with self._lock:
            now = time.monotonic()
            if self._loaded is None or now - self._checked_at >= self.refresh_s:
                if self._missing is not None and now - self._checked_at < self.refresh_s:
                    raise self._missing  # none a moment ago: do not ask the registry on every request
                self._checked_at = now
                try:
                    version = champion_version(self.model_name, self.settings)
                except ModelNotFoundError as exc:
                    self._missing = exc
                    raise
                self._missing = None
                if self._loaded is None or self._loaded.version != version:
                    version, pyfunc = load_champion(self.model_name, self.settings)
                    self._loaded = LoadedModel(self.model_name, version, pyfunc.unwrap_python_model())
                    settle_heap()
            return self._loaded


def settle_heap() -> None:
    """Collect once, then take every live object out of the cyclic collector's sight (``gc.freeze``).

    A served process holds millions of long-lived objects (torch, MLflow, the models): a full
    collection walked them all, about 450 ms with everything else stopped, several times a
    second under load, and it set the p99 of every endpoint. Frozen, a full collection takes
    about 3 ms. Unfreezing first lets the model a new champion replaced be collected.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()
