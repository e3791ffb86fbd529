"""Training metrics scraped from a job's log with its MetricDefinitions, as SageMaker does."""

from __future__ import annotations

import math
import re
from pathlib import Path


def scrape(log_path: Path, definitions: list[dict]) -> dict[str, list[float]]:
    """Metric name -> every value its regex captured (first group), in log order."""
    patterns = []
    for definition in definitions:
        try:
            patterns.append((definition["Name"], re.compile(definition["Regex"])))
        except (KeyError, re.error) as error:
            raise ValueError(f"bad metric definition {definition!r}: {error}") from None
    series: dict[str, list[float]] = {name: [] for name, _ in patterns}
    if not log_path.exists():
        return series
    for line in log_path.read_text(errors="replace").splitlines():
        for name, pattern in patterns:
            match = pattern.search(line)
            if match:
                try:
                    value = float(match.group(1))
                except (IndexError, ValueError):
                    continue
                if math.isfinite(value):
                    series[name].append(value)
    return series


def final_metric_data(series: dict[str, list[float]], timestamp: float) -> list[dict]:
    """DescribeTrainingJob's FinalMetricDataList: the last value of each metric that was seen."""
    return [
        {"MetricName": name, "Value": values[-1], "Timestamp": timestamp} for name, values in series.items() if values
    ]
