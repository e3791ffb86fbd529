"""Phase 1: an Approved package of our group starts a blue/green update of the endpoint.

The endpoint is CloudFormation's; this only clones its current model and config with the
new package and calls UpdateEndpoint with RetainDeploymentConfig, so SageMaker's traffic
shifting and alarm-based auto rollback (from the stack's DeploymentConfig) apply. Whether
the rollout really ended on the new config is checked in phase 2 (verify.py).

With CHALLENGER_MODE shadow or ab the package does not replace the champion: it joins as
the ``Challenger`` variant (a clone of the champion's model with the new package, on the
same instances) on CHALLENGER_TRAFFIC_PERCENT % of the requests, replacing any challenger
already there; the champion's variant, data capture and the rest of the config are kept.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import clone
import pending as pending_store
from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError
from events import APPROVED, ApprovalChange
from names import deployment_name
from notify import publish
from settings import AwsClient, Clients, Settings

logger = Logger(service="deploy-model", child=True)

# The context key that makes the serving stack create the endpoint for a package; approval
# deploys to dev only (deploy_on_approval in cdk.json), so the key names dev.
CONTEXT_KEY = "mlops.model_package_arn.dev"
CHALLENGER_CONTEXT_KEY = "mlops.challenger_package_arn.dev"
# An update started now would be refused (or fight the one in progress): wait and retry.
BUSY = frozenset({"Creating", "Updating", "SystemUpdating", "RollingBack", "Deleting"})


class EndpointBusy(RuntimeError):
    """The endpoint is rolling out something else; raised so Lambda retries, then dead-letters."""


def _code(error: ClientError) -> str:
    code: str = error.response.get("Error", {}).get("Code", "")
    return code


def _message(error: ClientError) -> str:
    message: str = error.response.get("Error", {}).get("Message", "")
    return message


def describe_endpoint(sagemaker: AwsClient, name: str) -> dict[str, Any] | None:
    try:
        endpoint: dict[str, Any] = sagemaker.describe_endpoint(EndpointName=name)
        return endpoint
    except ClientError as error:
        if _code(error) == "ValidationException" and "Could not find endpoint" in _message(error):
            return None
        raise


def registered_package(sagemaker: AwsClient, arn: str) -> dict[str, Any] | None:
    """The registry's record of ``arn``; None when it cannot be read (gone, or not ours to read)."""
    try:
        package: dict[str, Any] = sagemaker.describe_model_package(ModelPackageName=arn)
        return package
    except ClientError as error:
        # The role may only read our group's packages: AccessDenied means another group.
        if _code(error) in ("ValidationException", "ResourceNotFound", "AccessDeniedException"):
            logger.warning("model package not readable", extra={"package_arn": arn, "error": str(error)})
            return None
        raise


def create_or_reuse(create: Callable[..., object], request: dict[str, Any], kind: str, name: str) -> None:
    try:
        create(**request)
    except ClientError as error:
        # Deterministic names: a retry finds what the first attempt created.
        if _code(error) == "ValidationException" and "already exist" in _message(error):
            logger.info(f"{kind} already exists, reused", extra={"resource_name": name})
            return
        raise


def tags_of(sagemaker: AwsClient, arn: str) -> list[dict[str, str]]:
    tags: list[dict[str, str]] = []
    token: str | None = None
    while True:
        page: dict[str, Any] = sagemaker.list_tags(ResourceArn=arn, **({"NextToken": token} if token else {}))
        tags += page.get("Tags", [])
        token = page.get("NextToken")
        if not token:
            return clone.user_tags(tags)


def on_approval(change: ApprovalChange, settings: Settings, clients: Clients, event_id: str | None) -> dict[str, Any]:
    arn = change.package_arn
    if change.status != APPROVED:
        logger.info("not an approval, ignored", extra={"package_arn": arn, "approval_status": change.status})
        return {"status": "ignored", "reason": f"approval status is {change.status}"}
    if change.group != settings.model_package_group:
        logger.info("package of another group, ignored", extra={"package_arn": arn, "group": change.group})
        return {"status": "ignored", "reason": f"package group {change.group} is not {settings.model_package_group}"}

    # The event alone is not trusted (a late delivery after a rejection, or a direct invoke
    # with a forged body): the registry must agree that the package is ours and Approved now.
    package = registered_package(clients.sagemaker, arn)
    refusal = _refusal(package, arn, settings.model_package_group)
    if refusal or package is None:  # no package always comes with a refusal
        logger.warning("registry disagrees with the event, refused", extra={"package_arn": arn, "reason": refusal})
        return {"status": "refused", "reason": refusal}

    endpoint = describe_endpoint(clients.sagemaker, settings.endpoint_name)
    if endpoint is None:
        return _no_endpoint(settings, clients, arn)
    version = package["ModelPackageVersion"]
    challenging = settings.challenger_mode != "off"
    if challenging:
        # The config also depends on the champion's config it is cloned from (the one the endpoint
        # runs until the update is over, so a retry computes the same name) and on the split.
        kind = f"{settings.challenger_mode}{settings.challenger_traffic_percent}"
        name = deployment_name(settings.endpoint_name, version, arn, kind, basis=endpoint["EndpointConfigName"])
    else:
        name = deployment_name(settings.endpoint_name, version, arn)
    purpose = pending_store.CHALLENGER if challenging else pending_store.DEPLOY
    status = endpoint["EndpointStatus"]
    if status in BUSY:
        return _while_busy(settings, clients, endpoint, arn, name, event_id, purpose)
    if status != "InService":
        # Failed or OutOfService: UpdateEndpoint cannot fix it, and retrying will not either.
        publish(
            clients.sns,
            settings.topic_arn,
            f"Model not deployed: endpoint {settings.endpoint_name} is {status}",
            f"Model package {arn} was approved, but endpoint {settings.endpoint_name} is {status} "
            f"({endpoint.get('FailureReason', 'no failure reason')}). Repair the endpoint (redeploy the "
            f"serving stack), then deploy the package with -c "
            f"{CHALLENGER_CONTEXT_KEY if challenging else CONTEXT_KEY}={arn}.",
        )
        return {"status": "endpoint-unusable", "endpoint_status": status}
    if challenging:
        return _challenge(
            settings, clients, endpoint, arn, deployment_name(settings.endpoint_name, version, arn), name, event_id
        )
    return _update(settings, clients, endpoint, arn, name, event_id)


def _refusal(package: dict[str, Any] | None, arn: str, group: str) -> str | None:
    if package is None:
        return f"{arn} is not readable in the registry"
    if package.get("ModelPackageGroupName") != group:
        return f"registry group of {arn} is {package.get('ModelPackageGroupName')}, not {group}"
    if package.get("ModelApprovalStatus") != APPROVED:
        return f"registry approval status is {package.get('ModelApprovalStatus')}"
    return None


def _no_endpoint(settings: Settings, clients: Clients, arn: str) -> dict[str, Any]:
    # CloudFormation owns the endpoint's creation (its deployment config, alarms, autoscaling).
    publish(
        clients.sns,
        settings.topic_arn,
        f"Approved model needs an endpoint: {settings.endpoint_name}",
        f"Model package {arn} was approved, but endpoint {settings.endpoint_name} does not exist yet. "
        f"Create it by deploying the serving stack with: cdk deploy -c {CONTEXT_KEY}={arn}",
    )
    logger.warning("no endpoint to update", extra={"package_arn": arn, "endpoint": settings.endpoint_name})
    return {"status": "no-endpoint", "package_arn": arn}


def _while_busy(
    settings: Settings,
    clients: Clients,
    endpoint: dict[str, Any],
    arn: str,
    name: str,
    event_id: str | None,
    purpose: str = pending_store.DEPLOY,
) -> dict[str, Any]:
    recorded = pending_store.read(clients.ssm, settings.pending_parameter)
    rolling_out = (endpoint.get("PendingDeploymentSummary") or {}).get("EndpointConfigName")
    if rolling_out == name:
        if recorded is None or recorded.endpoint_config_name != name:
            # The first attempt died between UpdateEndpoint and recording it: record it now.
            pending_store.write(
                clients.ssm,
                settings.pending_parameter,
                pending_store.PendingDeployment(arn, name, endpoint["EndpointConfigName"], event_id, purpose),
            )
        logger.info("deployment already in progress", extra={"package_arn": arn, "endpoint_config": name})
        return {"status": "pending", "package_arn": arn, "endpoint_config": name}
    if recorded is not None and recorded.model_package_arn == arn:
        logger.info("deployment already in progress", extra={"package_arn": arn, "endpoint_config": name})
        return {"status": "pending", "package_arn": arn, "endpoint_config": recorded.endpoint_config_name}
    raise EndpointBusy(
        f"endpoint {settings.endpoint_name} is {endpoint['EndpointStatus']} (rolling out {rolling_out}); "
        f"{arn} is deployed when it is done"
    )


def _update(
    settings: Settings, clients: Clients, endpoint: dict[str, Any], arn: str, name: str, event_id: str | None
) -> dict[str, Any]:
    sagemaker = clients.sagemaker
    config: dict[str, Any] = sagemaker.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    if clone.challenger_variant(config) is not None:
        return _test_running(settings, clients, arn)
    model: dict[str, Any] = sagemaker.describe_model(ModelName=clone.variant_of(config)["ModelName"])
    if clone.container_of(model).get("ModelPackageName") == arn:
        logger.info("endpoint already serves the package", extra={"package_arn": arn})
        return {"status": "already-serving", "package_arn": arn, "endpoint_config": endpoint["EndpointConfigName"]}

    # The model and its endpoint config share the name: they are different resource types.
    model_request = clone.model_request(model, name, arn, tags_of(sagemaker, model["ModelArn"]))
    create_or_reuse(sagemaker.create_model, model_request, "model", name)
    config_request = clone.endpoint_config_request(config, name, name, tags_of(sagemaker, config["EndpointConfigArn"]))
    create_or_reuse(sagemaker.create_endpoint_config, config_request, "endpoint config", name)
    sagemaker.update_endpoint(EndpointName=settings.endpoint_name, EndpointConfigName=name, RetainDeploymentConfig=True)
    pending_store.write(
        clients.ssm,
        settings.pending_parameter,
        pending_store.PendingDeployment(arn, name, endpoint["EndpointConfigName"], event_id),
    )
    logger.info("endpoint update started", extra={"package_arn": arn, "endpoint_config": name})
    return {
        "status": "deployed-started",
        "package_arn": arn,
        "endpoint_config": name,
        "previous_endpoint_config": endpoint["EndpointConfigName"],
    }


def _test_running(settings: Settings, clients: Clients, arn: str) -> dict[str, Any]:
    # CHALLENGER_MODE is off but a challenger still runs: replacing the champion under it would
    # end the test without its winner; the operator ends it first.
    publish(
        clients.sns,
        settings.topic_arn,
        f"Model not deployed: a challenger test runs on {settings.endpoint_name}",
        f"Model package {arn} was approved, but endpoint {settings.endpoint_name} still runs a challenger "
        f"test and challenger mode is off. End the test first (python -m tools.challenger end --env dev "
        f"--winner champion|challenger), then deploy the package with -c {CONTEXT_KEY}={arn}.",
    )
    logger.warning("challenger test running, not deployed", extra={"package_arn": arn})
    return {"status": "challenger-test-running", "package_arn": arn}


def _challenge(
    settings: Settings,
    clients: Clients,
    endpoint: dict[str, Any],
    arn: str,
    model_name: str,
    name: str,
    event_id: str | None,
) -> dict[str, Any]:
    sagemaker = clients.sagemaker
    mode, percent, current = (
        settings.challenger_mode,
        settings.challenger_traffic_percent,
        endpoint["EndpointConfigName"],
    )
    config: dict[str, Any] = sagemaker.describe_endpoint_config(EndpointConfigName=current)
    champion = clone.champion_variant(config)
    champion_model: dict[str, Any] = sagemaker.describe_model(ModelName=champion["ModelName"])
    if clone.container_of(champion_model).get("ModelPackageName") == arn:
        logger.info("the champion is the package, no challenger", extra={"package_arn": arn})
        return {"status": "already-serving", "package_arn": arn, "endpoint_config": current}
    replaced = None
    running = clone.challenger_variant(config)
    if running is not None:
        variant, running_mode = running
        running_model: dict[str, Any] = sagemaker.describe_model(ModelName=variant["ModelName"])
        replaced = clone.container_of(running_model).get("ModelPackageName")
        expected = clone.challenger_weights(float(champion.get("InitialVariantWeight", 1.0)), mode, percent)[1]
        weight = float(variant.get("InitialVariantWeight", 1.0))
        if replaced == arn and running_mode == mode and abs(weight - expected) < 1e-6:
            logger.info("the package already is the challenger", extra={"package_arn": arn})
            return {"status": "already-challenging", "package_arn": arn, "endpoint_config": current}

    # The challenger's model is the champion's cloned with the new package, named as a deployment
    # of that package would name it: a challenger that wins keeps serving from the same model.
    model_request = clone.model_request(champion_model, model_name, arn, tags_of(sagemaker, champion_model["ModelArn"]))
    create_or_reuse(sagemaker.create_model, model_request, "model", model_name)
    config_request = clone.challenger_config_request(
        config, name, model_name, mode, percent, tags_of(sagemaker, config["EndpointConfigArn"])
    )
    create_or_reuse(sagemaker.create_endpoint_config, config_request, "endpoint config", name)
    sagemaker.update_endpoint(EndpointName=settings.endpoint_name, EndpointConfigName=name, RetainDeploymentConfig=True)
    pending_store.write(
        clients.ssm,
        settings.pending_parameter,
        pending_store.PendingDeployment(arn, name, current, event_id, pending_store.CHALLENGER),
    )
    logger.info(
        "challenger update started",
        extra={"package_arn": arn, "endpoint_config": name, "mode": mode, "replaced_challenger": replaced},
    )
    return {
        "status": "challenger-started",
        "package_arn": arn,
        "mode": mode,
        "traffic_percent": percent,
        "endpoint_config": name,
        "previous_endpoint_config": current,
        "replaced_challenger": replaced,
    }
