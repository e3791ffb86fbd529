"""Helpers of the training, evaluation and inference entry scripts (``ml_code/*.py``).

Only ``hyperparameters`` and ``metric_definitions`` are standard library only (infra may
import them); the rest needs torch/transformers and runs inside the training container.
``ml_code/inference.py`` depends on none of this: it ships alone into the model's ``code/``.
"""
