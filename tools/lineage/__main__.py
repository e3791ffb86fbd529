import sys

from tools.lineage.cli import main

sys.exit(main())
