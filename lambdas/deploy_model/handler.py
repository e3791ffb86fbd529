"""Deploys approved model packages to the dev endpoint, then verifies what it serves.

One function, two EventBridge rules: "SageMaker Model Package State Change" starts a
deployment (deploy.py), "SageMaker Endpoint State Change" verifies it (verify.py). Operators
end a challenger test by invoking it (end_test.py; the request in lambdas/README.md).
"""

from __future__ import annotations

from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext
from deploy import on_approval
from end_test import on_end_request
from events import ApprovalChange, EndChallengerTest, MalformedEvent, event_id, parse
from settings import Clients, Settings
from verify import on_endpoint_change

logger = Logger(service="deploy-model")
_clients: Clients | None = None


def clients() -> Clients:
    # Created on first use so importing the module (tests, cold start checks) needs no AWS.
    global _clients
    if _clients is None:
        _clients = Clients(sagemaker=boto3.client("sagemaker"), ssm=boto3.client("ssm"), sns=boto3.client("sns"))
    return _clients


def dispatch(event: EventBridgeEvent, settings: Settings, aws: Clients) -> dict[str, Any]:
    try:
        change = parse(event)
    except MalformedEvent as reason:
        # Dropped, not raised: a retry of a poison event can only fail again.
        logger.warning("malformed event dropped", extra={"event_id": event_id(event), "reason": str(reason)})
        return {"status": "malformed", "reason": str(reason)}
    if isinstance(change, ApprovalChange):
        return on_approval(change, settings, aws, event_id(event))
    if isinstance(change, EndChallengerTest):
        return on_end_request(change, settings, aws, event_id(event))
    return on_endpoint_change(change, settings, aws)


@logger.inject_lambda_context
@event_source(data_class=EventBridgeEvent)
def handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    return dispatch(event, Settings.from_env(), clients())
