"""The one step of the capture-job pipelines (monitor, compare): a script of ml_code in the
monitoring image over the endpoint's data capture, reports to a dated prefix.

Both jobs share what makes them safe and runnable anywhere: one instance (the window is
sampled to a bounded size), the lake key on volume and output, the region for boto3, one hour
at most, not network-isolated (they call S3, CloudWatch and, for the drift job, SSM and
SageMaker, through the VPC endpoints where networking is on), and jobs named with their own
prefix (use_custom_job_prefix) so each role is scoped to its own jobs.
"""

from __future__ import annotations

from dataclasses import dataclass

from sagemaker.processing import ProcessingOutput, Processor
from sagemaker.workflow.entities import PipelineVariable
from sagemaker.workflow.functions import Join
from sagemaker.workflow.parameters import Parameter, ParameterString
from sagemaker.workflow.pipeline import Pipeline
from sagemaker.workflow.pipeline_definition_config import PipelineDefinitionConfig
from sagemaker.workflow.steps import ProcessingStep

from infra.config import EnvironmentConfig
from infra.pipeline.network import JobNetwork, processing_network
from infra.pipeline.retries import JOB_RETRIES
from infra.pipeline.sdk_session import offline_pipeline_session
from infra.pipeline.step_helpers import PROCESSING_ROOT, code_input, script_entrypoint
from infra.pipeline.tracking import JobTracking

REPORT_DIR = f"{PROCESSING_ROOT}/report"


@dataclass(frozen=True)
class CaptureJobTargets:
    """Where a capture job runs and writes (CDK tokens are fine)."""

    role_arn: str
    code_uri: str
    image_uri: str  # containers/monitor
    reports_uri: str  # dated report folders go below it
    kms_key_arn: str
    work_bucket: str
    network: JobNetwork | None = None
    code_version: str = ""  # the code archive's version (ML_CODE_VERSION)


def capture_job_pipeline(
    config: EnvironmentConfig,
    targets: CaptureJobTargets,
    *,
    pipeline_name: str,
    step_name: str,
    script: str,
    job_prefix: str,
    instance_type: ParameterString,
    parameters: list[Parameter],
    arguments: list,
    tracking_uri: ParameterString,
    data_uris: dict[str, str | PipelineVariable],
) -> Pipeline:
    """The pipeline: ``script`` with ``arguments`` (plus ``--report-dir``) as its one step;
    ``tracking_uri``: its TrackingUri parameter; ``data_uris``: what the job reads, by name
    (the job's DATA_URI_<NAME> variables)."""
    tracking = JobTracking(uri=tracking_uri, experiment=pipeline_name, code_version=targets.code_version)
    session = offline_pipeline_session(config.region, targets.work_bucket)
    processor = Processor(
        role=targets.role_arn,
        image_uri=targets.image_uri,
        instance_type=instance_type,
        instance_count=1,
        entrypoint=script_entrypoint(script),
        volume_kms_key=targets.kms_key_arn,
        output_kms_key=targets.kms_key_arn,
        base_job_name=job_prefix,
        env={"AWS_DEFAULT_REGION": config.region, **tracking.environment(step_name, data_uris)},
        max_runtime_in_seconds=3600,
        network_config=processing_network(targets.network, isolated=False),
        sagemaker_session=session,
    )
    args = processor.run(
        inputs=[code_input(targets.code_uri)],
        # A Join: the SDK parses a plain string destination as a URL, which a CDK token breaks.
        outputs=[
            ProcessingOutput(
                output_name="report", source=REPORT_DIR, destination=Join(on="", values=[targets.reports_uri])
            )
        ],
        arguments=[*arguments, "--report-dir", REPORT_DIR],
    )
    return Pipeline(
        name=pipeline_name,
        parameters=parameters,
        steps=[ProcessingStep(step_name, step_args=args, retry_policies=JOB_RETRIES)],
        sagemaker_session=session,
        pipeline_definition_config=PipelineDefinitionConfig(use_custom_job_prefix=True),
        pipeline_experiment_config=None,
    )
