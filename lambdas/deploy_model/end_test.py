"""Ending a challenger test: the winner alone stays on the endpoint, blue/green.

The request (events.EndChallengerTest, lambdas/README.md) names the winner. The endpoint's
current config is cloned with the winner's variant as its only production variant, under
the champion's variant name and with all the traffic, the challenger removed (shadow or A/B)
and everything else kept; the winner keeps its model, so nothing is created but the config.
The update is verified like a deployment (verify.py), which then records the winner's
package in the served-model parameter (unchanged when the champion wins).
"""

from __future__ import annotations

from typing import Any

import clone
import pending as pending_store
from aws_lambda_powertools import Logger
from deploy import BUSY, EndpointBusy, create_or_reuse, describe_endpoint, tags_of
from events import EndChallengerTest
from names import deployment_name, package_version
from settings import Clients, Settings

logger = Logger(service="deploy-model", child=True)


def _package(sagemaker: Any, variant: dict[str, Any]) -> str:
    model: dict[str, Any] = sagemaker.describe_model(ModelName=variant["ModelName"])
    arn = clone.container_of(model).get("ModelPackageName")
    if not isinstance(arn, str):
        raise clone.UnsupportedEndpoint(f"model {variant['ModelName']} serves no model package")
    return arn


def on_end_request(
    request: EndChallengerTest, settings: Settings, clients: Clients, request_id: str | None
) -> dict[str, Any]:
    sagemaker, winner = clients.sagemaker, request.winner
    endpoint = describe_endpoint(sagemaker, settings.endpoint_name)
    if endpoint is None:
        return {"status": "no-endpoint", "reason": f"endpoint {settings.endpoint_name} does not exist"}
    status, current = endpoint["EndpointStatus"], endpoint["EndpointConfigName"]
    if status in BUSY:
        recorded = pending_store.read(clients.ssm, settings.pending_parameter)
        if recorded is not None and recorded.purpose == pending_store.END_TEST:
            logger.info("end of the test already in progress", extra={"endpoint_config": recorded.endpoint_config_name})
            return {"status": "pending", "endpoint_config": recorded.endpoint_config_name}
        raise EndpointBusy(f"endpoint {settings.endpoint_name} is {status}: end the test when it is InService")
    if status != "InService":
        return {"status": "endpoint-unusable", "endpoint_status": status}

    config: dict[str, Any] = sagemaker.describe_endpoint_config(EndpointConfigName=current)
    running = clone.challenger_variant(config)
    if running is None:
        # Also what a second delivery of the same request finds once the first is done.
        logger.info("no challenger test running", extra={"endpoint_config": current})
        return {"status": "no-challenger", "endpoint_config": current}
    champion, (challenger, mode) = clone.champion_variant(config), running
    challenger_arn = _package(sagemaker, challenger)
    if request.challenger_package_arn and request.challenger_package_arn != challenger_arn:
        reason = f"the challenger is {challenger_arn}, not {request.challenger_package_arn}: the test was replaced"
        logger.warning("end of another test refused", extra={"reason": reason})
        return {"status": "refused", "reason": reason}
    kept = champion if winner == "champion" else challenger
    winner_arn = _package(sagemaker, champion) if winner == "champion" else challenger_arn

    name = deployment_name(settings.endpoint_name, package_version(winner_arn), winner_arn, "end", basis=current)
    request_body = clone.winner_config_request(config, name, kept, tags_of(sagemaker, config["EndpointConfigArn"]))
    create_or_reuse(sagemaker.create_endpoint_config, request_body, "endpoint config", name)
    sagemaker.update_endpoint(EndpointName=settings.endpoint_name, EndpointConfigName=name, RetainDeploymentConfig=True)
    pending_store.write(
        clients.ssm,
        settings.pending_parameter,
        pending_store.PendingDeployment(winner_arn, name, current, request_id, pending_store.END_TEST),
    )
    logger.info("end of the challenger test started", extra={"winner": winner, "package_arn": winner_arn})
    return {
        "status": "end-started",
        "winner": winner,
        "mode": mode,
        "package_arn": winner_arn,
        "challenger_package_arn": challenger_arn,
        "endpoint_config": name,
        "previous_endpoint_config": current,
    }
