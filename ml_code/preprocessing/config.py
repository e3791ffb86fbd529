"""The job's settings, as the entry script parsed them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ml_code.preprocessing.feature_store import IngestSettings


@dataclass(frozen=True)
class JobConfig:
    input_dir: Path
    output_dir: Path
    resource_config: Path
    tokenizer: str
    work_dir: Path | None = None  # scratch for the spill; None: the system's temp folder
    input_format: str = "auto"
    columns: dict[str, str] = field(default_factory=dict)  # role -> source column; missing or "": auto
    max_seq_length: int = 128
    balance: bool = True
    split_fractions: tuple[float, float, float] = (0.9, 0.05, 0.05)  # train, validation, test
    chunk_size: int = 10_000
    event_time: float = 0.0  # Unix seconds for sources without dates
    feature_store: IngestSettings | None = None
    quarantine_unreadable: bool = False  # skip (and report) unreadable files instead of failing

    def as_json(self) -> dict[str, Any]:
        return {k: str(v) if isinstance(v, Path) else v for k, v in asdict(self).items()}
