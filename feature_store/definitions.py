"""The feature store's vocabulary, after Feast: entities, feature views with a TTL, feature services.

A ``FeatureView`` is a SQL query over the published warehouse that returns the entity's
join keys, a ``feature_timestamp`` (the moment the values became known) and the features.
A ``FeatureService`` is a versioned contract: the views and features one model reads, the
same for training (point-in-time frames) and for serving (the online store).
"""

from dataclasses import dataclass, field
from datetime import timedelta


@dataclass(frozen=True)
class Entity:
    """Something features describe; ``join_keys`` name it in every frame."""

    name: str
    join_keys: tuple[str, ...]
    description: str = ""


@dataclass(frozen=True)
class FeatureView:
    """Features of one entity, as of ``feature_timestamp``; values older than ``ttl`` are not served."""

    name: str
    entity: Entity
    query: str
    features: tuple[str, ...]
    ttl: timedelta
    description: str = ""
    tables: tuple[str, ...] = field(default=())  # warehouse tables the query reads, for lineage

    @property
    def age_column(self) -> str:
        """The frame column saying how old the view's values are, in days (missing: older than ``ttl``, or none)."""
        return f"{self.name}__age_days"

    def column(self, feature: str) -> str:
        """The name a feature has in frames: ``<view>__<feature>``, unique across views."""
        if feature not in self.features:
            raise KeyError(f"feature view {self.name!r} has no feature {feature!r}; it has {list(self.features)}")
        return f"{self.name}__{feature}"


@dataclass(frozen=True)
class FeatureService:
    """A model's contract: which features of which views, under a versioned name (``dropout_risk_v1``)."""

    name: str
    views: tuple[tuple[FeatureView, tuple[str, ...]], ...]
    description: str = ""

    @property
    def columns(self) -> list[str]:
        return [view.column(feature) for view, features in self.views for feature in features]

    @property
    def join_keys(self) -> list[str]:
        keys: list[str] = []
        for view, _ in self.views:
            keys += [k for k in view.entity.join_keys if k not in keys]
        return keys
