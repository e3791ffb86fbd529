"""Phase 2: when the rollout is over, check what the endpoint really serves.

SageMaker reports an alarm-triggered rollback as an endpoint back InService, on the OLD
endpoint config, with a FailureReason: "InService" alone would report a silent rollback
as a success. Only DescribeEndpoint's EndpointConfigName equal to the one the deployment
asked for counts; then, and only then, the served-model parameter (read by promotion)
is written.

A config with a challenger (shadow or A/B) is verified the same way, by its name; since the
champion still serves, the served-model parameter is left as it is. The end of a test
records its winner there (the same value when the champion wins).
"""

from __future__ import annotations

from typing import Any, NoReturn

import pending as pending_store
from aws_lambda_powertools import Logger
from deploy import BUSY, describe_endpoint
from events import EndpointChange
from notify import publish
from settings import Clients, Settings

logger = Logger(service="deploy-model", child=True)

# Statuses that end a rollout, one way or the other; the others are progress reports.
FINAL = frozenset({"InService", "Failed", "UpdateRollbackFailed", "OutOfService"})


class DeploymentRolledBack(RuntimeError):
    """The endpoint does not serve the deployed package; raised so the function's Errors alarm fires."""


def on_endpoint_change(change: EndpointChange, settings: Settings, clients: Clients) -> dict[str, Any]:
    if change.endpoint_name != settings.endpoint_name:
        logger.info("another endpoint, ignored", extra={"endpoint": change.endpoint_name})
        return {"status": "ignored", "reason": f"endpoint {change.endpoint_name} is not {settings.endpoint_name}"}
    if change.status not in FINAL:
        logger.info("rollout in progress", extra={"endpoint_status": change.status})
        return {"status": "ignored", "reason": f"endpoint status {change.status} ends no rollout"}
    recorded = pending_store.read(clients.ssm, settings.pending_parameter)
    if recorded is None:
        # Not ours (a stack update, a scaling change) or already verified by an earlier delivery.
        logger.info("no deployment pending, ignored", extra={"endpoint_status": change.status})
        return {"status": "ignored", "reason": "no deployment pending"}

    # The event may be late or duplicated: the endpoint's current state decides.
    endpoint = describe_endpoint(clients.sagemaker, settings.endpoint_name) or {"EndpointStatus": "Deleted"}
    status, actual = endpoint["EndpointStatus"], endpoint.get("EndpointConfigName")
    if status in BUSY:
        logger.info("endpoint still updating, waiting", extra={"endpoint_status": status})
        return {"status": "pending", "package_arn": recorded.model_package_arn}
    if status == "InService" and actual == recorded.endpoint_config_name:
        return _verified(settings, clients, recorded)
    _rolled_back(settings, clients, recorded, status, actual, endpoint.get("FailureReason"))


def _verified(settings: Settings, clients: Clients, recorded: pending_store.PendingDeployment) -> dict[str, Any]:
    arn, config, endpoint = recorded.model_package_arn, recorded.endpoint_config_name, settings.endpoint_name
    if recorded.purpose == pending_store.CHALLENGER:
        subject = f"Challenger deployed to {endpoint}"
        message = (
            f"Endpoint {endpoint} runs model package {arn} as its challenger (endpoint config {config}) "
            f"beside the champion, which still serves: SSM parameter {settings.served_model_parameter} "
            f"is unchanged. Compare them, then end the test: python -m tools.challenger end --env <env> "
            f"--winner champion|challenger."
        )
    else:
        # Recorded first, cleared last: a crash in between leaves the pending record, so a redelivery re-verifies.
        clients.ssm.put_parameter(Name=settings.served_model_parameter, Value=arn, Type="String", Overwrite=True)
        ended = recorded.purpose == pending_store.END_TEST
        subject = f"Challenger test ended on {endpoint}" if ended else f"Model deployed to {endpoint}"
        message = (
            f"Endpoint {endpoint} serves model package {arn} (endpoint config {config})"
            f"{', the winner of the challenger test, alone' if ended else ''}. "
            f"Recorded in SSM parameter {settings.served_model_parameter}."
        )
    publish(clients.sns, settings.topic_arn, subject, message)
    pending_store.clear(clients.ssm, settings.pending_parameter)
    logger.info(
        "deployment verified", extra={"package_arn": arn, "endpoint_config": config, "purpose": recorded.purpose}
    )
    result = {"status": "verified", "package_arn": arn, "endpoint_config": config}
    return result if recorded.purpose == pending_store.DEPLOY else {**result, "purpose": recorded.purpose}


def _rolled_back(
    settings: Settings,
    clients: Clients,
    recorded: pending_store.PendingDeployment,
    status: str,
    actual: str | None,
    reason: str | None,
) -> NoReturn:
    arn = recorded.model_package_arn
    what = {pending_store.CHALLENGER: " as the challenger", pending_store.END_TEST: " as the test's winner"}
    role = what.get(recorded.purpose, "")
    summary = (
        f"Deployment of model package {arn}{role} to endpoint {settings.endpoint_name} failed: the endpoint is "
        f"{status} on endpoint config {actual}, expected {recorded.endpoint_config_name} (before the update: "
        f"{recorded.previous_endpoint_config_name}). Failure reason: {reason or 'none reported'}. "
        f"SSM parameter {settings.served_model_parameter} was left unchanged."
    )
    publish(clients.sns, settings.topic_arn, f"Model deployment FAILED on {settings.endpoint_name}", summary)
    # Cleared before raising: Lambda's retries of this invocation then find nothing to report twice.
    pending_store.clear(clients.ssm, settings.pending_parameter)
    logger.error(
        "deployment rolled back",
        extra={"package_arn": arn, "endpoint_status": status, "endpoint_config": actual, "failure_reason": reason},
    )
    raise DeploymentRolledBack(summary)
