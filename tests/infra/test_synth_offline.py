"""`cdk synth` through the pinned CLI works offline with no AWS credentials, region or profile."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import SERVED_PACKAGE

ROOT = Path(__file__).resolve().parents[2]
CDK = ROOT / "node_modules" / ".bin" / "cdk"


def _project_copy(tmp_path: Path) -> Path:
    """The app's sources in a scratch folder, sharing the installed .venv and node_modules."""
    work = tmp_path / "project"
    work.mkdir()
    for name in ("app.py", "cdk.json", "package.json"):
        shutil.copy2(ROOT / name, work / name)
    for name in ("infra", "ml_code", "containers", "lambdas"):
        shutil.copytree(ROOT / name, work / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in (".venv", "node_modules"):
        (work / name).symlink_to(ROOT / name)
    return work


def _offline_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CDK_"))}
    # An empty HOME: no ~/.aws/config or credentials to fall back on.
    env.update(HOME=str(home), AWS_EC2_METADATA_DISABLED="true", JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20")
    return env


@pytest.mark.slow
def test_cli_synth_writes_every_environment_without_credentials(tmp_path):
    # As the delivery pipeline runs it: a package to serve for staging only, passed with -c;
    # dev and prod keep cdk.json's "none", so the same run covers both kinds of serving stack.
    if not CDK.exists():
        pytest.fail("node_modules/.bin/cdk is missing: run `make test`, which installs the pinned CDK CLI")
    # Synthesize a copy so the developer's own cdk.out/ is left alone.
    work = _project_copy(tmp_path)
    home = tmp_path / "home"
    home.mkdir()
    result = subprocess.run(
        [
            str(CDK),
            "synth",
            "--quiet",
            "--no-version-reporting",
            "-c",
            f"mlops.model_package_arn.staging={SERVED_PACKAGE}",
        ],
        cwd=work,
        env=_offline_env(home),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    manifest = json.loads((work / "cdk.out" / "manifest.json").read_text())
    stages = {name for name, artifact in manifest["artifacts"].items() if artifact["type"] == "cdk:cloud-assembly"}
    assert stages == {"assembly-dev", "assembly-staging", "assembly-prod"}
    delivery = manifest["artifacts"]["Delivery"]
    assert (
        delivery["type"] == "aws:cloudformation:stack"
        and delivery["properties"]["stackName"] == "roberta-sentiment-delivery"
    )
    assert delivery["environment"] == "aws://111111111111/us-east-1"
    for env, account in (("dev", "111111111111"), ("staging", "222222222222"), ("prod", "333333333333")):
        nested = json.loads((work / "cdk.out" / f"assembly-{env}" / "manifest.json").read_text())
        stacks = {
            a["properties"]["stackName"]: a["environment"]
            for a in nested["artifacts"].values()
            if a["type"] == "aws:cloudformation:stack"
        }
        assert stacks == {
            f"roberta-sentiment-{env}-{kind}": f"aws://{account}/us-east-1"
            for kind in ("data", "analytics", "pipeline", "serving", *(("network",) if env != "dev" else ()))
        }
        assert not nested.get("missing")  # no context lookup: nothing asks AWS at synth
        serving = next((work / "cdk.out" / f"assembly-{env}").glob(f"{env}Serving*.template.json"))
        resources = json.loads(serving.read_text())["Resources"].values()
        models = [r["Properties"] for r in resources if r["Type"] == "AWS::SageMaker::Model"]
        expected = [[{"ModelPackageName": SERVED_PACKAGE}]] if env == "staging" else []
        assert [[{k: c[k] for k in ("ModelPackageName",)} for c in m["Containers"]] for m in models] == expected


@pytest.mark.slow
def test_cli_synth_fails_with_the_key_name_on_a_bad_config(tmp_path):
    work = _project_copy(tmp_path)
    config = json.loads((work / "cdk.json").read_text())
    config["context"]["mlops"]["environments"]["staging"]["processing"]["instance_count"] = -1
    (work / "cdk.json").write_text(json.dumps(config))
    home = tmp_path / "home"
    home.mkdir()
    result = subprocess.run(
        [str(CDK), "synth", "--quiet"], cwd=work, env=_offline_env(home), capture_output=True, text=True, timeout=300
    )
    assert result.returncode != 0
    assert (
        "context.mlops.environments.staging.processing.instance_count: expected an integer from 1 to 100, got -1"
        in result.stderr
    )
