"""python -m tools.lineage: the lineage of one model package (cli.py has the whole story).

cli.py       arguments, --help, exit codes
package.py   the registry's facts from a DescribeModelPackage-shaped document
local.py     the local runner's registry (<root>/registry)
aws.py       SageMaker Model Registry, CloudTrail approval history, the endpoint serving it
tracking.py  the MLflow runs of the package's pipeline execution
report.py    the readable sections
"""

from tools.lineage.cli import main

__all__ = ["main"]
