"""Fixtures for the operator tools: botocore Stubber-backed clients, no network, no credentials."""

from __future__ import annotations

import pytest

REGION = "us-east-1"


class AwsStubs:
    """A ClientFactory: ``stub(service)`` queues responses; the tool asks for clients by name."""

    def __init__(self) -> None:
        self.clients: dict = {}
        self.stubbers: dict = {}

    def stub(self, service: str):
        if service not in self.stubbers:
            import boto3
            from botocore.stub import Stubber

            # Explicit dummy keys: botocore must never look for real credentials here.
            client = boto3.client(
                service, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing"
            )
            self.clients[service], self.stubbers[service] = client, Stubber(client)
            self.stubbers[service].activate()
        return self.stubbers[service]

    def __call__(self, service: str):
        if service not in self.clients:
            raise AssertionError(f"the tool asked for an unexpected {service} client")
        return self.clients[service]

    def verify(self) -> None:
        for stubber in self.stubbers.values():
            stubber.assert_no_pending_responses()


@pytest.fixture
def aws():
    stubs = AwsStubs()
    yield stubs
    stubs.verify()
