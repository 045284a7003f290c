"""``python -m deidentify run IN OUT`` and ``python -m deidentify demo``."""

import sys

from deidentify.cli import main

sys.exit(main())
