"""Deployment outcomes for people: one SNS message each, subject first."""

from __future__ import annotations

from aws_lambda_powertools import Logger
from settings import AwsClient

logger = Logger(service="deploy-model", child=True)
SUBJECT_MAX = 100  # SNS rejects longer subjects


def publish(sns: AwsClient, topic_arn: str, subject: str, message: str) -> None:
    sns.publish(TopicArn=topic_arn, Subject=subject[:SUBJECT_MAX], Message=message)
    logger.info("notification published", extra={"subject": subject})
