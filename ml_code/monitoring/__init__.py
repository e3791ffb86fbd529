"""Model Monitor support: the features a data-quality monitor watches for this text classifier.

``record_preprocessor`` runs alone inside SageMaker's Model Monitor analyzer container, so it
is standard library only and imports nothing from ``ml_code``; everything else (the baseline
processing script, infra's drift alarms) imports its feature names from it.
"""
