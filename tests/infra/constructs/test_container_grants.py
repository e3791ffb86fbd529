"""grant_container_basics on its own.

Args (all required): ``repositories`` ((registry account, repository): pull only those),
``log_groups`` ((name, reason): streams of those groups only), ``metric_namespace``
(PutMetricData limited to it). The two actions AWS scopes to no resource are the only
``"*"`` resources. No repository or no log group fails synthesis (an empty statement).
"""

from __future__ import annotations

import pytest
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Template

from infra.constructs.container_grants import grant_container_basics
from tests.infra.constructs.conftest import arn_tail, assert_least_privilege, resources_for, statements

REPOS = [("763104351884", "huggingface-pytorch-inference"), ("111111111111", "b-repo")]


def build(stack, repositories=REPOS, log_groups=(("/aws/sagemaker/TrainingJobs", "why"),)) -> Template:
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    grant_container_basics(role, repositories=repositories, log_groups=log_groups, metric_namespace="demo/*")
    return Template.from_stack(stack)


def test_pulls_only_the_named_repositories_sorted(stack):
    template = build(stack)
    assert_least_privilege(template)
    assert [arn_tail(arn) for arn in resources_for(template, "ecr:BatchGetImage")] == [
        ":ecr:us-east-1:111111111111:repository/b-repo",
        ":ecr:us-east-1:763104351884:repository/huggingface-pytorch-inference",
    ]


def test_writes_only_the_named_log_groups(stack):
    template = build(stack)
    assert [arn_tail(arn) for arn in resources_for(template, "logs:PutLogEvents")] == [
        ":logs:us-east-1:123456789012:log-group:/aws/sagemaker/TrainingJobs:*"
    ]


def test_unscoped_actions_are_the_only_star_resources_and_metrics_keep_to_the_namespace(stack):
    template = build(stack)
    unscoped = [s for s in statements(template) if s["Resource"] == "*"]
    assert sorted(s["Action"] for s in unscoped) == ["cloudwatch:PutMetricData", "ecr:GetAuthorizationToken"]
    [metrics] = [s for s in unscoped if s["Action"] == "cloudwatch:PutMetricData"]
    assert metrics["Condition"] == {"StringLike": {"cloudwatch:namespace": "demo/*"}}


@pytest.mark.parametrize("empty", ["repositories", "log_groups"])
def test_nothing_to_pull_or_log_fails_synthesis(stack, empty):
    with pytest.raises(RuntimeError, match="at least one resource"):
        build(stack, **{empty: ()})
