"""The job's figures as CloudWatch MetricData, and their publication.

Every metric has the dimension Endpoint=<name>; per-column ones add Feature=<column>, per-class
ones Class=<name>. Names (alarms in infra read them):
  RecordsAnalysed        texts compared with the reference (0 for an empty window)
  DriftedFeatureShare    drifted columns / columns judged
  FeatureDriftScore      per Feature: the column's drift score (see drift.py for its method)
  FeatureDrifted         per Feature: 1 if drifted, else 0
  LabelledRecords, Accuracy, MacroF1, Recall (per Class)   when ground truth joined
  AccuracyDrop           evaluation.json's accuracy minus live accuracy, when both are known
"""

from __future__ import annotations

from datetime import datetime

# PutMetricData takes at most 1,000 metrics (and 1 MB) per call.
CHUNK = 500


def _datum(name: str, value: float, endpoint: str, timestamp: str, unit: str = "None", **extra: str) -> dict:
    dimensions = [{"Name": "Endpoint", "Value": endpoint}, *({"Name": k, "Value": v} for k, v in extra.items())]
    return {"MetricName": name, "Dimensions": dimensions, "Timestamp": timestamp, "Value": float(value), "Unit": unit}


# Public for ml_code/monitoring/comparison.py, whose metrics add a Variant dimension.
datum = _datum


def metric_data(report: dict, endpoint: str, timestamp: datetime) -> list[dict]:
    """MetricData of a report.json document (see ml_code/monitor.py)."""
    at = timestamp.isoformat().replace("+00:00", "Z")
    data = [_datum("RecordsAnalysed", report["records_analysed"], endpoint, at, "Count")]
    features = (report.get("drift") or {}).get("features") or {}
    if features:
        data.append(_datum("DriftedFeatureShare", report["drift"]["drifted_share"], endpoint, at))
    for column, result in features.items():
        data.append(_datum("FeatureDriftScore", result["score"], endpoint, at, Feature=column))
        data.append(_datum("FeatureDrifted", int(result["drifted"]), endpoint, at, Feature=column))
    quality = report.get("model_quality")
    if quality:
        data.append(_datum("LabelledRecords", quality["labelled_records"], endpoint, at, "Count"))
        data.append(_datum("Accuracy", quality["accuracy"], endpoint, at))
        data.append(_datum("MacroF1", quality["macro_f1"], endpoint, at))
        data += [_datum("Recall", value, endpoint, at, Class=name) for name, value in quality["recall"].items()]
        if quality.get("accuracy_drop") is not None:
            data.append(_datum("AccuracyDrop", quality["accuracy_drop"], endpoint, at))
    return data


def publish(cloudwatch, namespace: str, data: list[dict], chunk: int = CHUNK) -> int:
    """put_metric_data in chunks; the number of calls made."""
    calls = 0
    for start in range(0, len(data), chunk):
        cloudwatch.put_metric_data(Namespace=namespace, MetricData=data[start : start + chunk])
        calls += 1
    return calls
