"""The deployment in flight: which package, and which endpoint config must end up serving.

Kept as JSON in one SSM parameter, ``<SERVED_MODEL_PARAMETER>/pending``, rather than in
the endpoint's tags, because:

- the endpoint and its tags belong to CloudFormation: the next stack update rewrites them
  (and drift detection reports ours), while this parameter belongs to this function only;
- it sits beside the served-model parameter, so one IAM scope on that parameter path
  covers both, and Parameter Store keeps a version history of every deployment started;
- it survives the endpoint being replaced or deleted mid-rollout, which tags would not.

It is written only after SageMaker has accepted UpdateEndpoint, so it never names a
rollout that did not start; a crash in between is repaired by the retry (deploy.py).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError
from settings import AwsClient

logger = Logger(service="deploy-model", child=True)

# What a rollout is for, which decides what its verification records (verify.py).
DEPLOY = "deploy"  # the package replaces the champion: recorded as served
CHALLENGER = "challenger"  # the package joins as the challenger: the served package is unchanged
END_TEST = "end-challenger-test"  # the test's winner alone is left: recorded as served


@dataclass(frozen=True)
class PendingDeployment:
    model_package_arn: str
    endpoint_config_name: str  # what the endpoint must serve once the rollout is over
    previous_endpoint_config_name: str  # what it served before: where a rollback lands
    event_id: str | None  # the approval event that started it, to trace the logs
    purpose: str = DEPLOY  # records written before challengers existed have none: a deployment


def _not_found(error: ClientError) -> bool:
    code: str | None = error.response.get("Error", {}).get("Code")
    return code == "ParameterNotFound"


def read(ssm: AwsClient, name: str) -> PendingDeployment | None:
    try:
        value: str = ssm.get_parameter(Name=name)["Parameter"]["Value"]
    except ClientError as error:
        if _not_found(error):
            return None
        raise
    try:
        return PendingDeployment(**json.loads(value))
    except (ValueError, TypeError) as error:
        # Hand-edited or from an incompatible version: nothing trustworthy is in flight.
        logger.warning("unreadable pending deployment ignored", extra={"parameter": name, "error": str(error)})
        return None


def write(ssm: AwsClient, name: str, pending: PendingDeployment) -> None:
    record = asdict(pending)
    if pending.purpose == DEPLOY:
        # Written as before challengers existed: an older version of the function reads it too.
        del record["purpose"]
    ssm.put_parameter(Name=name, Value=json.dumps(record, sort_keys=True), Type="String", Overwrite=True)


def clear(ssm: AwsClient, name: str) -> None:
    try:
        ssm.delete_parameter(Name=name)
    except ClientError as error:
        if not _not_found(error):  # already cleared by an earlier delivery of the same event
            raise
