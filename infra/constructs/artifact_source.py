"""Read access to the model artifacts of the environment whose registry packages come from.

Staging and prod serve the exact package version dev registered: its model.tar.gz and
drift baselines stay in dev's models bucket, under dev's data lake key. The bucket has a
fixed name (``EnvironmentConfig.models_bucket_name``) so another account can name it; a
key is only grantable by key ARN, which another account cannot know at synth, so the key
is matched by its alias (``kms:ResourceAliases``) within the source account instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_iam as iam

from infra.config import EnvironmentConfig
from infra.nag import acknowledge_wildcard


@dataclass(frozen=True)
class ArtifactSource:
    account: str
    region: str
    bucket_name: str
    key_alias: str

    @classmethod
    def of(cls, config: EnvironmentConfig) -> ArtifactSource:
        return cls(config.account, config.region, config.models_bucket_name, config.data_lake_key_alias)

    @property
    def bucket_arn(self) -> str:
        return f"arn:{cdk.Aws.PARTITION}:s3:::{self.bucket_name}"

    def grant_read(self, role: iam.Role, prefixes: list[str]) -> None:
        """s3:GetObject under ``prefixes`` of the bucket and Decrypt with its key."""
        objects = [f"{self.bucket_arn}/{prefix}/*" for prefix in prefixes]
        for arn in objects:
            acknowledge_wildcard(role, resource=arn, reason="Artifacts of whichever run produced the promoted package")
        role.add_to_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=objects))
        keys = f"arn:{cdk.Aws.PARTITION}:kms:{self.region}:{self.account}:key/*"
        acknowledge_wildcard(role, resource=keys, reason="The source account's lake key, matched by its alias")
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["kms:Decrypt"],
                resources=[keys],
                conditions={"ForAnyValue:StringEquals": {"kms:ResourceAliases": self.key_alias}},
            )
        )
