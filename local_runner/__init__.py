"""Runs the project's SageMaker pipeline definition on this machine: no AWS, no Docker.

Never shipped to AWS (the code bundle holds ml_code/ only). ``python -m local_runner --help``.

    definition.py        the definition infra builds, local stand-ins, parameters, --base-model
    executor.py          step order, dispatch by step type, Condition/Fail, execution result
    expressions.py       Get / Std:Join / Std:JsonGet and property paths
    conditions.py        a Condition step's comparisons
    local_s3.py          s3://bucket/key <-> <run>/s3/bucket/key, S3Prefix and sharding semantics
    container_paths.py   /opt/ml and /tmp remapped per host (+ container/sitecustomize.py)
    processing.py        Processing steps under the processing container contract
    training.py          Training steps under the training toolkit contract (SM_*, torchrun)
    metrics.py           MetricDefinitions scraping
    registry.py          local model registry (JSON files); register_step.py: RegisterModel
    report.py            run.json and report.md
    runner.py            one execution end to end; cli.py: the command line
    serving.py           serve a registered version with tools/serve.py
"""
