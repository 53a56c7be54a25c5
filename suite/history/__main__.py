"""``python -m suite.history history|compare ...`` (the ``kvstorage`` verbs)."""

import sys

from suite.history.cli import main

sys.exit(main())
