"""The local runner ignores VPC settings and network isolation, and says so once per run."""

from __future__ import annotations

from local_runner.definition import network_note


def _step(name: str, **arguments) -> dict:
    return {"Name": name, "Type": "Processing", "Arguments": arguments}


def test_no_network_settings_no_note():
    assert network_note({"Steps": [_step("A", NetworkConfig={"EnableInterContainerTrafficEncryption": True})]}) is None


def test_vpc_and_isolation_are_named_once_with_their_steps_including_the_gates_branches():
    vpc = {"Subnets": ["subnet-1"], "SecurityGroupIds": ["sg-1"]}
    definition = {
        "Steps": [
            _step("Preprocess", NetworkConfig={"VpcConfig": vpc}),
            {"Name": "Train", "Type": "Training", "Arguments": {"VpcConfig": vpc}},
            {
                "Name": "Gate",
                "Type": "Condition",
                "Arguments": {
                    "IfSteps": [_step("Evaluate", NetworkConfig={"VpcConfig": vpc, "EnableNetworkIsolation": True})]
                },
            },
        ]
    }
    note = network_note(definition)
    assert note is not None
    assert note.startswith(
        "VPC subnets and security groups of Evaluate, Preprocess, Train and network isolation of Evaluate"
    )
    assert note.endswith("have no local meaning: ignored (steps run as processes of this machine)")
