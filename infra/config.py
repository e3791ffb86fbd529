"""Per-environment configuration, parsed once from cdk.json into frozen typed objects.

Every knob lives in cdk.json under ``context.mlops``; nothing in the stacks hard-codes an
environment. A missing, unknown or invalid value raises ``ConfigError`` naming the key
path (and so the environment), before any construct is built.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, TypedDict

from ml_code.common.containers import INFERENCE_INSTANCE_TYPES

ENVIRONMENT_NAMES = ("dev", "staging", "prod")
MONITORING_ENGINES = ("evidently", "model_monitor")
NETWORK_MODES = ("none", "create", "existing")
# `cdk synth -c mlops.model_package_arn.staging=arn:...`: the package the delivery pipeline
# promotes; flat keys because -c cannot reach into cdk.json's nested objects.
MODEL_PACKAGE_CONTEXT = "mlops.model_package_arn."
# The same for the challenger under test (serving.challenger.package_arn).
CHALLENGER_PACKAGE_CONTEXT = "mlops.challenger_package_arn."
CHALLENGER_MODES = ("off", "shadow", "ab")

_ACCOUNT = re.compile(r"^\d{12}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
_INSTANCE = re.compile(r"^ml\.[a-z0-9]+\.[a-z0-9]+$")
# EventBridge schedules: cron with 6 fields, or rate(N unit). Glue crawlers take cron only.
_CRON = re.compile(r"^cron\((\S+ ){5}\S+\)$")
_SCHEDULE = re.compile(r"^(cron\((\S+ ){5}\S+\)|rate\(\d+ (minute|minutes|hour|hours|day|days)\))$")
_MODEL_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")
# A model staged by tools.stage_base_model: a folder (trailing /), so S3Prefix inputs copy it whole.
_STAGED_MODEL = re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/\S+/$")
# Where staged base models live in the models bucket (the pipeline role reads only there).
BASE_MODELS_PREFIX = "base-models"
_BASE_MODEL = re.compile(f"{_MODEL_ID.pattern}|{_STAGED_MODEL.pattern}")
_BASE_MODEL_EXPECTED = "a Hugging Face model id like roberta-base or an s3:// folder URI ending in /"
_MODEL_PACKAGE_ARN = re.compile(r"^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package/[\w-]+/\d+$")
_S3_URI = re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/\S*)?$")
_CONNECTION_ARN = re.compile(
    r"^arn:aws[a-z-]*:(codeconnections|codestar-connections):[a-z0-9-]+:\d{12}:connection/[\w-]+$"
)
_REPOSITORY = re.compile(r"^[\w.-]+(/[\w.-]+)?$")
_BRANCH = re.compile(r"^[\w./-]+$")
_PROJECT = re.compile(r"^[a-z][a-z0-9-]{1,23}$")
_CIDR = re.compile(r"^(\d{1,3}\.){3}\d{1,3}/(1[6-9]|2[0-4])$")
_AZ = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d[a-z]$")
_VPC_ID = re.compile(r"^vpc-[0-9a-f]{8,17}$")
_SUBNET_ID = re.compile(r"^subnet-[0-9a-f]{8,17}$")
_ROUTE_TABLE_ID = re.compile(r"^rtb-[0-9a-f]{8,17}$")
# AWS::SageMaker::MlflowApp WeeklyMaintenanceWindowStart, UTC: e.g. Sun:03:00.
_MAINTENANCE_WINDOW = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun):([01]\d|2[0-3]):[0-5]\d$")
# Athena refuses a per-query cutoff below 10 MB.
_MIN_ATHENA_CUTOFF = 10 * 1024 * 1024


class ConfigError(ValueError):
    """A cdk.json value is missing or invalid; the message names its key path."""


@dataclass(frozen=True)
class DataLakeConfig:
    noncurrent_version_expiration_days: int
    athena_results_expiration_days: int
    access_logs_expiration_days: int


@dataclass(frozen=True)
class CatalogConfig:
    crawler_schedule: str | None  # None ("off" in cdk.json): run the crawler on demand only
    athena_bytes_scanned_cutoff: int


@dataclass(frozen=True)
class FeatureStoreConfig:
    online_store_enabled: bool


@dataclass(frozen=True)
class ComputeConfig:
    instance_type: str
    instance_count: int


@dataclass(frozen=True)
class TrainingConfig(ComputeConfig):
    use_spot: bool


@dataclass(frozen=True)
class PipelineConfig:
    min_accuracy: float
    retrain_schedule: str | None  # None ("off" in cdk.json): retrain only on new data or drift
    # What the training step fine-tunes: a Hugging Face model id (roberta-base; the jobs
    # download it, so they need internet egress) or the s3:// folder tools.stage_base_model
    # staged it into under the models bucket (is_staged_model; jobs get it as an input).
    base_model: str
    epochs: int
    learning_rate: float
    batch_size: int
    max_seq_length: int
    step_caching: bool  # reuse a step's result when its inputs are unchanged (30 days)
    # The gate's largest allowed accuracy gap between facet groups (evaluation.json's
    # bias.max_accuracy_gap); 1.0 turns the check off.
    max_facet_accuracy_gap: float


@dataclass(frozen=True)
class AutoscalingConfig:
    min_instances: int
    max_instances: int
    target_invocations_per_instance: int  # per minute, SageMaker's predefined metric
    scale_in_cooldown_seconds: int
    scale_out_cooldown_seconds: int


@dataclass(frozen=True)
class RolloutConfig:
    strategy: str  # "canary", "linear" or "all_at_once": blue/green traffic shifting
    step_percent: int  # canary size, or linear step, as a share of the new fleet's capacity
    wait_seconds: int  # baking time between shifts, watched by the rollback alarms
    termination_wait_seconds: int  # old fleet kept this long after full shift, for a fast rollback


@dataclass(frozen=True)
class ChallengerConfig:
    """A challenger package on live traffic beside the champion. "shadow": it gets a copy of
    ``traffic_percent`` % of requests and answers nobody; "ab": it answers that share."""

    mode: str  # off, shadow or ab
    package_arn: str | None  # None ("none"): no challenger variant yet
    traffic_percent: int
    schedule: str  # cron of the comparison job while a challenger runs
    window_hours: int  # the capture each comparison judges
    recommend_margin: float  # challenger accuracy above the champion's by this much ...
    recommend_min_labelled: int  # ... on at least this many labelled requests of each: recommended
    deploy_approved_as_challenger: bool  # dev's deploy function: an approved package becomes the challenger

    @property
    def active(self) -> bool:
        return self.mode != "off" and self.package_arn is not None


@dataclass(frozen=True)
class ServingConfig:
    # The approved model package the endpoint serves; None ("none"): no endpoint yet. The
    # delivery pipeline overrides it at synth (context mlops.model_package_arn.<env>).
    model_package_arn: str | None
    instance_type: str
    instance_count: int
    autoscaling: AutoscalingConfig
    rollout: RolloutConfig
    data_capture_percentage: int
    model_latency_p99_ms: int  # rollback alarm threshold
    max_texts_per_request: int
    max_chars_per_text: int
    deploy_on_approval: bool  # an Approved package updates this endpoint at once (dev)
    challenger: ChallengerConfig = ChallengerConfig("off", None, 10, "cron(0 * ? * * *)", 24, 0.02, 200, False)


@dataclass(frozen=True)
class MonitoringConfig:
    # "evidently" (default): our own monitoring job (ml_code/monitor.py), which any account can
    # run. "model_monitor": SageMaker Model Monitor, closed to new customers since 2026, only
    # for accounts that already use it.
    engine: str
    schedule: str  # cron: EventBridge for evidently; Model Monitor takes cron only (hourly at most)
    window_hours: int  # evidently: the hours of capture each run judges (the schedule's period)
    instance_type: str
    drift_threshold: float  # per-feature drift distance (Wasserstein normed, Jensen-Shannon) above which it drifted
    ground_truth_s3_uri: str | None  # None ("none"): no model-quality monitoring
    accuracy_alarm_margin: float  # evidently: alarm when live accuracy is this far under the package's evaluation
    retrain_on_drift: bool


@dataclass(frozen=True)
class NetworkConfig:
    """Where jobs, models and functions run. "none": AWS's shared network (as before);
    "create": a VPC of private isolated subnets (no NAT) in ``availability_zones``;
    "existing": the customer's VPC, given by ids (no lookup: synth stays offline)."""

    mode: str
    availability_zones: tuple[str, ...] = ()
    cidr: str | None = None  # create
    vpc_id: str | None = None  # existing
    subnet_ids: tuple[str, ...] = ()  # existing: one private subnet per availability zone
    route_table_ids: tuple[str, ...] = ()  # existing: the subnets' route tables (S3 gateway endpoint)

    @property
    def enabled(self) -> bool:
        return self.mode != "none"


@dataclass(frozen=True)
class BatchScoringConfig:
    enabled: bool
    instance_type: str
    instance_count: int


@dataclass(frozen=True)
class TrackingConfig:
    """The environment's managed MLflow tracking service (a SageMaker AI MLflow App, cdk.json
    ``tracking``): experiments, runs and artifacts of the pipeline, monitoring and comparison
    jobs. Off by default, so constructs built alone create none."""

    enabled: bool = False
    # Its own, not the environment's: runs are history worth keeping even where the lake may go.
    removal_policy: str = "retain"  # "retain" or "destroy"
    weekly_maintenance_window: str = "Sun:03:00"  # UTC, Day:HH:MM
    # MLflow's own registration into the SageMaker model registry; off: the pipeline registers
    # (gated) model packages itself, and a second writer would add ungated versions.
    model_registration: bool = False


@dataclass(frozen=True)
class EnvironmentConfig:
    name: str
    project: str
    account: str
    region: str
    removal_policy: str  # "retain" or "destroy"
    data_lake: DataLakeConfig
    catalog: CatalogConfig
    feature_store: FeatureStoreConfig
    processing: ComputeConfig
    training: TrainingConfig
    pipeline: PipelineConfig
    serving: ServingConfig
    monitoring: MonitoringConfig
    batch_scoring: BatchScoringConfig
    network: NetworkConfig = NetworkConfig("none")  # cdk.json always says; constructs built alone may not
    tracking: TrackingConfig = TrackingConfig()  # likewise

    @property
    def tracking_app_name(self) -> str:
        """The MLflow App's name (not part of its ARN, which SageMaker generates)."""
        return self.prefix

    @property
    def prefix(self) -> str:
        """Prefix for physical names that must be unique per account and region."""
        return f"{self.project}-{self.name}"

    # Physical names other stacks, the local runner and operators refer to, defined once.
    @property
    def feature_group_name(self) -> str:
        return f"{self.prefix}-reviews"

    @property
    def model_package_group_name(self) -> str:
        return f"{self.prefix}-sentiment"

    @property
    def pipeline_name(self) -> str:
        return f"{self.prefix}-training"

    @property
    def models_bucket_name(self) -> str:
        """Fixed, unlike the other buckets: promoted environments read artifacts from it."""
        return f"{self.prefix}-models-{self.account}"

    @property
    def data_lake_key_alias(self) -> str:
        return f"alias/{self.prefix}-data-lake"

    @property
    def endpoint_name(self) -> str:
        return f"{self.prefix}-sentiment"

    @property
    def served_model_parameter(self) -> str:
        """SSM parameter holding the model package ARN the endpoint serves; promotion reads it."""
        return f"/{self.project}/{self.name}/serving/model-package-arn"

    @property
    def batch_pipeline_name(self) -> str:
        return f"{self.prefix}-batch-scoring"

    @property
    def monitor_pipeline_name(self) -> str:
        return f"{self.prefix}-monitor"

    @property
    def compare_pipeline_name(self) -> str:
        return f"{self.prefix}-compare"


@dataclass(frozen=True)
class DeliveryConfig:
    """Where the CI/CD pipeline lives and what it builds from (cdk.json ``mlops.delivery``)."""

    project: str
    account: str
    region: str
    source_kind: str  # "codeconnections" (GitHub, GitLab, Bitbucket via a connection) or "codecommit"
    repository: str  # owner/name for a connection, the repository name for CodeCommit
    branch: str
    connection_arn: str | None  # CodeConnections (formerly CodeStar Connections) only
    # Where the post-deploy check steps (they call the endpoints) run: "none", or "existing":
    # private subnets of the delivery account's VPC that reach pip/npm and AWS (NAT or proxy).
    network: NetworkConfig = NetworkConfig("none")

    @property
    def pipeline_name(self) -> str:
        return f"{self.project}-delivery"


class _Section:
    """Reads one mapping of cdk.json, remembering its key path for error messages."""

    def __init__(self, raw: Any, path: str):
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{path}: expected an object, got {type(raw).__name__}")
        self._raw: Mapping[str, Any] = raw
        self._path = path
        self._read: set[str] = set()

    def __contains__(self, key: str) -> bool:
        return key in self._raw

    def _get(self, key: str) -> Any:
        if key not in self._raw:
            raise ConfigError(f"{self._path}.{key}: missing")
        self._read.add(key)
        return self._raw[key]

    def _fail(self, key: str, expected: str, value: Any) -> ConfigError:
        return ConfigError(f"{self._path}.{key}: expected {expected}, got {value!r}")

    def section(self, key: str) -> _Section:
        return _Section(self._get(key), f"{self._path}.{key}")

    def text(self, key: str, pattern: re.Pattern[str], expected: str) -> str:
        value = self._get(key)
        if not isinstance(value, str) or not pattern.match(value):
            raise self._fail(key, expected, value)
        return value

    def schedule(self, key: str, pattern: re.Pattern[str], expected: str) -> str | None:
        """A schedule expression, or "off" (the CDK CLI drops null context values)."""
        if self._get(key) == "off":
            return None
        return self.text(key, pattern, expected + ' or "off"')

    def choice(self, key: str, choices: tuple[str, ...]) -> str:
        value = self._get(key)
        if value not in choices:
            raise self._fail(key, "one of " + ", ".join(choices), value)
        return value

    def integer(self, key: str, minimum: int, maximum: int | None = None) -> int:
        value = self._get(key)
        # bool is an int in Python; `true` in cdk.json is never a count.
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= minimum
        if not ok or (maximum is not None and value > maximum):
            bound = f"from {minimum} to {maximum}" if maximum is not None else f">= {minimum}"
            raise self._fail(key, f"an integer {bound}", value)
        return value

    def positive_number(self, key: str, maximum: float) -> float:
        value = self._get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= maximum:
            raise self._fail(key, f"a number above 0 and at most {maximum}", value)
        return float(value)

    def fraction(self, key: str) -> float:
        value = self._get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            raise self._fail(key, "a number from 0 to 1", value)
        return float(value)

    def optional_text(self, key: str, pattern: re.Pattern[str], expected: str) -> str | None:
        """A value, or "none" (the CDK CLI drops null context values)."""
        if self._get(key) == "none":
            return None
        return self.text(key, pattern, expected + ' or "none"')

    def flag(self, key: str) -> bool:
        value = self._get(key)
        if not isinstance(value, bool):
            raise self._fail(key, "true or false", value)
        return value

    def texts(self, key: str, pattern: re.Pattern[str], expected: str, count: tuple[int, int]) -> tuple[str, ...]:
        """A list of ``count[0]`` to ``count[1]`` distinct values, each matching ``pattern``."""
        value = self._get(key)
        low, high = count
        ok = isinstance(value, list) and low <= len(value) <= high and len(set(value)) == len(value)
        if not ok or not all(isinstance(v, str) and pattern.match(v) for v in value):
            raise self._fail(key, f"a list of {low} to {high} distinct {expected}", value)
        return tuple(value)

    def done(self) -> None:
        """Unknown keys are typos until proven otherwise: fail rather than ignore them."""
        unknown = sorted(set(self._raw) - self._read)
        if unknown:
            raise ConfigError(f"{self._path}: unknown key(s) {', '.join(unknown)}")


class _Compute(TypedDict):
    """The instance fields every compute config shares, spread into each one."""

    instance_type: str
    instance_count: int


def _compute(section: _Section) -> _Compute:
    return {
        "instance_type": section.text("instance_type", _INSTANCE, "a SageMaker instance type like ml.m5.xlarge"),
        "instance_count": section.integer("instance_count", 1, 100),
    }


def _challenger(section: _Section, package_arn: str | None) -> ChallengerConfig:
    arn_expected = "a model package ARN like arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>"
    configured = section.optional_text("package_arn", _MODEL_PACKAGE_ARN, arn_expected)
    if package_arn is not None and not _MODEL_PACKAGE_ARN.match(package_arn):
        raise ConfigError(
            f"{section._path}.package_arn (context override): expected {arn_expected}, got {package_arn!r}"
        )
    return ChallengerConfig(
        mode=section.choice("mode", CHALLENGER_MODES),
        package_arn=package_arn or configured,
        # SageMaker's weights allow more, but a challenger answering half the callers is no test.
        traffic_percent=section.integer("traffic_percent", 1, 50),
        schedule=section.text("schedule", _CRON, "cron(m h dom mon dow year)"),
        window_hours=section.integer("window_hours", 1, 168),
        recommend_margin=section.fraction("recommend_margin"),
        recommend_min_labelled=section.integer("recommend_min_labelled", 1),
        deploy_approved_as_challenger=section.flag("deploy_approved_as_challenger"),
    )


def _serving(
    serving: _Section, model_package_arn: str | None, challenger_package_arn: str | None = None
) -> tuple[ServingConfig, list[_Section]]:
    scaling, rollout = serving.section("autoscaling"), serving.section("rollout")
    challenger = serving.section("challenger")
    arn_expected = "a model package ARN like arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>"
    configured = serving.optional_text("model_package_arn", _MODEL_PACKAGE_ARN, arn_expected)
    if model_package_arn is not None and not _MODEL_PACKAGE_ARN.match(model_package_arn):
        raise ConfigError(
            f"{serving._path}.model_package_arn (context override): expected {arn_expected}, got {model_package_arn!r}"
        )
    compute = _compute(serving)
    if compute["instance_type"] not in INFERENCE_INSTANCE_TYPES:
        raise ConfigError(
            f"{serving._path}.instance_type: expected one the registered model packages allow "
            f"({', '.join(INFERENCE_INSTANCE_TYPES)}), got {compute['instance_type']!r}"
        )
    config = ServingConfig(
        model_package_arn=model_package_arn or configured,
        **compute,
        autoscaling=AutoscalingConfig(
            min_instances=scaling.integer("min_instances", 1, 100),
            max_instances=scaling.integer("max_instances", 1, 100),
            target_invocations_per_instance=scaling.integer("target_invocations_per_instance", 1),
            scale_in_cooldown_seconds=scaling.integer("scale_in_cooldown_seconds", 0, 3600),
            scale_out_cooldown_seconds=scaling.integer("scale_out_cooldown_seconds", 0, 3600),
        ),
        rollout=RolloutConfig(
            strategy=rollout.choice("strategy", ("canary", "linear", "all_at_once")),
            step_percent=rollout.integer("step_percent", 1, 50),
            # SageMaker's limits for blue/green deployments.
            wait_seconds=rollout.integer("wait_seconds", 0, 3600),
            termination_wait_seconds=rollout.integer("termination_wait_seconds", 0, 3600),
        ),
        data_capture_percentage=serving.integer("data_capture_percentage", 0, 100),
        model_latency_p99_ms=serving.integer("model_latency_p99_ms", 1),
        max_texts_per_request=serving.integer("max_texts_per_request", 1, 10000),
        max_chars_per_text=serving.integer("max_chars_per_text", 1, 1000000),
        deploy_on_approval=serving.flag("deploy_on_approval"),
        challenger=_challenger(challenger, challenger_package_arn),
    )
    if config.autoscaling.min_instances > config.autoscaling.max_instances:
        raise ConfigError(f"{scaling._path}.min_instances: above max_instances ({config.autoscaling.max_instances})")
    if config.challenger.active and not config.model_package_arn:
        raise ConfigError(f"{challenger._path}.package_arn: a challenger needs a champion (serving.model_package_arn)")
    return config, [scaling, rollout, challenger, serving]


def _network(network: _Section) -> NetworkConfig:
    mode = network.choice("mode", NETWORK_MODES)
    if mode == "none":
        return NetworkConfig(mode)
    azs = network.texts("availability_zones", _AZ, "availability zones like us-east-1a", (2, 3))
    if mode == "create":
        return NetworkConfig(mode, azs, cidr=network.text("cidr", _CIDR, "an IPv4 CIDR block from /16 to /24"))
    subnets = network.texts("subnet_ids", _SUBNET_ID, "subnet ids like subnet-0123abcd", (len(azs), len(azs)))
    tables = network.texts("route_table_ids", _ROUTE_TABLE_ID, "route table ids like rtb-0123abcd", (1, len(azs)))
    return NetworkConfig(
        mode,
        azs,
        vpc_id=network.text("vpc_id", _VPC_ID, "a VPC id like vpc-0123abcd"),
        subnet_ids=subnets,
        route_table_ids=tables,
    )


def _tracking(tracking: _Section) -> TrackingConfig:
    return TrackingConfig(
        enabled=tracking.flag("enabled"),
        removal_policy=tracking.choice("removal_policy", ("retain", "destroy")),
        weekly_maintenance_window=tracking.text(
            "weekly_maintenance_window", _MAINTENANCE_WINDOW, "a UTC day and time like Sun:03:00 (Mon-Sun, HH:MM)"
        ),
        model_registration=tracking.flag("model_registration"),
    )


def is_staged_model(base_model: str) -> bool:
    """True for a base model staged in S3 (``pipeline.base_model`` = s3://...), False for a hub id."""
    return base_model.startswith("s3://")


def _check_staged_model(pipeline: _Section, config: EnvironmentConfig) -> None:
    """A staged base model must be under this environment's models bucket: the pipeline role
    may read only its own ``base-models/`` prefix there."""
    value = config.pipeline.base_model
    prefix = f"s3://{config.models_bucket_name}/{BASE_MODELS_PREFIX}/"
    if is_staged_model(value) and not value.startswith(prefix):
        raise pipeline._fail(
            "base_model", f"a staged model folder under {prefix} (this environment's models bucket)", value
        )


def _environment(
    project: str,
    name: str,
    env: _Section,
    model_package_arn: str | None = None,
    challenger_package_arn: str | None = None,
) -> EnvironmentConfig:
    lake, catalog, store = env.section("data_lake"), env.section("catalog"), env.section("feature_store")
    processing, training, pipeline = env.section("processing"), env.section("training"), env.section("pipeline")
    monitoring, batch = env.section("monitoring"), env.section("batch_scoring")
    network, tracking = env.section("network"), env.section("tracking")
    serving, serving_sections = _serving(env.section("serving"), model_package_arn, challenger_package_arn)
    schedule = "cron(m h dom mon dow year) or rate(N unit)"
    config = EnvironmentConfig(
        name=name,
        project=project,
        account=env.text("account", _ACCOUNT, "a 12-digit AWS account id"),
        region=env.text("region", _REGION, "an AWS region like us-east-1"),
        removal_policy=env.choice("removal_policy", ("retain", "destroy")),
        data_lake=DataLakeConfig(
            noncurrent_version_expiration_days=lake.integer("noncurrent_version_expiration_days", 1),
            athena_results_expiration_days=lake.integer("athena_results_expiration_days", 1),
            access_logs_expiration_days=lake.integer("access_logs_expiration_days", 1),
        ),
        catalog=CatalogConfig(
            crawler_schedule=catalog.schedule("crawler_schedule", _CRON, "cron(m h dom mon dow year)"),
            athena_bytes_scanned_cutoff=catalog.integer("athena_bytes_scanned_cutoff", _MIN_ATHENA_CUTOFF),
        ),
        feature_store=FeatureStoreConfig(online_store_enabled=store.flag("online_store_enabled")),
        processing=ComputeConfig(**_compute(processing)),
        training=TrainingConfig(**_compute(training), use_spot=training.flag("use_spot")),
        pipeline=PipelineConfig(
            min_accuracy=pipeline.fraction("min_accuracy"),
            retrain_schedule=pipeline.schedule("retrain_schedule", _SCHEDULE, schedule),
            base_model=pipeline.text("base_model", _BASE_MODEL, _BASE_MODEL_EXPECTED),
            epochs=pipeline.integer("epochs", 1, 100),
            learning_rate=pipeline.positive_number("learning_rate", 1.0),
            batch_size=pipeline.integer("batch_size", 1, 1024),
            # RoBERTa's position embeddings stop at 512 tokens.
            max_seq_length=pipeline.integer("max_seq_length", 8, 512),
            step_caching=pipeline.flag("step_caching"),
            max_facet_accuracy_gap=pipeline.fraction("max_facet_accuracy_gap"),
        ),
        serving=serving,
        monitoring=MonitoringConfig(
            engine=monitoring.choice("engine", MONITORING_ENGINES),
            schedule=monitoring.text("schedule", _CRON, "cron(m h dom mon dow year), hourly at most"),
            window_hours=monitoring.integer("window_hours", 1, 168),
            instance_type=monitoring.text("instance_type", _INSTANCE, "a SageMaker instance type like ml.m5.xlarge"),
            drift_threshold=monitoring.positive_number("drift_threshold", 1.0),
            ground_truth_s3_uri=monitoring.optional_text("ground_truth_s3_uri", _S3_URI, "an s3:// URI"),
            accuracy_alarm_margin=monitoring.fraction("accuracy_alarm_margin"),
            retrain_on_drift=monitoring.flag("retrain_on_drift"),
        ),
        batch_scoring=BatchScoringConfig(enabled=batch.flag("enabled"), **_compute(batch)),
        network=_network(network),
        tracking=_tracking(tracking),
    )
    _check_staged_model(pipeline, config)
    for section in (
        lake,
        catalog,
        store,
        processing,
        training,
        pipeline,
        monitoring,
        batch,
        network,
        tracking,
        *serving_sections,
        env,
    ):
        section.done()
    return config


def load_config(
    context: Any,
    path: str = "context.mlops",
    model_package_arns: Mapping[str, str] | None = None,
    challenger_package_arns: Mapping[str, str] | None = None,
) -> dict[str, EnvironmentConfig]:
    """Parse the ``mlops`` context object into one config per environment, in order.

    ``model_package_arns``: per environment, the model package to serve instead of the one
    in cdk.json (the delivery pipeline passes the package being promoted);
    ``challenger_package_arns``: the same for the challenger under test.
    """
    overrides = dict(model_package_arns or {})
    challengers = dict(challenger_package_arns or {})
    unknown = sorted((set(overrides) | set(challengers)) - set(ENVIRONMENT_NAMES))
    if unknown:
        raise ConfigError(f"model package override for unknown environment(s) {', '.join(unknown)}")
    root = _Section(context, path)
    project = root.text("project", _PROJECT, "lower-case letters, digits and '-', 2-24 characters")
    envs = root.section("environments")
    missing = [name for name in ENVIRONMENT_NAMES if name not in envs]
    if missing:
        raise ConfigError(f"{path}.environments: missing {', '.join(missing)}")
    configs = {
        name: _environment(project, name, envs.section(name), overrides.get(name), challengers.get(name))
        for name in ENVIRONMENT_NAMES
    }
    envs.done()
    root.section("delivery")  # parsed by load_delivery_config; the environments need none of it
    root.done()
    return configs


def load_delivery_config(context: Any, path: str = "context.mlops") -> DeliveryConfig:
    """Parse ``mlops.delivery``: the delivery pipeline's account, region and source."""
    root = _Section(context, path)
    delivery = root.section("delivery")
    source = delivery.section("source")
    kind = source.choice("kind", ("codeconnections", "codecommit"))
    config = DeliveryConfig(
        project=root.text("project", _PROJECT, "lower-case letters, digits and '-', 2-24 characters"),
        account=delivery.text("account", _ACCOUNT, "a 12-digit AWS account id"),
        region=delivery.text("region", _REGION, "an AWS region like us-east-1"),
        source_kind=kind,
        repository=source.text("repository", _REPOSITORY, "owner/name (a connection) or a CodeCommit repository name"),
        branch=source.text("branch", _BRANCH, "a branch name"),
        connection_arn=(
            source.text("connection_arn", _CONNECTION_ARN, "a CodeConnections connection ARN")
            if kind == "codeconnections"
            else None
        ),
    )
    network = delivery.section("network")
    if network.choice("mode", ("none", "existing")) != "none":
        # The build steps install from PyPI and npm: a created isolated VPC would cut them off.
        config = replace(config, network=_network(network))
    network.done()
    if kind == "codeconnections" and "/" not in config.repository:
        raise ConfigError(
            f"{path}.delivery.source.repository: expected owner/name for a connection, got {config.repository!r}"
        )
    source.done()
    delivery.done()
    return config
