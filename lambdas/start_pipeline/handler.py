"""Starts one training-pipeline execution per dataset dropped into the raw bucket."""

from __future__ import annotations

import os
from typing import Any, TypeAlias

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext
from drop import NotADrop, drop_from_event

logger = Logger(service="start-pipeline")
# A boto3 client. boto3 ships no type information and boto3-stubs is not a dependency, so
# the client is Any at this boundary only; what it returns is annotated where it is read.
AwsClient: TypeAlias = Any
_sagemaker: AwsClient | None = None


def sagemaker_client() -> AwsClient:
    # Created on first use so importing the module (tests, cold start checks) needs no AWS.
    global _sagemaker
    if _sagemaker is None:
        _sagemaker = boto3.client("sagemaker")
    return _sagemaker


def start_execution(
    client: AwsClient, pipeline_name: str, input_parameter: str, event: EventBridgeEvent
) -> dict[str, Any]:
    """Start the pipeline for the drop in ``event``; returns what happened, for the log."""
    try:
        drop = drop_from_event(event.detail)
    except NotADrop as reason:
        # EventBridge already filters on the marker suffix: anything else is logged and dropped.
        logger.warning("ignored event", extra={"reason": str(reason), "event_id": event.get_id})
        return {"started": False, "reason": str(reason)}
    response = client.start_pipeline_execution(
        PipelineName=pipeline_name,
        PipelineExecutionDisplayName=f"drop-{drop.client_request_token[:16]}",
        PipelineParameters=[{"Name": input_parameter, "Value": drop.input_data_uri}],
        ClientRequestToken=drop.client_request_token,
    )
    arn: str = response["PipelineExecutionArn"]
    logger.info("pipeline execution started", extra={"input_data_uri": drop.input_data_uri, "execution_arn": arn})
    return {"started": True, "input_data_uri": drop.input_data_uri, "execution_arn": arn}


@logger.inject_lambda_context
@event_source(data_class=EventBridgeEvent)
def handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    return start_execution(sagemaker_client(), os.environ["PIPELINE_NAME"], os.environ["INPUT_DATA_PARAMETER"], event)
