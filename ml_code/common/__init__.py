"""Facts shared by infra and the container scripts. Standard library only: the CDK app
imports these modules, and so do scripts inside SageMaker containers."""
