"""Code that runs inside SageMaker containers (processing, training, evaluation, inference).

Every module here must stay importable without side effects: tests and the CDK app import
``ml_code.common`` to share one definition of labels and features with the containers.
"""
