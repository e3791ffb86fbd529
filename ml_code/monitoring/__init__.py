"""Monitoring of the served model: the features watched for this text classifier, and the
Evidently job's parts (ml_code/monitor.py).

``record_preprocessor`` runs alone inside SageMaker's Model Monitor analyzer container, so it
is standard library only and imports nothing from ``ml_code``; everything else (the baseline
processing script, infra's drift alarms, the monitoring job) imports its feature names from it.
The job's modules: ``storage`` (s3:// or local reads), ``capture`` (the window, streamed and
sampled), ``reference`` (the served package's reference), ``ground_truth`` (labels joined by
inference id), ``drift`` (Evidently reports), ``metrics`` (CloudWatch MetricData).
``comparison`` is the champion/challenger comparison (ml_code/compare.py) built on the same parts;
``job_args`` holds the command-line arguments both jobs share.
"""
