"""What can go wrong in a local run, each with a message that names the step and the cause."""

from __future__ import annotations


class LocalRunnerError(Exception):
    """Base class: the message is meant for the person running the pipeline."""


class DefinitionError(LocalRunnerError):
    """The definition cannot run locally (unsupported step type or feature, bad reference, cycle)."""


class UnsupportedStepError(DefinitionError):
    def __init__(self, step_name: str, step_type: str, supported: tuple[str, ...], skipped: tuple[str, ...] = ()):
        self.step_name, self.step_type = step_name, step_type
        also = f"; skipped locally: {', '.join(skipped)}" if skipped else ""
        super().__init__(
            f"step {step_name!r} has type {step_type!r}, which the local runner does not support"
            f" (supported: {', '.join(supported)}{also})"
        )


class ExpressionError(LocalRunnerError):
    """A Get, Std:Join or Std:JsonGet could not be evaluated."""


class ParameterError(LocalRunnerError):
    """A --param override names no pipeline parameter or has a value of the wrong type."""


class StepFailed(LocalRunnerError):
    """A step ran and failed; ``reason`` is what SageMaker would show as its FailureReason."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


class RegistryError(LocalRunnerError):
    """The local model registry has no such group or version, or a bad status was asked for."""
