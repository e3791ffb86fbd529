"""The SageMaker Pipeline definition, built offline with the SageMaker SDK (classic v2 API).

Set before any sagemaker import: the v2 SDK prints a migration banner on import and logs
where it looked for config files; neither says anything useful at synth time.
"""

import logging
import os

os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
logging.getLogger("sagemaker").setLevel(logging.ERROR)
