#!/usr/bin/env python3
"""CDK entry point: one Stage per environment in cdk.json (dev, staging, prod)."""

import sys

import aws_cdk as cdk

from infra.app_builder import build_app
from infra.config import ConfigError
from infra.validation_report import failures


def main() -> None:
    app = cdk.App()
    try:
        build_app(app)
    except ConfigError as error:
        sys.exit(f"cdk.json: {error}")
    assembly = app.synth()
    found = failures(assembly.directory)
    if found:
        print("\n".join(["Unacknowledged validation findings (see infra/nag.py):", *found]), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
