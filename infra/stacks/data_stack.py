"""Stateful resources of one environment: the data lake, its Glue catalog, the feature store
and the model registry. The stack only wires them.

Kept apart from stateless stacks so those can be destroyed and redeployed freely; what is
here follows the environment's removal policy (RETAIN in staging and prod). The catalog
(infra/constructs/catalog.py) sits with the lake because the feature store's offline table
lives in its database, and because IAM wildcards on bucket prefixes must stay in the
bucket's stack to be acknowledged one by one (see infra/nag.py). The registry is stateful
too (versions, approvals), and promoted environments read it with the lake's artifacts.
The MLflow tracking App (where ``tracking.enabled``) keeps its artifacts in the models bucket
and its runs are history: it lives here too, and other stacks get its ARN as an export.
"""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.constructs.catalog import review_catalog
from infra.constructs.data_lake import DataLake
from infra.constructs.feature_store import ReviewFeatureGroup
from infra.constructs.model_registry import ModelRegistry
from infra.constructs.tracking_app import TrackingApp
from infra.removal import removal_policy as removal_of


class DataStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        promotion_accounts: tuple[str, ...],
        **kwargs,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        removal_policy = removal_of(config)
        self.lake = DataLake(
            self,
            "DataLake",
            prefix=config.prefix,
            key_alias=config.data_lake_key_alias,
            models_bucket_name=config.models_bucket_name,
            config=config.data_lake,
            removal_policy=removal_policy,
        )
        # Promoted environments serve dev's packages: model.tar.gz and drift baselines.
        self.lake.share_model_artifacts(promotion_accounts, prefixes=("training", "baselines"))

        catalog = review_catalog(self, config=config, lake=self.lake, removal_policy=removal_policy)
        self.database, self.database_name = catalog.database, catalog.database_name
        self.raw_tables, self.crawler = catalog.raw_tables, catalog.crawler

        self.features = ReviewFeatureGroup(
            self,
            "ReviewFeatures",
            feature_group_name=config.feature_group_name,
            bucket=self.lake.features,
            key=self.lake.key,
            database_name=self.database_name,
            online_store_enabled=config.feature_store.online_store_enabled,
        )
        self.features.feature_group.node.add_dependency(self.database)
        self.features.feature_group.apply_removal_policy(removal_policy)

        self.registry = ModelRegistry(
            self,
            "ModelRegistry",
            group_name=config.model_package_group_name,
            reader_accounts=promotion_accounts,
            removal_policy=removal_policy,
        )

        self.tracking: TrackingApp | None = None
        if config.tracking.enabled:
            self.tracking = TrackingApp(
                self,
                "Tracking",
                name=config.tracking_app_name,
                bucket_name=config.models_bucket_name,
                key=self.lake.key,
                config=config.tracking,
            )
            self.tracking.app.node.add_dependency(self.lake.models)
        self._exports: dict[str, str] = {}

    @property
    def tracking_uri(self) -> str:
        """The MLflow App's ARN (an import, for other stacks), the jobs' tracking URI; "" when off."""
        return self.tracking.exported_arn() if self.tracking else ""

    def exported_bucket_arn(self, name: str) -> str:
        """A bucket ARN exported under a fixed name, as Fn::ImportValue for other stacks.

        IAM wildcards on bucket prefixes in other stacks must be acknowledged by their
        flattened text; a fixed export name keeps that text free of generated ids.
        """
        lake = self.lake
        bucket = {"raw": lake.raw, "features": lake.features, "models": lake.models, "monitoring": lake.monitoring}[
            name
        ]
        if name not in self._exports:  # one export per name, however many stacks import it
            self._exports[name] = self.export_value(bucket.bucket_arn, name=f"{self.stack_name}-{name}-bucket-arn")
        return self._exports[name]
